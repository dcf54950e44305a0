from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer

import fairautoml
from fairautoml.measures.constraints import Constraint, parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import get_mitigator
from fairautoml.mitigators import relaxed_thresholds as rt
from fairautoml.mitigators._base import row_keys, rule_proba
from fairautoml.mitigators.group_thresholds import fit_group_thresholds
from fairautoml.mitigators.relaxed_thresholds import (
    RelaxedThresholdRule,
    fit_relaxed_thresholds,
    hull_vertices,
    relaxed_bound,
)
from fairautoml.mitigators.threshold_optimizer import _PrefitScores

SPECS = [
    ["demographic_parity_difference <= 0.1"],
    ["equalized_odds_difference <= 0.1"],
    ["true_positive_rate_difference <= 0.05"],
    ["demographic_parity_ratio >= 0.8"],
    ["false_positive_rate_ratio >= 0.7"],
    ["demographic_parity_difference <= 0.1", "false_negative_rate_difference <= 0.08"],
]


def _scores(n=3000, n_groups=3, seed=0, levels=None):
    """Scores informative of y, group-shifted; ``levels`` rounds them to a few values."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    y = (rng.random(n) < 0.25 + 0.2 * g).astype(int)
    s = np.clip(0.3 * y + 0.12 * g + rng.normal(0.3, 0.2, n), 0, 1)
    return (np.round(s * levels) / levels if levels else s), y, g


def _expected_rates(p, y, g, n_groups):
    """Exact per-group rates of acceptance probabilities ``p`` (no draw)."""
    out = {r: np.zeros(n_groups) for r in ("selection", "tpr", "fpr", "fnr")}
    for k in range(n_groups):
        m = g == k
        out["selection"][k] = p[m].mean()
        out["tpr"][k] = p[m & (y == 1)].mean()
        out["fpr"][k] = p[m & (y == 0)].mean()
    out["fnr"] = 1.0 - out["tpr"]
    return out


def _expected_metric(p, y, metric):
    tp, tn = np.sum(p * y), np.sum((1 - p) * (1 - y))
    if metric == "balanced_accuracy":
        return 0.5 * (tp / y.sum() + tn / (1 - y).sum())
    return (tp + tn) / len(y)


def _meets(constraints, rates, tolerance, rows, eps=1e-9):
    """Whether ``rates`` (arrays of shape (..., n_groups)) meet the relaxed bounds; a ratio
    also needs every group's rate at one row's worth (``rows``: rate -> rows per group)."""
    ok = True
    for c in constraints:
        value = c.from_rates(rates)
        bound = relaxed_bound(c, tolerance)
        ok = ok & (value >= bound - eps if c.is_ratio else value <= bound + eps)
        for r in c.rates if c.is_ratio else ():
            ok = ok & np.all(rates[r] >= 1 / rows[r] - eps, axis=-1)
    return ok


def _rows(y, g, n_groups):
    pos = np.array([np.sum((g == k) & (y == 1)) for k in range(n_groups)])
    neg = np.bincount(g, minlength=n_groups) - pos
    return {"selection": pos + neg, "tpr": pos, "fpr": neg, "fnr": pos}


def _group_counts(s, y):
    """TP and FP of 'accept s >= v' for every distinct v, and accept nobody."""
    cuts = np.concatenate([np.unique(s), [np.inf]])
    accepted = s[None, :] >= cuts[:, None]
    return (accepted & (y == 1)).sum(1), (accepted & (y == 0)).sum(1)


def _mixtures(tp, fp, alphas):
    """Expected TP and FP of every mixture of two thresholds with weight ``alpha``."""
    i, j = np.triu_indices(len(tp))
    a = alphas[:, None]
    return (a * tp[i] + (1 - a) * tp[j]).ravel(), (a * fp[i] + (1 - a) * fp[j]).ravel()


def _brute_force(s, y, g, constraints, metric, alphas):
    """Best metric over pairs of per-group (mixtures of) thresholds meeting the constraints."""
    per_group = []
    for k in (0, 1):
        tp, fp = _mixtures(*_group_counts(s[g == k], y[g == k]), alphas)
        per_group.append((tp, fp, np.sum(y[g == k]), np.sum((g == k) & (y == 0))))
    (tp0, fp0, p0, n0), (tp1, fp1, p1, n1) = per_group
    tp0, tp1 = np.meshgrid(tp0, tp1, indexing="ij")
    fp0, fp1 = np.meshgrid(fp0, fp1, indexing="ij")
    tpr = np.stack([tp0 / p0, tp1 / p1], axis=-1)
    fpr = np.stack([fp0 / n0, fp1 / n1], axis=-1)
    selection = np.stack([(tp0 + fp0) / (p0 + n0), (tp1 + fp1) / (p1 + n1)], axis=-1)
    rates = {"selection": selection, "tpr": tpr, "fpr": fpr, "fnr": 1 - tpr}
    tp, tn = tp0 + tp1, (n0 - fp0) + (n1 - fp1)
    if metric == "balanced_accuracy":
        value = 0.5 * (tp / (p0 + p1) + tn / (n0 + n1))
    else:
        value = (tp + tn) / len(y)
    ok = _meets(constraints, rates, 1.0, _rows(y, g, 2)) if constraints else value > -1
    return float(value[ok].max())


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("spec", SPECS)
def test_beats_brute_force_over_thresholds_and_their_mixtures(spec, seed, metric):
    s, y, g = _scores(n=120, n_groups=2, seed=seed, levels=6)
    constraints = parse_constraints(spec)
    rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric(metric), tolerance=1.0)
    deterministic = _brute_force(s, y, g, constraints, metric, np.array([1.0]))
    mixed = _brute_force(s, y, g, constraints, metric, np.linspace(0, 1, 9))
    assert rule.feasible
    assert rule.objective >= mixed - 1e-9 >= deterministic - 1e-9
    # and the program does not over-claim: its rule achieves it and meets the constraints
    p = rule.accept_probability(s, g)
    assert _expected_metric(p, y, metric) == pytest.approx(rule.objective, abs=1e-9)
    assert _meets(constraints, _expected_rates(p, y, g, 2), 1.0, _rows(y, g, 2))


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy"])
def test_unconstraining_tolerance_gives_each_groups_best_threshold(metric):
    s, y, g = _scores(n=120, n_groups=2, seed=3, levels=6)
    best = _brute_force(s, y, g, [], metric, np.array([1.0]))
    loose = parse_constraints("demographic_parity_difference <= 1")
    for constraints in ([], loose):
        rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric(metric), tolerance=1.0)
        assert rule.objective == pytest.approx(best, abs=1e-12)
    rule = fit_relaxed_thresholds(s, y, g, [], get_metric(metric))
    assert all(len(t) == 1 for t in rule.thresholds)  # deterministic
    assert {a.tolist()[-1] for a in rule.accept} == {1.0}


@pytest.mark.parametrize("tolerance", [1.0, 0.4])
@pytest.mark.parametrize("spec", SPECS)
def test_exact_rates_meet_the_relaxed_bounds_and_match_the_program(spec, tolerance):
    s, y, g = _scores()
    constraints = parse_constraints(spec)
    rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric("accuracy"), tolerance)
    p = rule.accept_probability(s, g)
    rates = _expected_rates(p, y, g, 3)
    assert rule.feasible and _meets(constraints, rates, tolerance, _rows(y, g, 3))
    for r, values in rates.items():
        np.testing.assert_allclose(values, rule.rates[r], atol=1e-9, err_msg=r)
    assert _expected_metric(p, y, "accuracy") == pytest.approx(rule.objective, abs=1e-9)
    # the constraints bind, and the program does at least as well as the grid of group_thresholds
    free = fit_relaxed_thresholds(s, y, g, [], get_metric("accuracy"))
    free_rates = _expected_rates(free.accept_probability(s, g), y, g, 3)
    assert not _meets(constraints, free_rates, 1.0, _rows(y, g, 3))
    grid = fit_group_thresholds(s, y, g, constraints, get_metric("accuracy"), slack=1 - tolerance)
    assert rule.objective >= np.mean(grid.predict(s, g) == y) - 1e-12


def test_hull_keeps_both_chains_and_drops_points_inside():
    fpr = np.array([0.0, 0.2, 0.3, 0.4, 0.5, 1.0])
    tpr = np.array([0.0, 0.05, 0.4, 0.45, 0.8, 1.0])  # (0.2, 0.05): worse than chance
    assert hull_vertices(fpr, tpr).tolist() == [0, 1, 4, 5]


@pytest.mark.parametrize(
    ("notion", "spec"),
    [
        ("demographic_parity", "demographic_parity_difference <= 0.05"),
        ("equalized_odds", "equalized_odds_difference <= 0.05"),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_at_tolerance_zero_matches_fairlearns_threshold_optimizer(notion, spec, seed):
    s, y, g = _scores(n=400, n_groups=2, seed=seed)
    optimizer = ThresholdOptimizer(
        estimator=_PrefitScores(), constraints=notion, prefit=True, predict_method="predict"
    )
    optimizer.fit(s[:, None], y, sensitive_features=g)
    theirs = optimizer._pmf_predict(s[:, None], sensitive_features=g)[:, 1]  # no public pmf
    rule = fit_relaxed_thresholds(s, y, g, parse_constraints(spec), get_metric("accuracy"), 0.0)
    ours = rule.accept_probability(s, g)
    gap = _expected_metric(ours, y, "accuracy") - _expected_metric(theirs, y, "accuracy")
    assert -1e-3 <= gap <= 5e-3
    rates = _expected_rates(ours, y, g, 2)
    for r in ("selection",) if notion == "demographic_parity" else ("tpr", "fpr"):
        assert abs(rates[r][0] - rates[r][1]) <= 1e-9


def test_draws_are_repeatable_per_row_and_consistent_with_proba():
    s, y, g = _scores(n=20000, seed=4)
    constraints = parse_constraints("equalized_odds_difference <= 0.05")
    rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric("accuracy"), 0.5, seed=7)
    pred, proba = rule.predict(s, g), rule.predict_proba(s, g)
    np.testing.assert_array_equal(pred, (proba >= 0.5).astype(int))
    assert proba.dtype == np.float64 and np.all((proba >= 0) & (proba <= 1))
    order = np.random.default_rng(0).permutation(len(s))
    np.testing.assert_array_equal(rule.predict(s[order], g[order]), pred[order])
    np.testing.assert_array_equal(rule.predict(s[:100], g[:100]), pred[:100])
    p = rule.accept_probability(s, g)
    assert np.any((p > 0) & (p < 1))  # some rows are really drawn
    assert abs(pred.mean() - p.mean()) < 0.01  # the draws follow p_g(s)
    assert np.all(pred[p == 1] == 1) and np.all(pred[p == 0] == 0)
    other = fit_relaxed_thresholds(s, y, g, constraints, get_metric("accuracy"), 0.5, seed=8)
    assert not np.array_equal(other.predict(s, g), pred)


def test_failed_program_falls_back_without_raising(monkeypatch):
    s, y, g = _scores(seed=5)

    class Failed:
        status, x = 2, None

    monkeypatch.setattr(rt, "linprog", lambda *a, **k: Failed())
    constraints = parse_constraints("demographic_parity_ratio >= 0.9")
    rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric("accuracy"), 0.8)
    assert not rule.feasible
    assert rule.predict(s, g).shape == (len(s),)


def test_a_ratio_is_not_met_by_rejecting_everybody():
    """With useless scores and few positives, rejecting all is the most accurate rule; it
    meets ``rho * max <= min`` with 0 <= 0, but fairlearn's ratio is then undefined."""
    rng = np.random.default_rng(8)
    g, y, s = rng.integers(0, 2, 400), (rng.random(400) < 0.15).astype(int), rng.random(400)
    constraints = parse_constraints("demographic_parity_ratio >= 0.8")
    rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric("accuracy"))
    sizes = np.bincount(g)
    assert rule.feasible and np.all(rule.rates["selection"] >= 1 / sizes - 1e-9)
    assert np.all(rule.rates["selection"] <= 2 / sizes)  # and no more than needed


