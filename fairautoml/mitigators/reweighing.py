"""``reweighing`` (Kamiran & Calders, 2012): instance weights that make label and group
independent in the training rows, ``w(g, y) = P(g) P(y) / P(g, y)``.

The learner is trained with these weights as ``sample_weight``; ``strength`` in [0, 1]
interpolates between no reweighing (0) and full independence (1) as ``w ** strength``.
``predict_proba`` is the learner's own, trained on the weighted rows; the group is not
used at predict time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.constraints import Constraint
from fairautoml.mitigators import register_mitigator
from fairautoml.mitigators._base import EstimatorScoringModel, ScoringModel, TrainingMitigator


def reweighing_weights(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per-row ``P(g) P(y) / P(g, y)``; weighted, label and group are independent."""
    y, groups = np.asarray(y), np.asarray(groups)
    weights = np.ones(len(y), dtype=np.float64)
    for g in np.unique(groups):
        in_g = groups == g
        for label in (0, 1):
            cell = in_g & (y == label)
            if cell.any():
                weights[cell] = in_g.mean() * np.mean(y == label) / cell.mean()
    return weights


@register_mitigator
class Reweighing(TrainingMitigator):
    name = "reweighing"
    stage = "pre"
    supported_constraints = frozenset({"demographic_parity_difference", "demographic_parity_ratio"})

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
        weights = reweighing_weights(y, groups) ** float(params.get("strength", 1.0))
        estimator = make_estimator().fit(X, y, sample_weight=weights / weights.mean())
        return EstimatorScoringModel(estimator)
