from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from fairlearn.reductions import (
    DemographicParity,
    EqualizedOdds,
    ExponentiatedGradient,
    GridSearch,
    TruePositiveRateParity,
)
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

import fairautoml
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import parse_constraints
from fairautoml.mitigators import get_mitigator
from fairautoml.mitigators._base import search_deadline, time_left
from fairautoml.mitigators._reductions import make_moment
from fairautoml.mitigators._row_hash import row_uniform
from fairautoml.mitigators._targets import EO, TPR, deviation_bound, target_of
from fairautoml.mitigators.reweighing import reweighing_weights
from fairautoml.tasks import get_task
from fairautoml.testing.conformance import conformance_data, make_unfair


def test_constraints_map_to_one_fairlearn_notion():
    def target(*specs):
        return target_of(parse_constraints(list(specs)))

    assert target("true_positive_rate_difference <= 0.1").notion == TPR
    assert target("false_negative_rate_difference <= 0.1").notion == TPR  # same gap
    both = target("true_positive_rate_difference <= 0.1", "false_positive_rate_difference <= 0.05")
    assert (both.notion, both.bound, both.is_ratio) == (EO, 0.05, False)
    tightest = target("demographic_parity_ratio >= 0.8", "demographic_parity_ratio[a] >= 0.9")
    assert tightest.bound == 0.9  # a constraint on one attribute: held on the cells too
    assert (
        target("demographic_parity_difference <= 0.1", "equalized_odds_difference <= 0.1") is None
    )
    assert target("demographic_parity_difference <= 0.1", "demographic_parity_ratio >= 0.8") is None
    assert target("false_negative_rate_ratio >= 0.8") is None
    assert target_of([]) is None
    assert not get_mitigator("exponentiated_gradient").supports([])


def test_deviation_bound_keeps_the_between_group_gap():
    y = np.array([0, 1] * 50)
    groups = np.array([0] * 70 + [1] * 30)
    t = target_of(parse_constraints("demographic_parity_difference <= 0.1"))
    eps = deviation_bound(t, y, groups)
    assert eps == pytest.approx(0.07)  # gap 0.1 <=> deviations 0.3*0.1 and 0.7*0.1
    three = np.arange(100) % 3
    assert deviation_bound(t, y, three) == pytest.approx(0.05)


def test_make_moment_matches_the_constraint():
    y, groups = np.array([0, 1, 1, 0] * 25), np.array([0, 0, 1, 1] * 25)
    dp = make_moment(parse_constraints("demographic_parity_difference <= 0.1"), y, groups, 0.5)
    assert isinstance(dp, DemographicParity) and dp.eps == pytest.approx(0.025)
    eo = make_moment(parse_constraints("equalized_odds_ratio >= 0.81"), y, groups, 1.0)
    assert isinstance(eo, EqualizedOdds) and eo.ratio == pytest.approx(0.9)
    tpr = make_moment(parse_constraints("equal_opportunity_difference <= 0.2"), y, groups, 1.0)
    assert isinstance(tpr, TruePositiveRateParity)
    with pytest.raises(ValueError, match="one notion at a time"):
        mixed = ["demographic_parity_difference <= 0.1", "equalized_odds_ratio >= 0.8"]
        make_moment(parse_constraints(mixed), y, groups, 1.0)


def test_reweighing_makes_label_and_group_independent():
    _, y, s = make_unfair(n=2000)
    groups = (s == "b").to_numpy().astype(int)
    w = reweighing_weights(y.to_numpy(), groups)
    rates = [np.average(y[groups == g], weights=w[groups == g]) for g in (0, 1)]
    assert abs(y[groups == 0].mean() - y[groups == 1].mean()) > 0.3
    assert rates[0] == pytest.approx(rates[1]) == pytest.approx(y.mean())
    assert np.average(groups, weights=w) == pytest.approx(groups.mean())


def test_threshold_optimizer_draws_are_per_row_and_repeatable():
    rng = np.random.default_rng(0)
    scores, groups = rng.random(500), rng.integers(0, 2, 500)
    u = row_uniform(scores, groups, seed=3)
    assert np.all((u > 0) & (u <= 1)) and 0.4 < u.mean() < 0.6
    order = rng.permutation(500)
    assert np.array_equal(row_uniform(scores[order], groups[order], 3), u[order])
    assert not np.array_equal(row_uniform(scores, groups, 4), u)

    d = conformance_data()
    m = get_mitigator("threshold_optimizer")
    metric = fairautoml.measures.metrics.get_metric("accuracy")
    c = parse_constraints("equalized_odds_difference <= 0.05")
    y = d.y[:500]
    rule = m.fit(scores, y, groups, c, metric, {"slack": 0.2}, random_state=7)
    proba = rule.predict_proba(scores, groups)
    assert np.array_equal(proba[order], rule.predict_proba(scores[order], groups[order]))
    pmf = rule.optimizer._pmf_predict(scores[:, None], sensitive_features=groups)[:, 1]
    drawn = proba >= 0.5
    assert np.all(drawn[pmf == 1]) and not np.any(drawn[pmf == 0])
    assert m.randomized and rule.needs_group


