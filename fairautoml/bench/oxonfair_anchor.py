"""OxonFair as a bench anchor: its own fairness measures for each of our constraints, and,
without the group at predict time, the group OxonFair infers from the features (its
thresholds then per inferred group).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.bench.flaml_fit import (
    SHARED_NOTE,
    Prefit,
    flaml_trials,
    holdout_flaml,
)
from fairautoml.bench.methods import CellData, Fitted, Predict, spread
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.constraints import Constraint

# OxonFair's group metric for each constraint, by its name in ``oxonfair.utils.group_metrics``
# (a string, so that an OxonFair in another environment resolves the same rule:
# ``benchmarks/anchors/envs/run_anchor.py``)
OXONFAIR_METRICS = {
    "demographic_parity_difference": "pos_pred_rate.max_diff",
    "equalized_odds_difference": "equalized_odds_max",
    "equal_opportunity_difference": "true_pos_rate.max_diff",
    "true_positive_rate_difference": "true_pos_rate.max_diff",
    "false_positive_rate_difference": "false_pos_rate.max_diff",
    "false_negative_rate_difference": "false_neg_rate.max_diff",
    "demographic_parity_ratio": "pos_pred_rate.min_ratio",
}


def oxonfair_metric_name(c: Constraint) -> str:
    """The name in OxonFair's ``group_metrics`` of the metric that ``c`` bounds."""
    if c.metric not in OXONFAIR_METRICS:
        raise ConfigurationError(
            f"oxonfair: no OxonFair metric mapped for {c.metric}. "
            f"Supported: {', '.join(OXONFAIR_METRICS)}."
        )
    return OXONFAIR_METRICS[c.metric]


def oxonfair_direction(c: Constraint) -> str:
    """How OxonFair's ``additional_constraints`` reads ``c``: a ratio is a floor."""
    return ">" if c.is_ratio else "<"


def _oxonfair_metric(c: Constraint) -> Any:
    from oxonfair.utils import group_metrics as gm

    metric: Any = gm
    for part in oxonfair_metric_name(c).split("."):
        metric = getattr(metric, part)
    return metric


def fit_oxonfair(task: CellData) -> Fitted:
    try:
        from oxonfair import DataDict, FairPredictor
        from oxonfair.utils import group_metrics as gm
    except ImportError as exc:
        raise ImportError(
            f"oxonfair is not installed ({exc}); pip install 'fairautoml[bench]'"
        ) from None
    metrics = [(_oxonfair_metric(c), c) for c in task.constraints]
    automl, shared = holdout_flaml(task)
    X_val = task.features(task.X_val)
    scorer = Prefit(automl)
    inferred: Any = False
    if task.blind:  # OxonFair's inferred groups: thresholds on a group classifier's output
        inferred = _InferredGroups(task)
    fair = FairPredictor(
        scorer,
        DataDict(task.y_val, X_val, np.asarray(task.s_val)),
        inferred_groups=inferred,
        threshold=INFERRED_THRESHOLD,
    )
    (first, c0), rest = metrics[0], metrics[1:]
    extra = tuple((m, c.bound, oxonfair_direction(c)) for m, c in rest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fair.fit(gm.accuracy, first, c0.bound, additional_constraints=extra)

    def with_offset(offset: np.ndarray) -> Predict:
        def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
            saved, fair.offset = fair.offset, offset
            try:
                # OxonFair checks for a target even when predicting; it is not used
                data = {"data": task.features(X_), "target": np.zeros(len(X_))}
                if not task.blind:
                    data["groups"] = np.asarray(s_)
                return np.asarray(fair.predict(data)).astype(int)
            finally:
                fair.offset = saved

        return predict

    chosen = np.array(fair.offset, copy=True)
    val_pred = with_offset(chosen)(task.X_val, task.s_val)
    weights = fair.frontier_thresholds()
    offsets = [np.array(weights.T[i].T, copy=True) for i in range(weights.shape[-1])]
    front: list[Callable[[], Predict]] = [lambda o=o: with_offset(o) for o in spread(offsets)]
    return Fitted(
        predict=with_offset(chosen),
        trials=flaml_trials(automl) + 1,
        front=front,
        selection_feasible=task.violation(task.y_val, val_pred, task.s_val) <= 0,
        info={
            "model": f"{automl.best_estimator} + OxonFair"
            + (" (inferred groups)" if task.blind else ""),
            **shared,
        },
        notes=[
            "thresholds fitted and checked on the same validation rows",
            SHARED_NOTE,
            *([INFERRED_NOTE] if task.blind else []),
        ],
    )


INFERRED_NOTE = (
    "blind: OxonFair's inferred_groups, per-group thresholds on the output of a LightGBM "
    "group classifier (default settings) trained on the train rows, charged to its clock"
)


INFERRED_THRESHOLD = 2 / 3  # OxonFair's default: below it a row's group is "uncertain"


class _InferredGroups:
    """P(group | x) from a LightGBM classifier fitted on the train rows, restricted to the
    groups it assigns with confidence to some validation row: OxonFair sizes its thresholds
    by the groups assigned on validation and fails on a new row assigned to another."""

    def __init__(self, task: CellData) -> None:
        from lightgbm import LGBMClassifier

        self.model = LGBMClassifier(n_jobs=task.threads, random_state=task.seed, verbose=-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.fit(task.features(task.X_train), np.asarray(task.s_train))
        self.kept = slice(None)
        proba = self.predict_proba(task.features(task.X_val))
        sure = proba.max(axis=1) >= INFERRED_THRESHOLD
        if sure.any():
            self.kept = np.unique(proba[sure].argmax(axis=1))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = np.asarray(self.model.predict_proba(features), dtype=float)[:, self.kept]
        return proba / np.maximum(proba.sum(axis=1, keepdims=True), 1e-12)
