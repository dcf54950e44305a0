"""Paired evidence (fairautoml.measures.paired): an incumbent and an alternative measured on
the same rows, their differences' paired intervals, and the verdict read from them.

The intervals are checked against a known population (coverage, and narrower than an
unpaired interval when the two models agree on most rows); the verdicts on alternatives
built row by row from the incumbent, so each difference is known exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

from fairautoml.exceptions import InputError
from fairautoml.measures.constraints import evaluate_constraints, parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.measures.paired import (
    LESS_DISCRIMINATORY,
    NONE_FOUND,
    NOT_LESS_DISCRIMINATORY,
    VERDICT_WORDS,
    Predictions,
    _metric_from_cells,
    paired_comparison,
    verdict,
)
from fairautoml.measures.paired_bootstrap import RankedScores, joint_cells

DP = "demographic_parity_difference"
DP_LIMIT = f"{DP} <= 0.05"

# --- a known population: two groups, correlated decisions of two models -------------------

GROUP_SHARE = {0: 0.6, 1: 0.4}
BASE_RATE = {0: 0.5, 1: 0.4}  # P(y = 1 | group)
INCUMBENT_YES = {(0, 1): 0.8, (0, 0): 0.3, (1, 1): 0.6, (1, 0): 0.15}  # P(yes | group, y)
OWN_YES = {(0, 1): 0.7, (0, 0): 0.25, (1, 1): 0.8, (1, 0): 0.3}  # the alternative's own rule
COPIES = 0.6  # the alternative takes the incumbent's decision on this share of rows


def _population() -> tuple[np.ndarray, np.ndarray]:
    """Every (group, y, incumbent, alternative) cell and its probability."""
    cells, probs = [], []
    for g, y, d_inc, d_alt in itertools.product((0, 1), repeat=4):
        p_inc = INCUMBENT_YES[g, y] if d_inc else 1 - INCUMBENT_YES[g, y]
        p_own = OWN_YES[g, y] if d_alt else 1 - OWN_YES[g, y]
        p_alt = COPIES * (d_alt == d_inc) + (1 - COPIES) * p_own
        p_y = BASE_RATE[g] if y else 1 - BASE_RATE[g]
        cells.append((g, y, d_inc, d_alt))
        probs.append(GROUP_SHARE[g] * p_y * p_inc * p_alt)
    return np.array(cells), np.array(probs)


def _true_differences() -> dict[str, float]:
    """The population's difference (alternative minus incumbent) of DP and accuracy."""
    cells, probs = _population()
    g, y = cells[:, 0], cells[:, 1]

    def dp(d: np.ndarray) -> float:
        rates = [probs[(g == k) & (d == 1)].sum() / probs[g == k].sum() for k in (0, 1)]
        return abs(rates[0] - rates[1])

    def accuracy(d: np.ndarray) -> float:
        return float(probs[y == d].sum())

    inc, alt = cells[:, 2], cells[:, 3]
    return {DP: dp(alt) - dp(inc), "accuracy": accuracy(alt) - accuracy(inc)}


