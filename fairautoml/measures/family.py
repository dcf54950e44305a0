"""One family of fairness measures: what a constraint's family answers, whatever the target.

A constraint (:class:`fairautoml.measures.constraints.Constraint`) names a metric; its
family (decisions, several classes, amounts) computes the values, the bootstrap intervals
and the interval's lower bound for the constraints of its kind, and says whether a value
depends on which outcome is favourable. :data:`fairautoml.measures.constraints.FAMILIES`
holds one object per kind; the rest of the package asks the constraint, never the kind.
Families work on constraint objects by their attributes (``key``, ``metric``,
``groups_of``, ``is_ratio``, ...), so they never import the constraint language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class MeasureFamily:
    """The protocol every family implements (the spirit of fairlearn's ``Moment``)."""

    metrics: tuple[str, ...] = ()  # the metric names of the family's target
    # it reads the scores (positive-class probabilities), not the decisions: the callers
    # hand it ``scores=`` in their place (evaluate_constraints, evaluate_intervals)
    reads_scores: bool = False
    # its values and bootstrap take rows in several groups with signed weights
    # (fairautoml.measures.row_copies.RowCopies); the others are handed their memberships
    takes_signed_weights: bool = False

    def values(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        codes: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Each constraint's value, keyed by ``metric``, on groups ``codes`` (the
        constraints compare those groups: attributes already applied)."""
        raise NotImplementedError

    def value(
        self,
        constraint: Any,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """One constraint's value on the intersection cell codes ``groups``."""
        raise NotImplementedError

    def intervals(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        level: float,
        random_state: int | None,
        n_boot: int,
        sample_weight: np.ndarray | None = None,
        membership: np.ndarray | None = None,
    ) -> dict[str, tuple[float, float]]:
        """Each constraint's central ``level`` interval, keyed by ``key``: bootstrap
        resamples of the rows, the lower end no higher than a bound that keeps its level
        where the bootstrap's sits high (a largest gap, a KS distance)."""
        raise NotImplementedError

    def needs_positive_label(self, constraint: Any) -> bool:
        """Whether the value changes when the outcomes swap roles."""
        return False


def central_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap ``values``."""
    lo, hi = np.nanquantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def by_groups(constraints: Sequence[Any]) -> list[list[Any]]:
    """The constraints by the groups they compare (those on the same attributes together)."""
    out: dict[tuple[str, ...], list[Any]] = {}
    for c in constraints:
        out.setdefault(c.attributes, []).append(c)
    return list(out.values())


__all__ = ["MeasureFamily", "by_groups", "central_interval"]
