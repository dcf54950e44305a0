"""Stand-in in-processing mitigator for the controller measurements.

Issue 3 adds the real in-processing mitigators (``exponentiated_gradient``, ...). Until
they are merged, ``register_stand_ins()`` registers this thin fairlearn
``ExponentiatedGradient`` wrapper under the same name, so the allocator has a costly
in-processing mitigator to allocate. It does nothing once the real one is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.reductions import (
    DemographicParity,
    EqualizedOdds,
    FalsePositiveRateParity,
    TruePositiveRateParity,
)
from fairlearn.reductions import ExponentiatedGradient as _EG

from fairautoml.constraints import Constraint
from fairautoml.mitigators import (
    ScoringModel,
    TrainingMitigator,
    available_mitigators,
    register_mitigator,
)

_MOMENTS = {
    "demographic_parity_difference": DemographicParity,
    "equalized_odds_difference": EqualizedOdds,
    "equal_opportunity_difference": TruePositiveRateParity,
    "true_positive_rate_difference": TruePositiveRateParity,
    "false_positive_rate_difference": FalsePositiveRateParity,
}
SPACE = {
    "name": "exponentiated_gradient",
    "cost": 30.0,
    "params": {
        # the reduction's bound, as a fraction of the user's bound
        "bound_scale": {"type": "float", "low": 0.2, "high": 1.0, "default": 0.5},
        "max_iter": {"type": "int", "low": 5, "high": 50, "log": True, "default": 15},
    },
}


class _EGScores(ScoringModel):
    def __init__(self, model: _EG) -> None:
        self.model = model

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return np.asarray(self.model._pmf_predict(X)[:, 1], dtype=np.float64)


class ExponentiatedGradientStandIn(TrainingMitigator):
    name = "exponentiated_gradient"
    stage = "in"
    supported_constraints = frozenset(_MOMENTS)

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
        c = constraints[0]  # the reduction enforces the first constraint
        moment = _MOMENTS[c.metric](difference_bound=c.bound * float(params["bound_scale"]))
        model = _EG(make_estimator(), moment, max_iter=int(params["max_iter"]))
        return _EGScores(model.fit(X, y, sensitive_features=groups))


def register_stand_ins() -> list[str]:
    """Register the stand-ins whose names are not taken yet; return their names."""
    if "exponentiated_gradient" in available_mitigators():
        return []
    register_mitigator(ExponentiatedGradientStandIn, SPACE)
    return ["exponentiated_gradient"]
