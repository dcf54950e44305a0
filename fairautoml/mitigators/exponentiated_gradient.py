"""``exponentiated_gradient``: fairlearn's ExponentiatedGradient around any learner
(Agarwal et al., 2018, for classification; Agarwal, Dudík & Wu, 2019, with bounded group
loss for regression); the moment and its bound come from :mod:`._reductions`.

fairlearn predicts by drawing one ensemble member per row. Here the ensemble is
derandomised: the score is the mixture-weighted average of the members' own scores, their
P(y=1) (``predict`` thresholds it at 0.5, so both are deterministic and consistent), or
for a regressor their predicted amounts: the expected amount under the randomised
ensemble.

Not for weighted fits: fairlearn's reductions measure the constraint's moments without row
weights, so a search with ``sample_weight`` leaves it out (naming it in ``mitigators`` is an
error) rather than run it unweighted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.reductions import ExponentiatedGradient

from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._base import ScoringModel
from fairautoml.mitigators._reductions import Reduction, fitted_learner
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task


class MixtureModel(ScoringModel):
    """Mixture-weighted average of the members' scores (a derandomised ensemble): P(y=1),
    or the expected amount for regressors."""

    def __init__(self, members: list[Any], weights: np.ndarray, task: Task) -> None:
        self.members = members
        self.weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.task = task

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        out = np.zeros(len(X))
        for member, weight in zip(self.members, self.weights, strict=True):
            out += weight * self.task.scores_of(member, X)
        return self.task.mixed(out)


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
        *,
        task: Task,
    ) -> ScoringModel:
        max_iter = int(params.get("max_iter", 20))

        def mixture(eg: ExponentiatedGradient) -> MixtureModel:
            # fairlearn's ensemble prediction (_pmf_predict) is private; its public
            # predictors_ and weights_ give the same mixture
            used = [i for i in eg.weights_.index if eg.weights_[i] > 0]
            members = [fitted_learner(eg.predictors_[i]) for i in used]
            return MixtureModel(members, eg.weights_[used].to_numpy(), task)

        return self.run(
            lambda est, moment: ExponentiatedGradient(est, moment, max_iter=max_iter),
            mixture,
            make_estimator(),
            X,
            y,
            groups,
            constraints,
            float(params.get("bound_scale", 0.5)),
            n_fits=1.4 * max_iter + 5,  # one oracle call per iteration, more with the LP step
            task=task,
        )
