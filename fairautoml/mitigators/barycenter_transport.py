"""``barycenter_transport``: move each group's predicted amounts part of the way to the
groups' Wasserstein barycenter (strong demographic parity for regression).

The optimal fair regressor under demographic parity maps a row of group ``s`` with
prediction ``f`` to ``sum_s' p_s' Q_s'(F_s(f))``: its rank within its group, read off
every group's quantile function and averaged by the groups' shares (Chzhen, Denis, Hebiri,
Oneto & Pontil, NeurIPS 2020). Moving a fraction ``t`` of the way there traces the exact
risk-unfairness frontier (Chzhen & Schreuder, 2022); ``fraction`` is searched, and the
pick keeps the most accurate setting that meets the constraints. The map is fitted on
validation scores, cross-fitted as every post-processor is (:mod:`fairautoml.search.evaluate`);
the algorithm is :mod:`fairautoml.mitigators._transport_core`.

``barycenter_transport_blind`` decides without the group: it averages the group-wise maps
under the search's P(group | x), so it moves predictions only as far as the group can be
told from the features. Rows whose predictions tie share one output (the middle of their
tie's range): a rule reads scores, not rows.

In a weighted fit (``sample_weight``) the group shares and each group's quantiles are
weighted (a row sits at its mass midpoint in its group's distribution): on integer
weights, the map of the rows repeated that many times up to the interpolation between a
heavy row's level and its copies' levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.mitigators._group_rules import BlindableRule, GroupRulePost, RuleFit
from fairautoml.mitigators._transport_core import BarycenterTransport
from fairautoml.mitigators.registry import register_mitigator


@dataclass(frozen=True)
class TransportRule(BlindableRule):
    """Scores moved ``fraction`` of the way to the barycenter, by the group or by
    P(group | x) (``blind``)."""

    transport: BarycenterTransport
    fraction: float

    def apply(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return self.transport.transport(scores, groups, self.fraction)

    def apply_blind(self, scores: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
        return self.transport.transport_blind(scores, group_proba, self.fraction)


class _Transport(GroupRulePost):
    def fit_rule(self, given: RuleFit, random_state: int | None) -> BlindableRule:
        transport = BarycenterTransport.fit(
            given.scores, given.groups, given.n_groups, sample_weight=given.weight,
            random_state=random_state,
        )  # fmt: skip
        fraction = float(given.params.get("fraction", 1.0))
        return TransportRule(transport, fraction, blind=self.blind)


@register_mitigator
class GroupBarycenterTransport(_Transport):
    name = "barycenter_transport"
    needs_group_at_predict = True


@register_mitigator
class BlindBarycenterTransport(_Transport):
    name = "barycenter_transport_blind"
    needs_group_at_predict = False
    needs_group_proba = True
    blind = True
