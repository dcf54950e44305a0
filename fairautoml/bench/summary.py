"""A sweep's cells as a frame, and the mean of each method's runs per dataset x constraints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.bench.cells_file import NOT_APPLICABLE
from fairautoml.bench.plugins import METHODS
from fairautoml.bench.specs import ANCHORS
from fairautoml.bench.tables import fmt


def records_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(records))
    for col in (
        "test_score",
        "test_accuracy",
        "test_balanced_accuracy",
        "test_violation",
        "test_noise_floor",
        "hypervolume",
        "time_to_first_feasible",
        "wall_time",
        "peak_memory_mb",
        "trials",
    ):
        if col not in frame:
            frame[col] = np.nan
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    for col in ("satisfied", "status", "error", "test_values", "family", "metric", "task"):
        if col not in frame:
            frame[col] = None
    # cells recorded before the task's metric was: binary, scored by accuracy
    frame["test_score"] = frame["test_score"].fillna(frame["test_accuracy"])
    frame["metric"] = frame["metric"].fillna("accuracy")
    frame["task"] = frame["task"].fillna("binary")
    frame["test_values"] = frame["test_values"].map(lambda v: v if isinstance(v, dict) else {})
    if "peak_tree_memory_mb" in frame:  # with the method's worker processes, where measured
        tree = pd.to_numeric(frame["peak_tree_memory_mb"], errors="coerce")
        frame["peak_memory_mb"] = tree.fillna(frame["peak_memory_mb"])
    frame["rows"] = pd.to_numeric(frame.get("n_train"), errors="coerce") + pd.to_numeric(
        frame.get("n_val"), errors="coerce"
    )
    return _ordered(frame)


def is_blind(frame: pd.DataFrame, method: str) -> bool:
    """Whether ``method``'s runs were blind (``options: {blind: true}``)."""
    if "options" not in frame:
        return False
    options = frame.loc[frame["method"] == method, "options"]
    return any(isinstance(o, dict) and o.get("blind") is True for o in options)


def _mean_sd(values: pd.Series, digits: int = 3) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    if len(values) == 1:
        return fmt(float(values.iloc[0]), digits)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """fairautoml methods first, then the anchors in their documented order, then the
    plug-ins' methods in the order they were registered."""
    rank = {name: i + 1 for i, name in enumerate((*ANCHORS, *METHODS))}
    order = frame["family"].map(lambda f: rank.get(f, 0))
    return frame.assign(_order=order).sort_values(["_order", "method"], kind="stable")


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset x constraint set x method with the report's numbers."""
    rows = []
    keys = ["dataset", "constraint_label", "method"]
    for (dataset, label, method), g in frame.groupby(keys, sort=False):
        ok = g[g["status"] == "ok"]
        sat = ok[ok["satisfied"].astype(bool)]
        metrics = [m.split()[0] for m in g["constraints"].iloc[0]]
        n_counted = int((g["status"] != NOT_APPLICABLE).sum())
        row = {
            "dataset": dataset,
            "constraints": label,
            "method": method,
            "runs": f"{len(ok)}/{n_counted}" if n_counted else "n/a",
            "n_ok": len(ok),
            "metric": g["metric"].iloc[0],
            "task": g["task"].iloc[0],
            "test_score": ok["test_score"].mean(),
            "test_score_sd": _mean_sd(ok["test_score"]),
            "test_accuracy": ok["test_accuracy"].mean(),
            "test_balanced_accuracy": ok["test_balanced_accuracy"].mean(),
            "test_violation": ok["test_violation"].mean(),
            "satisfied_share": sat.shape[0] / len(ok) if len(ok) else math.nan,
            "score_satisfied": sat["test_score"].mean() if len(sat) else math.nan,
            "hypervolume": ok["hypervolume"].mean(),
            "trials": ok["trials"].mean(),
            "ttff": ok["time_to_first_feasible"].mean(),
            "ttff_runs": int(ok["time_to_first_feasible"].notna().sum()),
            "wall_time": ok["wall_time"].mean(),
            "peak_memory_mb": ok["peak_memory_mb"].max(),
        }
        for m in metrics:
            row[f"test {m}"] = ok["test_values"].map(lambda v, m=m: v.get(m, np.nan)).mean()
        rows.append(row)
    return pd.DataFrame(rows)
