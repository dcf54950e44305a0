"""Performance metrics ("what accurate means"), all as higher-is-better scores.

Each metric scores decisions and/or scores with scikit-learn: for classification the
hard predictions and the positive-class probabilities, for regression the predicted
amounts (twice). Losses (``log_loss``, ``rmse``, ``mae``) are negated so every metric is
maximised. Each metric names the tasks it measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from fairautoml.registry import Registry


@dataclass(frozen=True)
class Metric:
    name: str
    score: Callable[[np.ndarray, np.ndarray, np.ndarray], float]  # (y, pred, proba) -> score
    uses_proba: bool
    # decomposable over rows with class weights: the per-group threshold fit can use it exactly
    class_weighted: bool
    worst: float = 0.0  # lowest possible score; infeasible trials rank below it
    tasks: frozenset[str] = frozenset({"binary"})


def _accuracy(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> float:
    return float(skm.accuracy_score(y, pred))


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean of the true positive and true negative rates (0.5: a constant rule)."""
    y, pred = np.asarray(y), np.asarray(pred)
    rates = [np.mean(pred[y == c] == c) for c in (0, 1) if np.any(y == c)]
    return float(np.mean(rates)) if rates else float("nan")


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> float:
    return float(skm.balanced_accuracy_score(y, pred))


def _f1(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> float:
    return float(skm.f1_score(y, pred, zero_division=0.0))


def _roc_auc(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> float:
    return float(skm.roc_auc_score(y, proba))


def _neg_log_loss(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> float:
    return -float(skm.log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15), labels=[0, 1]))


def _r2(y: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> float:
    return float(skm.r2_score(y, pred))


def _neg_rmse(y: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> float:
    return -float(skm.root_mean_squared_error(y, pred))


def _neg_mae(y: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> float:
    return -float(skm.mean_absolute_error(y, pred))


_REGRESSION = frozenset({"regression"})
METRICS: Registry[Metric] = Registry("metric")
for _m in (
    Metric("accuracy", _accuracy, uses_proba=False, class_weighted=True),
    Metric("balanced_accuracy", _balanced_accuracy, uses_proba=False, class_weighted=True),
    Metric("f1", _f1, uses_proba=False, class_weighted=False),
    Metric("roc_auc", _roc_auc, uses_proba=True, class_weighted=False),
    Metric("log_loss", _neg_log_loss, uses_proba=True, class_weighted=False, worst=-35.0),
    # R^2 below -1 is worse than predicting a constant twice over: the floor of the ranking
    Metric("r2", _r2, uses_proba=False, class_weighted=False, worst=-1.0, tasks=_REGRESSION),
    Metric("rmse", _neg_rmse, False, False, worst=-1e12, tasks=_REGRESSION),
    Metric("mae", _neg_mae, False, False, worst=-1e12, tasks=_REGRESSION),
):
    METRICS.add(_m.name, _m)


def get_metric(name: str) -> Metric:
    return METRICS.get(name)


def metrics_for(task: str) -> list[str]:
    """The metric names that measure ``task``."""
    return [name for name in METRICS.names() if task in METRICS.get(name).tasks]


def class_weights(metric: Metric, y: np.ndarray) -> tuple[float, float]:
    """Per-row weight of a correct negative and a correct positive under ``metric``.

    Accuracy counts every row alike; balanced accuracy weighs each class by 1/(2 n_class).
    Other metrics fall back to accuracy's weights as a proxy when fitting thresholds.
    """
    if metric.name == "balanced_accuracy":
        n_pos = max(int(np.sum(y == 1)), 1)
        n_neg = max(int(np.sum(y == 0)), 1)
        return 1.0 / (2 * n_neg), 1.0 / (2 * n_pos)
    return 1.0 / len(y), 1.0 / len(y)
