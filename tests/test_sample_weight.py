"""``sample_weight`` (survey or frequency weights): weighted training, metric, constraint
values, intervals and post-processing; bad weights are clear errors; the CLI's --weight."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as flm
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

import fairautoml
import fairautoml.estimators.build
import fairautoml.study.trial
from fairautoml import FairAutoML, FairAutoMLRegressor
from fairautoml.cli import main
from fairautoml.data.splits import cv_folds, split_train_validation
from fairautoml.data.weights import (
    WEIGHTS_ALL_ZERO,
    WEIGHTS_NEGATIVE,
    WEIGHTS_NOT_FINITE,
    WEIGHTS_NOT_NUMERIC,
)
from fairautoml.exceptions import ConfigurationError, InputError
from fairautoml.learners import LEARNERS
from fairautoml.measures.amount_bootstrap import bootstrap_measure
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraint,
)
from fairautoml.measures.decisions import bootstrap_rates
from fairautoml.measures.metrics import get_metric
from fairautoml.measures.regression import REGRESSION_MEASURES
from fairautoml.mitigators.group_thresholds import fit_group_thresholds
from fairautoml.study.pick import VERDICT_EXITS

CLASSIFICATION = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "false_positive_rate_ratio",
]


def _numeric(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    X = pd.DataFrame({"x1": rng.normal(size=n) + 0.5 * g, "x2": rng.normal(size=n)})
    logits = 1.5 * X["x1"] + X["x2"] + (g - 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(int)
    return X, y.to_numpy(), np.array(["a", "b"])[g]


# --- constraint values and intervals ----------------------------------------------------------


def test_weighted_constraint_values_equal_fairlearns():
    rng = np.random.default_rng(1)
    n = 500
    y, pred, g = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.choice(["a", "b", "c"], n)
    w = rng.uniform(0.1, 5.0, n)
    constraints = [
        parse_constraint(f"{m} {'>=' if 'ratio' in m else '<='} 0.5") for m in CLASSIFICATION
    ]
    values = evaluate_constraints(constraints, y, pred, g, w)
    for c in constraints:
        fn = getattr(flm, c.metric)
        expected = fn(y, pred, sensitive_features=g, sample_weight=w)
        assert values[c.metric] == pytest.approx(expected, abs=1e-12), c.metric
    unweighted = evaluate_constraints(constraints, y, pred, g)
    assert unweighted != values  # the weights matter


def test_integer_weights_give_the_values_of_repeated_rows():
    rng = np.random.default_rng(2)
    n = 300
    y, pred, g = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 2, n)
    k = rng.integers(1, 4, n)
    constraints = [parse_constraint("demographic_parity_difference <= 0.1"),
                   parse_constraint("equalized_odds_ratio >= 0.8")]  # fmt: skip
    weighted = evaluate_constraints(constraints, y, pred, g, k.astype(float))
    repeated = evaluate_constraints(
        constraints, np.repeat(y, k), np.repeat(pred, k), np.repeat(g, k)
    )
    assert weighted == repeated


def test_weighted_regression_constraints_use_the_weights():
    rng = np.random.default_rng(3)
    n = 400
    y, g = rng.normal(size=n), rng.integers(0, 2, n)
    pred = y + rng.normal(scale=0.5, size=n) + 0.3 * g
    k = rng.integers(1, 4, n)
    texts = ("demographic_parity_ks <= 0.2", "mean_absolute_error_difference <= 0.5")
    constraints = [parse_constraint(c) for c in texts]
    weighted = evaluate_constraints(constraints, y, pred, g, k.astype(float))
    repeated = evaluate_constraints(constraints, *(np.repeat(a, k) for a in (y, pred, g)))
    for name in weighted:
        assert weighted[name] == pytest.approx(repeated[name], abs=1e-12)


def test_weighted_bootstrap_is_centred_and_unit_weights_agree_with_the_fast_path():
    rng = np.random.default_rng(4)
    n = 2000
    g = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    pred = (rng.random(n) < 0.4 + 0.1 * g).astype(int)
    c = parse_constraint("demographic_parity_difference <= 0.1")
    point = evaluate_constraints([c], y, pred, g)[c.metric]
    fast = evaluate_intervals([c], y, pred, g, level=0.8, random_state=0, n_boot=400)[c.metric]
    ones = evaluate_intervals(
        [c], y, pred, g, level=0.8, random_state=0, n_boot=400, sample_weight=np.ones(n)
    )[c.metric]
    assert ones[0] < point < ones[1]
    # the same bootstrap drawn two ways: the interval widths agree to sampling noise
    assert (ones[1] - ones[0]) == pytest.approx(fast[1] - fast[0], rel=0.25)
    rates = bootstrap_rates(y, pred, g, n_boot=50, random_state=0, sample_weight=np.ones(n))
    assert rates["selection"].shape == (50, 2)


def test_weighted_bootstrap_widens_when_few_rows_carry_the_weight():
    """The same total weight on fewer rows is less information: a wider interval."""
    rng = np.random.default_rng(5)
    n = 3000
    g, y = rng.integers(0, 2, n), rng.integers(0, 2, n)
    pred = (rng.random(n) < 0.5).astype(int)
    c = parse_constraint("demographic_parity_difference <= 0.1")
    even = np.ones(n)
    skewed = np.where(rng.random(n) < 0.1, 10.0, 0.01)
    width = {}
    for name, w in (("even", even), ("skewed", skewed)):
        low, high = evaluate_intervals([c], y, pred, g, random_state=0, sample_weight=w)[c.metric]
        width[name] = high - low
    assert width["skewed"] > 1.8 * width["even"]


def test_weighted_regression_bootstrap_runs_for_every_measure():
    rng = np.random.default_rng(6)
    n = 300
    y, g = rng.normal(size=n), rng.integers(0, 2, n)
    pred = y + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    for name in REGRESSION_MEASURES:
        values = bootstrap_measure(name, y, pred, g, n_boot=30, random_state=0, sample_weight=w)
        assert values.shape == (30,) and np.isfinite(values).all(), name


# --- post-processing ---------------------------------------------------------------------------


def test_group_thresholds_with_integer_weights_fit_the_rule_of_repeated_rows():
    rng = np.random.default_rng(7)
    n = 400
    g, y = rng.integers(0, 2, n), rng.integers(0, 2, n)
    scores = np.clip(0.3 * y + 0.2 * g + rng.random(n) * 0.6, 0, 1)
    k = rng.integers(1, 4, n)
    c = [parse_constraint("demographic_parity_difference <= 0.05")]
    metric = get_metric("balanced_accuracy")
    weighted = fit_group_thresholds(scores, y, g, c, metric, sample_weight=k.astype(float))
    repeated = fit_group_thresholds(*(np.repeat(a, k) for a in (scores, y, g)), c, metric)
    np.testing.assert_array_equal(weighted.thresholds, repeated.thresholds)
    plain = fit_group_thresholds(scores, y, g, c, metric)
    assert not np.array_equal(plain.thresholds, weighted.thresholds)


# --- a whole search ----------------------------------------------------------------------------


@pytest.fixture
def exact_logistic():
    """A deterministic learner without preprocessing, so that weights k and k repeated rows
    train the same model: logistic regression on the raw numeric columns."""

    def factory(C: float = 1.0) -> LogisticRegression:
        return LogisticRegression(C=C, tol=1e-10, max_iter=10_000)

    c = {"type": "float", "low": 0.01, "high": 10.0, "log": True, "default": 1.0}
    space = {"name": "exact_logistic", "params": {"C": c}}
    fairautoml.register_learner(
        "exact_logistic", factory, space, native_categorical=True, threads_param=None,
        replace=True,
    )  # fmt: skip
    yield "exact_logistic"
    LEARNERS.remove("exact_logistic")


def test_integer_weights_pick_as_the_repeated_rows_do(exact_logistic, monkeypatch):
    """Integer weights k and the rows repeated k times: the same constraint values, metric
    and pick on a fixed search (the split and the post-processing folds put every copy of
    a row where the weighted row is)."""
    X, y, s = _numeric(n=300, seed=8)
    k = np.random.default_rng(9).integers(1, 4, len(y))
    origin = np.repeat(np.arange(len(y)), k)
    X_rep, y_rep, s_rep = X.iloc[origin].reset_index(drop=True), y[origin], s[origin]

    codes = (s == "b").astype(int)
    train, val = split_train_validation(y, codes, 0.3, 0)
    folds = cv_folds(y[val], codes[val], fairautoml.study.trial.POST_FOLDS, 0)
    val_rep = np.flatnonzero(np.isin(origin, val))
    base_of = np.searchsorted(val, origin[val_rep])  # each repeated val row's weighted row

    def split(strata, groups, *args, **kwargs):
        if len(strata) == len(y):
            return train, val
        return np.flatnonzero(np.isin(origin, train)), val_rep

    def post_folds(strata, groups, n_folds, random_state):
        if len(strata) == len(val):
            return folds
        return tuple(
            (np.flatnonzero(np.isin(base_of, fit)), np.flatnonzero(np.isin(base_of, applied)))
            for fit, applied in folds
        )

    monkeypatch.setattr(fairautoml.estimators.context, "split_train_validation", split)
    monkeypatch.setattr(fairautoml.study.trial, "cv_folds", post_folds)
    settings = dict(
        learners=[exact_logistic], mitigators=["group_thresholds"], sensitive_at_predict=True,
        constraints="demographic_parity_difference <= 0.05", n_trials=4, time_budget=None,
        cv_folds=None, validation_fraction=0.3, max_search_rows=None, min_rung_rows=None,
        confirm=False, refit=False, confidence=None, trial_time_limit=None, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = FairAutoML(**settings).fit(X, y, s, sample_weight=k)
        repeated = FairAutoML(**settings).fit(X_rep, y_rep, s_rep)
    columns = ["trial", "learner", "post", "accuracy", "demographic_parity_difference", "feasible"]
    a, b = weighted.leaderboard_[columns], repeated.leaderboard_[columns]
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert weighted.best_config_["trial"] == repeated.best_config_["trial"]
    assert weighted.best_config_["constraint_values"] == pytest.approx(
        repeated.best_config_["constraint_values"], abs=1e-12
    )
    assert weighted.best_config_["sample_weight"]["total"] == float(k.sum())
    assert repeated.best_config_["sample_weight"] is None
    assert (weighted.leaderboard_["post"] == "group_thresholds").any()


FAST = dict(
    n_trials=2, time_budget=None, random_state=0, learners=["logistic_regression"],
    mitigators=[], cv_folds=None, confirm=False,
)  # fmt: skip


def test_fit_does_not_change_the_users_weights():
    X, y, s = _numeric(n=300)
    w = pd.Series(np.linspace(0.5, 2.0, len(y)))
    kept = w.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = FairAutoML(**FAST).fit(X, y, s, sample_weight=w)
    pd.testing.assert_series_equal(w, kept)
    assert est.best_config_["sample_weight"]["rows"] == len(y)
    report = est.fairness_report(X, y, s, sample_weight=w)
    assert report.by_group["count"].sum() == pytest.approx(w.sum())
    assert 0 <= est.score(X, y, sample_weight=w) <= 1


def test_regressor_with_weights():
    rng = np.random.default_rng(10)
    n = 400
    g = rng.integers(0, 2, n)
    X = pd.DataFrame({"x1": rng.normal(size=n) + g, "x2": rng.normal(size=n)})
    y = 2 * X["x1"] + X["x2"] + rng.normal(size=n)
    w = rng.uniform(0.5, 3.0, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = FairAutoMLRegressor(
            n_trials=2, time_budget=None, random_state=0, learners=["ridge"],
            mitigators=["reweighing"], cv_folds=None, confirm=False,
        ).fit(X, y, np.array(["a", "b"])[g], sample_weight=w)  # fmt: skip
    assert est.best_config_["sample_weight"]["total"] == pytest.approx(w.sum())
    assert "demographic_parity_ks" in est.best_config_["constraint_values"]
    assert np.isfinite(est.score(X, y, sample_weight=w))


# --- bad weights ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weights, fragment",
    [
        (lambda n: np.r_[-1.0, np.ones(n - 1)], WEIGHTS_NEGATIVE.split("{")[0]),
        (lambda n: np.r_[np.nan, np.ones(n - 1)], WEIGHTS_NOT_FINITE.split("{")[0]),
        (lambda n: np.r_[np.inf, np.ones(n - 1)], WEIGHTS_NOT_FINITE.split("{")[0]),
        (lambda n: np.zeros(n), WEIGHTS_ALL_ZERO[:40]),
        (lambda n: np.ones(n - 1), "sample_weight has"),
        (lambda n: np.array(["heavy"] * n, dtype=object), WEIGHTS_NOT_NUMERIC.split("{")[0]),
        (lambda n: "weight", WEIGHTS_NOT_NUMERIC.split("{")[0]),
    ],
    ids=["negative", "nan", "inf", "all-zero", "wrong-length", "strings", "a-name"],
)
def test_bad_weights_name_the_fix(weights, fragment):
    X, y, s = _numeric(n=200)
    given = weights(len(y))
    kept = given.copy() if isinstance(given, np.ndarray) else given
    with pytest.raises(InputError, match=fragment.replace("(", r"\(")):
        FairAutoML(**FAST).fit(X, y, s, sample_weight=given)
    if isinstance(given, np.ndarray):
        np.testing.assert_array_equal(given, kept)


def test_a_group_without_weight_is_an_error():
    X, y, s = _numeric(n=200)
    w = np.where(s == "a", 0.0, 1.0)
    with pytest.raises(InputError, match="Group 'a' has zero total sample_weight"):
        FairAutoML(**FAST).fit(X, y, s, sample_weight=w)


def test_a_learner_without_sample_weight_is_told():
    fairautoml.register_learner("knn_no_weights", KNeighborsClassifier, replace=True)
    try:
        X, y, s = _numeric(n=200)
        settings = {**FAST, "learners": ["knn_no_weights"]}
        with pytest.raises(ConfigurationError, match="Learner 'knn_no_weights' cannot be trained"):
            FairAutoML(**settings).fit(X, y, s, sample_weight=np.ones(len(y)))
    finally:
        LEARNERS.remove("knn_no_weights")


def test_a_mitigator_that_cannot_weigh_rows_is_refused_by_name_and_left_out_by_default():
    X, y, s = _numeric(n=300)
    settings = {**FAST, "mitigators": ["threshold_optimizer"], "sensitive_at_predict": True}
    with pytest.raises(ConfigurationError, match="Mitigator 'threshold_optimizer' cannot take"):
        FairAutoML(**settings).fit(X, y, s, sample_weight=np.ones(len(y)))
    ctx, domain = fairautoml.estimators.context.search_context(
        FairAutoML(sensitive_at_predict=True).get_params(), X, y, s, np.ones(len(y))
    )
    every = set(domain.mitigators) | set(domain.posts)
    assert "threshold_optimizer" not in every and "group_thresholds" in every
    assert ctx.val_weight is not None and len(ctx.val_weight) == len(ctx.val_idx)


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_weight_column(tmp_path, capsys):
    X, y, s = _numeric(n=300)
    frame = X.assign(group=s, label=y, w=np.random.default_rng(0).integers(1, 4, len(y)))
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "run"
    args = [
        "fit", str(tmp_path / "d.csv"), "--target", "label", "--sensitive", "group",
        "--weight", "w", "--n-trials", "2", "--learners", "logistic_regression",
        "--cv-folds", "none", "--no-confirm", "-q", "--out", str(out),
    ]  # fmt: skip
    assert main(args) in VERDICT_EXITS
    printed = capsys.readouterr().out
    assert "weighted by column 'w'" in printed
    cfg = json.loads((out / "best_config.json").read_text())
    assert cfg["sample_weight"]["column"] == "w"
    assert cfg["sample_weight"]["total"] == float(frame["w"].sum())
    model = fairautoml.load(out / "model.skops")
    assert "w" not in list(model.feature_names_in_)  # the weight column is not a feature
    # resuming the study with other weights is refused, as other data are
    frame.assign(w=1).to_csv(tmp_path / "d.csv", index=False)
    assert main(args) == 2
    assert "sample_weight, or the target_X weights" in capsys.readouterr().err


def test_cli_weight_errors(tmp_path, capsys):
    X, y, s = _numeric(n=100)
    frame = X.assign(group=s, label=y, w=["x"] * len(y))
    frame.to_csv(tmp_path / "d.csv", index=False)
    base = ["fit", str(tmp_path / "d.csv"), "--target", "label", "--sensitive", "group", "-q"]
    assert main([*base, "--weight", "missing"]) == 2
    assert "--weight 'missing' is not a column" in capsys.readouterr().err
    assert main([*base, "--weight", "w"]) == 2
    assert "holds 100 value(s) that are not numbers" in capsys.readouterr().err
    assert main([*base, "--weight", "group"]) == 2
    assert "also the --sensitive column" in capsys.readouterr().err
