"""What the regression post-processors share: a rule that reads the group, or (``blind``)
P(group | x) in its place, fitted on validation scores by one small post-processor."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.mitigators._base import DecisionRule, PostProcessor

REGRESSION = frozenset({"regression"})


@dataclass(frozen=True)
class BlindableRule(DecisionRule):
    """A rule with a group-aware form (:meth:`apply`) and a blind one (:meth:`apply_blind`,
    reading P(group | x)); ``blind`` says which one decides."""

    blind: bool = field(default=False, kw_only=True)

    @property
    def needs_group(self) -> bool:  # type: ignore[override]
        return not self.blind

    @property
    def needs_group_proba(self) -> bool:  # type: ignore[override]
        return self.blind

    @abstractmethod
    def apply(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """The adjusted scores of rows of known groups."""

    @abstractmethod
    def apply_blind(self, scores: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
        """The adjusted scores of rows whose group is only estimated."""

    def predict_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, group_proba: np.ndarray | None = None
    ) -> np.ndarray:
        if self.blind:
            assert group_proba is not None, f"{type(self).__name__} reads P(group | x)"
            return self.apply_blind(scores, group_proba)
        assert groups is not None, f"{type(self).__name__} reads the group"
        return self.apply(scores, groups)


@dataclass(frozen=True)
class RuleFit:
    """What a regression rule is fitted on: held-out scores, their targets and groups
    (codes ``0 .. n_groups - 1``), the constraints, the metric, the rule's settings and
    the rows' weights (None: one each), and P(group | x) on them (a blind rule's; None
    for a group-aware one)."""

    scores: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    n_groups: int
    constraints: tuple[Constraint, ...]
    metric: Metric
    params: dict[str, Any]
    weight: np.ndarray | None = None
    group_proba: np.ndarray | None = None


class GroupRulePost(PostProcessor):
    """A regression post-processor fitting a :class:`BlindableRule`; the ``_blind``
    variant registers the same class with ``blind = True``. A weighted fit hands the
    rows' weights to :meth:`fit_rule` (``given.weight``), which must use them."""

    tasks = REGRESSION
    blind: ClassVar[bool] = False
    accepts_sample_weight = True

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
        n_groups = group_proba.shape[1] if group_proba is not None else int(groups.max()) + 1
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        given = RuleFit(
            scores, y, groups, n_groups, tuple(constraints), metric, params, weight, group_proba
        )
        return self.fit_rule(given, random_state)

    @abstractmethod
    def fit_rule(self, given: RuleFit, random_state: int | None) -> BlindableRule:
        """The rule, fitted on these held-out scores (``self.blind`` decides its form)."""
