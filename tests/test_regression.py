"""Fair regression through the task seam: the estimator, its constraints and pick, and the
errors a regression user meets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import fairautoml
from fairautoml import FairAutoML, FairAutoMLRegressor
from fairautoml.data.labels import TARGET_NOT_BINARY
from fairautoml.exceptions import ConfigurationError, ConstraintError, InputError
from fairautoml.measures.constraints import evaluate_constraints, parse_constraint
from fairautoml.measures.group_tables import regression_groups
from fairautoml.study.pick import CONSTANT, ROBUST, WEAK, policy_for
from fairautoml.study.trial import Candidate, TrialResult
from fairautoml.tasks import get_task, infer_task

FAST = dict(
    time_budget=None, n_trials=2, learners=["ridge"], cv_folds=None, confirm=False,
    random_state=0, min_group_size=10,
)  # fmt: skip


def wages(n: int = 600, seed: int = 0, shift: float = 1.5) -> tuple[pd.DataFrame, np.ndarray]:
    """Amounts that depend on the group: a model that reads it predicts unequal wages."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n) + group
    y = 2 * x1 + x2 + shift * group + rng.normal(size=n)
    X = pd.DataFrame({"x1": x1, "x2": x2, "sex": np.where(group, "f", "m")})
    return X, y


def test_task_inference_reads_the_target():
    rng = np.random.default_rng(0)
    assert infer_task(rng.normal(size=50)).name == "regression"
    assert infer_task(pd.Series(rng.normal(size=50))).name == "regression"
    assert infer_task(np.array([0, 1] * 25)).name == "binary"
    assert infer_task(np.array(["yes", "no"] * 25)).name == "binary"
    assert infer_task(np.arange(50)).name == "binary"  # whole numbers: counts or codes
    assert infer_task(np.array([0.5, 1.5] * 25)).name == "binary"  # two values only
    with pytest.raises(ConfigurationError, match="Unknown task 'ranking'"):
        get_task("ranking")
    assert get_task("classification") is get_task("binary")


def test_a_regressor_fits_predicts_and_reports():
    X, y = wages()
    loose = "demographic_parity_ks <= 0.5"
    automl = FairAutoMLRegressor(**FAST, constraints=loose).fit(X, y, sensitive_features="sex")
    pred = automl.predict(X)
    assert pred.dtype == np.float64 and pred.shape == (len(X),)
    cfg = automl.best_config_
    assert cfg["task"] == "regression" and cfg["positive_label"] is None
    assert "demographic_parity_ks" in cfg["constraint_values"]
    assert not hasattr(automl, "classes_") and not hasattr(automl, "predict_proba")
    board = automl.leaderboard_
    for column in ("r2", "prediction_spread", "demographic_parity_ks", "tier"):
        assert column in board.columns
    assert "selection_rate" not in board.columns and "balanced_accuracy" not in board.columns
    assert automl.score(X, y) == pytest.approx(
        1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    )
    report = automl.fairness_report(X, y, "sex")
    assert list(report.index) == ["f", "m"]
    assert report["count"].sum() == len(X)
    assert {"mean_prediction", "mean_target", "mae", "rmse", "mae_low", "rmse_high"} <= set(
        report.columns
    )


@pytest.mark.filterwarnings("ignore::fairautoml.exceptions.FairAutoMLWarning")
def test_default_constraint_and_metric_are_the_tasks():
    assert FairAutoMLRegressor().get_params()["constraints"] is None
    X, y = wages()
    automl = FairAutoMLRegressor(**FAST).fit(X, y, sensitive_features="sex")
    assert [str(c) for c in automl.constraints_] == [get_task("regression").default_constraint]
    assert automl.metric_ == "r2"
    copy = clone(automl)
    assert copy.get_params() == automl.get_params() and not hasattr(copy, "best_estimator_")


