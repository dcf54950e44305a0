"""The built-in learners; each one's space is ``search_spaces/<name>.yaml``.

Every family has a classifier (serving "binary" and "multiclass") and a regressor
(serving "regression"), one learner name per family, except the linear models:
``logistic_regression`` is a classifier only and ``ridge`` a regressor only, as they are
two different models rather than one model's two heads. A regressor searches its
classifier's space unless ``search_spaces/<name>_regression.yaml`` gives its own (the
forests: their classifiers' split criteria do not apply to a continuous target).

How each one receives the prepared table (float64 numerics with NaN, pandas ``category``
columns whose missing values are NaN):

* lightgbm, xgboost, hist_gradient_boosting: natively (categorical splits, NaN routed);
  lightgbm and xgboost stop early on a held-back share of their rows, so their
  ``n_estimators`` is a ceiling (:mod:`fairautoml.learners.early_stopping`);
* random_forest, extra_trees: one-hot encoded categories, median-imputed numerics;
* logistic_regression, ridge: the same, plus standardised numerics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

from fairautoml.learners.early_stopping import (
    EarlyStoppingLGBMClassifier,
    EarlyStoppingLGBMRegressor,
    EarlyStoppingXGBClassifier,
    EarlyStoppingXGBRegressor,
)
from fairautoml.learners.registry import register_learner


class _ThreadLimited(BaseEstimator):
    """Runs an estimator without a working ``n_jobs`` on ``n_jobs`` OpenMP/BLAS threads."""

    def __init__(self, estimator: Any, n_jobs: int = 1) -> None:
        self.estimator = estimator
        self.n_jobs = n_jobs

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        return X

    def fit(self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
        with threadpool_limits(limits=self.n_jobs):
            self.estimator_ = clone(self.estimator).fit(
                self._frame(X), y, sample_weight=sample_weight
            )
        return self

    def _call(self, method: str, X: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(limits=self.n_jobs):
            return getattr(self.estimator_, method)(self._frame(X))


class ThreadLimitedClassifier(ClassifierMixin, _ThreadLimited):
    """A classifier run on ``n_jobs`` OpenMP/BLAS threads."""

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> ThreadLimitedClassifier:
        super().fit(X, y, sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._call("predict_proba", X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class ThreadLimitedRegressor(RegressorMixin, _ThreadLimited):
    """A regressor run on ``n_jobs`` OpenMP/BLAS threads; predictions are float64."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self._call("predict", X), dtype=np.float64)


class _WideCategoriesAsCodes:
    """HistGradientBoosting with native categories; a column with more categories than
    ``max_bins`` (which it cannot split on natively) is passed as its category codes."""

    estimator: Any

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        max_bins = self.estimator.get_params().get("max_bins", 255)
        wide = [
            c
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype) and len(X[c].cat.categories) > max_bins
        ]
        if not wide:
            return X
        out = X.copy(deep=False)
        for c in wide:
            out[c] = X[c].cat.codes.replace(-1, np.nan).astype("float64")
        return out


class HistGradientBoosting(_WideCategoriesAsCodes, ThreadLimitedClassifier):
    """``HistGradientBoostingClassifier`` with wide categories as codes, on ``n_jobs`` threads."""


class HistGradientBoostingRegression(_WideCategoriesAsCodes, ThreadLimitedRegressor):
    """``HistGradientBoostingRegressor`` with wide categories as codes, on ``n_jobs`` threads."""


def hist_gradient_boosting(n_jobs: int = 1, **params: Any) -> HistGradientBoosting:
    return HistGradientBoosting(HistGradientBoostingClassifier(**params), n_jobs=n_jobs)


def hist_gradient_boosting_regressor(
    n_jobs: int = 1, **params: Any
) -> HistGradientBoostingRegression:
    return HistGradientBoostingRegression(HistGradientBoostingRegressor(**params), n_jobs=n_jobs)


# LogisticRegression's n_jobs has no effect since scikit-learn 1.8, and Ridge has none;
# their BLAS threads are what contend with other work on a busy machine
def logistic_regression(n_jobs: int = 1, **params: Any) -> ThreadLimitedClassifier:
    return ThreadLimitedClassifier(LogisticRegression(**params), n_jobs=n_jobs)


def ridge(n_jobs: int = 1, **params: Any) -> ThreadLimitedRegressor:
    return ThreadLimitedRegressor(Ridge(**params), n_jobs=n_jobs)


register_learner(
    "lightgbm",
    EarlyStoppingLGBMClassifier,
    "lightgbm.yaml",
    native_categorical=True,
    regressor=EarlyStoppingLGBMRegressor,
    multiclass=True,
)
register_learner(
    "xgboost",
    EarlyStoppingXGBClassifier,
    "xgboost.yaml",
    native_categorical=True,
    regressor=EarlyStoppingXGBRegressor,
    multiclass=True,
)
register_learner(
    "hist_gradient_boosting",
    hist_gradient_boosting,
    "hist_gradient_boosting.yaml",
    native_categorical=True,
    regressor=hist_gradient_boosting_regressor,
    multiclass=True,
)
register_learner(
    "random_forest",
    RandomForestClassifier,
    "random_forest.yaml",
    regressor=RandomForestRegressor,
    regressor_space="random_forest_regression.yaml",
    multiclass=True,
)
register_learner(
    "extra_trees",
    ExtraTreesClassifier,
    "extra_trees.yaml",
    regressor=ExtraTreesRegressor,
    regressor_space="extra_trees_regression.yaml",
    multiclass=True,
)
register_learner(
    "logistic_regression",
    logistic_regression,
    "logistic_regression.yaml",
    scale=True,
    multiclass=True,
)
register_learner("ridge", regressor=ridge, regressor_space="ridge.yaml", scale=True)
