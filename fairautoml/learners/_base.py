"""The learner protocol: a name, factories of unfitted estimators, and their search spaces.

A learner's estimator receives the prepared table of :mod:`fairautoml.data.prepare` (float64
numerics, pandas ``category`` columns) and must accept ``fit(X, y, sample_weight=...)``.
A classifier offers ``predict_proba``; a regressor's ``predict`` returns float64 of shape
``(n_samples,)``. Learners without native categorical support are wrapped so that
categories are one-hot encoded and missing values imputed.

A learner may serve several tasks (:data:`TASKS`): its classifier serves "binary" (and
"multiclass" when it declares so), its regressor "regression". :meth:`Learner.for_task`
gives the learner as one task sees it, so a caller reads ``factory``, ``space`` and
``cost`` without asking which kind of estimator it holds.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from fairautoml import exceptions as E
from fairautoml.registry import Registry
from fairautoml.spaces import SearchSpace

# learners: tasks
UNKNOWN_TASK = "Unknown task {task!r}. Tasks: {tasks}."
LEARNER_TASK = (
    "Learner {name!r} does not support the {task!r} task (it supports: {supported}). "
    "Learners that do: {available}. Pick one of those, or register {name!r} again "
    "(replace=True) with an estimator for {task!r}."
)

TASKS = ("binary", "multiclass", "regression")
# the tasks a classifier serves: yes/no decisions, and several classes when it says so
TWO_CLASSES, SEVERAL_CLASSES, AMOUNTS = TASKS
CLASSIFIER, REGRESSOR = "classifier", "regressor"  # scikit-learn's names of estimator types


@dataclass(frozen=True)
class Variant:
    """What a learner fits for some task: a factory of unfitted estimators and its space."""

    factory: Callable[..., Any]
    space: SearchSpace
    estimator_type: str = CLASSIFIER  # CLASSIFIER or REGRESSOR


@dataclass(frozen=True)
class Learner:
    """A registered learner, as one task sees it.

    ``factory(**params)`` returns an unfitted estimator of ``estimator_type`` whose space
    is ``space``; ``random_state`` and ``n_jobs`` are passed when its signature takes
    them. ``native_categorical=False`` wraps it with encoding; ``scale=True`` also
    standardises numeric columns (linear models). ``variants`` maps every task the
    learner serves to what it fits there; empty means a classifier for "binary" only,
    which is what a learner built from the first three fields alone is.
    """

    name: str
    factory: Callable[..., Any]
    space: SearchSpace
    native_categorical: bool = False
    scale: bool = False
    threads_param: str | None = "n_jobs"  # the factory's thread-count keyword, if any
    estimator_type: str = CLASSIFIER
    variants: dict[str, Variant] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return self.space.cost

    @property
    def tasks(self) -> frozenset[str]:
        """The tasks the learner serves."""
        return frozenset(self.variants) or frozenset({"binary"})

    def for_task(self, task: str) -> Learner:
        """The learner as ``task`` sees it: the same name, that task's factory and space.

        Raises
        ------
        ConfigurationError
            When the learner does not serve ``task`` (the message names those that do).
        """
        if task not in self.tasks:
            raise _unsupported(self, task)
        variant = self.variants.get(task)
        if variant is None or (
            variant.factory is self.factory and variant.estimator_type == self.estimator_type
        ):
            return self  # the view already fits this task (its space may have been replaced)
        return replace(
            self,
            factory=variant.factory,
            space=variant.space,
            estimator_type=variant.estimator_type,
        )

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
        if self.estimator_type == REGRESSOR:
            return EncodedRegressor(estimator, scale=self.scale)
        return EncodedClassifier(estimator, scale=self.scale)


def _unsupported(learner: Learner, task: str) -> E.ConfigurationError:
    if task not in TASKS:
        return E.ConfigurationError(UNKNOWN_TASK.format(task=task, tasks=", ".join(TASKS)))
    return E.ConfigurationError(
        LEARNER_TASK.format(
            name=learner.name,
            task=task,
            supported=", ".join(sorted(learner.tasks)),
            available=", ".join(available_learners(task)) or "none",
        )
    )


def _accepted_kwargs(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword names the factory takes (None when it takes ``**kwargs``)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return set(sig.parameters)


class _Encoded(BaseEstimator):
    """One-hot encodes categories and imputes missing values before any estimator."""

    def __init__(self, estimator: Any, scale: bool = False) -> None:
        self.estimator = estimator
        self.scale = scale

    def fit(self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
        self.encoder_ = make_encoder(self.scale)
        Z = self.encoder_.fit_transform(X)
        self.estimator_ = clone(self.estimator)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_.fit(Z, y, **kwargs)
        return self


class EncodedClassifier(ClassifierMixin, _Encoded):
    """A classifier behind one-hot encoding and imputation (:func:`make_encoder`)."""

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> EncodedClassifier:
        super().fit(X, y, sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator_.predict_proba(self.encoder_.transform(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class EncodedRegressor(RegressorMixin, _Encoded):
    """A regressor behind one-hot encoding and imputation (:func:`make_encoder`)."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator_.predict(self.encoder_.transform(X)), dtype=np.float64)


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


LEARNERS: Registry[Learner] = Registry("learner")  # filled by learners.registry


def get_learner(name: str) -> Learner:
    return LEARNERS.get(name)


def available_learners(task: str | None = None) -> list[str]:
    """Registered learner names, in registration order; with ``task``, those serving it."""
    if task is None:
        return LEARNERS.names()
    if task not in TASKS:
        raise E.ConfigurationError(UNKNOWN_TASK.format(task=task, tasks=", ".join(TASKS)))
    return [name for name, learner in LEARNERS.items() if task in learner.tasks]


def takes_sample_weight(learner: Any) -> bool:
    """Whether the learner's estimator (behind the encoding wrapper, for learners that
    are wrapped) accepts ``fit(..., sample_weight=...)``."""
    estimator = learner.make(learner.space.defaults(), random_state=0)
    if isinstance(estimator, _Encoded):
        estimator = estimator.estimator
    try:
        parameters = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError, AttributeError):
        return False
    return "sample_weight" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
