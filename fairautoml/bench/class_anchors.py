"""Anchors that post-process FLAML's classifier (the shared holdout fit, ``flaml_fit.py``)
into class decisions: per-group offsets for several classes, and the oracles.

- ``class_offsets``: what a user writes by hand: each group's predicted class is the
  argmax of FLAML's class probabilities plus that group's class offsets, the offsets
  fitted on the validation rows by coordinate search over a grid (one group and class at
  a time, a few rounds), keeping the most accurate offsets that meet every constraint
  there, else the least violating. Decides with the group.
- ``multiclass_lp_oracle``: our multiclass LP
  (:func:`~fairautoml.mitigators._multiclass_lp_core.fit_multiclass_lp`) on FLAML's
  probabilities, fitted on the test rows themselves, its tolerance the one most accurate
  and within bound on them: the limit of post-processing FLAML's model, which no method
  that does not see the test rows reaches. An upper bound to compare with, not a method.
- ``thresholds_oracle``: the same for yes/no decisions: our randomized per-group
  thresholds (:func:`~fairautoml.mitigators.relaxed_thresholds.fit_relaxed_thresholds`,
  the LP the search's ``relaxed_thresholds`` fits) on FLAML's probability of the
  favourable label, fitted on the test rows, its tolerance chosen there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.bench.flaml_fit import SHARED_NOTE, flaml_scores, flaml_trials, holdout_flaml
from fairautoml.bench.methods import CellData, Fitted
from fairautoml.bench.transport_anchors import group_codes
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import row_keys
from fairautoml.mitigators.multiclass_lp import fit_multiclass_lp
from fairautoml.mitigators.relaxed_thresholds import fit_relaxed_thresholds

OFFSETS = np.round(np.arange(-0.5, 0.5001, 0.05), 2)  # the grid each class offset takes
OFFSET_ROUNDS = 3  # passes over every (group, class) offset
ORACLE_TOLERANCES = (1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5)  # the LP's share of each bound
ORACLE_NOTE = (
    "oracle: the rule fitted, and its tolerance chosen, on the test rows themselves (the "
    "limit of post-processing FLAML's model; no method sees those rows)"
)
MULTICLASS_SHARED_NOTE = (
    "FLAML multiclass model shared per split with class_offsets and multiclass_lp_oracle "
    "(fitted once; its fit seconds charged to each method's clock)"
)


def _judge(task: CellData, y: np.ndarray, s: np.ndarray) -> Callable[[np.ndarray], tuple]:
    """``pred -> key``: smaller is better (least violation first, then most accurate)."""

    def key(pred: np.ndarray) -> tuple[float, float]:
        return task.violation(y, pred, s), -float(np.mean(pred == y))

    return key


def fit_offsets(
    task: CellData, scores: np.ndarray, y: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per-group class offsets (groups x classes; class 0's stays 0) and the sorted group
    labels, by coordinate search on ``(scores, y, s)``; and whether they meet the
    constraints there."""
    labels = np.unique(s)
    codes = group_codes(s, labels)
    offsets = np.zeros((len(labels), scores.shape[1]))
    key = _judge(task, y, s)

    def pred_with(off: np.ndarray) -> np.ndarray:
        return np.argmax(scores + off[codes], axis=1)

    best = key(pred_with(offsets))
    for _ in range(OFFSET_ROUNDS):
        improved = False
        for g in range(len(labels)):
            for c in range(1, scores.shape[1]):
                for value in OFFSETS:
                    trial = offsets.copy()
                    trial[g, c] = value
                    k = key(pred_with(trial))
                    if k < best:
                        best, offsets, improved = k, trial, True
        if not improved:
            break
    return offsets, labels, best[0] <= 0