def test_leaderboard_flags_randomized_trials():
    X, y, s = make_unfair(n=600)
    automl = fairautoml.FairAutoML(
        "demographic_parity_difference <= 0.1", n_trials=2, time_budget=None, random_state=0,
        learners=["lightgbm"], mitigators=["threshold_optimizer"], sensitive_at_predict=True,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    board = automl.leaderboard_
    assert board["randomized"].tolist() == (board["post"] == "threshold_optimizer").tolist()
    assert board["randomized"].any()


def test_bias_score_blind_serves_rows_without_their_group():
    X, y, s = make_unfair(n=1200)
    automl = fairautoml.FairAutoML(
        "demographic_parity_difference <= 0.1", n_trials=2, time_budget=None, random_state=0,
        learners=["lightgbm"], mitigators=["bias_score_blind"], decision_rule="proxy",
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    assert automl.best_config_["post"] == "bias_score_blind"
    assert not automl.best_config_["needs_group_at_predict"]
    pred = automl.predict(X)  # no sensitive_features
    assert np.array_equal(pred, (automl.predict_proba(X)[:, 1] >= 0.5).astype(int))
    assert automl.best_config_["feasible"]
    assert automl.best_config_["constraint_values"]["demographic_parity_difference"] <= 0.1
    with pytest.raises(fairautoml.exceptions.ConfigurationError, match="group_aware decision"):
        fairautoml.FairAutoML(
            mitigators=["bias_score"], decision_rule="proxy", n_trials=1, time_budget=None
        ).fit(X, y, sensitive_features=s)


def test_bias_score_refuses_more_than_two_groups():
    rng = np.random.default_rng(0)
    scores, y, groups = rng.random(300), rng.integers(0, 2, 300), rng.integers(0, 3, 300)
    m = get_mitigator("bias_score")
    metric = fairautoml.measures.metrics.get_metric("accuracy")
    with pytest.raises(ValueError, match="exactly 2 groups"):
        m.fit(scores, y, groups, parse_constraints("demographic_parity_difference <= 0.1"),
              metric, {}, 0)  # fmt: skip


def test_reductions_fail_fast_when_the_search_deadline_is_near():
    d = conformance_data()
    eg = get_mitigator("exponentiated_gradient")
    c = parse_constraints("demographic_parity_difference <= 0.05")
    assert time_left() == float("inf")
    start = time.monotonic()
    with search_deadline(time.monotonic() + 0.05), pytest.raises(TimeoutError, match="left"):
        eg.fit(
            lambda: get_learner("lightgbm").make({}, 0), d.X, d.y, d.groups, c,
            {"max_iter": 50}, 0, task=get_task("binary"),
        )  # fmt: skip
    assert time.monotonic() - start < 3.0


def test_hist_gradient_boosting_takes_wide_categoricals_as_codes():
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame({"zip": [f"z{i}" for i in rng.integers(0, 400, n)], "x": rng.normal(size=n)})
    y = (X["x"] + rng.normal(size=n) > 0).astype(int)
    s = pd.Series(rng.choice(["a", "b"], n))
    data = fairautoml.data.prepare.prepare_fit_data(X, y, s, task=get_task("binary"))
    assert len(data.X["zip"].cat.categories) > 255
    est = get_learner("hist_gradient_boosting").make({"max_iter": 10}, 0).fit(data.X, data.y)
    assert est.predict_proba(data.X).shape == (n, 2)


def test_the_scores_of_a_single_class_member():
    from sklearn.dummy import DummyClassifier

    X = np.zeros((4, 1))
    ones = DummyClassifier(strategy="constant", constant=1).fit(X, [1, 1, 1, 1])
    zeros = DummyClassifier(strategy="constant", constant=0).fit(X, [0, 0, 0, 0])
    task = get_task("binary")
    assert task.scores_of(ones, X).tolist() == [1.0] * 4
    assert task.scores_of(zeros, X).tolist() == [0.0] * 4


class _Counting(LogisticRegression):
    """Counts its fits and its predictions on the rows it was fitted on (every clone)."""

    fits: ClassVar[list[int]] = []
    on_training_rows: ClassVar[list[int]] = []

    def fit(self, X, y, sample_weight=None):
        self.fits.append(1)
        self.rows_ = X
        return super().fit(X, y, sample_weight=sample_weight)

    def predict(self, X):
        if X is self.rows_:
            self.on_training_rows.append(1)
        return super().predict(X)


@pytest.mark.parametrize("name", ["exponentiated_gradient", "grid_search"])
def test_reductions_predict_each_model_once_on_its_training_rows(name):
    """fairlearn asks twice per fitted model (for the error and for the moment); the first
    answer is kept, and the model returned is the one fairlearn's own run gives."""
    d = conformance_data(n=600)
    X = d.X.select_dtypes("number").fillna(0.0)
    c = parse_constraints("equalized_odds_difference <= 0.05")
    if name == "exponentiated_gradient":
        params = {"max_iter": 5, "bound_scale": 0.5}
        reduction = ExponentiatedGradient(
            LogisticRegression(), make_moment(c, d.y, d.groups, 0.5), max_iter=5
        )
    else:
        params = {"grid_size": 5, "constraint_weight": 0.5, "grid_limit": 2.0}
        reduction = GridSearch(
            LogisticRegression(), make_moment(c, d.y, d.groups, 1.0), grid_size=5
        )
    _Counting.fits.clear()
    _Counting.on_training_rows.clear()
    model = get_mitigator(name).fit(
        _Counting, X, d.y, d.groups, c, params, 0, task=get_task("binary")
    )
    assert len(_Counting.on_training_rows) == len(_Counting.fits) > 2

    reduction.fit(X, d.y, sensitive_features=d.groups)
    if name == "exponentiated_gradient":
        weights = reduction.weights_[reduction.weights_ > 0]
        expected = sum(
            w * reduction.predictors_[i].predict_proba(X)[:, 1] for i, w in weights.items()
        )
        members = model.members
    else:
        expected = reduction.predictors_[reduction.best_idx_].predict_proba(X)[:, 1]
        members = [model.estimator]
    np.testing.assert_allclose(model.predict_proba(X, None), expected)
    assert all(type(m) in (_Counting, DummyClassifier) for m in members)