def test_a_ratio_a_group_cannot_meet_falls_back_to_the_bands_without_floors():
    s, y, g = _scores(n=900, seed=9)
    y[g == 2] = 0  # no positives: its TPR is 0 whatever the rule
    constraints = parse_constraints(
        ["equal_opportunity_ratio >= 0.8", "demographic_parity_difference <= 0.1"]
    )
    rule = fit_relaxed_thresholds(s, y, g, constraints, get_metric("accuracy"))
    assert not rule.feasible
    p = rule.accept_probability(s, g)
    selection = [p[g == k].mean() for k in range(3)]
    assert np.ptp(selection) <= 0.1 + 1e-9  # the difference is still met


def test_mitigator_declares_and_uses_its_space():
    m = get_mitigator("relaxed_thresholds")
    assert m.stage == "post" and m.randomized and m.needs_group_at_predict
    assert m.cost < 0.1  # cheap: tried on every trained model
    assert m.space.defaults() == {"tolerance": 0.8}
    s, y, g = _scores(n=600, seed=6)
    c = parse_constraints("true_positive_rate_difference <= 0.1")
    rule = m.fit(s, y, g, c, get_metric("f1"), {"tolerance": 0.2}, random_state=3)
    assert isinstance(rule, RelaxedThresholdRule) and rule.needs_group and rule.seed == 3
    assert abs(rule.rates["tpr"][0] - rule.rates["tpr"][1]) <= 0.02 + 1e-9


