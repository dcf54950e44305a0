"""Contributions, disparity attribution and reasons (fairautoml.explain): each method adds up
to the model's margin, the attribution adds up to the gap between groups, the reasons are
the most negative contributions in words, and bad input is refused with its fix."""

from __future__ import annotations

import dataclasses
import warnings

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression

from fairautoml import FairAutoML, cli
from fairautoml.exceptions import InputError
from fairautoml.explain import (
    attribute_disparity,
    contributions,
    disparity_attribution,
    reasons,
)
from fairautoml.explain import messages as M
from fairautoml.mitigators import FoldModels
from fairautoml.testing.conformance import make_unfair

FAST = dict(
    constraints="demographic_parity_difference <= 0.3",
    time_budget=None,
    n_trials=1,
    random_state=0,
    confirm=False,
    cv_folds=None,
    trial_time_limit=None,
    mitigators=["none"],
)


@pytest.fixture(scope="module")
def data():
    return make_unfair(400, seed=3)


@pytest.fixture(scope="module")
def fitted(data):
    """One small search per learner: its fitted estimator (the pick is a FairModel)."""
    X, y, s = data
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for learner in ("lightgbm", "xgboost", "logistic_regression"):
            out[learner] = FairAutoML(**FAST, learners=[learner]).fit(X, y, s)
    return out


@pytest.fixture(scope="module")
def tiny():
    """A numeric table small enough to check by hand, and a logistic regression on it."""
    X = pd.DataFrame({
        "income": [3.0, 5.0, 1.0, 4.0, 2.0, 6.0, 2.5, 4.5],
        "debt_ratio": [0.62, 0.2, 0.8, 0.3, 0.5, 0.1, 0.7, 0.4],
        "age": [50.0, 30.0, 45.0, 28.0, 60.0, 35.0, 41.0, 22.0],
    })  # fmt: skip
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    return X, LogisticRegression().fit(X, y)


