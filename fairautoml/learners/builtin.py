"""The built-in learners; each one's space is ``search_spaces/<name>.yaml``.

How each one receives the prepared table (float64 numerics with NaN, pandas ``category``
columns whose missing values are NaN):

* lightgbm, xgboost, hist_gradient_boosting: natively (categorical splits, NaN routed);
  lightgbm and xgboost stop early on a held-back share of their rows, so their
  ``n_estimators`` is a ceiling (:mod:`fairautoml.learners.early_stopping`);
* random_forest, extra_trees: one-hot encoded categories, median-imputed numerics;
* logistic_regression: the same, plus standardised numerics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from fairautoml.learners import register_learner
from fairautoml.learners.early_stopping import (
    EarlyStoppingLGBMClassifier,
    EarlyStoppingXGBClassifier,
)


class ThreadLimitedClassifier(ClassifierMixin, BaseEstimator):
    """Runs a classifier without a working ``n_jobs`` on ``n_jobs`` OpenMP/BLAS threads."""

    def __init__(self, estimator: Any, n_jobs: int = 1) -> None:
        self.estimator = estimator
        self.n_jobs = n_jobs

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        return X

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> ThreadLimitedClassifier:
        with threadpool_limits(limits=self.n_jobs):
            self.estimator_ = clone(self.estimator).fit(
                self._frame(X), y, sample_weight=sample_weight
            )
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(limits=self.n_jobs):
            return self.estimator_.predict_proba(self._frame(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class HistGradientBoosting(ThreadLimitedClassifier):
    """HistGradientBoosting with native categories; a column with more categories than
    ``max_bins`` (which it cannot split on natively) is passed as its category codes."""

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


def hist_gradient_boosting(n_jobs: int = 1, **params: Any) -> HistGradientBoosting:
    return HistGradientBoosting(HistGradientBoostingClassifier(**params), n_jobs=n_jobs)


def logistic_regression(n_jobs: int = 1, **params: Any) -> ThreadLimitedClassifier:
    # LogisticRegression's n_jobs has no effect since scikit-learn 1.8; its BLAS threads
    # are what contend with other work (a fit can run 20x slower on a busy machine)
    return ThreadLimitedClassifier(LogisticRegression(**params), n_jobs=n_jobs)


register_learner("lightgbm", EarlyStoppingLGBMClassifier, "lightgbm.yaml", native_categorical=True)
register_learner("xgboost", EarlyStoppingXGBClassifier, "xgboost.yaml", native_categorical=True)
register_learner(
    "hist_gradient_boosting",
    hist_gradient_boosting,
    "hist_gradient_boosting.yaml",
    native_categorical=True,
)
register_learner("random_forest", RandomForestClassifier, "random_forest.yaml")
register_learner("extra_trees", ExtraTreesClassifier, "extra_trees.yaml")
register_learner("logistic_regression", logistic_regression, "logistic_regression.yaml", scale=True)
