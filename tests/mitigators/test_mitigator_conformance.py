from __future__ import annotations

import pytest

import fairautoml
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.dependence import DEPENDENCE_METRICS
from fairautoml.mitigators import (
    MITIGATORS,
    EstimatorScoringModel,
    TrainingMitigator,
    get_mitigator,
    register_mitigator,
)
from fairautoml.testing.conformance import (
    check_mitigator,
    check_regression_mitigator,
    supported_pairs,
)

CONSTRAINTS = [
    "demographic_parity_difference <= 0.05",
    "equalized_odds_difference <= 0.05",
    "true_positive_rate_difference <= 0.05",
    "demographic_parity_ratio >= 0.9",
]
# on make_unfair_amounts the unmitigated learner's worst group MSE is above 1
REGRESSION_CONSTRAINTS = [
    "demographic_parity_ks <= 0.1",
    "mean_squared_error_group_max <= 1.0",
    "mean_absolute_error_ratio >= 0.9",
]
# CorrelationRemover removes *linear* correlation: it shifts every value by a group-dependent
# offset, which a tree reads the group back from (it raises the violation of tree learners;
# see results/mitigators.md). Its effect is checked with the linear learner it suits.
LEARNER = {"correlation_remover": "logistic_regression"}
# calibrators make the scores mean the same in every group; they do not aim at a rate
# constraint, so their effect is checked on calibration (tests/test_calibration_by_group.py)
CALIBRATORS = {"multicalibration", "multicalibration_blind"}


def _serving(task: str) -> set[str]:
    return {m for m in fairautoml.available_mitigators() if task in get_mitigator(m).tasks}


@pytest.mark.parametrize(
    ("name", "constraint"), supported_pairs(fairautoml.available_mitigators(), CONSTRAINTS)
)
def test_mitigator_conformance(name, constraint):
    learner, effect = LEARNER.get(name, "lightgbm"), name not in CALIBRATORS
    check_mitigator(name, constraint, learner=learner, check_effect=effect)


def test_every_mitigator_for_decisions_supports_some_constraint():
    covered = {m for m, _ in supported_pairs(fairautoml.available_mitigators(), CONSTRAINTS)}
    # a rule for a numeric attribute only (trend_removal) has no group constraint here:
    # tests/test_continuous_attributes.py fits and checks it
    numeric_only = {
        m for m in _serving("binary")
        if get_mitigator(m).supported_constraints is not None
        and set(get_mitigator(m).supported_constraints) <= set(DEPENDENCE_METRICS)
    }  # fmt: skip
    assert covered == _serving("binary") - {"none"} - numeric_only


REGRESSION_PAIRS = [
    ("none", "demographic_parity_ks <= 0.1"),
    *supported_pairs(fairautoml.available_mitigators(), REGRESSION_CONSTRAINTS, task="regression"),
]


@pytest.mark.parametrize(("name", "constraint"), REGRESSION_PAIRS)
def test_regression_mitigator_conformance(name, constraint):
    check_regression_mitigator(name, constraint)


def test_every_regression_mitigator_passes_a_regression_check():
    assert {m for m, _ in REGRESSION_PAIRS} == _serving("regression")
    assert {"exponentiated_gradient", "grid_search", "reweighing"} <= _serving("regression")


class _OneGroupOnly(TrainingMitigator):
    """Claims to bound the worst group's loss, but trains on the first group's rows only."""

    name = "one_group_only"
    stage = "in"
    tasks = frozenset({"regression"})
    supported_constraints = frozenset({"mean_squared_error_group_max"})

    def fit(self, make_estimator, X, y, groups, constraints, params, random_state, *, task):
        rows = groups == 0
        return EstimatorScoringModel(make_estimator().fit(X[rows], y[rows]), task)


def test_the_regression_check_catches_a_bound_that_raises_the_worst_loss():
    saved = MITIGATORS.snapshot()
    try:
        register_mitigator(_OneGroupOnly)
        with pytest.raises(AssertionError, match="raised the worst group's training loss"):
            check_regression_mitigator("one_group_only", "mean_squared_error_group_max <= 1.0")
    finally:
        MITIGATORS.restore(saved)


class _NoTask(TrainingMitigator):
    """Written before training mitigators received the task."""

    name = "no_task"
    stage = "pre"

    def fit(self, make_estimator, X, y, groups, constraints, params, random_state):
        return make_estimator().fit(X, y)


def test_a_training_mitigator_without_the_task_is_refused_at_registration():
    saved = MITIGATORS.snapshot()
    try:
        with pytest.raises(ConfigurationError) as info:
            register_mitigator(_NoTask)
        assert "'no_task': its fit() takes no task" in str(info.value)
        assert "`*, task`" in str(info.value)
        assert "no_task" not in MITIGATORS
    finally:
        MITIGATORS.restore(saved)
