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

from fairautoml import exceptions as E
from fairautoml.data.features import as_frame, check_aligned
from fairautoml.data.groups import GROUP_SEPARATOR, GroupEncoder, sensitive_frame
from fairautoml.data.weights import check_sample_weight
from fairautoml.exceptions import InputError
from fairautoml.values import plain

FOUR_FIFTHS = 0.8  # the impact ratio below which a group fails the four-fifths rule
REPORT_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "accuracy": accuracy_score,
}


def fairness_report(
    predict: Any,
    classes: np.ndarray,
    X: Any,
    y: Any,
    sensitive_features: Any,
    encoder: GroupEncoder | None = None,
    sample_weight: Any = None,
) -> MetricFrame:
    """Selection rate, TPR, FPR, accuracy and count per group of ``predict(X, s)``.

    ``sensitive_features`` is what ``predict`` accepts: values per row or column
    name(s) of X; several attributes give one row per intersection. Rates count
    ``classes[1]`` as the positive class. ``encoder`` (the model's) cuts binned
    attributes into the fit's bins. With ``sample_weight`` every rate is weighted and
    ``count`` is each group's total weight.
    """
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
    if encoder is not None:
        sens = encoder.binned(sens)
    y_arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y).ravel()
    y_true = (y_arr == classes[1]).astype(int)
    y_pred = (np.asarray(predict(X, sensitive_features)) == classes[1]).astype(int)
    check_aligned(X, "sample_weight", sample_weight)
    weight = check_sample_weight(sample_weight, len(frame))
    metrics, params = dict(REPORT_METRICS), None
    if weight is not None:
        metrics["count"] = _total_weight
        params = {name: {"sample_weight": weight} for name in metrics}
    return MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sens if sens.shape[1] > 1 else sens.iloc[:, 0],
        sample_params=params,
    )


