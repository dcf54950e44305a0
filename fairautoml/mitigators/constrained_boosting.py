"""``constrained_boosting`` (in): FairGBM-style proxy-Lagrangian gradient boosting.

The cheap in-processing option: one LightGBM training run whose objective carries the
constraint (see :mod:`._constrained_boosting_core`), costing little more than plain
LightGBM, where exponentiated gradient refits the learner many times (the benchmarks page
of the docs has the measured ratios).
It is LightGBM's own training loop, so it works with the ``lightgbm`` learner (taking
its hyperparameters) and fails fast, as a recorded failed trial, with any other.
``predict_proba`` is the booster's own sigmoid output (a real, rankable probability);
the group is not needed at predict time. Ratio constraints and mixed notions (DP with
EO) are not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier

from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._base import ScoringModel, TrainingMitigator
from fairautoml.mitigators._constrained_boosting_core import (
    ConstrainedBoostingResult,
    fit_constrained_booster,
    predict_proba_positive,
)
from fairautoml.mitigators._targets import OneDifference, difference_target
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task

# LGBMClassifier parameter -> lightgbm.train parameter
_TRAIN_PARAMS = {
    "num_leaves": "num_leaves",
    "learning_rate": "learning_rate",
    "min_child_samples": "min_child_samples",
    "subsample": "bagging_fraction",
    "subsample_freq": "bagging_freq",
    "colsample_bytree": "feature_fraction",
    "reg_lambda": "lambda_l2",
    "reg_alpha": "lambda_l1",
    "max_depth": "max_depth",
}


class BoosterModel(ScoringModel):
    def __init__(self, result: ConstrainedBoostingResult) -> None:
        self.result = result

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return predict_proba_positive(self.result, X)


def _lightgbm_params(estimator: Any) -> tuple[dict[str, Any], int, int]:
    """lightgbm.train parameters, rounds and threads of the learner's LGBMClassifier."""
    if not isinstance(estimator, LGBMClassifier):
        raise ValueError(
            "constrained_boosting trains LightGBM with a constrained objective: use it with "
            f"the lightgbm learner (got {type(estimator).__name__})."
        )
    given = estimator.get_params()
    params = {lgb: given[sk] for sk, lgb in _TRAIN_PARAMS.items() if given.get(sk) is not None}
    threads = int(given.get("n_jobs") or 1)
    params.update(verbosity=-1, num_threads=threads)
    return params, int(given.get("n_estimators") or 100), threads


@register_mitigator
class ConstrainedBoosting(OneDifference, TrainingMitigator):
    name = "constrained_boosting"
    stage = "in"
    learners = frozenset({"lightgbm"})
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
        target = difference_target(constraints, self.name)
        lgb_params, rounds, _ = _lightgbm_params(make_estimator())
        result = fit_constrained_booster(
            X,
            y,
            groups,
            constraint=target.notion,
            bound=target.bound * float(params.get("bound_scale", 1.0)),
            params=lgb_params,
            num_boost_round=rounds,
            dual_lr=float(params.get("dual_lr", 1.0)),
            dual_every=int(params.get("dual_every", 5)),
            random_state=random_state,
            sample_weight=sample_weight,
        )
        return BoosterModel(result)
