"""Early stopping of the lightgbm and xgboost learners: ``n_estimators`` is a ceiling.

The stopping round is re-derived here from a plain library model fitted on the same rows:
its weighted log-loss on the held-back rows after every round, and the patience rule.
"""

from __future__ import annotations

import dataclasses
import io
import pickle

import joblib
import numpy as np
import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import clone
from sklearn.metrics import log_loss, mean_squared_error
from xgboost import XGBClassifier, XGBRegressor

from fairautoml import exceptions as E
from fairautoml.learners import get_learner
from fairautoml.learners.early_stopping import (
    MIN_VALIDATION_ROWS,
    EarlyStoppingLGBMClassifier,
    EarlyStoppingLGBMRegressor,
    EarlyStoppingXGBClassifier,
    EarlyStoppingXGBRegressor,
    inner_split,
)
from fairautoml.testing.conformance import conformance_data

PATIENCE = 10
CEILING = 300
# a high learning rate on 2,400 noisy rows: the held-back loss bottoms out early
PARAMS = {
    "lightgbm": dict(learning_rate=0.3, num_leaves=31, verbosity=-1, n_jobs=1, random_state=0),
    "xgboost": dict(
        learning_rate=0.3, max_depth=6, tree_method="hist", enable_categorical=True,
        verbosity=0, n_jobs=1, random_state=0,
    ),
}  # fmt: skip
EARLY = {"lightgbm": EarlyStoppingLGBMClassifier, "xgboost": EarlyStoppingXGBClassifier}
PLAIN = {"lightgbm": LGBMClassifier, "xgboost": XGBClassifier}
LEARNERS = ["lightgbm", "xgboost"]


def early(name, **params):
    return EARLY[name](**{**PARAMS[name], "n_estimators": CEILING, **params})


def plain(name, **params):
    return PLAIN[name](**{**PARAMS[name], "n_estimators": CEILING, **params})


def staged_proba(name, model, X, rounds):
    """P(y=1) of ``model`` using its first ``rounds`` rounds."""
    if name == "lightgbm":
        return model.predict_proba(X, num_iteration=rounds)[:, 1]
    return model.predict_proba(X, iteration_range=(0, rounds))[:, 1]


def trained_rounds(name, model):
    if name == "lightgbm":
        return model.booster_.current_iteration()
    return model.get_booster().num_boosted_rounds()


def stopping_round(loss_after, patience):
    """1-based round a patience rule keeps: the best one, searched until ``patience``
    rounds in a row bring no strictly lower loss (``loss_after(k)``: loss after k rounds)."""
    best, best_loss = 1, loss_after(1)
    for k in range(2, CEILING + 1):
        loss = loss_after(k)
        if loss < best_loss:
            best, best_loss = k, loss
        elif k - best >= patience:
            break
    return best


def reference(name, X, y, w):
    """A plain model fitted on the rows early stopping fits on, and the held-back rows."""
    fit, val = inner_split(y, w, 0.1, 0)
    model = plain(name).fit(X.iloc[fit], y[fit], sample_weight=None if w is None else w[fit])
    return model, val


def held_back_loss(name, model, X, y, val, w):
    """k -> the model's log-loss after k rounds on the held-back rows, weighted by ``w``."""
    wv = None if w is None else w[val]
    return lambda k: log_loss(y[val], staged_proba(name, model, X.iloc[val], k), sample_weight=wv)


@pytest.fixture(scope="module")
def data():
    # numerics with NaN and a pandas category column; 10% of each class > MIN_VALIDATION_ROWS
    d = conformance_data(2400)
    return d.X, d.y


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", LEARNERS)
def test_stops_where_the_held_back_loss_stops_improving(name, weighted, data):
    X, y = data
    w = np.random.default_rng(1).exponential(size=len(y)) if weighted else None
    model = early(name, early_stopping_rounds=PATIENCE).fit(X, y, sample_weight=w)
    ref, val = reference(name, X, y, w)
    expected = stopping_round(held_back_loss(name, ref, X, y, val, w), PATIENCE)
    assert expected + PATIENCE < CEILING, "the data should make the loss bottom out early"
    assert model.n_estimators_used_ == expected
    assert model.inner_validation_rows_ == len(val)
    assert trained_rounds(name, model) <= expected + PATIENCE
    # nothing is refitted: the model is the reference cut at the best round
    np.testing.assert_allclose(
        model.predict_proba(X)[:, 1], staged_proba(name, ref, X, expected), rtol=1e-6
    )