@pytest.mark.filterwarnings("ignore::fairautoml.exceptions.FairAutoMLWarning")
def test_one_call_fit_infers_regression():
    X, y = wages()
    automl = fairautoml.fit(X, y, "sex", **FAST)
    assert isinstance(automl, FairAutoMLRegressor)
    forced = fairautoml.fit(X, (y > np.median(y)).astype(int), "sex", task="classification", **{
        **FAST, "learners": ["logistic_regression"],
    })  # fmt: skip
    assert isinstance(forced, FairAutoML)


def test_transport_meets_a_tight_ks_bound_that_the_raw_model_misses():
    X, y = wages(n=1500, shift=3.0)
    automl = FairAutoMLRegressor(
        **{**FAST, "n_trials": 3},
        constraints="demographic_parity_ks <= 0.1",
        mitigators=["barycenter_transport"],
        sensitive_at_predict=True,
    ).fit(X, y, sensitive_features="sex")
    board = automl.leaderboard_
    raw = board[(board["post"] == "none") & (board["status"] == "ok")]
    assert (raw["demographic_parity_ks"] > 0.1).all()  # the group shifts every raw model
    cfg = automl.best_config_
    assert cfg["post"] == "barycenter_transport" and cfg["feasible"]
    assert cfg["constraint_values"]["demographic_parity_ks"] <= 0.1
    assert cfg["r2"] > 0.3  # useful, not a constant
    assert automl.best_config_["needs_group_at_predict"]


def test_blind_search_never_reads_the_group(tmp_path):
    X, y = wages(n=1500, shift=3.0)
    automl = FairAutoMLRegressor(
        **{**FAST, "n_trials": 2}, constraints="demographic_parity_ks <= 0.3"
    ).fit(X, y, sensitive_features="sex")
    loaded = fairautoml.load(automl.save(tmp_path / "model.skops"))
    assert isinstance(loaded, FairAutoMLRegressor)
    np.testing.assert_allclose(loaded.predict(X), automl.predict(X))
    assert not automl.best_config_["needs_group_at_predict"]
    board = automl.leaderboard_  # the other policies' rules: measured, never picked
    deployable = board[board["tier"] != "not deployable"]
    assert set(deployable["decision_rule"]) == {"group_free"}
    assert set(board.loc[board["decision_rule"] != "group_free", "tier"]) == {"not deployable"}
    assert automl.predict(X.drop(columns="sex")).shape == (len(X),)


def test_the_pick_never_takes_a_constant_regressor_when_a_useful_one_is_feasible():
    policy = policy_for(get_task("regression"), 0.8)

    def point(r2: float, spread: float, metric: float) -> TrialResult:
        return TrialResult(
            Candidate("ridge"), "ok", metric=metric, violation=0.0, robust_violation=-0.01,
            diagnostics={"r2": r2, "prediction_spread": spread}, assurance=3.0,
        )  # fmt: skip

    constant, useful, weak = point(0.0, 0.0, 0.0), point(0.4, 0.7, 0.4), point(0.01, 0.1, 0.01)
    assert policy.tier(constant) == CONSTANT
    assert policy.tier(useful) == ROBUST
    assert policy.tier(weak) == WEAK
    assert policy.best([constant, weak, useful]) is useful
    raised = policy.raised([constant, useful, weak])
    assert raised.min_usefulness == pytest.approx(0.5 * 0.4)
    assert raised.tier(point(0.15, 0.5, 0.15)) == WEAK  # less than half what is within reach


