"""What the pick reads of a point's constraints: how far it misses (at its value, at the
unfavourable end of its interval), by how many standard errors it holds, and the part of a
value's noise that comes from fitting a post-processing rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np


def rule_noise(fold_values: Sequence[dict[str, float]]) -> dict[str, float]:
    """Standard error of each constraint's value that comes from fitting a post-processing
    rule on a sample of the validation rows: the grouped jackknife over the rules fitted
    on the cross-fitting folds (each on all but one fold), every rule's value measured on
    the same rows. With ``K`` folds, ``(K - 1) / K * sum((v_k - mean)^2)``.

    The bootstrap interval resamples the rows for fixed decisions, so a rule whose fit
    moves with its sample (a linear programme's vertex, a quantile threshold) looks
    surer than it is; this is the part it leaves out."""
    k = len(fold_values)
    if k < 2:
        return {}
    out = {}
    for key in fold_values[0]:
        v = np.array([f[key] for f in fold_values], dtype=np.float64)
        out[key] = float(np.sqrt((k - 1) / k * np.sum((v - v.mean()) ** 2)))
    return out


def pessimistic_violation(
    constraints: Sequence[Any], intervals: dict[str, tuple[float, float]]
) -> float:
    """Largest violation at the unfavourable end of each interval (<= 0: all hold there)."""
    if not constraints:
        return 0.0
    return max(
        c.violation(intervals[c.key][0] if c.is_ratio else intervals[c.key][1]) for c in constraints
    )


def robust_violation(
    constraints: Sequence[Any], intervals: dict[str, tuple[float, float]]
) -> float:
    """:func:`pessimistic_violation`, or nan when a constraint has no interval."""
    if any(c.key not in intervals for c in constraints):
        return float("nan")
    return pessimistic_violation(constraints, intervals)


def assurance(
    constraints: Sequence[Any],
    values: dict[str, float],
    intervals: dict[str, tuple[float, float]],
    level: float,
) -> float:
    """By how many standard errors every constraint holds: the smallest, over the
    constraints, of the room between the value and the bound divided by the value's
    standard error on the unfavourable side (read off the bootstrap interval, central at
    ``level``). ``>= z((1 + level) / 2)`` exactly when the unfavourable end of the interval
    meets the bound; negative when a value misses it; nan when an interval is missing.

    It lets the pick ask for a lower confidence (a smaller margin, in units of the
    sampling noise) when nothing holds at ``level``.
    """
    if not constraints:
        return math.inf
    z = NormalDist().inv_cdf((1 + level) / 2)
    worst = math.inf
    for c in constraints:
        if c.key not in intervals or c.key not in values:
            return math.nan
        value = float(values[c.key])
        low, high = intervals[c.key]
        room = -c.violation(value)
        spread = (value - low) if c.is_ratio else (high - value)
        if not math.isfinite(room):
            return math.nan
        if spread > 1e-12:
            worst = min(worst, room * z / spread)
        elif room < 0:
            worst = min(worst, -math.inf)
    return worst


def worst_case(
    constraints: Sequence[Any],
    points: Sequence[tuple[dict[str, float], dict[str, tuple[float, float]]]],
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """The claim that holds for each of a set of reweightings of the rows: ``points`` are
    the constraints' values and intervals under each; each constraint's worst value over
    them (the largest difference, the smallest ratio; NaN where any is NaN) and its
    interval with each end the worst of that end."""
    ratio = {c.key: c.is_ratio for c in constraints}

    def worst(values: Sequence[float], key: str) -> float:
        array = np.asarray(values, dtype=np.float64)
        return float(np.min(array) if ratio.get(key, False) else np.max(array))

    first_values, first_intervals = points[0]
    values = {k: worst([v[k] for v, _ in points], k) for k in first_values}
    intervals = {
        k: (worst([i[k][0] for _, i in points], k), worst([i[k][1] for _, i in points], k))
        for k in first_intervals
    }
    return values, intervals


def worst_violation(constraints: Sequence[Any], values: dict[str, float]) -> float:
    """Largest violation over the constraints, floored at 0 (0 means all hold)."""
    if not constraints:
        return 0.0
    return max(0.0, *(c.violation(values[c.key]) for c in constraints))


__all__ = [
    "assurance",
    "pessimistic_violation",
    "robust_violation",
    "rule_noise",
    "worst_case",
    "worst_violation",
]