def _sample(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``n`` rows drawn from the population: y, incumbent, alternative, group."""
    cells, probs = _population()
    rows = cells[rng.choice(len(cells), size=n, p=probs)]
    g, y, inc, alt = rows.T
    return y, inc, alt, g


def test_paired_intervals_cover_the_true_differences():
    truth = _true_differences()
    assert truth[DP] < -0.05 and truth["accuracy"] != 0  # the population differs on both
    rng = np.random.default_rng(0)
    covered = {DP: 0, "accuracy": 0}
    n_samples = 200
    for seed in range(n_samples):
        y, inc, alt, g = _sample(3000, rng)
        out = paired_comparison(y, inc, alt, g, DP_LIMIT, level=0.9, n_boot=200, random_state=seed)
        for measure in (out.disparity(DP), out.metric):
            low, high = measure.interval
            covered[measure.name] += low <= truth[measure.name] <= high
    for name, hits in covered.items():
        assert 0.85 <= hits / n_samples <= 0.95, (name, hits / n_samples)


def test_pairing_narrows_the_interval_when_the_models_agree():
    """The same alternative decisions shuffled within (group, label): each model's own
    values are unchanged, only the pairing of rows is lost, and the interval widens."""
    rng = np.random.default_rng(1)
    y, inc, alt, g = _sample(4000, rng)
    unpaired = alt.copy()
    for stratum in itertools.product((0, 1), (0, 1)):
        rows = np.flatnonzero((g == stratum[0]) & (y == stratum[1]))
        unpaired[rows] = alt[rng.permutation(rows)]
    paired = paired_comparison(y, inc, alt, g, DP_LIMIT, n_boot=400, random_state=0)
    shuffled = paired_comparison(y, inc, unpaired, g, DP_LIMIT, n_boot=400, random_state=0)
    for name in ("accuracy", DP):
        a = paired.metric if name == "accuracy" else paired.disparity(name)
        b = shuffled.metric if name == "accuracy" else shuffled.disparity(name)
        assert a.alternative == pytest.approx(b.alternative)  # the same model, row by row apart
        width = a.interval[1] - a.interval[0]
        assert width < 0.8 * (b.interval[1] - b.interval[0]), name


def test_values_are_the_packages_own_measures():
    rng = np.random.default_rng(2)
    y, inc, alt, g = _sample(2000, rng)
    constraints = parse_constraints([DP_LIMIT, "equalized_odds_ratio >= 0.8"])
    out = paired_comparison(y, inc, alt, g, constraints, metric="balanced_accuracy", n_boot=50)
    for model, d in (("incumbent", inc), ("alternative", alt)):
        values = evaluate_constraints(constraints, y, d, g)
        assert [getattr(m, model) for m in out.disparities] == pytest.approx(list(values.values()))
        assert getattr(out.metric, model) == pytest.approx(balanced_accuracy_score(y, d))
    assert out.n_rows == 2000 and out.n_boot == 50 and out.level == 0.95
    # the resampled metric is read from cell counts: at the sample's own counts, the same value
    cells = joint_cells(y, inc, alt, g)
    for name in ("accuracy", "balanced_accuracy"):
        inc_value, alt_value = _metric_from_cells(get_metric(name), cells, cells.sizes[None, :])
        scorer = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score}[name]
        assert inc_value[0] == pytest.approx(scorer(y, inc))
        assert alt_value[0] == pytest.approx(scorer(y, alt))


def test_roc_auc_reads_each_models_scores():
    rng = np.random.default_rng(3)
    y, inc, alt, g = _sample(1500, rng)
    s_inc = np.clip(0.5 * inc + 0.3 * y + rng.normal(0, 0.2, len(y)), 0, 1)
    s_alt = np.clip(0.5 * alt + 0.2 * y + rng.normal(0, 0.2, len(y)), 0, 1)
    out = paired_comparison(
        y, Predictions(inc, s_inc), Predictions(alt, s_alt), g, DP_LIMIT,
        metric="roc_auc", n_boot=100, random_state=0,
    )  # fmt: skip
    assert out.metric.difference == pytest.approx(roc_auc_score(y, s_alt) - roc_auc_score(y, s_inc))
    low, high = out.metric.interval
    assert low < out.metric.difference < high
    weights = rng.integers(0, 3, size=(3, len(y))).astype(float)
    expected = [roc_auc_score(y, np.round(s_inc, 1), sample_weight=w) for w in weights]
    assert RankedScores(y, np.round(s_inc, 1)).auc(weights) == pytest.approx(expected)  # ties
    with pytest.raises(InputError, match=r"Predictions\(decisions, scores="):
        paired_comparison(y, inc, alt, g, DP_LIMIT, metric="roc_auc", n_boot=20)


# --- verdicts on alternatives built row by row from the incumbent ---------------------------


def _incumbent(n_per_group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y, decisions and groups: half the rows positive in each group; group 0 selected at
    0.6, group 1 at 0.3 (a DP difference of 0.3)."""
    y, d, g = [], [], []
    for group, selected in ((0, 0.6), (1, 0.3)):
        half = n_per_group // 2
        labels = np.r_[np.ones(half), np.zeros(n_per_group - half)].astype(int)
        yes = int(selected * n_per_group)  # positives first: 80 % of them, then negatives
        decisions = np.zeros(n_per_group, dtype=int)
        on_positives = min(int(0.8 * half), yes)
        decisions[:on_positives] = 1
        decisions[half : half + yes - on_positives] = 1
        y.append(labels), d.append(decisions), g.append(np.full(n_per_group, group))
    return np.concatenate(y), np.concatenate(d), np.concatenate(g)


def _flip(d: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = d.copy()
    out[rows] = 1 - out[rows]
    return out


def _raise_group_one(y, d, g, k: int, positives_only: bool = False) -> np.ndarray:
    """Group 1 selected ``k`` rows more: half among positives and half among negatives
    (accuracy unchanged), or all among positives (more accurate)."""
    no = (g == 1) & (d == 0)
    pos, neg = np.flatnonzero(no & (y == 1)), np.flatnonzero(no & (y == 0))
    if positives_only:
        return _flip(d, pos[:k])
    return _flip(d, np.r_[pos[: k // 2], neg[: k - k // 2]])


def test_a_fairer_alternative_as_accurate_is_less_discriminatory():
    y, d, g = _incumbent(5000)
    alt = _raise_group_one(y, d, g, 500)
    out = paired_comparison(y, d, alt, g, DP_LIMIT, n_boot=300, random_state=0)
    assert out.disparity(DP).difference == pytest.approx(-0.1)
    assert out.metric.difference == pytest.approx(0.0)
    said = verdict(out, tolerance=0.01)
    assert said.word == LESS_DISCRIMINATORY and said.rows_needed is None
    assert DP in said.reason
    assert out.verdict(0.01) == said


def test_a_fairer_alternative_three_points_less_accurate_is_not_called_less_discriminatory():
    y, d, g = _incumbent(5000)
    alt = _raise_group_one(y, d, g, 500)
    wrong = []
    for group in (0, 1):  # per group as many right yeses as right noes made wrong: DP kept
        right_yes = np.flatnonzero((g == group) & (y == 1) & (alt == 1))
        right_no = np.flatnonzero((g == group) & (y == 0) & (alt == 0))
        wrong += [right_yes[:75], right_no[:75]]
    worse = _flip(alt, np.concatenate(wrong))
    out = paired_comparison(y, d, worse, g, DP_LIMIT, n_boot=300, random_state=0)
    assert out.metric.difference == pytest.approx(-0.03)
    assert out.disparity(DP).better_with_confidence
    said = verdict(out, tolerance=0.005)
    assert said.word == NOT_LESS_DISCRIMINATORY and said.binding == "accuracy"


def test_an_identical_model_is_none_found_and_the_rows_needed_grow_as_the_gap_shrinks():
    y, d, g = _incumbent(1000)
    same = verdict(paired_comparison(y, d, d.copy(), g, DP_LIMIT, n_boot=300), tolerance=0.005)
    assert same.word == NONE_FOUND and same.rows_needed is None  # no gap: no rows would tell
    assert same.binding == DP
    needed = {}
    for k in (1, 2):  # a true gap of k / 1000 in group 1's selection rate
        alt = _raise_group_one(y, d, g, k, positives_only=True)
        out = paired_comparison(y, d, alt, g, DP_LIMIT, n_boot=400, random_state=0)
        said = verdict(out, tolerance=0.005)
        assert said.word == NONE_FOUND and said.binding == DP, said
        needed[k] = said.rows_needed
    assert needed[2] > len(y) and needed[1] > 1.5 * needed[2]
    assert f"{needed[1]} held-out rows" in verdict(
        paired_comparison(y, d, _raise_group_one(y, d, g, 1, True), g, DP_LIMIT, n_boot=400,
                          random_state=0), 0.005
    ).reason  # fmt: skip


def test_a_ratio_measure_is_better_when_higher():
    y, d, g = _incumbent(3000)
    alt = _raise_group_one(y, d, g, 300)
    ratio = "demographic_parity_ratio >= 0.8"
    out = paired_comparison(y, d, alt, g, ratio, n_boot=300, random_state=0)
    measure = out.disparity("demographic_parity_ratio")
    assert measure.higher_is_better and measure.difference > 0
    assert verdict(out, 0.01).word == LESS_DISCRIMINATORY
    back = paired_comparison(y, alt, d, g, ratio, n_boot=300, random_state=0)
    assert back.disparity("demographic_parity_ratio").worse_with_confidence
    assert verdict(back, 0.01).word == NOT_LESS_DISCRIMINATORY
    assert {verdict(out, 0.01).word, verdict(back, 0.01).word} <= set(VERDICT_WORDS)


# --- bad input ------------------------------------------------------------------------------


def test_bad_inputs_name_the_problem_and_the_fix():
    y, d, g = _incumbent(200)
    alt = _raise_group_one(y, d, g, 20)
    with pytest.raises(InputError, match=r"alternative: 399 rows.*same rows in the same order"):
        paired_comparison(y, d, alt[:-1], g, DP_LIMIT)
    holes = alt.astype(float)
    holes[[5, 9]] = np.nan
    with pytest.raises(InputError, match=r"2 missing value.*row 5.*predict those rows again"):
        paired_comparison(y, d, holes, g, DP_LIMIT)
    with pytest.raises(InputError, match=r"coded 0/1.*astype\(int\)"):
        paired_comparison(y, d * 2, alt, g, DP_LIMIT)
    with pytest.raises(InputError, match=r"at least two groups"):
        paired_comparison(y, d, alt, np.zeros_like(g), DP_LIMIT)
    with pytest.raises(InputError, match=r"at least one fairness measure"):
        paired_comparison(y, d, alt, g, [])
    for level in (0, 1, 1.2, -0.5):
        with pytest.raises(InputError, match=r"strictly between 0 and 1.*0\.95"):
            paired_comparison(y, d, alt, g, DP_LIMIT, level=level)
    out = paired_comparison(y, d, alt, g, DP_LIMIT, n_boot=20)
    for tolerance in (-0.01, 1.5):
        with pytest.raises(InputError, match=r"in \[0, 1\].*0\.005 for half a point"):
            verdict(out, tolerance)


def test_a_corrected_level_is_written_with_the_digits_it_needs():
    """Bonferroni over 15 comparisons gives 99.67%: rounding it to 100% would say the
    intervals are certain."""
    from fairautoml.measures.paired import level_words

    assert level_words(0.95) == "95%"
    assert level_words(0.975) == "97.5%"
    assert level_words(1 - 0.05 / 15) == "99.67%"