def test_group_missing_from_the_fitting_rows_gets_a_plain_threshold():
    s, y, g = _scores(n=900, seed=7)
    keep = g != 1
    rule = fit_relaxed_thresholds(
        s[keep], y[keep], g[keep], [Constraint("demographic_parity_difference", "<=", 0.1)],
        get_metric("accuracy"),
    )  # fmt: skip
    p = rule.accept_probability(s, g)
    np.testing.assert_array_equal(p[g == 1], (s[g == 1] >= 0.5).astype(float))


def test_search_with_relaxed_thresholds(german):
    X, y, s = german
    automl = fairautoml.FairAutoML(
        constraints="demographic_parity_difference <= 0.05",
        mitigators=["none", "relaxed_thresholds"],
        sensitive_at_predict=True,
        n_trials=3,
        time_budget=None,
        random_state=0,
    ).fit(X, y, sensitive_features=s)
    board = automl.leaderboard_
    rows = board[board["post"] == "relaxed_thresholds"]
    assert len(rows) >= 5 and (rows["status"] == "ok").all() and rows["randomized"].all()
    assert automl.predict(X.iloc[:50], sensitive_features=s.iloc[:50]).shape == (50,)


def test_brute_force_helper_sees_randomization_help():
    """Sanity of the brute force itself: mixing can beat every deterministic pair."""
    found = False
    for seed, spec in itertools.product(range(3), SPECS):
        s, y, g = _scores(n=120, n_groups=2, seed=seed, levels=6)
        c = parse_constraints(spec)
        det = _brute_force(s, y, g, c, "accuracy", np.array([1.0]))
        found |= _brute_force(s, y, g, c, "accuracy", np.linspace(0, 1, 9)) > det + 1e-9
    assert found


