"""``none``: train the learner as it is (the baseline every mitigation is measured against)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._base import (
    EstimatorScoringModel,
    ScoringModel,
    TrainingMitigator,
    weight_kwargs,
)
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task


@register_mitigator
class NoMitigation(TrainingMitigator):
    name = "none"
    stage = "none"
    tasks = frozenset({"binary", "multiclass", "regression"})
    serves_calibration = True  # the learner's own probabilities
    numeric_attributes = True
    accepts_sample_weight = True

    def fit(
        self,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
        *,
        task: Task,
    ) -> ScoringModel:
        estimator = make_estimator().fit(X, y, **weight_kwargs(sample_weight))
        return EstimatorScoringModel(estimator, task)
