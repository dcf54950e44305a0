"""Which single fairness notion a list of constraints asks for.

The reductions, ThresholdOptimizer and the bias-score rule each enforce one notion at a
time (demographic parity, true/false positive rate parity, equalized odds). This module
turns the user's constraints into that one notion and its tightest bound, or ``None``
when they cannot be expressed as one (e.g. demographic parity together with equalized
odds). FNR parity is TPR parity (the FNR gap equals the TPR gap); TPR and FPR parity
together are equalized odds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fairautoml.measures.constraints import Constraint

DP, TPR, FPR, EO = (
    "demographic_parity",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
    "equalized_odds",
)

# metric -> (notion, is a ratio)
NOTIONS: dict[str, tuple[str, bool]] = {
    "demographic_parity_difference": (DP, False),
    "demographic_parity_ratio": (DP, True),
    "equalized_odds_difference": (EO, False),
    "equalized_odds_ratio": (EO, True),
    "equal_opportunity_difference": (TPR, False),
    "equal_opportunity_ratio": (TPR, True),
    "true_positive_rate_difference": (TPR, False),
    "false_negative_rate_difference": (TPR, False),
    "false_positive_rate_difference": (FPR, False),
    "false_positive_rate_ratio": (FPR, True),
}
DIFFERENCES = frozenset(m for m, (_, ratio) in NOTIONS.items() if not ratio)

# rows each notion's rates are taken over: all rows, positives (Y=1) or negatives (Y=0)
STRATA: dict[str, tuple[int | None, ...]] = {DP: (None,), TPR: (1,), FPR: (0,), EO: (1, 0)}


@dataclass(frozen=True)
class Target:
    """One notion with its tightest bound (smallest difference, or largest ratio)."""

    notion: str
    is_ratio: bool
    bound: float


def target_of(constraints: Sequence[Constraint], ratios: bool = True) -> Target | None:
    """The one notion the constraints amount to, or None (none given, or not expressible)."""
    specs = [NOTIONS.get(c.metric) for c in constraints]
    if not specs or any(s is None for s in specs):
        return None
    notions = {s[0] for s in specs if s is not None}
    kinds = {s[1] for s in specs if s is not None}
    if len(kinds) > 1 or (not ratios and True in kinds):
        return None
    if len(notions) > 1:
        if DP in notions:
            return None
        notions = {EO}
    bounds = [c.bound for c in constraints]
    is_ratio = kinds.pop()
    return Target(notions.pop(), is_ratio, max(bounds) if is_ratio else min(bounds))


def difference_target(constraints: Sequence[Constraint], who: str) -> Target:
    """The one notion the constraints amount to, by its difference; else an error naming
    ``who`` and the fix."""
    target = target_of(constraints, ratios=False)
    if target is None:
        raise ValueError(
            f"{who} enforces one fairness notion's difference at a time (demographic parity, "
            "TPR or FPR parity, or equalized odds); "
            f"{', '.join(map(str, constraints)) or 'no constraint'} is not one. "
            "Use group_thresholds, or constrain one notion by its difference."
        )
    return target


class OneDifference:
    """Mixin of a mitigator that enforces one notion by its difference (:func:`target_of`
    without ratios): put before the mitigator's base class."""

    supported_constraints = DIFFERENCES

    def supports(self, constraints: Sequence[Constraint]) -> bool:
        return super().supports(constraints) and target_of(constraints, ratios=False) is not None  # type: ignore[misc]


def deviation_bound(target: Target, y: np.ndarray, groups: np.ndarray) -> float:
    """fairlearn's moments bound each group's rate against the overall rate; the bound on
    that deviation which keeps every between-group difference within ``target.bound``.

    With two groups, deviations ``p1 |r0 - r1|`` and ``p0 |r0 - r1|`` (``p`` the groups'
    shares of the stratum) are both within ``eps`` exactly when the gap is within
    ``eps / max(p)``; with more groups, two deviations of ``eps`` make a gap of ``2 eps``.
    """
    codes = np.unique(groups)
    if len(codes) != 2:
        return target.bound / 2
    shares = []
    for label in STRATA[target.notion]:
        rows = groups if label is None else groups[y == label]
        shares.append(max(np.mean(rows == codes[0]), np.mean(rows == codes[1])))
    return target.bound * min(shares)
