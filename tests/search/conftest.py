"""Fixtures for the controller tests: a cheap in-processing mitigator, a failing learner."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from fairautoml import learners as learner_registry
from fairautoml import mitigators as mitigator_registry
from fairautoml.learners import register_learner
from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators import (
    EstimatorScoringModel,
    ScoringModel,
    TrainingMitigator,
    register_mitigator,
)


class CellReweighing(TrainingMitigator):
    """In-processing stand-in: weights every (group, label) cell to the same total."""

    name = "test_cell_reweighing"
    stage = "in"

    def fit(
        self,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
        *,
        task: Any,
    ) -> ScoringModel:
        cells = groups * 2 + y
        counts = np.bincount(cells, minlength=cells.max() + 1).astype(float)
        weights = (len(y) / np.maximum(counts, 1))[cells] ** float(params["strength"])
        return EstimatorScoringModel(make_estimator().fit(X, y, sample_weight=weights), task)


CELL_SPACE = {
    "cost": 3.0,
    "params": {"strength": {"type": "float", "low": 0.0, "high": 1.0, "default": 1.0}},
}


class Exploding(LogisticRegression):
    """Fails to fit whenever C > 0.5, its default included (other trials succeed)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Exploding:
        if self.C > 0.5:
            raise RuntimeError("exploding learner: C > 0.5")
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def in_mitigator() -> Iterator[str]:
    register_mitigator(CellReweighing, CELL_SPACE, replace=True)
    yield CellReweighing.name
    mitigator_registry.MITIGATORS.remove(CellReweighing.name)


@pytest.fixture
def exploding_learner() -> Iterator[str]:
    space = {
        "params": {"C": {"type": "float", "low": 0.01, "high": 100, "log": True, "default": 1.0}}
    }
    register_learner(
        "test_exploding", Exploding, space, scale=True, threads_param=None, replace=True
    )
    yield "test_exploding"
    learner_registry.LEARNERS.remove("test_exploding")
