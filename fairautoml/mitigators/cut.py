"""A new cut-off on a model's probabilities: what :meth:`fairautoml.FairAutoML.decide`
puts after a pick whose probabilities are scores (no rule, or a rule that calibrates), so
the pick's model is not refitted: its calibrating rule (if any) runs first, then a
threshold per group, or one threshold for every row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.mitigators._base import DecisionRule, rule_proba
from fairautoml.mitigators.group_thresholds import shifted_proba


@dataclass(frozen=True)
class CutRule(DecisionRule):
    """``thresholds``: one per group code (the decision reads the group), or one for every
    row; ``calibration``: the pick's own rule, whose probabilities are cut (None: the
    model's scores are)."""

    thresholds: np.ndarray
    calibration: DecisionRule | None = None

    @property
    def per_group(self) -> bool:
        return np.size(self.thresholds) > 1

    @property
    def needs_group(self) -> bool:  # type: ignore[override]
        return self.per_group or (self.calibration is not None and self.calibration.needs_group)

    @property
    def needs_group_proba(self) -> bool:  # type: ignore[override]
        return self.calibration is not None and self.calibration.needs_group_proba

    def calibrated(
        self, scores: np.ndarray, groups: np.ndarray | None, group_proba: np.ndarray | None
    ) -> np.ndarray:
        """The probabilities the thresholds cut: the calibrating rule's, or the scores."""
        if self.calibration is None:
            return np.asarray(scores, dtype=np.float64)
        return rule_proba(self.calibration, scores, groups, group_proba=group_proba)

    def predict_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, group_proba: np.ndarray | None = None
    ) -> np.ndarray:
        p = self.calibrated(scores, groups, group_proba)
        if not self.per_group:
            return shifted_proba(p, np.full(p.shape, float(np.ravel(self.thresholds)[0])))
        assert groups is not None, "a threshold per group reads the group of every row"
        return shifted_proba(p, np.asarray(self.thresholds, dtype=np.float64)[groups])