@pytest.mark.parametrize("name", LEARNERS)
def test_validation_weights_decide_the_stopping_round(name, data):
    X, y = data
    w = np.random.default_rng(1).exponential(size=len(y))
    ref, val = reference(name, X, y, w)
    by_weight = stopping_round(held_back_loss(name, ref, X, y, val, w), PATIENCE)
    unweighted = stopping_round(held_back_loss(name, ref, X, y, val, None), PATIENCE)
    assert unweighted != by_weight, "the weights should move the best round on this data"
    model = early(name, early_stopping_rounds=PATIENCE).fit(X, y, sample_weight=w)
    assert model.n_estimators_used_ == by_weight


@pytest.mark.parametrize("name", LEARNERS)
def test_never_goes_past_the_ceiling(name, data):
    X, y = data
    # a small learning rate: the loss still falls when the ceiling is reached
    model = early(name, n_estimators=15, learning_rate=0.02, early_stopping_rounds=PATIENCE)
    model.fit(X, y)
    assert model.inner_validation_rows_ > 0
    assert model.n_estimators_used_ == 15
    assert trained_rounds(name, model) == 15


@pytest.mark.parametrize("name", LEARNERS)
def test_the_shipped_spaces_switch_it_on(name, data):
    X, y = data
    learner = get_learner(name)
    assert learner.space.fixed["early_stopping_rounds"] > 0
    model = learner.make({**learner.space.defaults(), "n_estimators": 1000}, 0).fit(X, y)
    assert model.inner_validation_rows_ > 0
    assert model.n_estimators_used_ < 1000


@pytest.mark.parametrize("off", [0, None])
@pytest.mark.parametrize("name", LEARNERS)
def test_the_space_switches_it_off(name, off, data):
    X, y = data
    learner = get_learner(name)
    space = dataclasses.replace(
        learner.space, fixed={**learner.space.fixed, "early_stopping_rounds": off}
    )
    params = {**learner.space.defaults(), "n_estimators": 60}
    model = dataclasses.replace(learner, space=space).make(params, 0).fit(X, y)
    assert model.inner_validation_rows_ == 0
    assert model.n_estimators_used_ == 60 == trained_rounds(name, model)
    fixed = {k: v for k, v in space.fixed.items() if k not in ("early_stopping_rounds",
                                                               "validation_fraction")}  # fmt: skip
    reference = PLAIN[name](**fixed, **params, random_state=0, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("name", LEARNERS)
def test_too_few_rows_fall_back_to_the_plain_fit(name, data):
    X, y = data
    n = 5 * MIN_VALIDATION_ROWS  # 10% of a class of it: fewer than MIN_VALIDATION_ROWS
    Xs, ys = X.iloc[:n], y[:n]
    model = early(name, n_estimators=40, early_stopping_rounds=PATIENCE).fit(Xs, ys)
    assert model.inner_validation_rows_ == 0
    assert model.n_estimators_used_ == 40 == trained_rounds(name, model)
    assert model.get_params()["early_stopping_rounds"] == PATIENCE  # unchanged by the fit
    reference = plain(name, n_estimators=40).fit(Xs, ys)
    np.testing.assert_allclose(model.predict_proba(Xs), reference.predict_proba(Xs), rtol=1e-6)


def test_inner_split_is_stratified_and_keeps_zero_weight_rows_out():
    rng = np.random.default_rng(0)
    n = 10_000
    y = (rng.random(n) < 0.3).astype(int)
    w = np.where(rng.random(n) < 0.4, 0.0, 1.0)
    fit, val = inner_split(y, w, 0.1, 0)
    assert np.all(w[val] > 0)
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(n))
    positive = w > 0
    assert len(val) == pytest.approx(0.1 * positive.sum(), abs=1)
    assert y[val].mean() == pytest.approx(y[positive].mean(), abs=0.01)
    again, other = inner_split(y, w, 0.1, 0)[1], inner_split(y, w, 0.1, 1)[1]
    assert np.array_equal(val, again) and not np.array_equal(val, other)


def test_inner_split_declines_too_few_rows_of_a_class():
    y = np.array([0] * 1000 + [1] * (10 * MIN_VALIDATION_ROWS))
    assert inner_split(y, None, 0.1, 0) is not None
    assert inner_split(y[:-1], None, 0.1, 0) is None
    only_zero_weight_positives = np.where(y == 1, 0.0, 1.0)
    assert inner_split(y, only_zero_weight_positives, 0.5, 0) is None


@pytest.mark.parametrize("name", LEARNERS)
def test_clone_pickle_and_joblib_round_trip(name, data):
    X, y = data
    model = early(name, early_stopping_rounds=PATIENCE, validation_fraction=0.2)
    twin = clone(model)
    assert type(twin) is type(model) and twin.get_params() == model.get_params()
    assert not hasattr(twin, "n_estimators_used_")
    model.fit(X, y)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    for copy in (pickle.loads(pickle.dumps(model)), joblib.load(buffer)):
        np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
        assert copy.n_estimators_used_ == model.n_estimators_used_
        assert list(copy.classes_) == [0, 1]
    assert model.inner_validation_rows_ == pytest.approx(0.2 * len(y), abs=1)