def test_reasons_are_the_k_lowest_of_coef_times_x_minus_mean(tiny):
    """A linear model's contributions are coef * (x - mean of the reference rows); its
    reasons are the most negative of them, with the values as given."""
    X, model = tiny
    by_hand = model.coef_[0] * (X - X.mean())
    contrib = contributions(model, X)
    np.testing.assert_allclose(contrib.values.to_numpy(), by_hand.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(contrib.margin, model.decision_function(X), atol=1e-12)
    table = reasons(model, X, 2)
    assert list(table.columns) == ["reason_1", "reason_2"]
    for i in range(len(X)):
        lowest = by_hand.iloc[i].sort_values()
        expected = [
            f"{name} = {X.iloc[i][name]:g} lowered the score"
            for name, value in lowest.iloc[:2].items()
            if value < 0
        ]
        got = [r for r in table.iloc[i] if isinstance(r, str)]
        assert got == expected
    every = reasons(model, X, 3).iloc[0]
    assert every["reason_3"] == "debt_ratio = 0.62 lowered the score"  # the value as given


def test_the_model_agnostic_method_is_exact_on_an_additive_model(tiny):
    """Interventional Shapley values of a linear model are its exact contributions: every
    reference row is drawn equally often, and every order gives the same steps."""
    X, model = tiny

    class OnlyProba:  # a user's model that shows nothing but predict_proba
        classes_ = model.classes_

        def predict_proba(self, rows):
            return model.predict_proba(rows)

    exact = contributions(model, X)
    agnostic = contributions(OnlyProba(), X, n_samples=16)
    assert agnostic.method == "interventional Shapley"
    np.testing.assert_allclose(agnostic.values, exact.values, atol=1e-8)


@pytest.mark.parametrize("learner", ["lightgbm", "xgboost"])
def test_tree_contributions_sum_with_the_base_to_the_raw_margin(fitted, data, learner):
    """pred_contrib's identity, on the fair model's prepared table: one contribution per
    column of the user's table (the category column included), summing to the margin."""
    X, _, s = data
    model = fitted[learner].best_estimator_
    contrib = model.contributions(X, s)
    assert contrib.features == ["x1", "x2", "proxy", "colour"]
    assert contrib.method.startswith("TreeSHAP")
    Xp, _ = model.prepare(X, s)
    estimator = model.scoring.estimator
    raw = (
        estimator.predict(Xp, raw_score=True)
        if learner == "lightgbm"
        else estimator.predict(Xp, output_margin=True)
    )
    np.testing.assert_allclose(contrib.margin, raw, atol=1e-5)


def test_one_hot_columns_are_summed_back_to_the_users_column(fitted, data):
    """The logistic regression reads colour as one-hot columns; its contributions are per
    column of the user's table and add up to its decision function."""
    X, _, s = data
    model = fitted["logistic_regression"].best_estimator_
    contrib = model.contributions(X, s)
    assert contrib.method == "linear (exact)"
    assert contrib.features == ["x1", "x2", "proxy", "colour"]
    Xp, _ = model.prepare(X, s)
    encoded = model.scoring.estimator
    linear = encoded.estimator_.estimator_
    np.testing.assert_allclose(
        contrib.margin, linear.decision_function(encoded.encoder_.transform(Xp)), atol=1e-10
    )
    # rows of one colour get one contribution of colour
    colours = contrib.values["colour"].groupby(X["colour"].fillna("<missing>")).nunique()
    assert (colours == 1).all()


def test_the_attribution_adds_up_to_the_gap_in_mean_margin(fitted, data):
    """Features' terms plus the base term are the gap between the groups' mean margins;
    each interval holds its point estimate; the selection rates are given beside it."""
    X, _, s = data
    model = fitted["lightgbm"]
    result = attribute_disparity(model, X, s, n_boot=100)
    contrib = model.best_estimator_.contributions(X, s)
    a, b = result.groups
    margin = pd.Series(contrib.margin)
    assert result.gap == pytest.approx(margin[s == a].mean() - margin[s == b].mean())
    assert result.gap > 0  # by default the higher-scored group first
    assert result.table["gap"].sum() + result.base_gap == pytest.approx(result.gap, abs=1e-9)
    assert abs(result.residual) < 1e-9
    assert (result.table["low"] <= result.table["gap"]).all()
    assert (result.table["gap"] <= result.table["high"]).all()
    sizes = result.table["gap"].abs().to_numpy()
    assert (np.diff(sizes) <= 0).all()  # largest first
    pred = model.predict(X, s) == model.classes_[1]
    assert result.selection_gap == pytest.approx(pred[s == a].mean() - pred[s == b].mean())


def test_fold_models_explain_each_row_by_the_model_that_scores_it(fitted, data):
    """Each row's contributions come from its own fold model, so they add up to the score
    the row got, whose base differs by fold model (the attribution's base term)."""
    X, _, s = data
    lgb, xgb = (fitted[k].best_estimator_ for k in ("lightgbm", "xgboost"))
    model = dataclasses.replace(lgb, scoring=FoldModels([lgb.scoring, xgb.scoring]))
    contrib = model.contributions(X, s)
    Xp, _ = model.prepare(X, s)
    p = np.clip(model.scoring.predict_proba(Xp, None), 1e-9, 1 - 1e-9)
    np.testing.assert_allclose(contrib.margin, np.log(p / (1 - p)), atol=1e-5)
    assert len(np.unique(np.round(contrib.base, 6))) == 2
    result = disparity_attribution(contrib, s.to_numpy(), between=("b", "a"), n_boot=20)
    assert result.table["gap"].sum() + result.base_gap == pytest.approx(result.gap, abs=1e-9)


def test_a_fitted_model_gives_reasons_for_every_row_scored_below_its_base(fitted, data):
    """A row scored below the base has a negative contribution, so a first reason; each
    reason names a feature with the row's value; the table keeps X's index."""
    X, _, s = data
    X = X.set_axis(X.index + 1000)
    automl = fitted["lightgbm"]
    table = automl.reasons(X, k=3, sensitive_features=s.to_numpy())
    assert list(table.index) == list(X.index)
    contrib = automl.best_estimator_.contributions(X, s.to_numpy())
    below = contrib.margin < contrib.base
    assert below.any() and table.loc[below, "reason_1"].notna().all()
    long = automl.reasons(X, k=3, sensitive_features=s.to_numpy(), long=True)
    for row, feature, value, text in long[["row", "feature", "value", "reason"]].itertuples(
        index=False
    ):
        assert text.startswith(f"{feature} = ") and text.endswith("lowered the score")
        assert X.loc[row, feature] is value or X.loc[row, feature] == value or pd.isna(value)
    assert (long["contribution"] < 0).all()


def test_predict_command_writes_the_reason_columns(fitted, data, tmp_path):
    X, _, s = data
    fitted["lightgbm"].save(tmp_path / "model.skops")
    csv = tmp_path / "new.csv"
    X.assign(group=s.to_numpy()).to_csv(csv, index=False)
    out = tmp_path / "p.csv"
    args = ["predict", str(tmp_path / "model.skops"), str(csv), "--out", str(out)]
    assert cli.main([*args, "--sensitive", "group", "--reasons", "2"]) == 0
    written = pd.read_csv(out)
    assert {"prediction", "reason_1", "reason_2"} <= set(written.columns)
    assert "reason_3" not in written.columns
    assert written["reason_1"].dropna().str.endswith("lowered the score").all()
    assert cli.main([*args, "--sensitive", "group", "--reasons", "0"]) != 0


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True, None])
def test_a_bad_k_is_refused_with_the_fix(tiny, k):
    X, model = tiny
    with pytest.raises(InputError, match=r"k must be a whole number.*k=4"):
        reasons(model, X, k)