def _total_weight(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    """The rows' total ``sample_weight`` (a weighted report's ``count``)."""
    return float(np.sum(sample_weight))


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


def decision_table(
    y_true: np.ndarray | None, y_pred: np.ndarray, names: np.ndarray, level: float
) -> pd.DataFrame:
    """The audit's table of 0/1 decisions: per group, rows, selection rate, and with labels
    (``y_true`` not None) TPR, FPR and accuracy, each with its Wilson interval; the impact
    ratio against the most-selected group, and whether it fails the four-fifths rule."""
    rows = []
    for group in sorted(set(names)):
        mask = names == group
        counts = {"selection_rate": (int(y_pred[mask].sum()), int(mask.sum()))}
        if y_true is not None:
            t, p = y_true[mask], y_pred[mask]
            counts |= {
                "true_positive_rate": (int((t & p).sum()), int(t.sum())),
                "false_positive_rate": (int(((t == 0) & (p == 1)).sum()), int((t == 0).sum())),
                "accuracy": (int((t == p).sum()), int(mask.sum())),
            }  # fmt: skip
        row: dict[str, Any] = {"group": group, "count": int(mask.sum())}
        for rate, (k, n) in counts.items():
            low, high = wilson_interval(k, n, level)
            row |= {rate: k / n if n else np.nan, f"{rate}_low": float(low),
                    f"{rate}_high": float(high)}  # fmt: skip
        rows.append(row)
    table = pd.DataFrame(rows).set_index("group")
    top = table["selection_rate"].max()
    compared = top > 0 and len(table) > 1  # one group has no ratio to another
    table["impact_ratio"] = table["selection_rate"] / top if compared else np.nan
    table["below_four_fifths"] = table["impact_ratio"] < FOUR_FIFTHS
    return table


def regression_groups(y_true: Any, y_pred: Any, groups: Any, *, level: float = 0.8) -> pd.DataFrame:
    """Per group: count, mean prediction, mean target, MAE and RMSE, each mean with a
    normal-approximation interval at ``level`` (RMSE's is the square root of the MSE's).
    Without the targets (``y_true`` None): count and mean prediction.

    Groups are any labels, one per row; the rows come out in sorted group order.
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = None if y_true is None else np.asarray(y_true, dtype=np.float64)
    z = float(norm.ppf(0.5 + level / 2))
    labels = pd.Series(np.asarray(groups)).astype(str).to_numpy()
    rows = []

    def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
        mean = float(values.mean())
        half = z * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        return mean, mean - half, mean + half

    for group in sorted(set(labels)):
        member = labels == group
        p = y_pred[member]
        row: dict[str, Any] = {"group": group, "count": int(member.sum())}
        row["mean_prediction"], row["mean_prediction_low"], row["mean_prediction_high"] = (
            mean_interval(p)
        )
        if y_true is None:
            rows.append(row)
            continue
        t = y_true[member]
        errors = {"mean_target": t, "mae": np.abs(t - p), "mse": (t - p) ** 2}
        for name, values in errors.items():
            row[name], row[f"{name}_low"], row[f"{name}_high"] = mean_interval(values)
        row["rmse"] = float(np.sqrt(row.pop("mse")))
        row["rmse_low"] = float(np.sqrt(max(row.pop("mse_low"), 0.0)))
        row["rmse_high"] = float(np.sqrt(row.pop("mse_high")))
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")


def _report_rows(
    X: Any, y: Any, sensitive_features: Any, encoder: GroupEncoder | None
) -> tuple[pd.Series, np.ndarray]:
    """Each row's group label (several attributes joined; binned ones cut at the fit's
    bins by ``encoder``) and the target as a flat array."""
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
    if encoder is not None:
        sens = encoder.binned(sens)
    keys = sens.astype(str).agg(GROUP_SEPARATOR.join, axis=1)
    y_arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y).ravel()
    return keys, y_arr


def regression_report(
    predict: Any, X: Any, y: Any, sensitive_features: Any, encoder: GroupEncoder | None = None
) -> pd.DataFrame:
    """:func:`regression_groups` of ``predict(X, s)`` against the amounts ``y``.

    ``sensitive_features`` is what ``predict`` accepts: values per row or column name(s)
    of X; several attributes give one row per intersection. ``encoder`` (the model's)
    cuts binned attributes into the fit's bins.
    """
    keys, y_arr = _report_rows(X, y, sensitive_features, encoder)
    return regression_groups(y_arr, predict(X, sensitive_features), keys.to_numpy())


def class_report(
    predict: Any,
    classes: np.ndarray,
    table: Any,
    X: Any,
    y: Any,
    sensitive_features: Any,
    encoder: GroupEncoder | None = None,
) -> pd.DataFrame:
    """``table(y, pred, groups)`` (a task's per (group, class) table, e.g.
    :meth:`~fairautoml.tasks.multiclass.MulticlassTask.group_table`) of ``predict(X, s)``
    against the labels ``y``, both coded by their position in ``classes``; its ``class``
    index level then names the classes. ``sensitive_features`` and ``encoder`` as for
    :func:`regression_report`."""
    keys, y_arr = _report_rows(X, y, sensitive_features, encoder)
    index = {plain(c): i for i, c in enumerate(classes)}
    unknown = sorted({plain(v) for v in y_arr} - set(index), key=str)
    if unknown:
        raise InputError(
            E.UNKNOWN_LABELS.format(labels=unknown, classes=[plain(c) for c in classes])
        )
    codes = np.array([index[plain(v)] for v in y_arr], dtype=np.int64)
    pred = np.array([index[plain(v)] for v in predict(X, sensitive_features)], dtype=np.int64)
    out = table(codes, pred, keys.to_numpy())
    labels = [plain(classes[int(c)]) for c in out.index.get_level_values("class")]
    out.index = pd.MultiIndex.from_arrays(
        [out.index.get_level_values("group"), labels], names=["group", "class"]
    )
    return out
