"""Per-group report of a fitted model, computed by fairlearn's ``MetricFrame``; the rates
with their intervals for the report page."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from scipy.stats import norm
from sklearn.metrics import accuracy_score

from fairautoml.data import as_frame, sensitive_frame

REPORT_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "accuracy": accuracy_score,
}


def fairness_report(
    predict: Any, classes: np.ndarray, X: Any, y: Any, sensitive_features: Any
) -> MetricFrame:
    """Selection rate, TPR, FPR, accuracy and count per group of ``predict(X, s)``.

    ``sensitive_features`` is what ``predict`` accepts: values per row or column
    name(s) of X; several attributes give one row per intersection. Rates count
    ``classes[1]`` as the positive class.
    """
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
    y_arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y).ravel()
    y_true = (y_arr == classes[1]).astype(int)
    y_pred = (np.asarray(predict(X, sensitive_features)) == classes[1]).astype(int)
    return MetricFrame(
        metrics=REPORT_METRICS,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sens if sens.shape[1] > 1 else sens.iloc[:, 0],
    )


RATE_DENOMINATORS = {  # each rate and the rows it is a share of
    "selection_rate": "rows",
    "true_positive_rate": "positives",
    "false_positive_rate": "negatives",
}


def _positives(y_true: np.ndarray, y_pred: np.ndarray) -> int:
    return int(np.sum(y_true))


def _negatives(y_true: np.ndarray, y_pred: np.ndarray) -> int:
    return int(np.size(y_true) - np.sum(y_true))


def wilson_interval(k: Any, n: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``k`` successes in ``n`` trials at ``level`` (NaN when
    ``n`` is 0): it stays inside [0, 1] and is sound for small groups and rates near 0 or
    1, where the normal approximation is not."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    return centre - half, centre + half


def group_rates(y_true: Any, y_pred: Any, groups: Any, *, level: float = 0.8) -> pd.DataFrame:
    """Selection rate, TPR and FPR per group with Wilson intervals at ``level``.

    ``y_true`` and ``y_pred`` are 0/1 (1 the positive class), ``groups`` a label per row.
    One row per group, then ``largest gap`` (``MetricFrame.difference()``: the largest
    between-group difference of each rate, with no interval); columns ``rows``,
    ``positives``, ``negatives`` and each rate with ``<rate>_low`` and ``<rate>_high``.
    """
    frame = MetricFrame(
        metrics={"rows": count, "positives": _positives, "negatives": _negatives}
        | {rate: REPORT_METRICS[rate] for rate in RATE_DENOMINATORS},
        y_true=np.asarray(y_true).astype(int),
        y_pred=np.asarray(y_pred).astype(int),
        sensitive_features=pd.Series(np.asarray(groups), name="group"),
    )
    table = frame.by_group.copy()
    for rate, rows in RATE_DENOMINATORS.items():
        n = table[rows].to_numpy(float)
        low, high = wilson_interval(np.round(table[rate].to_numpy(float) * n), n, level)
        table[f"{rate}_low"], table[f"{rate}_high"] = low, high
    gap = frame.difference()[list(RATE_DENOMINATORS)]
    table.loc["largest gap", list(RATE_DENOMINATORS)] = gap.to_numpy(float)
    return table