def fit_class_offsets(task: CellData) -> Fitted:
    task.needs_group("class_offsets")
    automl, shared = holdout_flaml(task)
    val_scores = flaml_scores(automl, task, task.X_val)
    offsets, labels, feasible = fit_offsets(task, val_scores, task.y_val, task.s_val)

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        scores = flaml_scores(automl, task, X_)
        return np.argmax(scores + offsets[group_codes(np.asarray(s_), labels)], axis=1)

    return Fitted(
        predict=predict,
        trials=flaml_trials(automl) + 1,
        selection_feasible=feasible,
        info={
            "model": f"{automl.best_estimator} + class offsets",
            "offsets": {
                str(g): [float(v) for v in row] for g, row in zip(labels, offsets, strict=True)
            },
            **shared,
        },
        notes=["offsets fitted and checked on the same validation rows", MULTICLASS_SHARED_NOTE],
    )


def _thresholds_decisions(
    task: CellData,
    scores: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    tolerance: float,
    keys: np.ndarray,
) -> np.ndarray:
    """Yes/no decisions: relaxed thresholds fitted on these rows at ``tolerance``."""
    metric = get_metric("accuracy")
    rule = fit_relaxed_thresholds(
        scores, y, codes, task.constraints, metric, tolerance, seed=task.seed
    )
    return task.kind.decide(rule.predict_proba(scores, codes, row_keys=keys))


def _class_lp_decisions(
    task: CellData,
    scores: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    tolerance: float,
    keys: np.ndarray,
) -> np.ndarray:
    """Several classes: the multiclass LP fitted on these rows at ``tolerance``."""
    rule = fit_multiclass_lp(
        scores, y, codes, task.constraints, tolerance=tolerance, seed=task.seed
    )
    return rule.predict(scores, codes, row_keys=keys)


# each classification task's LP, what the oracle is called, and the note it carries; the
# decisions drawn for each row by its key (:func:`~fairautoml.mitigators.row_keys`)
ORACLE_LPS = {
    "binary": (_thresholds_decisions, "relaxed thresholds", SHARED_NOTE),
    "multiclass": (_class_lp_decisions, "multiclass LP", MULTICLASS_SHARED_NOTE),
}


def fit_lp_oracle(task: CellData, name: str) -> Fitted:
    """FLAML's model post-processed by the task's LP fitted on the rows it predicts."""
    task.needs_group(name)
    automl, shared = holdout_flaml(task)
    oracle_decisions, what, note = ORACLE_LPS[task.kind.name]
    info: dict[str, Any] = {"model": f"{automl.best_estimator} + {what} (oracle)", **shared}

    def predict(X_: pd.DataFrame, s_: np.ndarray, y_: np.ndarray | None = None) -> np.ndarray:
        """The LP fitted on these very rows and targets (:attr:`Fitted.sees_test_targets`),
        its tolerance the most accurate within bound on them."""
        if y_ is None:
            raise ValueError("the oracle fits on the rows it predicts: pass their targets")
        scores, s_, y_ = flaml_scores(automl, task, X_), np.asarray(s_), np.asarray(y_)
        codes = group_codes(s_, np.unique(s_))
        keys = row_keys(task.features(X_))
        key = _judge(task, y_, s_)
        best: tuple[tuple, np.ndarray, float] | None = None
        for tolerance in ORACLE_TOLERANCES:
            pred = oracle_decisions(task, scores, y_, codes, tolerance, keys)
            k = key(pred)
            if best is None or k < best[0]:
                best = (k, pred, tolerance)
        assert best is not None
        info["tolerance"] = best[2]
        return best[1]

    return Fitted(
        predict=predict,
        trials=flaml_trials(automl) + 1,
        info=info,
        notes=[ORACLE_NOTE, note],
        sees_test_targets=True,
    )


def fit_multiclass_lp_oracle(task: CellData) -> Fitted:
    return fit_lp_oracle(task, "multiclass_lp_oracle")


def fit_thresholds_oracle(task: CellData) -> Fitted:
    return fit_lp_oracle(task, "thresholds_oracle")
