"""The multiclass post-processing program: against brute force on a tiny three-class
problem, feasible on the rows it is fitted on, repeatable per row, and blind."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fairautoml.exceptions import InputError
from fairautoml.measures import multiclass as mf
from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._multiclass_lp_core import draw_classes, fit_multiclass_lp
from fairautoml.mitigators._row_hash import row_uniform_matrix


def _problem(n: int, k: int = 3, n_groups: int = 2, seed: int = 0):
    """Scores that know the class, groups with different class mixes and a model that
    favours class 0 in group 0."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    base = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.3, 0.4, 0.3]])[:n_groups, :k]
    base = base / base.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=base[g]) for g in groups])
    logits = (
        rng.normal(size=(n, k))
        + 1.5 * np.eye(k)[y]
        + 0.8 * (groups == 0)[:, None] * (np.arange(k) == 0)
    )
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return scores, y, groups


def _expected(rule, scores, y, groups, group_proba=None):
    """The rule's expected confusion, as weighted rows (row i predicted j with weight P(j))."""
    proba = rule.assignment_proba(scores, groups, group_proba)
    n, k = proba.shape
    return dict(
        y_true=np.repeat(y, k),
        y_pred=np.tile(np.arange(k), n),
        groups=np.repeat(groups, k),
        sample_weight=proba.ravel() + 1e-300,
        n_classes=k,
    )


def _simplex(step: int) -> np.ndarray:
    """Points of the 3-simplex on a grid of ``1 / step``."""
    pts = [(a, b, step - a - b) for a in range(step + 1) for b in range(step + 1 - a)]
    return np.array(pts, dtype=np.float64) / step


def _brute_force(scores, y, groups, rates: tuple[str, ...], bound: float, step: int = 4):
    """Best accuracy over every per-group matrix on the grid (cells: the argmax class)
    whose rates differ by at most ``bound`` between the two groups, per class."""
    k = scores.shape[1]
    cell = np.argmax(scores, axis=1)
    pts = _simplex(step)
    mats = np.array(list(itertools.product(pts, repeat=k)))  # (M, cell, final class)
    per_group = []
    for g in (0, 1):
        counts = np.zeros((k, k))  # (cell, true class)
        np.add.at(counts, (cell[groups == g], y[groups == g]), 1.0)
        confusion = np.einsum("ct,mcj->mtj", counts, mats)  # (M, true, final)
        size, per_class = counts.sum(), counts.sum(axis=0)
        predicted = confusion.sum(axis=1)
        hits = np.diagonal(confusion, axis1=1, axis2=2)
        values = {
            "selection": predicted / size,
            "tpr": hits / per_class,
            "fpr": (predicted - hits) / (size - per_class),
        }
        vector = np.concatenate([values[r] for r in rates], axis=1)
        per_group.append((vector, hits.sum(axis=1)))
    (va, ga), (vb, gb) = per_group
    best = -np.inf
    for start in range(0, len(va), 200):
        gap = np.abs(va[start : start + 200, None, :] - vb[None, :, :]).max(axis=2)
        total = ga[start : start + 200, None] + gb[None, :]
        feasible = gap <= bound + 1e-12
        if feasible.any():
            best = max(best, float(total[feasible].max()))
    return best / len(y)


@pytest.mark.parametrize(
    ("name", "bound"),
    [("demographic_parity_difference", 0.1), ("equalized_odds_difference", 0.15)],
)
def test_lp_beats_brute_force_on_a_tiny_problem(name, bound):
    scores, y, groups = _problem(60, seed=1)
    rule = fit_multiclass_lp(scores, y, groups, [(name, bound)], n_bins=1)
    assert rule.feasible
    measure = mf.multiclass_measure(name)
    unconstrained = mf.measure_value(name, y, np.argmax(scores, axis=1), groups)
    assert unconstrained > bound  # the constraint binds
    grid = _brute_force(scores, y, groups, measure.rates, bound)
    assert rule.objective >= grid - 1e-9
    assert rule.objective <= float(np.mean(np.argmax(scores, axis=1) == y)) + 1e-9
    # the program's objective and rates are what the rule does on these rows
    expected = _expected(rule, scores, y, groups)
    weighted_accuracy = np.sum(
        expected["sample_weight"] * (expected["y_true"] == expected["y_pred"])
    ) / len(y)
    assert rule.objective == pytest.approx(weighted_accuracy, abs=1e-9)
    assert mf.measure_value(name, **expected) <= bound + 1e-7


@pytest.mark.parametrize(
    ("constraints", "favourable"),
    [
        (["demographic_parity_difference <= 0.05"], None),
        (["equalized_odds_difference <= 0.08"], None),
        (["equal_opportunity_difference <= 0.05"], [2]),
        (["demographic_parity_ratio >= 0.85", "equal_opportunity_difference <= 0.1"], None),
        (["false_negative_rate_ratio >= 0.8"], [0, 1]),
    ],
)
def test_rule_meets_the_constraints_on_its_rows(constraints, favourable):
    from fairautoml.measures.constraints import parse_constraints

    parsed = parse_constraints(constraints)
    scores, y, groups = _problem(3000, seed=2)
    pred = np.argmax(scores, axis=1)
    rule = fit_multiclass_lp(scores, y, groups, parsed, favourable=favourable, n_bins=4)
    assert rule.feasible
    expected = _expected(rule, scores, y, groups)
    drawn = rule.predict(scores, groups)
    for c in parsed:
        # in expectation, exactly (the program's own rates)
        value = mf.measure_value(c.metric, **expected, favourable=favourable)
        assert c.violation(value) <= 1e-7, (c, value)
        np.testing.assert_allclose(
            rule.rates["selection"], mf.group_class_rates(**expected)["selection"], atol=1e-9
        )
        # the drawn classes: within sampling noise of it
        realised = mf.measure_value(c.metric, y, drawn, groups, favourable=favourable)
        assert c.violation(realised) <= 0.06, (c, realised)
    # the rule costs some accuracy, and no more than a constant would
    assert rule.objective <= np.mean(pred == y) + 1e-9
    assert rule.objective > np.max(np.bincount(y)) / len(y)
    # more of the bound used: at least as accurate
    tight = fit_multiclass_lp(scores, y, groups, parsed, favourable=favourable, tolerance=0.5)
    assert tight.objective <= rule.objective + 1e-9


