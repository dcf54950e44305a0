"""``barycenter_transport``: move each group's predicted amounts part of the way to the
groups' Wasserstein barycenter (strong demographic parity for regression).

The optimal fair regressor under demographic parity maps a row of group ``s`` with
prediction ``f`` to ``sum_s' p_s' Q_s'(F_s(f))``: its rank within its group, read off
every group's quantile function and averaged by the groups' shares (Chzhen, Denis, Hebiri,
Oneto & Pontil, NeurIPS 2020). Moving a fraction ``t`` of the way there traces the exact
risk-unfairness frontier (Chzhen & Schreuder, 2022); ``fraction`` is searched, and the
pick keeps the most accurate setting that meets the constraints. The map is fitted on
validation scores, cross-fitted as every post-processor is (:mod:`fairautoml.evaluate`);
the algorithm is :mod:`fairautoml.mitigators._transport_core`.

``barycenter_transport_blind`` decides without the group: it averages the group-wise maps
under the search's P(group | x), so it moves predictions only as far as the group can be
told from the features. Rows whose predictions tie share one output (the middle of their
tie's range): a rule reads scores, not rows.
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
from fairautoml.mitigators._transport_core import BarycenterTransport

REGRESSION = frozenset({"regression"})


@dataclass(frozen=True)
class TransportRule(DecisionRule):
    """Scores moved ``fraction`` of the way to the barycenter, by the group or by
    P(group | x) (``blind``)."""

    transport: BarycenterTransport
    fraction: float
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
            assert group_proba is not None, "the blind transport reads P(group | x)"
            return self.transport.transport_blind(scores, group_proba, self.fraction)
        assert groups is not None, "the transport reads the group"
        return self.transport.transport(scores, groups, self.fraction)


class _Transport(PostProcessor):
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
        transport = BarycenterTransport.fit(scores, groups, n_groups, random_state=random_state)
        return TransportRule(transport, float(params.get("fraction", 1.0)), self.blind)


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
