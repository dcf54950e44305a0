from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

from fairautoml.exceptions import ConstraintError
from fairautoml.measures.claims import worst_violation
from fairautoml.measures.constraints import (
    CLASSIFICATION_METRICS,
    Constraint,
    evaluate_constraints,
    evaluate_intervals,
    parse_constraint,
    parse_constraints,
)
from fairautoml.measures.decisions import (
    bootstrap_counts,
    confusion_counts,
    group_rates,
    rates_from_counts,
)
from fairautoml.measures.family import central_interval


@pytest.mark.parametrize(
    "text, metric, op, bound",
    [
        ("demographic_parity_difference <= 0.05", "demographic_parity_difference", "<=", 0.05),
        ("equalized_odds_difference<=0.05", "equalized_odds_difference", "<=", 0.05),
        ("equal_opportunity_difference <= 0.03", "equal_opportunity_difference", "<=", 0.03),
        ("demographic_parity_ratio >= 0.8", "demographic_parity_ratio", ">=", 0.8),
        ("false_positive_rate_difference <= 0.1", "false_positive_rate_difference", "<=", 0.1),
        ("false_negative_rate_difference<=1e-1", "false_negative_rate_difference", "<=", 0.1),
        ("  false_positive_rate_ratio>=0.9 ", "false_positive_rate_ratio", ">=", 0.9),
    ],
)
def test_parse_accepts_supported_forms(text, metric, op, bound):
    c = parse_constraint(text)
    assert (c.metric, c.op, c.bound) == (metric, op, bound)
    assert parse_constraint(str(c)) == c


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("demographic_parity <= 0.05", "Unknown fairness metric"),
        ("demographic_parity_difference >= 0.05", "must be constrained with '<='"),
        ("demographic_parity_ratio <= 0.8", "must be constrained with '>='"),
        ("demographic_parity_difference <= 1.5", "must be in (0, 1]"),
        ("demographic_parity_difference <= 0", "must be in (0, 1]"),
        ("demographic_parity_difference <= -0.1", "must be in (0, 1]"),
        ("demographic_parity_difference < 0.05", "Operator '<'"),
        ("demographic_parity_difference 0.05", "Cannot parse"),
        ("<= 0.05", "Cannot parse"),
        ("demographic_parity_difference <= abc", "Cannot parse"),
    ],
)
def test_parse_rejects_with_clear_message(text, fragment):
    with pytest.raises(ConstraintError) as info:
        parse_constraint(text)
    assert fragment in str(info.value)


def test_unknown_metric_lists_supported():
    with pytest.raises(ConstraintError) as info:
        parse_constraint("parity <= 0.1")
    for name in CLASSIFICATION_METRICS:
        assert name in str(info.value)


def test_list_means_all_and_duplicates_rejected():
    cs = parse_constraints(
        ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.1"]
    )
    assert [c.metric for c in cs] == ["demographic_parity_difference", "equalized_odds_difference"]
    assert worst_violation(cs, {cs[0].metric: 0.07, cs[1].metric: 0.05}) == pytest.approx(0.02)
    assert worst_violation(cs, {cs[0].metric: 0.01, cs[1].metric: 0.05}) == 0.0
    with pytest.raises(ConstraintError, match="Duplicate"):
        parse_constraints(["demographic_parity_difference <= 0.05"] * 2)
    with pytest.raises(ConstraintError, match="must be a string"):
        parse_constraints([0.05])


def test_values_come_from_fairlearn():
    rng = np.random.default_rng(0)
    y, pred, g = rng.integers(0, 2, 300), rng.integers(0, 2, 300), rng.integers(0, 3, 300)
    dp = parse_constraint("demographic_parity_difference <= 0.05")
    eo = parse_constraint("equalized_odds_difference <= 0.05")
    assert dp.value(y, pred, g) == demographic_parity_difference(y, pred, sensitive_features=g)
    assert eo.value(y, pred, g) == equalized_odds_difference(y, pred, sensitive_features=g)
    ratio = parse_constraint("demographic_parity_ratio >= 0.8")
    assert ratio.violation(0.7) == pytest.approx(0.1)
    assert ratio.violation(0.9) < 0


@pytest.mark.parametrize("metric", CLASSIFICATION_METRICS)
def test_vectorised_rates_match_fairlearn(metric):
    """The bootstrap's fast path reproduces fairlearn's value with unit weights."""
    rng = np.random.default_rng(1)
    y, pred, g = rng.integers(0, 2, 400), rng.integers(0, 2, 400), rng.integers(0, 3, 400)
    op = ">=" if metric.endswith("ratio") else "<="
    c = Constraint(metric, op, 0.5)
    fast = c.from_rates(group_rates(y, pred, g, np.ones((1, len(y)))))[0]
    assert fast == pytest.approx(c.value(y, pred, g), abs=1e-9)
    counted = c.from_rates(rates_from_counts(*confusion_counts(y, pred, g)))[0]
    assert counted == pytest.approx(c.value(y, pred, g), abs=1e-9)


@pytest.mark.parametrize(
    "groups",
    [
        np.array([0, 2, 2, 0, 2, 0, 2, 2]),  # codes with a gap: group 1 absent
        np.array(["b", "a", "a", "b", "a", "b", "a", "a"]),
        np.array([True, False, False, True, False, True, False, False]),
        np.array([-1, 3, 3, -1, 3, -1, 3, 3]),
    ],
)
def test_confusion_counts_are_the_unit_weight_counts_of_the_groups_present(groups):
    y = np.array([1, 0, 1, 1, 0, 0, 1, 1])
    pred = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    rates = rates_from_counts(*confusion_counts(y, pred, groups))
    reference = group_rates(y, pred, groups, np.ones((1, len(y))))
    for key, value in reference.items():
        np.testing.assert_array_equal(rates[key], value)
    tp, fn, fp, tn = confusion_counts(y, pred, groups)
    assert tp.shape == (1, 2) and (tp + fn + fp + tn).sum() == len(y)


