"""``trend_removal``: a decision threshold that moves with a numeric sensitive attribute,
fitted on held-out scores so that the decisions' dependence on it
(``generalized_disparate_impact[age]``, or ``..._2``) meets its bound.

The rule decides ``score - c (u - mean u) >= 0.5``, ``u`` the attribute scaled to [0, 1]
as the measure scales it (:mod:`fairautoml.measures.dependence`). ``c`` is chosen on a grid
around the scores' own least-squares slope along ``u`` (0 up to 1.5 times it): among the
values whose decisions meet every dependence bound on the rows it is fitted on, the one
with the best metric; none meeting them, the one of least dependence. Under a constraint
of degree 2 the threshold follows the scores' least-squares curve in ``u`` and ``u^2``
instead of a line (``score - c (p(u) - mean p(u))``, ``c`` on the same grid of multiples):
a line cannot remove a rate that rises and then falls along the attribute. ``slack`` tightens
the bounds by a fraction. It reads the attribute at decision time, so it is a group-aware
rule (the ``decision_rule`` policy's terms): a line in the attribute instead of one
threshold per group, which a continuous attribute has too many of.

Not for weighted fits yet: its choice of line is not checked against repeated rows, so a
search with ``sample_weight`` leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.dependence import DEPENDENCE_METRICS, coefficients, kernel, scaled
from fairautoml.measures.metrics import Metric
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators.registry import register_mitigator

GRID = np.linspace(0.0, 1.5, 31)  # multiples of the scores' slope tried


@dataclass(frozen=True)
class TrendRule(DecisionRule):
    """``score - slope (u - centre) >= 0.5``, ``u`` read off the cell codes; with
    ``curve`` (each cell code's centred offset of a fitted curve), ``score - slope
    curve >= 0.5``."""

    values: np.ndarray  # the attribute's value, scaled to [0, 1], of each cell code
    slope: float
    centre: float
    curve: np.ndarray | None = None  # degree 2: each cell's p(u) - mean p(u)
    needs_group = True

    def predict_proba(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        assert groups is not None, "trend_removal needs the attribute of every row"
        codes = np.asarray(groups, dtype=np.int64)
        curve = getattr(self, "curve", None)  # None in a file saved before it existed
        offset = self.values[codes] - self.centre if curve is None else curve[codes]
        shifted = np.asarray(scores, dtype=np.float64) - self.slope * offset
        return np.clip(shifted, 0.0, 1.0)


def cell_values(constraint: Constraint, n_cells: int) -> np.ndarray:
    """Each cell code's value of the constraint's attribute, scaled to [0, 1]."""
    cells = np.arange(n_cells, dtype=np.int64)
    own = constraint.groups_of(cells)
    return scaled(np.asarray(constraint.levels, dtype=np.float64)[own], constraint.span)


@register_mitigator
class TrendRemoval(PostProcessor):
    name = "trend_removal"
    needs_group_at_predict = True
    supported_constraints = frozenset(DEPENDENCE_METRICS)
    numeric_attributes = True

    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
    ) -> DecisionRule:
        numeric = [c for c in constraints if c.continuous and c.levels is not None]
        groups = np.asarray(groups, dtype=np.int64)
        values = cell_values(numeric[0], len(numeric[0].projection or ()))
        known = groups >= 0
        scores = np.asarray(scores, dtype=np.float64)
        u = values[np.maximum(groups, 0)]
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        w_known = None if w is None else w[known]
        degree = max(DEPENDENCE_METRICS[c.metric] for c in numeric)
        if degree == 1:
            centre = float(np.average(u[known], weights=w_known))
            base, curve = float(coefficients(u[known], scores[known], 1, w_known)[0]), None
        else:  # the scores' least-squares curve, centred on the rows' mean
            beta = coefficients(u[known], scores[known], degree, w_known)
            trend = kernel(values, degree)[:, 1:] @ beta
            centre = float(np.average(trend[np.maximum(groups, 0)][known], weights=w_known))
            base, curve = 1.0, trend - centre
        slack = float(params.get("slack", 0.0))
        best: tuple[tuple[int, float], TrendRule] | None = None
        for multiple in GRID:
            rule = TrendRule(values, base * multiple, centre, curve)
            proba = rule.predict_proba(scores, np.maximum(groups, 0))
            pred = (proba >= 0.5).astype(np.int64)
            worst = max(
                c.value(y[known], pred[known], groups[known], None if w is None else w[known])
                - c.bound * (1 - slack)
                for c in numeric
            )
            score = metric.measure(y, pred, proba, w) if worst <= 0 else -worst
            key = (int(worst <= 0), float(score))
            if best is None or key > best[0]:
                best = (key, rule)
        assert best is not None
        return best[1]