def test_regression_constraint_values_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 12.0])
    pred = np.array([1.0, 3.0, 3.0, 2.0, 11.0, 9.0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    mae = [abs(0) / 3 + 1 / 3 + 0, (2 + 1 + 3) / 3]  # group 0: 1/3, group 1: 2
    values = evaluate_constraints(
        [
            parse_constraint("mean_absolute_error_ratio >= 0.5"),
            parse_constraint("mean_absolute_error_difference <= 1"),
            parse_constraint("mean_squared_error_group_max <= 10"),
            parse_constraint("demographic_parity_ks <= 0.5"),
        ],
        y, pred, groups,
    )  # fmt: skip
    assert values["mean_absolute_error_ratio"] == pytest.approx(mae[0] / mae[1])
    assert values["mean_absolute_error_difference"] == pytest.approx(mae[1] - mae[0])
    assert values["mean_squared_error_group_max"] == pytest.approx((4 + 1 + 9) / 3)
    # group 0 predicts {1, 3, 3}, group 1 {2, 9, 11}: at x=3 the CDFs are 1 and 1/3
    assert values["demographic_parity_ks"] == pytest.approx(2 / 3)


def test_per_group_table_by_hand():
    table = regression_groups([1.0, 3.0, 5.0, 7.0], [2.0, 2.0, 5.0, 9.0], ["a", "a", "b", "b"])
    assert table.loc["a", "mae"] == pytest.approx(1.0)
    assert table.loc["b", "rmse"] == pytest.approx(math.sqrt(2.0))
    assert table.loc["b", "mean_prediction"] == pytest.approx(7.0)
    assert table.loc["a", "mae_low"] <= 1.0 <= table.loc["a", "mae_high"]


@pytest.mark.parametrize(
    ("estimator", "constraints", "message"),
    [
        (FairAutoML, "demographic_parity_ks <= 0.1", "is for regression targets"),
        (FairAutoMLRegressor, "demographic_parity_difference <= 0.1", "is for binary targets"),
    ],
)
def test_a_constraint_of_the_other_task_names_this_tasks_constraints(
    estimator, constraints, message
):
    X, y = wages()
    target = y if estimator is FairAutoMLRegressor else (y > 0).astype(int)
    with pytest.raises(ConstraintError, match=message) as info:
        estimator(**FAST, constraints=constraints).fit(X, target, sensitive_features="sex")
    task = "regression" if estimator is FairAutoMLRegressor else "binary"
    for name in get_task(task).constraint_metrics():
        assert name in str(info.value)


def test_bad_regression_inputs_name_the_problem():
    X, y = wages()
    fit = FairAutoMLRegressor(**FAST).fit
    with pytest.raises(ConfigurationError, match="Metric 'accuracy' measures binary"):
        FairAutoMLRegressor(**FAST, metric="accuracy").fit(X, y, sensitive_features="sex")
    with_nan = y.copy()
    with_nan[:7] = np.nan
    with pytest.raises(InputError, match="7"):
        fit(X, with_nan, sensitive_features="sex")
    words = np.where(y > 0, "high", "low").astype(object)
    with pytest.raises(InputError, match="must be numeric"):
        fit(X, words, sensitive_features="sex")
    with pytest.raises(InputError, match="single value"):
        fit(X, np.full(len(y), 3.0), sensitive_features="sex")
    with pytest.raises(ConfigurationError, match="no favourable label"):
        FairAutoMLRegressor(**FAST, pos_label=1).fit(X, y, sensitive_features="sex")
    with pytest.raises(ConfigurationError, match="relaxed_thresholds") as info:
        FairAutoMLRegressor(**FAST, mitigators=["relaxed_thresholds"]).fit(
            X, y, sensitive_features="sex"
        )
    assert "barycenter_transport" in str(info.value)
    with pytest.raises(ConfigurationError, match="logistic_regression"):
        FairAutoMLRegressor(**FAST | {"learners": ["logistic_regression"]}).fit(
            X, y, sensitive_features="sex"
        )
    with pytest.raises(ConstraintError, match="positive number in the target's units"):
        FairAutoMLRegressor(**FAST, constraints="mean_absolute_error_difference <= 0").fit(
            X, y, sensitive_features="sex"
        )


def test_a_classifier_on_amounts_points_to_the_regressor():
    X, y = wages()
    with pytest.raises(InputError, match="FairAutoMLRegressor"):
        FairAutoML(**FAST | {"learners": ["lightgbm"]}).fit(X, y, sensitive_features="sex")
    assert "FairAutoMLRegressor" in TARGET_NOT_BINARY
