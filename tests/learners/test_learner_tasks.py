"""Which tasks each learner serves, what :meth:`Learner.for_task` gives, and that the
regression conformance check rejects regressors that break its rules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from fairautoml import exceptions as E
from fairautoml.data.prepare import prepare_fit_data
from fairautoml.learners import (
    LEARNERS,
    EncodedClassifier,
    EncodedRegressor,
    Learner,
    available_learners,
    get_learner,
    register_learner,
)
from fairautoml.learners._base import LEARNER_TASK
from fairautoml.learners.early_stopping import EarlyStoppingLGBMClassifier
from fairautoml.spaces import SearchSpace
from fairautoml.tasks import get_task
from fairautoml.testing.conformance import check_learner, check_multiclass, check_regressor

FAMILIES = ["lightgbm", "xgboost", "hist_gradient_boosting", "random_forest", "extra_trees"]
UNSUPPORTED = LEARNER_TASK.split("{name")[0]  # the template's leading words


@pytest.fixture
def registered():
    """Names registered by a test, removed after it."""
    names: list[str] = []
    yield names
    for name in names:
        LEARNERS.remove(name)


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_serves_every_task(name):
    assert get_learner(name).tasks == {"binary", "multiclass", "regression"}


def test_the_linear_models_are_two_learners():
    assert get_learner("logistic_regression").tasks == {"binary", "multiclass"}
    assert get_learner("ridge").tasks == {"regression"}


def test_available_learners_filters_by_task():
    everything = available_learners()
    assert available_learners("regression") == [n for n in everything if n != "logistic_regression"]
    assert available_learners("binary") == [n for n in everything if n != "ridge"]
    with pytest.raises(E.ConfigurationError, match=r"^Unknown task 'regresion'"):
        available_learners("regresion")


@pytest.mark.parametrize("name", ["lightgbm", "random_forest"])
def test_for_task_gives_the_regressor_and_back(name):
    learner = get_learner(name)
    assert learner.for_task("binary") is learner and learner.for_task("multiclass") is learner
    regression = learner.for_task("regression")
    assert regression.name == name and regression.estimator_type == "regressor"
    assert regression.factory is not learner.factory
    assert regression.tasks == learner.tasks
    assert regression.for_task("regression") is regression
    back = regression.for_task("binary")
    assert (back.factory, back.space, back.estimator_type) == (
        learner.factory,
        learner.space,
        "classifier",
    )


def test_a_regressor_searches_its_own_space_only_where_it_differs():
    lightgbm = get_learner("lightgbm")
    assert lightgbm.for_task("regression").space == lightgbm.space
    forest = get_learner("random_forest")
    assert "criterion" in {p.name for p in forest.space.params}
    assert "criterion" not in {p.name for p in forest.for_task("regression").space.params}


def test_for_task_keeps_a_replaced_space_for_its_own_task():
    learner = get_learner("lightgbm")
    narrowed = dataclasses.replace(learner, space=SearchSpace("lightgbm", cost=3.0))
    assert narrowed.for_task("binary") is narrowed
    assert narrowed.for_task("regression").space == learner.for_task("regression").space


@pytest.mark.parametrize(
    ("name", "task", "others"),
    [("logistic_regression", "regression", "ridge"), ("ridge", "binary", "logistic_regression")],
)
def test_an_unsupported_task_names_the_learners_that_support_it(name, task, others):
    with pytest.raises(E.ConfigurationError, match=f"^{UNSUPPORTED}'{name}'") as error:
        get_learner(name).for_task(task)
    assert f"'{task}'" in str(error.value) and others in str(error.value)
    assert "lightgbm" in str(error.value)


def test_a_learner_built_from_three_fields_is_a_binary_classifier():
    learner = Learner("plain", EarlyStoppingLGBMClassifier, SearchSpace("plain"))
    assert learner.tasks == {"binary"}
    assert learner.for_task("binary") is learner
    with pytest.raises(E.ConfigurationError, match=f"^{UNSUPPORTED}'plain'"):
        learner.for_task("multiclass")


def test_the_positional_registration_still_registers_a_binary_classifier(registered):
    registered.append("knn")
    learner = register_learner("knn", KNeighborsClassifier, None, threads_param=None)
    assert learner.tasks == {"binary"} and get_learner("knn") is learner
    assert isinstance(learner.make({}, 0), EncodedClassifier)
    assert "knn" not in available_learners("regression")


def test_a_regression_only_learner(registered):
    registered.append("ols")
    space = {"cost": 0.5, "params": {"fit_intercept": {"type": "categorical",
                                                       "choices": [True, False]}}}  # fmt: skip
    learner = register_learner("ols", regressor=LinearRegression, regressor_space=space)
    assert learner.tasks == {"regression"} and learner.estimator_type == "regressor"
    assert learner.cost == 0.5 and learner.for_task("regression") is learner
    assert isinstance(learner.make({"fit_intercept": False}, 0), EncodedRegressor)
    check_learner("ols")
    with pytest.raises(E.ConfigurationError, match=f"^{UNSUPPORTED}'ols'"):
        learner.for_task("binary")


def test_a_learner_needs_an_estimator():
    with pytest.raises(E.ConfigurationError, match="needs a classifier factory, a regressor"):
        register_learner("nothing")
    assert "nothing" not in available_learners()


class WeightBlindRegressor(LinearRegression):
    def fit(self, X, y, sample_weight=None):
        return super().fit(X, y)


class Float32Regressor(LinearRegression):
    def predict(self, X):
        return super().predict(X).astype(np.float32)


@pytest.mark.parametrize(
    ("regressor", "complaint"),
    [
        (DummyRegressor, "is not below that of predicting the mean"),
        (WeightBlindRegressor, "sample_weight seems ignored"),
    ],
)
def test_the_regression_check_rejects_a_rule_breaker(registered, regressor, complaint):
    registered.append("breaker")
    register_learner("breaker", regressor=regressor, threads_param=None)
    with pytest.raises(AssertionError, match=complaint):
        check_regressor("breaker")


def test_the_regression_check_wants_float64_from_a_native_regressor(registered):
    registered.append("float32")
    register_learner("float32", regressor=Float32Regressor, native_categorical=True)
    with pytest.raises(AssertionError, match="float64"):
        check_regressor("float32", (pd.DataFrame({"x": np.arange(30.0)}), np.arange(30.0)))


def test_the_hist_gradient_boosting_regressor_takes_wide_categoricals_as_codes():
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame({"zip": [f"z{i}" for i in rng.integers(0, 400, n)], "x": rng.normal(size=n)})
    s = pd.Series(rng.choice(["a", "b"], n))
    prepared = prepare_fit_data(X, (X["x"] > 0).astype(int), s, task=get_task("binary")).X
    assert len(prepared["zip"].cat.categories) > 255
    y = X["x"].to_numpy() + rng.normal(size=n)
    learner = get_learner("hist_gradient_boosting").for_task("regression")
    pred = learner.make({"max_iter": 10}, 0).fit(prepared, y).predict(prepared)
    assert pred.shape == (n,) and pred.dtype == np.float64


class TwoClassesOnly(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        return super().fit(X, np.asarray(y) > 0, sample_weight)


def test_the_multiclass_check_rejects_a_binary_classifier_declared_multiclass(registered):
    registered.append("two_classes")
    register_learner("two_classes", TwoClassesOnly, scale=True, threads_param=None, multiclass=True)
    with pytest.raises(AssertionError, match="classes_"):
        check_multiclass("two_classes")
