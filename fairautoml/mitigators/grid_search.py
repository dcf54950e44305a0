"""``grid_search``: fairlearn's GridSearch around any learner (Agarwal et al., 2018; with
bounded group loss for regression); the moment comes from :mod:`._reductions`. The score
is the selected grid model's own (deterministic, as in fairlearn): its P(y=1), or its
predicted amount.

Not for weighted fits: fairlearn's reductions measure the constraint's moments without row
weights, so a search with ``sample_weight`` leaves it out (naming it in ``mitigators`` is an
error) rather than run it unweighted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.reductions import GridSearch

from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._base import EstimatorScoringModel, ScoringModel
from fairautoml.mitigators._reductions import Reduction, fitted_learner
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task


@register_mitigator
class GridSearchMitigator(Reduction):
    name = "grid_search"

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
        # GridSearch trains one model per Lagrange multiplier on a fixed grid and keeps the
        # one minimising (1 - w) * error + w * disparity (for a group loss: the worst group's
        # loss): the moment's bound does not change either step, so the searched knob is the
        # trade-off weight w.
        weight = float(params.get("constraint_weight", 0.5))
        grid_size = int(params.get("grid_size", 10))
        limit = float(params.get("grid_limit", 2.0))
        return self.run(
            lambda est, moment: GridSearch(
                est, moment, constraint_weight=weight, grid_size=grid_size, grid_limit=limit
            ),
            lambda gs: EstimatorScoringModel(fitted_learner(gs.predictors_[gs.best_idx_]), task),
            make_estimator(),
            X,
            y,
            groups,
            constraints,
            1.0,
            n_fits=grid_size,
            task=task,
        )