def test_evaluate_constraints_equals_fairlearn_and_falls_back_on_degenerate_groups():
    rng = np.random.default_rng(2)
    y, pred = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    g = rng.choice(np.array(["a", "b", "c"], dtype=object), 500)
    constraints = [
        Constraint(m, ">=" if m.endswith("ratio") else "<=", 0.5) for m in CLASSIFICATION_METRICS
    ]
    values = evaluate_constraints(constraints, y, pred, g)
    for c in constraints:
        assert values[c.metric] == pytest.approx(c.value(y, pred, g), abs=1e-12), c.metric
    y_none = np.where(g == "c", 0, y)  # group c has no positives: TPR is fairlearn's call
    values = evaluate_constraints(constraints, y_none, pred, g)
    assert values == {c.metric: c.value(y_none, pred, g) for c in constraints}


def test_interval_brackets_value_and_shrinks_with_data():
    rng = np.random.default_rng(2)
    c = parse_constraint("demographic_parity_difference <= 0.05")

    def width(n):
        y, g = rng.integers(0, 2, n), rng.integers(0, 2, n)
        pred = (rng.random(n) < 0.3 + 0.1 * g).astype(int)
        lo, hi = c.interval(y, pred, g, random_state=0)
        assert lo <= c.value(y, pred, g) <= hi
        return hi - lo

    assert width(20000) < width(500) / 3


def test_the_rates_lower_bound_by_hand():
    from fairautoml.measures.decisions import rates_lower_bound

    # two groups of 400 and 100 rows, selection rates 0.5 and 0.2 (labels irrelevant)
    groups = np.r_[np.zeros(400, int), np.ones(100, int)]
    pred = np.r_[np.ones(200, int), np.zeros(200, int), np.ones(20, int), np.zeros(80, int)]
    y = np.tile([0, 1], 250)
    counts = confusion_counts(y, pred, groups, np.ones(500))
    z = NormalDist().inv_cdf(1 - 0.05 / 2)  # one rate, two ordered pairs

    def wilson(rate: float, n: int) -> tuple[float, float]:
        centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * math.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        return centre - half, centre + half

    (low_a, _), (_, high_b) = wilson(0.5, 400), wilson(0.2, 100)
    newcombe = 0.3 - math.sqrt((0.5 - low_a) ** 2 + (high_b - 0.2) ** 2)
    got = rates_lower_bound(("selection",), counts, counts, 0.05)
    assert got == pytest.approx(newcombe)
    assert 0.15 < got < 0.3
    # doubling every weight leaves the effective sizes, so the bound, unchanged
    twice = confusion_counts(y, pred, groups, np.full(500, 2.0))
    squared = confusion_counts(y, pred, groups, np.full(500, 4.0))
    assert rates_lower_bound(("selection",), twice, squared, 0.05) == pytest.approx(got)
    # equal rates: nothing to bound away from zero
    same = confusion_counts(y, np.tile([1, 0], 250), groups, np.ones(500))
    assert rates_lower_bound(("selection",), same, same, 0.05) == 0.0


def test_an_audit_does_not_call_a_fair_model_on_small_groups_violated():
    """Four groups, two of them under 150 rows, a model fair in truth for equalized odds:
    the bootstrap's lower end alone sat above 0.05 in nearly every draw."""
    (c,) = parse_constraints(["equalized_odds_difference <= 0.05"])
    rng = np.random.default_rng(0)
    groups = np.concatenate([np.full(n, i) for i, n in enumerate((120, 80, 600, 700))])
    called, bootstrap_called = 0, 0
    for seed in range(40):
        y = (rng.random(groups.size) < 0.45).astype(int)
        pred = (rng.random(groups.size) < np.where(y == 1, 0.6, 0.2)).astype(int)
        low, _ = evaluate_intervals([c], y, pred, groups, level=0.9, random_state=seed)[c.key]
        counts = bootstrap_counts(y, pred, groups, 200, seed)
        boot_low, _ = central_interval(c.from_rates(rates_from_counts(*counts)), 0.9)
        called += low > 0.05
        bootstrap_called += boot_low > 0.05
    assert bootstrap_called >= 30  # what the audit said before
    assert called <= 4  # nominal: at most 5% of draws


def test_a_multiclass_audit_does_not_call_a_fair_model_on_small_groups_violated():
    (c,) = parse_constraints(["demographic_parity_difference <= 0.05"])
    c = c.for_target("multiclass", 3)
    rng = np.random.default_rng(0)
    groups = np.concatenate([np.full(n, i) for i, n in enumerate((120, 80, 600, 700))])
    called = 0
    for seed in range(30):
        y = rng.integers(0, 3, groups.size)
        pred = np.where(rng.random(groups.size) < 0.6, y, rng.integers(0, 3, groups.size))
        low, high = evaluate_intervals([c], y, pred, groups, level=0.9, random_state=seed)[c.key]
        assert low <= c.value(y, pred, groups) <= high
        called += low > 0.05
    assert called <= 3
    # a clear gap is still found: one group selects class 0 far more often
    pred = np.where(groups == 3, 0, rng.integers(0, 3, groups.size))
    y = rng.integers(0, 3, groups.size)
    low, _ = evaluate_intervals([c], y, pred, groups, level=0.9, random_state=0)[c.key]
    assert low > 0.5
