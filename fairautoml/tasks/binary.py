"""Yes/no decisions: a target of two classes, one of them favourable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.groups import check_groups
from fairautoml.data.labels import binary_outcomes, encode_target
from fairautoml.measures.drift import decision_trials, validation_counts
from fairautoml.measures.group_tables import decision_table, group_rates
from fairautoml.measures.metrics import balanced_accuracy
from fairautoml.tasks._base import Task

AUDIT_NO_LABELS = (
    "Without labels only selection rates, impact ratios and input drift can be measured: "
    "true and false positive rates, accuracy and the constraints that compare them cannot "
    "be checked (give the outcomes with y, or --target COLUMN)."
)


class BinaryTask(Task):
    """Scores are P(y = favourable); a row is predicted favourable at 0.5 or above."""

    name = "binary"
    estimator_kind = "classifier"
    cut_off = True
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
    audit_caption = (
        "Rates with their {level:.0%} Wilson intervals; the impact ratio is the group's "
        "selection rate over the most-selected group's (below 0.8 fails the four-fifths "
        "rule, shaded)."
    )
    audit_no_labels = AUDIT_NO_LABELS

    def prepare_target(
        self, y: object, n_rows: int, pos_label: object = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return encode_target(y, n_rows, pos_label)

    def check_groups(
        self,
        groups: np.ndarray,
        y: np.ndarray,
        labels: Sequence[str],
        min_size: int,
        by_class: bool = True,
        classes: np.ndarray | None = None,
    ) -> None:
        check_groups(groups, y, labels, min_size)  # both classes whatever the constraints

    def strata(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.int64)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return (np.asarray(scores) >= 0.5).astype(np.int64)

    def scores_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """P(favourable): the second column (codes 0, 1)."""
        return proba[:, 1]

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

    def audit_outcomes(
        self, classes: np.ndarray | None, y: object, pred: np.ndarray, pos_label: object
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """0/1 outcomes, 1 the favourable class (``pos_label``, else the fit's)."""
        assert classes is not None
        return binary_outcomes(classes, y, pred, pos_label)

    def audit_table(
        self,
        y: np.ndarray | None,
        pred: np.ndarray,
        names: np.ndarray,
        level: float,
        classes: np.ndarray | None,
    ) -> pd.DataFrame:
        return decision_table(y, pred, names, level)

    def drift_counts(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        groups: np.ndarray,
        labels: Sequence[str],
        classes: np.ndarray | None,
    ) -> dict[str, list[int]] | None:
        return validation_counts(y, pred, groups, labels)

    def rate_trials(self, counts: list[int], rate: str) -> list[tuple[int | None, int, int]]:
        return decision_trials(counts, rate)
