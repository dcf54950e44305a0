"""Regression anchors that post-process FLAML's regressor with the barycenter transport.

- ``barycenter``: FLAML's regressor (the shared holdout fit, ``flaml_fit.py``), each
  group's predictions moved a fraction of the way to the groups' Wasserstein barycenter
  (:class:`~fairautoml.mitigators._transport_core.BarycenterTransport`, Chzhen et al. 2020;
  what EquiPy's ``FairWasserstein`` computes), the map fitted on the validation rows. The
  fraction is the one on a grid from 0 to 1 with the best metric (R²) among those meeting
  every constraint on validation (the partial transport trades the least accuracy for
  the fairness asked); 1 when none does.
- ``barycenter_oracle``: the same model and map, fitted on the test rows themselves and
  its fraction chosen on them: the limit of post-processing FLAML's model, which no method
  that does not see the test rows can reach. An upper bound to compare with, not a method.

Both decide with the group (not applicable when blind) and handle amounts only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.bench.flaml_fit import (
    REGRESSION_SHARED_NOTE,
    flaml_scores,
    flaml_trials,
    holdout_flaml,
)
from fairautoml.bench.methods import CellData, Fitted
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators.barycenter_transport import BarycenterTransport

FRACTIONS = np.linspace(0.0, 1.0, 21)  # transport fractions tried, smallest first
ORACLE_NOTE = (
    "oracle: the transport fitted, and its fraction chosen, on the test rows themselves "
    "(the limit of post-processing FLAML's model; no method sees those rows)"
)


def group_codes(s: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Group codes into ``labels`` (sorted); a group unseen when fitting is an error."""
    codes = np.searchsorted(labels, s)
    codes = np.clip(codes, 0, len(labels) - 1)
    if not np.all(labels[codes] == s):
        raise ValueError(f"groups {sorted(set(s) - set(labels))} were not in the fitting rows")
    return codes


def fit_transport(
    scores: np.ndarray, groups: np.ndarray, seed: int
) -> tuple[BarycenterTransport, np.ndarray]:
    """The transport of ``scores`` fitted per group, and the sorted group labels."""
    labels = np.unique(groups)
    transport = BarycenterTransport.fit(
        scores, group_codes(groups, labels), len(labels), random_state=seed
    )
    return transport, labels


def best_fair_fraction(
    task: CellData, move: Callable[[float], np.ndarray], y: np.ndarray, s: np.ndarray
) -> tuple[float, bool]:
    """The grid fraction whose moved scores (``move(fraction)``: the scores of ``(y, s)``'s
    rows transported that far) meet the task's constraints on ``(y, s)`` with the best
    metric there, and whether one did (else 1.0: the full transport, the fairest the map
    offers)."""
    metric = get_metric(task.kind.default_metric)
    best, best_score = 1.0, -np.inf
    for fraction in FRACTIONS:
        moved = move(float(fraction))
        if task.violation(y, moved, s) <= 0:
            score = metric.score(y, moved, moved)
            if score > best_score:
                best, best_score = float(fraction), score
    return best, bool(np.isfinite(best_score))


def mover(
    transport: BarycenterTransport, labels: np.ndarray, scores: np.ndarray, s: np.ndarray
) -> Callable[[float], np.ndarray]:
    """``fraction -> scores`` transported that far by ``transport`` (groups ``s``)."""
    codes = group_codes(s, labels)
    return lambda fraction: transport.transport(scores, codes, fraction)


def fit_barycenter(task: CellData) -> Fitted:
    task.needs_group("barycenter")
    automl, shared = holdout_flaml(task)
    val_scores = flaml_scores(automl, task, task.X_val)
    transport, labels = fit_transport(val_scores, task.s_val, task.seed)
    move = mover(transport, labels, val_scores, task.s_val)
    fraction, feasible = best_fair_fraction(task, move, task.y_val, task.s_val)

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        scores = flaml_scores(automl, task, X_)
        return transport.transport(scores, group_codes(np.asarray(s_), labels), fraction)

    return Fitted(
        predict=predict,
        trials=flaml_trials(automl) + 1,
        selection_feasible=feasible,
        info={"model": f"{automl.best_estimator} + barycenter", "fraction": fraction, **shared},
        notes=["transport fitted and its fraction checked on the same validation rows",
               REGRESSION_SHARED_NOTE],
    )  # fmt: skip


def fit_barycenter_oracle(task: CellData) -> Fitted:
    task.needs_group("barycenter_oracle")
    automl, shared = holdout_flaml(task)
    info: dict[str, Any] = {"model": f"{automl.best_estimator} + barycenter (oracle)", **shared}

    def predict(X_: pd.DataFrame, s_: np.ndarray, y_: np.ndarray | None = None) -> np.ndarray:
        """The transport fitted on these very rows; with ``y_`` (the runner's test
        targets, :attr:`Fitted.sees_test_targets`), the best fraction fair on them."""
        scores, s_ = flaml_scores(automl, task, X_), np.asarray(s_)
        transport, labels = fit_transport(scores, s_, task.seed)
        fraction = 1.0
        if y_ is not None:
            fraction, _ = best_fair_fraction(task, mover(transport, labels, scores, s_), y_, s_)
        info["fraction"] = fraction
        return transport.transport(scores, group_codes(s_, labels), fraction)

    return Fitted(
        predict=predict,
        trials=flaml_trials(automl) + 1,
        info=info,
        notes=[ORACLE_NOTE, REGRESSION_SHARED_NOTE],
        sees_test_targets=True,
    )  # fmt: skip