# --- inferred_thresholds: the same program over cells of a group classifier's output -------


def _noisy_proba(g, n_groups, accuracy, seed):
    """P(group | x) that ranks the true group first for about ``accuracy`` of the rows."""
    rng = np.random.default_rng(seed)
    guess = np.where(rng.random(len(g)) < accuracy, g, rng.integers(0, n_groups, len(g)))
    confidence = rng.uniform(0.4, 1.0, len(g))
    p = np.tile(((1 - confidence) / (n_groups - 1))[:, None], (1, n_groups))
    p[np.arange(len(g)), guess] = confidence
    return p


@pytest.mark.parametrize("spec", SPECS)
def test_inferred_with_the_true_groups_is_relaxed_thresholds(spec):
    """Sure of every row's group, the cells are the groups: the same program, the same best
    value (the rule itself may be another optimum: the cells keep every threshold, the
    groups only their hull's vertices)."""
    from fairautoml.mitigators.inferred_thresholds import fit_inferred_thresholds

    s, y, g = _scores()
    constraints, metric = parse_constraints(spec), get_metric("accuracy")
    exact = fit_relaxed_thresholds(s, y, g, constraints, metric, tolerance=0.7)
    inferred = fit_inferred_thresholds(s, y, g, np.eye(3)[g], constraints, metric, 0.7)
    assert inferred.feasible and inferred.cells.objective == pytest.approx(exact.objective)
    # no uncertain rows: that cell (0) goes with the largest group's
    assert inferred.cell_map.tolist() == [int(np.bincount(g).argmax()), 0, 1, 2]


