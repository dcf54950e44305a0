"""Which bound on every group's loss a list of regression constraints asks for.

fairlearn's ``BoundedGroupLoss`` (Agarwal, Dudík & Wu, "Fair Regression: Quantitative
Definitions and Reduction-based Algorithms", ICML 2019) keeps every group's mean loss at
or below one bound ``zeta``, for one loss (absolute or squared). A ``_group_max``
constraint is exactly that moment. A ``_difference`` or ``_ratio`` constraint compares
the groups with each other, and fairlearn has no moment for it; here it becomes the bound
on every group's value ``v`` (its MAE, MSE or RMSE) that it allows while the best group's
value stays at ``v_best``, the unmitigated learner's on the training rows:

* ``v_max - v_min <= d``  becomes  ``v <= v_best + d``;
* ``v_min / v_max >= r``  becomes  ``v <= v_best / r``.

If the mitigated model's best group does no better than ``v_best`` (bounding the worst
group's loss tends to cost the others), the user's constraint follows on the training
rows; if its best group does better, the gap can exceed what was asked. The search's
validation check measures the constraint itself either way. A learner that fits its
training rows closely has small training losses there, so a ratio's bound is strict for it.

``bound_scale`` in (0, 1] shrinks the allowance, the distance from perfect fairness
(a loss of 0, a difference of 0, a ratio of 1), as the classification reductions do:
``b`` -> ``bound_scale * b``, ``d`` -> ``bound_scale * d``, ``1 - r`` ->
``bound_scale * (1 - r)``; below 1 it leaves a margin for unseen rows.

Several constraints on the same loss each give a bound and the smallest holds; the
Kolmogorov–Smirnov distance, and constraints on both losses at once, have no such form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.regression import REGRESSION_MEASURES, group_losses

GROUP_LOSS_METRICS = frozenset(
    name for name, measure in REGRESSION_MEASURES.items() if measure.loss is not None
)
COMPARING = ("difference", "ratio")  # reductions that need the best group's loss


def loss_of(constraints: Sequence[Constraint]) -> str | None:
    """The one loss ("absolute" or "squared") the constraints bound, or None (none
    given, a constraint that is not a group loss, or both losses)."""
    losses = {
        REGRESSION_MEASURES[c.metric].loss if c.metric in GROUP_LOSS_METRICS else None
        for c in constraints
    }
    return losses.pop() if len(losses) == 1 and None not in losses else None


def needs_reference(constraints: Sequence[Constraint]) -> bool:
    """Whether the bound reads the unmitigated learner's group losses (a difference or a
    ratio)."""
    return any(
        c.metric in GROUP_LOSS_METRICS and REGRESSION_MEASURES[c.metric].reduction in COMPARING
        for c in constraints
    )


def group_loss_bound(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    groups: np.ndarray,
    bound_scale: float,
    reference: np.ndarray | None = None,
) -> float:
    """The bound on every group's mean loss (in the loss's units: squared for MSE and RMSE)
    that the constraints amount to (module docstring).

    ``reference``: the unmitigated learner's predictions on these rows, needed when a
    constraint compares groups (:func:`needs_reference`).
    """
    loss = loss_of(constraints)
    if loss is None:
        raise ValueError("group_loss_bound takes constraints on one group loss")
    best = math.inf
    if needs_reference(constraints):
        if reference is None:
            raise ValueError("a difference or ratio constraint needs the reference predictions")
        best = float(np.min(group_losses(y, reference, groups, loss)))
    bounds = []
    for c in constraints:
        measure = REGRESSION_MEASURES[c.metric]
        v_best = math.sqrt(best) if measure.root else best
        if measure.reduction == "group_max":
            value = bound_scale * c.bound
        elif measure.reduction == "difference":
            value = v_best + bound_scale * c.bound
        else:
            value = v_best / (1.0 - bound_scale * (1.0 - c.bound))
        bounds.append(value * value if measure.root else value)
    return min(bounds)
