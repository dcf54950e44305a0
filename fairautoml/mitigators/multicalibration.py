"""``multicalibration``: patch the scores until they are calibrated in every group and
score bin (within ``alpha``), for yes/no decisions and amounts.

A multicalibrated score means the same in every group ("20 %" is 20 % for each), so it can
be re-thresholded later for another cut-off, cost or group-fairness constraint without
refitting (:meth:`fairautoml.FairAutoML.decide`). Fitted on validation scores like the
other post-processors (cross-fitted in the search); its decision is the patched score
read as any score is (at least 0.5 for yes/no). The algorithm, and what it promises and
does not: :mod:`fairautoml.mitigators._multicalibration_core`.

``multicalibration_blind`` decides without the group: each row's patch is its groups'
patches averaged under the search's P(group | x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.mitigators._group_rules import BlindableRule, GroupRulePost, RuleFit
from fairautoml.mitigators._multicalibration_core import Multicalibration
from fairautoml.mitigators.registry import register_mitigator


@dataclass(frozen=True)
class MulticalibrationRule(BlindableRule):
    """Scores patched per (group, score bin), or per P(group | x); its probabilities are
    calibrated scores, not decisions (``calibrates``): a new cut-off may be read off them."""

    multicalibration: Multicalibration
    calibrates = True

    def apply(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return self.multicalibration.apply(scores, groups)

    def apply_blind(self, scores: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
        return self.multicalibration.apply_blind(scores, group_proba)


class _Multicalibration(GroupRulePost):
    tasks = frozenset({"binary", "regression"})
    serves_calibration = True

    def fit_rule(self, given: RuleFit, random_state: int | None) -> BlindableRule:
        if self.blind:
            assert given.group_proba is not None, f"{self.name} is fitted on P(group | x)"
            member = given.group_proba
        else:
            member = np.eye(given.n_groups)[np.asarray(given.groups)]
        fitted = Multicalibration.fit(
            given.y, given.scores, member, alpha=float(given.params.get("alpha", 0.02)),
            n_bins=int(given.params.get("n_bins", 10)), sample_weight=given.weight,
        )  # fmt: skip
        return MulticalibrationRule(fitted, blind=self.blind)


@register_mitigator
class MulticalibrationPost(_Multicalibration):
    name = "multicalibration"
    needs_group_at_predict = True


@register_mitigator
class BlindMulticalibration(_Multicalibration):
    name = "multicalibration_blind"
    needs_group_at_predict = False
    needs_group_proba = True
    blind = True