@pytest.mark.parametrize("name", LEARNERS)
def test_set_params_switches_it_off_and_our_settings_stay_out_of_the_booster(name, data):
    X, y = data
    model = early(name, n_estimators=30).set_params(early_stopping_rounds=0)
    model.fit(X, y)
    assert model.inner_validation_rows_ == 0 and model.n_estimators_used_ == 30
    if name == "lightgbm":
        booster_params = set(model.booster_.params)
    else:
        booster_params = set(model.get_xgb_params())
    assert not booster_params & {"validation_fraction", "early_stopping_round",
                                 "early_stopping_rounds"}  # fmt: skip


@pytest.mark.parametrize(
    ("setting", "value"),
    [("validation_fraction", 1.0), ("validation_fraction", 0), ("early_stopping_rounds", -1),
     ("early_stopping_rounds", 2.5)],
)  # fmt: skip
@pytest.mark.parametrize("name", LEARNERS)
def test_bad_settings_say_what_is_expected(name, setting, value, data):
    X, y = data
    with pytest.raises(E.ConfigurationError, match=f"^{setting} must be"):
        early(name, **{setting: value}).fit(X, y)


# --- the regressors: a random held-back share, the squared error watched ---------------

EARLY_REGRESSOR = {"lightgbm": EarlyStoppingLGBMRegressor, "xgboost": EarlyStoppingXGBRegressor}
PLAIN_REGRESSOR = {"lightgbm": LGBMRegressor, "xgboost": XGBRegressor}


def staged_predict(name, model, X, rounds):
    if name == "lightgbm":
        return model.predict(X, num_iteration=rounds)
    return model.predict(X, iteration_range=(0, rounds))


@pytest.fixture(scope="module")
def regression_rows(data):
    # a weak signal in heavy noise: with a high learning rate the held-back error bottoms
    # out early
    X, _ = data
    rng = np.random.default_rng(2)
    return X, X["x1"].to_numpy() + rng.normal(0.0, 1.5, size=len(X))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", LEARNERS)
def test_regressor_stops_where_the_held_back_squared_error_stops_improving(
    name, weighted, regression_rows
):
    X, y = regression_rows
    w = np.random.default_rng(1).exponential(size=len(y)) if weighted else None
    settings = {**PARAMS[name], "n_estimators": CEILING}
    model = EARLY_REGRESSOR[name](**settings, early_stopping_rounds=PATIENCE)
    model.fit(X, y, sample_weight=w)
    fit, val = inner_split(y, w, 0.1, 0, stratify=False)
    ref = PLAIN_REGRESSOR[name](**settings)
    ref.fit(X.iloc[fit], y[fit], sample_weight=None if w is None else w[fit])
    wv = None if w is None else w[val]

    def loss_after(k):
        pred = staged_predict(name, ref, X.iloc[val], k)
        return mean_squared_error(y[val], pred, sample_weight=wv)

    expected = stopping_round(loss_after, PATIENCE)
    assert expected + PATIENCE < CEILING, "the data should make the error bottom out early"
    assert model.n_estimators_used_ == expected
    assert model.inner_validation_rows_ == len(val)
    pred = model.predict(X)
    assert pred.dtype == np.float64
    np.testing.assert_allclose(pred, staged_predict(name, ref, X, expected), rtol=1e-5)


def test_inner_split_without_classes_is_a_random_share():
    rng = np.random.default_rng(0)
    n = 10_000
    y = rng.normal(size=n)
    w = np.where(rng.random(n) < 0.4, 0.0, 1.0)
    fit, val = inner_split(y, w, 0.1, 0, stratify=False)
    assert np.all(w[val] > 0)
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(n))
    assert len(val) == pytest.approx(0.1 * (w > 0).sum(), abs=1)
    assert inner_split(y, w, 0.1, 0, stratify=True) is None  # every value its own class
    few = 10 * MIN_VALIDATION_ROWS
    assert inner_split(y[:few], None, 0.1, 0, stratify=False) is not None
    assert inner_split(y[: few - 1], None, 0.1, 0, stratify=False) is None


@pytest.mark.parametrize("name", LEARNERS)
def test_regressor_clone_and_pickle_round_trip(name, regression_rows):
    X, y = regression_rows
    model = get_learner(name).for_task("regression").make({"n_estimators": 200}, 0)
    assert isinstance(model, EARLY_REGRESSOR[name])
    assert clone(model).get_params() == model.get_params()
    model.fit(X, y)
    assert 0 < model.n_estimators_used_ < 200 and model.inner_validation_rows_ > 0
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