@pytest.mark.parametrize("tolerance", [1.0, 0.5])
@pytest.mark.parametrize("spec", SPECS)
def test_inferred_rule_meets_the_bounds_on_the_true_groups(spec, tolerance):
    """With a noisy group classifier, the true groups' exact rates (no draw) meet every
    relaxed bound and match what the program predicted; the group is never read."""
    from fairautoml.mitigators.inferred_thresholds import fit_inferred_thresholds

    s, y, g = _scores(seed=4)
    proba = _noisy_proba(g, 3, accuracy=0.7, seed=4)
    constraints, metric = parse_constraints(spec), get_metric("accuracy")
    rule = fit_inferred_thresholds(s, y, g, proba, constraints, metric, tolerance, seed=1)
    p = rule.cells.accept_probability(s, rule.cell_of(proba))
    rates = _expected_rates(p, y, g, 3)
    assert rule.feasible and _meets(constraints, rates, tolerance, _rows(y, g, 3))
    for r, values in rates.items():
        np.testing.assert_allclose(values, rule.cells.rates[r], atol=1e-9, err_msg=r)
    assert _expected_metric(p, y, "accuracy") == pytest.approx(rule.cells.objective, abs=1e-9)
    # the decision reads the score and P(group | x) only
    decided = rule.predict_proba(s, None, group_proba=proba)
    np.testing.assert_array_equal(decided, rule.predict_proba(s, g[::-1], group_proba=proba))
    assert ((decided >= 0.5) == (p >= 0.5)).mean() > 0.8  # draws follow the probabilities


def test_inferred_beats_brute_force_over_cell_thresholds():
    """Two cells (sure of group 1, the rest): at least the best deterministic threshold pair
    whose true groups meet the constraint."""
    from fairautoml.mitigators.inferred_thresholds import fit_inferred_thresholds

    s, y, g = _scores(n=400, n_groups=2, seed=5, levels=8)
    proba = np.where((g == 1) & (np.arange(len(g)) % 3 > 0), 0.9, 0.5)
    proba = np.column_stack([1 - proba, proba])
    cell = (proba[:, 1] >= 2 / 3).astype(int)
    c = parse_constraints("demographic_parity_difference <= 0.05")
    rule = fit_inferred_thresholds(s, y, g, proba, c, get_metric("accuracy"), 1.0)
    values = np.concatenate([np.unique(s), [np.inf]])
    best = -1.0
    for t0, t1 in itertools.product(values, values):
        accept = np.where(cell == 0, s >= t0, s >= t1)
        gap = abs(accept[g == 0].mean() - accept[g == 1].mean())
        if gap <= 0.05 + 1e-12:
            best = max(best, float(np.mean(accept == y)))
    assert rule.feasible and rule.cells.objective >= best - 1e-9 > 0


