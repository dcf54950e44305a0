"""gap_reweighing: cell weights against each group's rate gap, their scale in three fits.

Gaps are measured with fairlearn, on the training rows (what the mitigator aims at) and on
rows it never saw.
"""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

from fairautoml.data.prepare import prepare_fit_data
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import parse_constraints
from fairautoml.mitigators import get_mitigator
from fairautoml.mitigators._base import (
    EstimatorScoringModel,
    FoldModels,
    GroupPredictingModel,
    search_deadline,
    trained_parts,
)
from fairautoml.mitigators.gap_reweighing import (
    MAX_FITS,
    MAX_SCALE,
    PROBE,
    ReweighedModel,
    _Stratum,
    cell_weights,
    group_rates,
    mean_log_weights,
)
from fairautoml.tasks import get_task
from fairautoml.testing.conformance import make_unfair

GAPS = {
    "demographic_parity_difference": demographic_parity_difference,
    "equalized_odds_difference": equalized_odds_difference,
}


def split(n_groups: int = 2, seed: int = 0):
    X, y, s = make_unfair(6000, seed)
    if n_groups == 3:  # a third group: half of group b, with a base-rate shift of its own
        rng = np.random.default_rng(seed)
        third = (s == "b") & (rng.random(len(s)) < 0.5)
        s = s.where(~third, "c")
        y = y.where(~third | (rng.random(len(y)) < 0.7), 0)
    d = prepare_fit_data(X, y, s, task=get_task("binary"))
    half = len(d.y) // 2
    return (d.X.iloc[:half], d.y[:half], d.groups[:half]), (
        d.X.iloc[half:],
        d.y[half:],
        d.groups[half:],
    )


def fitted(metric: str, bound: float, bound_scale: float = 0.6, n_groups: int = 2):
    (X, y, g), held_out = split(n_groups)
    model = get_mitigator("gap_reweighing").fit(
        lambda: get_learner("lightgbm").make({"n_estimators": 50}, 0),
        X, y, g, parse_constraints(f"{metric} <= {bound}"), {"bound_scale": bound_scale}, 0,
        task=get_task("binary"),
    )  # fmt: skip
    return model, (X, y, g), held_out


def gap(metric: str, model, rows) -> float:
    X, y, g = rows
    decisions = (model.predict_proba(X, None) >= 0.5).astype(int)
    return GAPS[metric](y, decisions, sensitive_features=g)


def plain_gap(metric: str, rows, fit_rows) -> float:
    learner = get_learner("lightgbm").make({"n_estimators": 50}, 0).fit(*fit_rows[:2])
    X, y, g = rows
    return GAPS[metric](y, learner.predict(X), sensitive_features=g)


class Counting:
    """Logistic regression that records the sample weights of every fit."""

    fits: ClassVar[list] = []

    def __init__(self):
        self.learner = get_learner("logistic_regression").make({}, 0)

    def fit(self, X, y, sample_weight=None):
        Counting.fits.append(sample_weight)
        self.learner.fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.learner.classes_
        return self

    def predict_proba(self, X):
        return self.learner.predict_proba(X)


@pytest.mark.parametrize("metric", list(GAPS))
@pytest.mark.parametrize("n_groups", [2, 3])
def test_the_gap_closes_to_near_the_aim_on_training_rows_and_narrows_on_new_rows(metric, n_groups):
    model, train, held_out = fitted(metric, 0.05, n_groups=n_groups)
    raw_train, raw_new = plain_gap(metric, train, train), plain_gap(metric, held_out, train)
    assert raw_train > 0.15 and raw_new > 0.15  # the data is unfair to begin with
    if n_groups == 2:  # the secant steps reach the bound on the rows they see
        assert gap(metric, model, train) <= 0.05
    else:  # the direction is fixed by the first fit: a middle group can lag behind
        assert gap(metric, model, train) <= raw_train / 2
    assert gap(metric, model, held_out) <= 0.75 * raw_new


def test_the_group_is_not_read_at_predict_time():
    model, _, (X, _, g) = fitted("demographic_parity_difference", 0.05)
    proba = model.predict_proba(X, None)
    assert not model.needs_group
    np.testing.assert_array_equal(proba, model.predict_proba(X, np.zeros_like(g)))


