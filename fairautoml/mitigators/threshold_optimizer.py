"""``threshold_optimizer``: fairlearn's ThresholdOptimizer (Hardt, Price & Srebro, 2016) on
the prefit model's validation scores.

Per group it mixes two thresholds at random, so the rule is *randomized*. Here each row's
draw is a hash of (score, group, seed) with the seed taken from the user's
``random_state``: the same row always gets the same decision, whatever the batch.
Differences are relaxed to fairlearn's ``tol`` (the bound tightened by ``slack``);
ratios and equalized odds get exact parity (fairlearn relaxes neither), which meets any
bound in expectation.

``predict_proba`` is the drawn decision made into a score: accepted rows lie in
[0.5, 1], rejected rows in [0, 0.5), each side ordered by the mean of the rule's
acceptance probability and the base score. It is not a calibrated probability.

Not for weighted fits: fairlearn's ThresholdOptimizer fits its rule without row weights, so
a search with ``sample_weight`` leaves it out (naming it in ``mitigators`` is an error)
rather than run it unweighted.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators._row_hash import row_uniform
from fairautoml.mitigators._targets import EO, NOTIONS, target_of
from fairautoml.mitigators.registry import register_mitigator

PLOT_ONLY = ("_tradeoff_curve", "_overall_tradeoff_curve")  # ThresholdOptimizer's
MAX_LEVELS = 256  # distinct scores the optimizer sees (its curves cost O(levels) per group)


class _PrefitScores(BaseEstimator):
    """The 'model' ThresholdOptimizer thresholds: its input column is the score, mapped to
    the nearest of ``levels`` from above when given (a monotone map, the same at fit and at
    predict time)."""

    def __init__(self, levels: np.ndarray | None = None) -> None:
        self.levels = levels

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> _PrefitScores:
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict(self, X: np.ndarray) -> np.ndarray:
        s = np.asarray(X, dtype=np.float64)[:, 0]
        if self.levels is None:
            return s
        at = np.searchsorted(self.levels, s, side="left")
        return self.levels[np.minimum(at, len(self.levels) - 1)]


def score_levels(scores: np.ndarray, max_levels: int | None = None) -> np.ndarray | None:
    """At most ``max_levels`` score quantiles to threshold on (None: few enough distinct
    scores to use them all). fairlearn builds each group's trade-off curve over every
    distinct score, which at a few hundred thousand validation rows costs seconds per
    fit; the rule mixes two thresholds per group, so quantiles this fine lose no
    measurable accuracy (benchmarks/scripts/threshold_levels.py)."""
    max_levels = max_levels or MAX_LEVELS
    distinct = np.unique(scores)
    if len(distinct) <= max_levels:
        return None
    return np.unique(np.quantile(scores, np.linspace(0.0, 1.0, max_levels)))


class RandomizedThresholdRule(DecisionRule):
    needs_group = True
    draws = True

    def __init__(self, optimizer: ThresholdOptimizer, seed: int) -> None:
        self.optimizer = optimizer
        self.seed = seed

    def __getstate__(self) -> dict[str, object]:
        """The rule without the optimizer's trade-off curves: DataFrames that only
        fairlearn's ``plot_threshold_optimizer`` reads (they live in private attributes,
        with no public API to drop them), and that a skops model file cannot store."""
        optimizer = copy.copy(self.optimizer)
        for name in PLOT_ONLY:
            vars(optimizer).pop(name, None)
        return {"optimizer": optimizer, "seed": self.seed}

    def predict_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, row_keys: np.ndarray | None = None
    ) -> np.ndarray:
        assert groups is not None, "threshold_optimizer needs the group of every row"
        s = np.asarray(scores, dtype=np.float64)
        pmf = self.optimizer._pmf_predict(s[:, None], sensitive_features=groups)[:, 1]
        accept = pmf >= row_uniform(s, groups, self.seed, row_keys)
        key = 0.5 * (pmf + np.clip(s, 0.0, 1.0))  # < 1 on rejected rows (their pmf < 1)
        return np.where(accept, 0.5 + 0.5 * key, 0.5 * key).astype(np.float64)


def fairlearn_constraint(constraints: Sequence[Constraint]) -> tuple[str, float | None] | None:
    """ThresholdOptimizer's ``constraints`` name and ``tol`` (None: exact parity)."""
    if constraints and all(c.metric == "false_negative_rate_ratio" for c in constraints):
        return "false_negative_rate_parity", None
    target = target_of(constraints)
    if target is None:
        return None
    exact = target.is_ratio or target.notion == EO
    return target.notion, None if exact else target.bound


@register_mitigator
class ThresholdOptimizerMitigator(PostProcessor):
    name = "threshold_optimizer"
    supported_constraints = frozenset({*NOTIONS, "false_negative_rate_ratio"})
    needs_group_at_predict = True
    randomized = True

    def supports(self, constraints: Sequence[Constraint]) -> bool:
        return fairlearn_constraint(constraints) is not None

    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
    ) -> DecisionRule:
        spec = fairlearn_constraint(constraints)
        if spec is None:
            raise ValueError(f"{self.name} cannot enforce {', '.join(map(str, constraints))}.")
        name, bound = spec
        tol = None if bound is None else bound * (1.0 - float(params.get("slack", 0.0)))
        objective = "balanced_accuracy_score" if metric.name == "balanced_accuracy" else None
        s = np.asarray(scores, dtype=np.float64)
        optimizer = ThresholdOptimizer(
            estimator=_PrefitScores(score_levels(s)),
            constraints=name,
            objective=objective or "accuracy_score",
            prefit=True,
            predict_method="predict",
            tol=tol,
        )
        optimizer.fit(s[:, None], np.asarray(y), sensitive_features=np.asarray(groups))
        seed = random_state if random_state is not None else int(np.random.randint(2**31))
        return RandomizedThresholdRule(optimizer, seed)
