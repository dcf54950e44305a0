"""``reweighing`` (Kamiran & Calders, 2012): instance weights that make label and group
independent in the training rows, ``w(g, y) = P(g) P(y) / P(g, y)``.

For several classes the cells are group x class. For an amount the label is its
stratum, the task's quantile bin of the target
(:meth:`~fairautoml.tasks.Task.strata`, the bins splits stratify on): weighted, each
group's amounts fall in each bin as often as everyone's, a step towards demographic
parity of the predictions.

The learner is trained with these weights as ``sample_weight``; ``strength`` in [0, 1]
interpolates between no reweighing (0) and full independence (1) as ``w ** strength``.
``predict_proba`` is the learner's own, trained on the weighted rows; the group is not
used at predict time.

In a weighted fit the proportions are weighted (each row counts its ``sample_weight``)
and the learner is trained with the product of the two weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._base import EstimatorScoringModel, ScoringModel, TrainingMitigator
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task


def reweighing_weights(
    strata: np.ndarray, groups: np.ndarray, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Per-row ``P(g) P(s) / P(g, s)`` over the cells of group ``g`` and stratum ``s`` (the
    label, or an amount's bin); weighted, stratum and group are independent. With
    ``sample_weight`` the proportions are weighted ones."""
    strata, groups = np.asarray(strata), np.asarray(groups)
    weights = np.ones(len(strata), dtype=np.float64)
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        total = w.sum()
        for g in np.unique(groups):
            in_g = groups == g
            for s in np.unique(strata):
                cell = in_g & (strata == s)
                if w[cell].sum() > 0:
                    p_g, p_s = w[in_g].sum() / total, w[strata == s].sum() / total
                    weights[cell] = p_g * p_s / (w[cell].sum() / total)
        return weights
    for g in np.unique(groups):
        in_g = groups == g
        for s in np.unique(strata):
            cell = in_g & (strata == s)
            if cell.any():
                weights[cell] = in_g.mean() * np.mean(strata == s) / cell.mean()
    return weights


@register_mitigator
class Reweighing(TrainingMitigator):
    name = "reweighing"
    stage = "pre"
    tasks = frozenset({"binary", "multiclass", "regression"})
    supported_constraints = frozenset(
        {"demographic_parity_difference", "demographic_parity_ratio", "demographic_parity_ks"}
    )
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
        estimator = make_estimator()
        weights = reweighing_weights(task.strata(y), groups, sample_weight) ** float(
            params.get("strength", 1.0)
        )
        if sample_weight is not None:
            weights = weights * np.asarray(sample_weight, dtype=np.float64)
        estimator.fit(X, y, sample_weight=weights / weights.mean())
        return EstimatorScoringModel(estimator, task)
