"""``group_recalibration``: shift each group's predicted amounts by its residual bias, for
the group-loss constraints (``mean_absolute_error_ratio``, ``..._group_max``).

A group whose predictions are biased (its mean residual far from 0) carries a larger
error than it needs to; a per-group shift fitted on validation scores, shrunk by a
searched ``strength``, removes that part of its error (the mean residual under squared
error, the median under absolute error: the metric or constraints say which). It cannot
lower an error that is noise rather than bias. The algorithm is
:mod:`fairautoml.mitigators._recalibration_core`.

``group_recalibration_blind`` decides without the group: each row is shifted by the
offsets averaged under the search's P(group | x).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairautoml.constraints import Constraint
from fairautoml.metrics import Metric
from fairautoml.mitigators import register_mitigator
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators._recalibration_core import GroupRecalibration
from fairautoml.mitigators.barycenter_transport import REGRESSION


def loss_of(constraints: Sequence[Constraint], metric: Metric) -> str:
    """ "absolute" when the metric or a constraint measures absolute errors, else "squared"."""
    names = [metric.name, *(c.metric for c in constraints)]
    return "absolute" if any("absolute" in n or n == "mae" for n in names) else "squared"


@dataclass(frozen=True)
class RecalibrationRule(DecisionRule):
    """Scores plus their group's offset, or the offsets averaged under P(group | x)."""

    recalibration: GroupRecalibration
    blind: bool = False

    @property
    def needs_group(self) -> bool:  # type: ignore[override]
        return not self.blind

    @property
    def needs_group_proba(self) -> bool:  # type: ignore[override]
        return self.blind

    def predict_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, group_proba: np.ndarray | None = None
    ) -> np.ndarray:
        if self.blind:
            assert group_proba is not None, "the blind recalibration reads P(group | x)"
            return self.recalibration.apply_blind(scores, group_proba)
        assert groups is not None, "the recalibration reads the group"
        return self.recalibration.apply(scores, groups)


class _Recalibration(PostProcessor):
    tasks = REGRESSION
    blind: bool = False

    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
        group_proba: np.ndarray | None = None,
    ) -> DecisionRule:
        n_groups = group_proba.shape[1] if group_proba is not None else int(groups.max()) + 1
        fitted = GroupRecalibration.fit(
            y, scores, groups, n_groups, loss=loss_of(constraints, metric),
            strength=float(params.get("strength", 1.0)),
        )  # fmt: skip
        return RecalibrationRule(fitted, self.blind)


@register_mitigator
class GroupRecalibrationPost(_Recalibration):
    name = "group_recalibration"
    needs_group_at_predict = True


@register_mitigator
class BlindGroupRecalibration(_Recalibration):
    name = "group_recalibration_blind"
    needs_group_at_predict = False
    needs_group_proba = True
    blind = True
