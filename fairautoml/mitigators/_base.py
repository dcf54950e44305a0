"""Mitigator protocols, one per place in the pipeline: pre -> learner (in) -> post.

* :class:`TrainingMitigator` (stage ``none``, ``pre`` or ``in``) trains the scoring model:
  it gets a factory of the learner's estimator and returns a :class:`ScoringModel`.
* :class:`PostProcessor` (stage ``post``) turns validation scores into a
  :class:`DecisionRule`. It is cheap, so it can be tried on every trained model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairautoml.constraints import Constraint
from fairautoml.metrics import Metric
from fairautoml.spaces import SearchSpace

STAGES = ("none", "pre", "in", "post")


class Mitigator(ABC):
    """What every mitigator declares; its space is ``search_spaces/mitigator_<name>.yaml``."""

    name: ClassVar[str]
    stage: ClassVar[str]
    supported_constraints: ClassVar[frozenset[str] | None] = None  # None: every metric
    needs_group_at_predict: ClassVar[bool] = False
    randomized: ClassVar[bool] = False
    space: SearchSpace = SearchSpace(name="empty")

    @property
    def cost(self) -> float:
        return self.space.cost

    def supports(self, constraints: Sequence[Constraint]) -> bool:
        allowed = self.supported_constraints
        return allowed is None or all(c.metric in allowed for c in constraints)


class ScoringModel(ABC):
    """A trained model giving P(y=1) per row; may read the group codes."""

    needs_group: bool = False

    @abstractmethod
    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        """Positive-class probabilities, float64 of shape (n_samples,)."""


class TrainingMitigator(Mitigator):
    @abstractmethod
    def fit(
        self,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
    ) -> ScoringModel:
        """Train the learner (made by ``make_estimator()``) with this mitigation."""


class DecisionRule(ABC):
    """Maps scores (and groups) to decisions; ``predict == (predict_proba >= 0.5)``."""

    needs_group: bool = False

    @abstractmethod
    def predict_proba(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Adjusted positive-class probabilities, float64, consistent with ``predict``."""

    def predict(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        return (self.predict_proba(scores, groups) >= 0.5).astype(np.int64)


class PostProcessor(Mitigator):
    stage: ClassVar[str] = "post"

    @abstractmethod
    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
    ) -> DecisionRule:
        """Fit the rule on held-out scores so it meets ``constraints``."""


class EstimatorScoringModel(ScoringModel):
    """A plain fitted estimator: the group is not used."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(X)[:, 1], dtype=np.float64)