def test_a_model_already_within_the_aim_costs_one_fit_any_other_three_or_four():
    (X, y, g), _ = split()
    fits = Counting.fits = []
    constraints = parse_constraints("demographic_parity_difference <= 0.9")
    get_mitigator("gap_reweighing").fit(
        Counting, X, y, g, constraints, {}, 0, task=get_task("binary")
    )
    assert fits == [None]
    fits = Counting.fits = []
    constraints = parse_constraints("demographic_parity_difference <= 0.02")
    get_mitigator("gap_reweighing").fit(
        Counting, X, y, g, constraints, {}, 0, task=get_task("binary")
    )
    assert 3 <= len(fits) <= MAX_FITS == 4 and fits[0] is None
    assert all(w is not None and w.mean() == pytest.approx(1.0) for w in fits[1:])


def test_a_low_rate_groups_positives_count_more_and_its_negatives_less():
    y = np.array([1, 0, 1, 0])
    groups = np.array(["low", "low", "high", "high"])
    decisions = np.array([0, 0, 1, 0])  # "low" selected at 0, "high" at 0.5
    stratum = _Stratum(None, group_rates(decisions, y, groups, None))
    assert (stratum.high, stratum.low, stratum.gap0) == ("high", "low", 0.5)
    w = cell_weights(y, groups, [stratum], [1.0])
    assert w.mean() == pytest.approx(1.0)
    # d = (0.25 - rate) / 0.5: +0.5 for "low", -0.5 for "high"
    assert w[0] / w[2] == pytest.approx(np.exp(1.0))  # low's positive vs high's positive
    assert w[1] / w[3] == pytest.approx(np.exp(-1.0))  # low's negative vs high's negative
    # equalized odds' strata: a positive-row stratum leaves the negatives' weights alone
    tpr = _Stratum(1, group_rates(decisions, y, groups, 1))
    w = cell_weights(y, groups, [tpr], [1.0])
    assert w[1] == pytest.approx(w[3])
    assert w[0] > w[2]


def test_the_secant_step_meets_the_aim_on_a_straight_line():
    stratum = _Stratum(None, {"a": 0.3, "b": 0.1})  # gap 0.2
    # the gap falls 0.1 per half unit of scale: 0.03 is reached at 0.5 + 0.07 / 0.2
    assert stratum.secant((PROBE, 0.1), (0.0, 0.2), 0.03) == pytest.approx(PROBE + 0.35)
    # from the last two points, not the first: 0.05 at 0.85, falling 0.2 per unit
    assert stratum.secant((0.85, 0.05), (PROBE, 0.12), 0.03) == pytest.approx(0.95)
    assert stratum.secant((PROBE, 0.25), (0.0, 0.2), 0.03) == pytest.approx(2 * PROBE)  # widened
    assert stratum.secant((PROBE, 0.1999), (0.0, 0.2), 0.0) == MAX_SCALE  # nearly flat
    assert stratum.secant((PROBE, 0.1), (PROBE, 0.2), 0.0) == 2 * PROBE  # no run: no slope


def test_only_one_notion_by_its_difference_is_supported():
    m = get_mitigator("gap_reweighing")
    assert m.supports(parse_constraints("equalized_odds_difference <= 0.05"))
    assert m.supports(parse_constraints("false_negative_rate_difference <= 0.05"))
    assert not m.supports(parse_constraints("demographic_parity_ratio >= 0.8"))
    both = parse_constraints(
        ["demographic_parity_difference <= 0.1", "equalized_odds_difference <= 0.1"]
    )
    assert not m.supports(both)
    (X, y, g), _ = split()
    with pytest.raises(ValueError, match=r"gap_reweighing enforces one .* group_thresholds"):
        m.fit(
            lambda: get_learner("lightgbm").make({}, 0),
            X,
            y,
            g,
            both,
            {},
            0,
            task=get_task("binary"),
        )