def test_balanced_accuracy_objective():
    scores, y, groups = _problem(2000, seed=3)
    c = [("demographic_parity_difference", 0.05)]
    rule = fit_multiclass_lp(scores, y, groups, c, metric="balanced_accuracy")
    expected = _expected(rule, scores, y, groups)
    hits = np.bincount(
        expected["y_true"],
        weights=expected["sample_weight"] * (expected["y_true"] == expected["y_pred"]),
        minlength=3,
    )
    assert rule.objective == pytest.approx(np.mean(hits / np.bincount(y)), abs=1e-9)


def test_draws_repeat_per_row():
    scores, y, groups = _problem(500, seed=4)
    rule = fit_multiclass_lp(scores, y, groups, [("demographic_parity_difference", 0.02)], seed=7)
    first = rule.predict(scores, groups)
    np.testing.assert_array_equal(first, rule.predict(scores, groups))
    order = np.random.default_rng(0).permutation(len(y))[:137]
    np.testing.assert_array_equal(first[order], rule.predict(scores[order], groups[order]))
    proba = rule.predict_proba(scores, groups)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(proba, axis=1), first)
    assert (proba[np.arange(len(y)), first] > 0.5).all()
    # the rule does randomize, and another seed draws differently
    assignment = rule.assignment_proba(scores, groups)
    assert ((assignment > 0) & (assignment < 1)).any()
    other = fit_multiclass_lp(scores, y, groups, [("demographic_parity_difference", 0.02)], seed=8)
    assert (other.predict(scores, groups) != first).any()


def test_draws_follow_the_probabilities():
    proba = np.tile([[0.2, 0.0, 0.5, 0.3]], (20000, 1))
    u = row_uniform_matrix(np.random.default_rng(0).uniform(size=(20000, 3)), None, 0)
    assert u.min() > 0.0 and u.max() <= 1.0
    counts = np.bincount(draw_classes(proba, u), minlength=4) / 20000
    np.testing.assert_allclose(counts, [0.2, 0.0, 0.5, 0.3], atol=0.015)


def test_blind_rule():
    scores, y, groups = _problem(3000, seed=5)
    c = [("demographic_parity_difference", 0.05)]
    aware = fit_multiclass_lp(scores, y, groups, c)
    one_hot = np.eye(2)[groups]
    blind = fit_multiclass_lp(scores, y, groups, c, group_proba=one_hot, blind=True)
    assert blind.needs_group_proba and not blind.needs_group
    assert blind.objective == pytest.approx(aware.objective, abs=1e-8)
    np.testing.assert_allclose(
        blind.assignment_proba(scores, None, one_hot),
        aware.assignment_proba(scores, groups),
        atol=1e-6,
    )
    # a blurred group classifier: the true groups' rates still meet the bound on these rows
    rng = np.random.default_rng(0)
    right = rng.uniform(0.55, 0.95, len(y))
    soft = np.where(one_hot == 1, right[:, None], 1 - right[:, None])
    rule = fit_multiclass_lp(scores, y, groups, c, group_proba=soft, blind=True)
    assert rule.feasible and rule.objective <= aware.objective + 1e-9
    expected = _expected(rule, scores, y, groups, group_proba=soft)
    assert mf.measure_value("demographic_parity_difference", **expected) <= 0.05 + 1e-7
    with pytest.raises(InputError, match="group_proba"):
        rule.predict(scores, groups)
    # with no true groups, the soft memberships are the measured groups
    soft_only = fit_multiclass_lp(scores, y, None, c, group_proba=soft, blind=True)
    assert soft_only.feasible


def test_constraint_objects_and_no_constraint():
    scores, y, groups = _problem(400, seed=6)
    rule = fit_multiclass_lp(
        scores, y, groups, [Constraint("equalized_odds_difference", "<=", 0.1)]
    )
    assert rule.feasible
    free = fit_multiclass_lp(scores, y, groups, [])
    np.testing.assert_array_equal(free.predict(scores, groups), np.argmax(scores, axis=1))


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"scores": np.ones(10)}, "shape"),
        ({"y": np.full(10, 3)}, "class code"),
        ({"groups": np.array(["a"] * 10)}, "integer codes"),
        ({"groups": None}, "groups"),
        ({"tolerance": 1.5}, "tolerance"),
        ({"metric": "f1"}, "gain matrix"),
        ({"blind": True}, "P\\(group"),
        ({"favourable": [5]}, "favourable"),
        ({"group_proba": np.ones((10, 2))}, "sum to 1"),
    ],
)
def test_bad_input_names_the_fix(kwargs, words):
    rng = np.random.default_rng(0)
    given = {
        "scores": rng.dirichlet(np.ones(3), 10),
        "y": rng.integers(0, 3, 10),
        "groups": rng.integers(0, 2, 10),
        "constraints": [("demographic_parity_difference", 0.1)],
    } | kwargs
    with pytest.raises(InputError, match=words):
        fit_multiclass_lp(**given)
