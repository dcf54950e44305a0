"""Performance metrics ("what accurate means"), all as higher-is-better scores.

Each metric scores decisions and/or scores with scikit-learn: for classification the
hard predictions and the positive-class probabilities (for several classes: every
class's probabilities, shape (n, k)), for regression the predicted
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

    def measure(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        proba: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """``score``, with the rows weighted by ``sample_weight`` when given (the score
        function then takes it as a keyword, as scikit-learn's metrics do)."""
        if sample_weight is None:
            return self.score(y, pred, proba)
        return self.score(y, pred, proba, sample_weight=sample_weight)  # type: ignore[call-arg]


def _accuracy(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return float(skm.accuracy_score(y, pred, sample_weight=sample_weight))


def balanced_accuracy(
    y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    """Mean of the true positive and true negative rates (0.5: a constant rule); rows
    weighted by ``sample_weight`` when given."""
    y, pred = np.asarray(y), np.asarray(pred)
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        rates = [
            np.sum(w[y == c] * (pred[y == c] == c)) / np.sum(w[y == c])
            for c in (0, 1)
            if np.sum(w[y == c]) > 0
        ]
        return float(np.mean(rates)) if rates else float("nan")
    rates = [np.mean(pred[y == c] == c) for c in (0, 1) if np.any(y == c)]
    return float(np.mean(rates)) if rates else float("nan")


def _balanced_accuracy(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return float(skm.balanced_accuracy_score(y, pred, sample_weight=sample_weight))


def _f1(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return float(skm.f1_score(y, pred, zero_division=0.0, sample_weight=sample_weight))


def _roc_auc(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return float(skm.roc_auc_score(y, proba, sample_weight=sample_weight))


def _f1_macro(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    labels = np.arange(np.shape(proba)[1]) if np.ndim(proba) == 2 else None
    return float(
        skm.f1_score(
            y, pred, average="macro", labels=labels, zero_division=0.0, sample_weight=sample_weight
        )
    )


def _neg_log_loss(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    """Negated log loss of P(y=1) (shape (n,)) or of class probabilities (shape (n, k))."""
    if np.ndim(proba) == 2:
        p = np.clip(np.asarray(proba, dtype=np.float64), 1e-15, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        labels = np.arange(p.shape[1])
        return -float(skm.log_loss(y, p, labels=labels, sample_weight=sample_weight))
    clipped = np.clip(proba, 1e-15, 1 - 1e-15)
    return -float(skm.log_loss(y, clipped, labels=[0, 1], sample_weight=sample_weight))


def _r2(
    y: np.ndarray, pred: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return float(skm.r2_score(y, pred, sample_weight=sample_weight))


def _neg_rmse(
    y: np.ndarray, pred: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return -float(skm.root_mean_squared_error(y, pred, sample_weight=sample_weight))


def _neg_mae(
    y: np.ndarray, pred: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return -float(skm.mean_absolute_error(y, pred, sample_weight=sample_weight))


_REGRESSION = frozenset({"regression"})
_CLASSES = frozenset({"binary", "multiclass"})  # yes/no decisions and several classes
_MULTICLASS = frozenset({"multiclass"})
METRICS: Registry[Metric] = Registry("metric")
for _m in (
    Metric("accuracy", _accuracy, uses_proba=False, class_weighted=True, tasks=_CLASSES),
    Metric("balanced_accuracy", _balanced_accuracy, False, class_weighted=True, tasks=_CLASSES),
    Metric("f1", _f1, uses_proba=False, class_weighted=False),
    Metric("f1_macro", _f1_macro, uses_proba=False, class_weighted=False, tasks=_MULTICLASS),
    Metric("roc_auc", _roc_auc, uses_proba=True, class_weighted=False),
    Metric("log_loss", _neg_log_loss, True, class_weighted=False, worst=-35.0, tasks=_CLASSES),
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


def class_weights(
    metric: Metric, y: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[float, float]:
    """Per-row weight of a correct negative and a correct positive under ``metric`` (per
    unit of ``sample_weight`` when given).

    Accuracy counts every row alike; balanced accuracy weighs each class by 1/(2 n_class).
    Other metrics fall back to accuracy's weights as a proxy when fitting thresholds.
    """
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        if metric.name == "balanced_accuracy":
            w_pos, w_neg = float(np.sum(w[y == 1])), float(np.sum(w[y == 0]))
            return 1.0 / (2 * (w_neg if w_neg > 0 else 1.0)), 1.0 / (
                2 * (w_pos if w_pos > 0 else 1.0)
            )
        total = float(np.sum(w)) or 1.0
        return 1.0 / total, 1.0 / total
    if metric.name == "balanced_accuracy":
        n_pos = max(int(np.sum(y == 1)), 1)
        n_neg = max(int(np.sum(y == 0)), 1)
        return 1.0 / (2 * n_neg), 1.0 / (2 * n_pos)
    return 1.0 / len(y), 1.0 / len(y)
