"""Yes/no decisions: a target of two classes, one of them favourable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data import check_groups
from fairautoml.group_report import group_rates
from fairautoml.labels import encode_target
from fairautoml.metrics import balanced_accuracy
from fairautoml.tasks._base import Task


class BinaryTask(Task):
    """Scores are P(y = favourable); a row is predicted favourable at 0.5 or above."""

    name = "binary"
    estimator_kind = "classifier"
    default_metric = "accuracy"
    default_constraint = "demographic_parity_difference <= 0.05"
    usefulness = "balanced_accuracy"
    chance = 0.5
    min_usefulness = 0.55
    spread = "selection_rate"
    constant_at = (0.0, 1.0)
    strata_names = ("negative", "positive")
    report_columns = {  # noqa: RUF012 (class data, never mutated)
        "selection_rate": "selection rate",
        "true_positive_rate": "true positive rate",
        "false_positive_rate": "false positive rate",
    }
    side_effects = (
        "demographic_parity_difference <= 0.1",
        "equalized_odds_difference <= 0.1",
        "equal_opportunity_difference <= 0.1",
    )
    target_summary = "base rate (share of the positive label)"

    def prepare_target(
        self, y: object, n_rows: int, pos_label: object = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return encode_target(y, n_rows, pos_label)

    def check_groups(
        self, groups: np.ndarray, y: np.ndarray, labels: Sequence[str], min_size: int
    ) -> None:
        check_groups(groups, y, labels, min_size)

    def strata(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.int64)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return (np.asarray(scores) >= 0.5).astype(np.int64)

    def diagnostics(
        self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> dict[str, float]:
        return {
            "selection_rate": float(np.average(pred, weights=sample_weight)),
            "balanced_accuracy": balanced_accuracy(y, pred, sample_weight),
        }

    def group_table(
        self, y: np.ndarray, pred: np.ndarray, groups: np.ndarray, level: float
    ) -> pd.DataFrame:
        return group_rates(y, pred, groups, level=level)

    def diagnostics_line(self, cfg: dict[str, Any]) -> str:
        positive = cfg.get("positive_label")
        share = "" if positive is None else f"; the share predicted {positive!r}, the favourable"
        return (
            f"balanced accuracy {cfg['balanced_accuracy']:.3f}, selection rate "
            f"{cfg['selection_rate']:.3f} (validation{share + ' outcome' if share else ''})"
        )
