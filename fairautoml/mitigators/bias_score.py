"""``bias_score`` and ``bias_score_blind``: the post-hoc rule of Chen, Klochkov & Liu
(ICLR 2024), fitted on validation scores (core: :mod:`._bias_score_core`).

The rule flips the unconstrained decision where a row's bias score (the group gap it
removes per unit of accuracy lost) is high. It reads P(group | x):

* ``bias_score``: the true group, one-hot; the group is needed at predict time.
* ``bias_score_blind``: P(group | x) from the search's group classifier (trained on the
  scoring model's training rows, see ``GroupPredictingModel``), so the model never needs
  the group at predict time. The group is used only to fit the rule.

Two groups only; DP, TPR (= FNR) parity, FPR parity and equalized odds, as differences.
``slack`` tightens the bound, a margin against the noise of small validation groups.
``predict_proba`` is the core's fair margin mapped affinely into [0, 1] (``>= 0.5``
exactly on accepted rows; increasing in the score within a group).

In a weighted fit (``sample_weight``) the group priors, the metric and the gaps the rule
is chosen on count each row by its weight: on integer weights, the rule of the rows
repeated that many times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators._bias_score_core import (
    SUPPORTED_METRICS,
    BiasScoreRule,
    fit_bias_score_rule,
)
from fairautoml.mitigators._targets import OneDifference, difference_target
from fairautoml.mitigators.registry import register_mitigator


def _one_hot(groups: np.ndarray) -> np.ndarray:
    groups = np.asarray(groups, dtype=np.int64)
    if groups.size and (groups.min() < 0 or groups.max() > 1):
        raise ValueError(
            f"The bias-score rule supports exactly 2 groups; got group codes up to "
            f"{groups.max()}. Merge groups into two (e.g. privileged vs rest) or use "
            "group_thresholds / threshold_optimizer."
        )
    return np.eye(2)[groups]


class BiasScoreDecision(DecisionRule):
    def __init__(self, rule: BiasScoreRule, blind: bool) -> None:
        self.rule = rule
        self.feasible = rule.feasible
        self.needs_group = not blind
        self.needs_group_proba = blind

    def predict_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, group_proba: np.ndarray | None = None
    ) -> np.ndarray:
        p_group = group_proba if self.needs_group_proba else _one_hot(groups)
        return self.rule.predict_proba(np.asarray(scores, dtype=np.float64), p_group)


@register_mitigator
class BiasScore(OneDifference, PostProcessor):
    name = "bias_score"
    needs_group_at_predict = True
    accepts_sample_weight = True
    max_groups = 2

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
        sample_weight: np.ndarray | None = None,
    ) -> DecisionRule:
        target = difference_target(constraints, self.name)
        one_hot = _one_hot(groups)  # the true groups measure the constraint: two groups only
        p_group = group_proba if self.needs_group_proba else one_hot
        rule = fit_bias_score_rule(
            np.asarray(scores, dtype=np.float64),
            p_group,
            np.asarray(y),
            np.asarray(groups),
            constraint=target.notion,
            bound=target.bound * (1.0 - float(params.get("slack", 0.0))),
            metric=metric.name if metric.name in SUPPORTED_METRICS else "accuracy",
            sample_weight=sample_weight,
        )
        return BiasScoreDecision(rule, blind=self.needs_group_proba)


@register_mitigator
class BiasScoreBlind(BiasScore):
    name = "bias_score_blind"
    needs_group_at_predict = False
    needs_group_proba = True
