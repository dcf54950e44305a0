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

In a weighted fit (``sample_weight``) each group's residual centre is the weighted mean
or weighted median: on integer weights, that of the rows repeated that many times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.mitigators._group_rules import BlindableRule, GroupRulePost, RuleFit
from fairautoml.mitigators._recalibration_core import GroupRecalibration
from fairautoml.mitigators.registry import register_mitigator


def loss_of(constraints: Sequence[Constraint], metric: Metric) -> str:
    """ "absolute" when the metric or a constraint measures absolute errors, else "squared"."""
    names = [metric.name, *(c.metric for c in constraints)]
    return "absolute" if any("absolute" in n or n == "mae" for n in names) else "squared"


@dataclass(frozen=True)
class RecalibrationRule(BlindableRule):
    """Scores plus their group's offset, or the offsets averaged under P(group | x)."""

    recalibration: GroupRecalibration

    def apply(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return self.recalibration.apply(scores, groups)

    def apply_blind(self, scores: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
        return self.recalibration.apply_blind(scores, group_proba)


class _Recalibration(GroupRulePost):
    def fit_rule(self, given: RuleFit, random_state: int | None) -> BlindableRule:
        fitted = GroupRecalibration.fit(
            given.y, given.scores, given.groups, given.n_groups,
            loss=loss_of(given.constraints, given.metric),
            strength=float(given.params.get("strength", 1.0)), sample_weight=given.weight,
        )  # fmt: skip
        return RecalibrationRule(fitted, blind=self.blind)


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