def test_missing_columns_are_named_with_the_fix(tiny, fitted, data):
    X, model = tiny
    with pytest.raises(InputError, match=r"lacks column\(s\) \['age'\].*every training column"):
        reasons(model, X.drop(columns="age"), 2)
    X, _, s = data
    with pytest.raises(InputError, match=r"Missing: \['x1'\].*training columns"):
        fitted["lightgbm"].reasons(X.drop(columns="x1"), 2, s)


def test_one_row_without_reference_rows_is_refused_for_a_linear_model(tiny):
    """Relative to its own mean a single row has nothing to explain: reference rows fix it."""
    X, model = tiny
    with pytest.raises(InputError, match=r"reference= rows"):
        reasons(model, X.head(1), 2)
    one = reasons(model, X.head(1), 2, reference=X)
    assert one.iloc[0]["reason_1"] == reasons(model, X, 2).iloc[0]["reason_1"]


def test_a_model_of_several_classes_is_refused(data):
    X, _, _ = data
    model = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1)
    model.fit(X[["x1", "proxy"]], pd.cut(X["x1"], 3, labels=False))
    with pytest.raises(InputError, match=M.SEVERAL_CLASSES.split("{")[0]):
        contributions(model, X)


def test_a_users_xgboost_model_and_its_unfavourable_class(data):
    """A lender's own model: the features it was trained on are picked from X, and with
    pos_label the score is the other class's (the contributions change sign)."""
    X, y, _ = data
    model = xgboost.XGBClassifier(n_estimators=10, max_depth=2).fit(X[["x1", "x2"]], y)
    favourable = contributions(model, X)
    unfavourable = contributions(model, X, pos_label=0)
    np.testing.assert_allclose(unfavourable.values, -favourable.values)
    margin = model.predict(X[["x1", "x2"]], output_margin=True)
    np.testing.assert_allclose(favourable.margin, margin, atol=1e-5)