def test_it_fails_fast_when_the_search_deadline_is_near():
    (X, y, g), _ = split()
    c = parse_constraints("demographic_parity_difference <= 0.05")
    start = time.monotonic()
    with search_deadline(time.monotonic() + 0.01), pytest.raises(TimeoutError, match="left"):
        get_mitigator("gap_reweighing").fit(
            lambda: get_learner("lightgbm").make({}, 0), X, y, g, c, {}, 0, task=get_task("binary")
        )
    assert time.monotonic() - start < 3.0


def test_a_group_without_rows_in_a_stratum_keeps_its_weights():
    rates = {"a": 0.6, "b": 0.2, "c": float("nan")}  # "c" has no positives
    stratum = _Stratum(1, rates)
    assert stratum.direction["c"] == 0.0
    y = np.array([1, 1, 0, 0])
    w = cell_weights(y, np.array(["a", "b", "c", "c"]), [stratum], [1.0])
    assert w[2] == pytest.approx(w[3])
    assert w[1] / w[0] == pytest.approx(np.exp(1.0))  # b's positives up, a's down


def test_a_refit_is_one_fit_with_the_measured_models_cell_weights():
    """Searched again on other rows the secant steps can land elsewhere; the refit trains
    the measured model's weights on every row instead."""
    (X, y, g), (X_new, y_new, g_new) = split()
    m = get_mitigator("gap_reweighing")
    c = parse_constraints("demographic_parity_difference <= 0.02")
    Counting.fits = []
    measured = m.fit(Counting, X, y, g, c, {}, 0, task=get_task("binary"))
    assert len(Counting.fits) >= 3 and measured.log_weights
    X_all = pd.concat([X, X_new], ignore_index=True)
    y_all, g_all = np.concatenate([y, y_new]), np.concatenate([g, g_new])
    Counting.fits = []
    refitted = m.refit(measured, Counting, X_all, y_all, g_all, c, {}, 0, task=get_task("binary"))
    (weights,) = Counting.fits  # one fit
    assert refitted.log_weights == measured.log_weights
    expected = np.exp([measured.log_weights[(gg, yy)] for gg, yy in zip(g_all, y_all, strict=True)])
    np.testing.assert_allclose(weights, expected / expected.mean())


def test_cross_validated_models_refit_with_their_mean_weights_and_unweighted_ones_unweighted():
    y = np.array([1, 0, 1, 0])
    groups = np.array([0, 0, 1, 1])
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    est = get_learner("logistic_regression").make({}, 0).fit(X, y)
    folds = FoldModels(
        [
            GroupPredictingModel(
                ReweighedModel(est, {(0, 1): 0.4, (1, 1): -0.4}, get_task("binary")), None, 2
            ),
            ReweighedModel(est, {(0, 1): 0.2, (1, 1): -0.2, (0, 0): 0.1}, get_task("binary")),
        ]
    )
    assert mean_log_weights([p.log_weights for p in trained_parts(folds)]) == pytest.approx(
        {(0, 1): 0.3, (1, 1): -0.3, (0, 0): 0.05}
    )
    m, c = (
        get_mitigator("gap_reweighing"),
        parse_constraints("demographic_parity_difference <= 0.1"),
    )
    Counting.fits = []
    refitted = m.refit(folds, Counting, X, y, groups, c, {}, 0, task=get_task("binary"))
    (w,) = Counting.fits
    assert w[0] / w[2] == pytest.approx(np.exp(0.6))  # group 0 positive vs group 1 positive
    assert refitted.log_weights[(0, 1)] == pytest.approx(0.3)
    Counting.fits = []
    m.refit(
        ReweighedModel(est, {}, get_task("binary")),
        Counting,
        X,
        y,
        groups,
        c,
        {},
        0,
        task=get_task("binary"),
    )
    assert Counting.fits == [None]


def test_a_model_it_did_not_fit_is_refitted_by_running_it_again():
    (X, y, g), _ = split()
    c = parse_constraints("demographic_parity_difference <= 0.02")
    other = EstimatorScoringModel(
        get_learner("logistic_regression").make({}, 0).fit(X, y), get_task("binary")
    )
    Counting.fits = []
    get_mitigator("gap_reweighing").refit(
        other, Counting, X, y, g, c, {}, 0, task=get_task("binary")
    )
    assert len(Counting.fits) >= 3
