"""The learner protocol: a name, a factory of unfitted estimators, and a search space.

A learner's estimator receives the prepared table of :mod:`fairautoml.data` (float64
numerics, pandas ``category`` columns) and must accept ``fit(X, y, sample_weight=...)``
and offer ``predict_proba``. Learners without native categorical support are wrapped
so that categories are one-hot encoded and missing values imputed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from fairautoml.spaces import SearchSpace


@dataclass(frozen=True)
class Learner:
    """A registered learner.

    ``factory(**params)`` returns an unfitted classifier; ``random_state`` and ``n_jobs``
    are passed when its signature takes them. ``native_categorical=False`` wraps it with
    encoding; ``scale=True`` also standardises numeric columns (linear models).
    """

    name: str
    factory: Callable[..., Any]
    space: SearchSpace
    native_categorical: bool = False
    scale: bool = False
    threads_param: str | None = "n_jobs"  # the factory's thread-count keyword, if any

    @property
    def cost(self) -> float:
        return self.space.cost

    def make(self, params: dict[str, Any], random_state: int | None, n_jobs: int = 1) -> Any:
        kwargs = {**self.space.fixed, **params}
        accepted = _accepted_kwargs(self.factory)
        if accepted is None or "random_state" in accepted:
            kwargs.setdefault("random_state", random_state)
        if self.threads_param and (accepted is None or self.threads_param in accepted):
            kwargs.setdefault(self.threads_param, n_jobs)
        if accepted is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in accepted or k in params}
        estimator = self.factory(**kwargs)
        if self.native_categorical:
            return estimator
        return EncodedClassifier(estimator, scale=self.scale)


def _accepted_kwargs(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword names the factory takes (None when it takes ``**kwargs``)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return set(sig.parameters)


class EncodedClassifier(ClassifierMixin, BaseEstimator):
    """One-hot encodes categories and imputes missing values before any classifier."""

    def __init__(self, estimator: Any, scale: bool = False) -> None:
        self.estimator = estimator
        self.scale = scale

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> EncodedClassifier:
        self.encoder_ = make_encoder(self.scale)
        Z = self.encoder_.fit_transform(X)
        self.estimator_ = clone(self.estimator)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_.fit(Z, y, **kwargs)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator_.predict_proba(self.encoder_.transform(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def make_encoder(scale: bool = False) -> Pipeline:
    """Unfitted: median-impute (and with ``scale`` standardise) numerics, one-hot encode
    categories with missing as its own level; a dense float matrix comes out."""
    numeric = [SimpleImputer(strategy="median", keep_empty_features=True)]
    if scale:
        numeric.append(StandardScaler())
    columns = ColumnTransformer(
        [
            ("num", make_pipeline(*numeric), make_column_selector(dtype_include="number")),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False),
                make_column_selector(dtype_include="category"),
            ),
        ],
        sparse_threshold=0.0,
    )
    return make_pipeline(FunctionTransformer(_object_categories), columns)


def _object_categories(X: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns with missing values mapped to an explicit '<missing>' level."""
    out = X.copy(deep=False)
    for name in X.columns:
        col = X[name]
        if isinstance(col.dtype, pd.CategoricalDtype) and col.isna().any():
            if "<missing>" not in col.cat.categories:
                col = col.cat.add_categories("<missing>")
            out[name] = col.fillna("<missing>")
    return out
