"""Fairness of amounts: the regression measures of :mod:`fairautoml.measures.regression`
(strong demographic parity as the largest KS distance, group losses as fairlearn's
derived metrics name them); intervals from Poisson bootstrap resamples shared per loss
and set of groups, a KS distance's lower end from its Kolmogorov bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairautoml.measures import regression as rf
from fairautoml.measures.amount_bootstrap import (
    bootstrap_group_losses,
    bootstrap_ks,
    ks_lower_bound,
)
from fairautoml.measures.family import MeasureFamily, central_interval


class AmountMeasures(MeasureFamily):
    """The family of amounts (see the module docstring)."""

    metrics = tuple(rf.REGRESSION_MEASURES)

    def value(
        self,
        constraint: Any,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        return _regression_values([constraint], y_true, y_pred, groups, sample_weight)[
            constraint.key
        ]

    def values(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        codes: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        return _regression_values(constraints, y_true, y_pred, codes, sample_weight)

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
        w, p = sample_weight, membership
        values = _regression_bootstrap(
            constraints, y_true, y_pred, groups, n_boot, random_state, w, p
        )
        out: dict[str, tuple[float, float]] = {}
        for c in constraints:
            low, high = central_interval(values[c.key], level)
            if rf.REGRESSION_MEASURES[c.metric].loss is None:  # the KS distance
                # its bootstrap sits high: the lower end from the Kolmogorov bound
                bound = ks_lower_bound(y_pred, c.groups_of(groups), (1 - level) / 2, w, p)
                low = min(low, bound)
            out[c.key] = (low, high)
        return out


def _regression_values(
    constraints: Sequence[Any],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Regression constraints' values (the measures of :mod:`fairautoml.measures.regression`)."""
    return {
        c.key: float(
            rf.REGRESSION_MEASURES[c.metric].value(
                y_true, y_pred, c.groups_of(groups), sample_weight
            )
        )
        for c in constraints
    }


def _regression_bootstrap(
    constraints: Sequence[Any],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_boot: int,
    random_state: int | None,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each regression constraint's value under ``n_boot`` Poisson bootstrap resamples
    (the resamples of one loss, or of the KS distance, drawn once per set of groups and
    shared)."""
    drawn: dict[tuple[str | None, tuple[str, ...]], np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    for c in constraints:
        measure = rf.REGRESSION_MEASURES[c.metric]
        which = (measure.loss, c.attributes)
        if which not in drawn:
            codes = c.groups_of(groups)
            drawn[which] = (
                bootstrap_ks(y_pred, codes, n_boot, random_state, sample_weight, membership)
                if measure.loss is None
                else bootstrap_group_losses(
                    y_true,
                    y_pred,
                    codes,
                    measure.loss,
                    n_boot,
                    random_state,
                    sample_weight,
                    membership,
                )
            )
        out[c.key] = measure.from_bootstrap(drawn[which])
    return out


__all__ = ["AmountMeasures"]