def test_small_cells_join_the_uncertain_one():
    from fairautoml.mitigators.inferred_thresholds import MIN_CELL_ROWS, fit_inferred_thresholds

    s, y, g = _scores(n=600, n_groups=2, seed=6)
    proba = np.full((len(g), 3), 1 / 3)  # a third group that nobody is confidently in...
    proba[: MIN_CELL_ROWS - 1] = [0.0, 0.0, 1.0]  # ...but for a few rows
    c = parse_constraints("demographic_parity_difference <= 0.1")
    rule = fit_inferred_thresholds(s, y, g, proba, c, get_metric("accuracy"), 1.0)
    assert rule.cell_map.tolist() == [0, 0, 0, 0]  # one cell: a single threshold rule
    assert len(rule.cells.thresholds) == 1
    new = np.array([[0.9, 0.05, 0.05], [0.0, 0.0, 1.0], [0.3, 0.3, 0.4]])
    assert rule.cell_of(new).tolist() == [0, 0, 0]


def test_search_with_inferred_thresholds_is_blind(german):
    X, y, s = german
    est = fairautoml.FairAutoML(
        mitigators=["inferred_thresholds"], learners=["lightgbm"], n_trials=2,
        time_budget=None, random_state=0, decision_rule="proxy",
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    board = est.leaderboard_
    assert (board.loc[board["status"] == "ok", "post"] == "inferred_thresholds").any()
    assert not est.best_estimator_.needs_group


def _tied_rule_and_rows():
    """A rule accepting half of the rows scored 1.0; 300 rows tied there, 300 below."""
    rng = np.random.default_rng(0)
    scores = np.r_[np.ones(300), rng.uniform(0, 0.5, 300)]
    groups = np.zeros(600, dtype=np.int64)
    features = pd.DataFrame({"income": rng.normal(size=600), "zone": rng.choice(["a", "b"], 600)})
    rule = rt.RelaxedThresholdRule(
        thresholds=(np.array([1.0]),), accept=(np.array([0.0, 0.5]),), seed=0,
        rates={}, objective=0.0,
    )  # fmt: skip
    return rule, scores, groups, features


def test_tied_scores_are_drawn_independently():
    """Keyed on the rows' features, rows tied on the score get draws of their own: their
    decided rate is the rule's; without keys they share one draw."""
    rule, scores, groups, features = _tied_rule_and_rows()
    tied = scores == 1.0
    assert rule.accept_probability(scores, groups)[tied].mean() == 0.5
    drawn = rule_proba(rule, scores, groups, keys=row_keys(features)) >= 0.5
    # 300 independent draws at 0.5 land within 0.1 of it; one shared draw lands at 0 or 1
    assert abs(drawn[tied].mean() - 0.5) < 0.1
    shared = rule.predict_proba(scores, groups) >= 0.5
    assert shared[tied].mean() in (0.0, 1.0)


def test_a_row_keeps_its_draw_in_any_batch_and_identical_rows_share_it():
    rule, scores, groups, features = _tied_rule_and_rows()
    keys = row_keys(features)
    whole = rule_proba(rule, scores, groups, keys=keys)
    part = np.arange(0, 600, 7)[::-1]  # another batch, in another order
    shuffled = features.iloc[part].reset_index(drop=True)
    alone = rule_proba(rule, scores[part], groups[part], keys=row_keys(shuffled))
    np.testing.assert_array_equal(alone, whole[part])
    twice = pd.concat([features.iloc[:1]] * 50, ignore_index=True)
    same = rule_proba(rule, np.ones(50), np.zeros(50, dtype=np.int64), keys=row_keys(twice))
    assert len(np.unique(same)) == 1


def test_the_search_keys_a_validation_row_as_the_model_does(german):
    """The search's draws on its validation rows are the fitted model's draws on the same
    rows: their keys come from the features as both see them."""
    from fairautoml.estimators.context import search_context

    X, y, s = german
    est = fairautoml.FairAutoML(
        mitigators=["inferred_thresholds"], learners=["logistic_regression"], n_trials=1,
        time_budget=None, cv_folds=None, random_state=0, confirm=False, ensemble=False,
        decision_rule="proxy",
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    ctx, _ = search_context(est.get_params(), X, y, s)
    model = est.best_estimator_
    rows = X.iloc[ctx.val_idx].reset_index(drop=True)
    features, _ = model.prepare(rows, s.iloc[ctx.val_idx].reset_index(drop=True))
    np.testing.assert_array_equal(row_keys(features), ctx.val_keys)
