"""Mitigators by name, by stage (pre, in, post-processing): the protocol (``_base``), the
registry (``registry``), and the built-ins, which register on import in :data:`BUILTINS`'s
order.

May import ``tasks``, ``learners``, ``measures``, ``data`` and the base modules.
"""

from __future__ import annotations

import importlib

from fairautoml.mitigators._base import (
    DECISION_RULES,
    DEPLOYS,
    GROUP_AWARE,
    GROUP_FREE,
    PROXY,
    STAGES,
    DecisionRule,
    EstimatorScoringModel,
    FoldModels,
    GroupPredictingModel,
    Mitigator,
    PostProcessor,
    ScoringModel,
    TrainingMitigator,
    row_keys,
    rule_proba,
    search_deadline,
    time_left,
    weight_kwargs,
)
from fairautoml.mitigators.registry import (
    MITIGATORS,
    available_mitigators,
    decision_rule_of,
    get_mitigator,
    randomized_of,
    register_mitigator,
)

# The built-ins register on import, in this order: the first post-processor seeds the
# optuna controller's starting points, so group_thresholds comes first.
BUILTINS = (
    "group_thresholds",
    "none",
    "reweighing",
    "correlation_remover",
    "exponentiated_gradient",
    "grid_search",
    "constrained_boosting",
    "gap_reweighing",
    "bias_score",  # bias_score, bias_score_blind
    "threshold_optimizer",
    "relaxed_thresholds",
    "inferred_thresholds",
    "barycenter_transport",  # barycenter_transport, barycenter_transport_blind (regression)
    "group_recalibration",  # group_recalibration, group_recalibration_blind (regression)
    "multicalibration",  # multicalibration, multicalibration_blind (yes/no and amounts)
    "multiclass_lp",  # multiclass_lp, multiclass_lp_blind (several classes)
    "trend_removal",  # a threshold linear in a numeric attribute (no bins)
)
for _module in BUILTINS:
    importlib.import_module(f"fairautoml.mitigators.{_module}")

__all__ = [
    "BUILTINS",
    "DECISION_RULES",
    "DEPLOYS",
    "GROUP_AWARE",
    "GROUP_FREE",
    "MITIGATORS",
    "PROXY",
    "STAGES",
    "DecisionRule",
    "EstimatorScoringModel",
    "FoldModels",
    "GroupPredictingModel",
    "Mitigator",
    "PostProcessor",
    "ScoringModel",
    "TrainingMitigator",
    "available_mitigators",
    "decision_rule_of",
    "get_mitigator",
    "randomized_of",
    "register_mitigator",
    "row_keys",
    "rule_proba",
    "search_deadline",
    "time_left",
    "weight_kwargs",
]
