"""The default sampler's view of a trained model: its best point the final pick could take."""

from __future__ import annotations

import math

import pytest

from fairautoml import FairAutoML
from fairautoml.estimators.context import search_context
from fairautoml.exceptions import UnknownNameError
from fairautoml.learners import get_learner
from fairautoml.search import get_controller
from fairautoml.search.allocator import Allocator, Outcome
from fairautoml.search.optuna_controller import (
    OptunaController,
    learner_prior,
    model_value,
    promising_defaults,
)
from fairautoml.study import record
from fairautoml.study.pick import CONSTANT_PENALTY, PickPolicy
from fairautoml.study.trial import Candidate, TrialResult

CAND = Candidate("lightgbm")


ROBUST, POINT = PickPolicy(), PickPolicy(robust=False)


def point(metric, violation=0.0, robust_violation=-0.01, rate=0.3, status="ok", ba=0.7):
    return TrialResult(
        CAND, status, metric=metric, violation=violation,
        robust_violation=robust_violation,
        diagnostics={"selection_rate": rate, "balanced_accuracy": ba},
    )  # fmt: skip


def test_model_value_best_pickable_else_least_violation():
    raw, fair, tight = point(0.85, 0.10, 0.15), point(0.80), point(0.83, 0.0, 0.02)
    assert model_value([raw, fair, tight], ROBUST) == (0.80, 0.0)  # tight is not robust
    assert model_value([raw, fair, tight], POINT) == (0.83, 0.0)
    metric, violation = model_value([raw, tight], ROBUST)
    assert metric == 0.83 and violation == pytest.approx(0.02)
    constant = point(0.70, rate=0.0)
    metric, violation = model_value([raw, constant], ROBUST)  # a constant model ranks last
    assert metric == 0.85 and violation == pytest.approx(0.15)
    assert model_value([constant], ROBUST)[1] == pytest.approx(CONSTANT_PENALTY)
    weak = point(0.75, ba=0.51)  # near-constant: feasible, robust, but barely useful
    metric, violation = model_value([raw, weak], ROBUST)
    assert metric == 0.75 and violation == pytest.approx(0.04)  # its shortfall from 0.55
    assert model_value([point(0.8, status="failed")], ROBUST) is None


def test_allocator_counts_robust_points_as_fair():
    """A model fair on validation but not robust is still eligible for in-processing."""
    raw = point(0.85, 0.0, 0.03)
    for robust, eligible in ((True, True), (False, False)):
        alloc = Allocator(["exponentiated_gradient"])
        policy = PickPolicy(robust=robust)
        alloc.observe(Outcome(CAND, [raw], seconds=100.0, policy=policy))
        assert (alloc.best is None) is robust
        assert (alloc.pick(math.inf) is not None) is eligible


def test_sampler_variants_by_name():
    assert get_controller("optuna").default_sampler == "fair_tpe"
    variant = get_controller("optuna[mo_tpe]")
    assert issubclass(variant, OptunaController) and variant.default_sampler == "mo_tpe"
    with pytest.raises(UnknownNameError, match="optuna"):
        get_controller("optuna[gp]")


@pytest.mark.parametrize("confidence", [None, 0.8])
def test_sampler_study_has_every_trained_model_at_its_value(german, confidence):
    """Rebuilt from the record (as on resume), one trial per plain trained model, valued by
    its best pickable point (the leaderboard's ``pickable`` rows)."""
    X, y, s = german
    est = FairAutoML(
        n_trials=14, time_budget=None, random_state=0, confidence=confidence,
        learners=["logistic_regression", "lightgbm"], mitigators=["group_thresholds"],
        sensitive_at_predict=True,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    ctx, domain = search_context(est.get_params(), X, y, s)
    controller = OptunaController(domain, 0)
    controller.setup(est.study_)
    models = controller.models_study(est.study_, ctx)
    board = est.leaderboard_.set_index("trial")
    trained = [t for t in est.study_.trials if "derived_from" not in t.user_attrs]
    assert len(models.trials) == len(trained) == 14
    useful = board["pickable"]
    for t, m in zip(trained, models.trials, strict=True):
        assert m.params == t.params
        rows = [t.number] + [
            d.number for d in est.study_.trials if d.user_attrs.get("derived_from") == t.number
        ]
        best = board.loc[rows][useful.loc[rows]]["accuracy"]
        if best.empty:
            assert m.constraints["model_violation"] > 0
        else:
            assert m.constraints["model_violation"] == 0 and m.value == best.max()


def test_learners_ranked_by_their_cheap_starts_best_point_within_the_constraints():
    # a strong learner whose cheap start is only feasible (its interval crosses the bound)
    # ranks before a weak one whose cheap start is robust at a lower metric
    strong = [point(0.86, 0.08, 0.12), point(0.84, 0.0, 0.01)]
    weak = [point(0.80, 0.03, 0.06), point(0.78, 0.0, -0.01)]
    none_fair = [point(0.88, 0.10, 0.14)]
    prior = learner_prior(ROBUST)
    assert prior.robust is False and ROBUST.robust is True  # the pick's own policy untouched
    cheap = {
        "lightgbm": model_value(strong, prior),
        "extra_trees": model_value(weak, prior),
        "xgboost": model_value(none_fair, prior),
        "random_forest": None,  # its cheap start failed
    }
    defaults = [{"learner": z} for z in ("random_forest", "xgboost", "extra_trees", "lightgbm")]
    assert promising_defaults(defaults, cheap) == [
        {"learner": "lightgbm"},
        {"learner": "extra_trees"},
    ]
    # valued as the pick values points, the weak learner would have come first
    assert model_value(strong, ROBUST)[1] > 0 and model_value(weak, ROBUST) == (0.78, 0.0)


def test_cheap_starts_then_the_defaults_of_the_better_half(german):
    X, y, s = german
    learners = ["lightgbm", "logistic_regression", "xgboost", "hist_gradient_boosting"]
    est = FairAutoML(
        n_trials=7, time_budget=None, random_state=0, learners=learners,
        mitigators=["group_thresholds"], sensitive_at_predict=True,
        portfolio=False,  # the start without it (tests/search/test_portfolio.py: with it)
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    study = est.study_
    trained = [t for t in study.trials if "derived_from" not in t.user_attrs]
    values = {}
    for t in trained[:4]:  # each learner's low-cost start first
        space = get_learner(t.params["learner"]).space
        assert {k.split("__")[1]: v for k, v in t.params.items() if "__" in k} == (space.low_cost())
        points = [t] + [d for d in study.trials if d.user_attrs.get("derived_from") == t.number]
        values[t.params["learner"]] = model_value(
            [record.decode(p, est.constraints_) for p in points], learner_prior(ROBUST)
        )
    ranked = sorted(values, key=lambda z: (values[z][1], -values[z][0]))
    for t, learner in zip(trained[4:6], ranked[:2], strict=True):  # the better half's defaults
        space = get_learner(learner).space
        assert t.params["learner"] == learner
        assert {k.split("__")[1]: v for k, v in t.params.items() if "__" in k} == (space.defaults())
    assert len(trained) == 7  # then the sampler
