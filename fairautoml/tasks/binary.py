"""Yes/no decisions: a target of two classes, one of them favourable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fairautoml.data import check_groups
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

    def diagnostics(self, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
        return {
            "selection_rate": float(np.mean(pred)),
            "balanced_accuracy": balanced_accuracy(y, pred),
        }
