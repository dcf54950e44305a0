"""``exponentiated_gradient``: fairlearn's ExponentiatedGradient around any learner
(Agarwal et al., 2018); the moment and its bound come from :mod:`._reductions`.

fairlearn predicts by drawing one ensemble member per row. Here the ensemble is
derandomised: ``predict_proba`` is the mixture-weighted average of the members' own
P(y=1), and ``predict`` thresholds it at 0.5, so both are deterministic and consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.reductions import ExponentiatedGradient

from fairautoml.constraints import Constraint
from fairautoml.mitigators import register_mitigator
from fairautoml.mitigators._base import ScoringModel, positive_proba
from fairautoml.mitigators._reductions import Reduction, fitted_learner, make_moment


class MixtureModel(ScoringModel):
    """Mixture-weighted average of the members' P(y=1) (a derandomised ensemble)."""

    def __init__(self, members: list[Any], weights: np.ndarray) -> None:
        self.members = members
        self.weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        out = np.zeros(len(X))
        for member, weight in zip(self.members, self.weights, strict=True):
            out += weight * positive_proba(member, X)
        return np.clip(out, 0.0, 1.0)


@register_mitigator
class ExponentiatedGradientMitigator(Reduction):
    name = "exponentiated_gradient"

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
        moment = make_moment(constraints, y, groups, float(params.get("bound_scale", 0.5)))
        max_iter = int(params.get("max_iter", 20))

        def mixture(eg: ExponentiatedGradient) -> MixtureModel:
            used = [i for i in eg.weights_.index if eg.weights_[i] > 0]
            members = [fitted_learner(eg.predictors_[i]) for i in used]
            return MixtureModel(members, eg.weights_[used].to_numpy())

        return self.run(
            lambda est: ExponentiatedGradient(est, moment, max_iter=max_iter),
            mixture,
            make_estimator(),
            X,
            y,
            groups,
            n_fits=1.4 * max_iter + 5,  # one oracle call per iteration, more with the LP step
        )
