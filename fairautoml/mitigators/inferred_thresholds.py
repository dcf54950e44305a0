"""``inferred_thresholds``: randomized thresholds per *inferred* group, for models that must
decide without the group (``sensitive_at_predict=False``).

The idea of OxonFair's inferred groups (Delaney et al., "OxonFair", NeurIPS 2024), solved
exactly by :mod:`relaxed_thresholds`' linear program instead of a grid: the search's group
classifier (P(group | x), see ``GroupPredictingModel``), fitted once, puts every row
in a *cell*: the group it is confidently assigned to (probability at least
:data:`CONFIDENT`), or "uncertain". Each cell gets its own randomized threshold on the
score. The true groups are used only to fit: every group's selection rate, TPR, FPR and
FNR is linear in the cells' mixing weights (each cell holds rows of every group), so one
program finds the most accurate rule on these rows whose *true* groups' rates meet every
constraint within ``tolerance`` of its bound. At predict time the rule reads the score
and the group classifier's output only.

A cell with too few fitting rows (:data:`MIN_CELL_ROWS`) is merged into the uncertain one
(or, when that is as small, the largest), so that every new row has a fitted threshold.

In a weighted fit (``sample_weight``) every group's rates and the metric's gain count
each row by its weight, as in :mod:`relaxed_thresholds`: on integer weights, the rule of
the rows repeated that many times (as long as no cell is small: a cell's size counts its
rows, not their weight, for a threshold is only as reliable as the rows it is fitted on).
The same weights let ``missing_groups="infer"`` fit it on the rows whose group is unknown,
each counted in every group by its membership.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric, class_weights
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators.group_thresholds import MAX_CANDIDATES
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.mitigators.relaxed_thresholds import (
    RATES,
    Program,
    RelaxedThresholdRule,
    program_weights,
    rate_rows,
    rule_seed_and_tolerance,
    step_function,
)

CONFIDENT = 2 / 3  # OxonFair's default: a row below it in every group is "uncertain"
MIN_CELL_ROWS = 20


def assign_cells(group_proba: np.ndarray) -> np.ndarray:
    """Raw cells: 0 for uncertain rows, ``1 + g`` for rows confidently in group ``g``."""
    p = np.asarray(group_proba, dtype=np.float64)
    return np.where(p.max(axis=1) >= CONFIDENT, p.argmax(axis=1) + 1, 0)


def _cell_map(raw: np.ndarray, n_raw: int) -> np.ndarray:
    """Raw cell -> fitted cell: small cells join the uncertain one (or the largest)."""
    counts = np.bincount(raw, minlength=n_raw)
    kept = [c for c in range(n_raw) if counts[c] >= MIN_CELL_ROWS]
    if not kept:
        kept = [int(np.argmax(counts))]
    home = 0 if 0 in kept else max(kept, key=lambda c: counts[c])
    index = {c: i for i, c in enumerate(kept)}
    return np.array([index.get(c, index[home]) for c in range(n_raw)], dtype=np.int64)


def _candidates(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cell's rows by descending score, the numbers of rows accepted at its candidate
    thresholds (ties go together), and those thresholds (``s >= t`` accepts)."""
    order = np.argsort(-scores, kind="stable")
    s, n = scores[order], len(scores)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(s) != 0) + 1, [n]])
    if len(cuts) > MAX_CANDIDATES:
        cuts = np.unique(cuts[np.linspace(0, len(cuts) - 1, MAX_CANDIDATES).round().astype(int)])
    padded = np.concatenate([[np.inf], s, [-np.inf]])
    thresholds = (padded[cuts] + padded[cuts + 1]) / 2
    thresholds[cuts == 0], thresholds[cuts == n] = np.inf, -np.inf
    return order, cuts, thresholds


def _program(
    scores: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    cells: np.ndarray,
    metric: Metric,
    weight: np.ndarray | None = None,
) -> tuple[Program, list[np.ndarray]]:
    """The program over every cell's candidate thresholds, and those thresholds (rows
    counted by ``weight`` when given)."""
    n_groups, n_cells = int(groups.max()) + 1, int(cells.max()) + 1
    w_neg, w_pos = class_weights(metric, y, weight)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    pos = np.array([np.sum(w[(groups == g) & (y == 1)]) for g in range(n_groups)])
    size = np.bincount(groups, weights=w, minlength=n_groups).astype(float)
    neg = size - pos
    each = [rate_rows(y[groups == g], w[groups == g])[1] for g in range(n_groups)]
    units = {r: np.array([u[r] for u in each]) for r in RATES}
    parts: dict[str, list[np.ndarray]] = {r: [] for r in RATES}
    gains, thresholds, spans, start = [], [], [], 0
    for c in range(n_cells):
        rows = np.flatnonzero(cells == c)
        order, cuts, t = _candidates(scores[rows])
        yy, gg, ww = y[rows][order], groups[rows][order], w[rows][order]
        one_hot = np.eye(n_groups)[gg] * ww[:, None]  # (rows, groups), each row's weight
        tp = np.vstack([np.zeros(n_groups), np.cumsum(one_hot * yy[:, None], axis=0)])[cuts]
        fp = np.vstack([np.zeros(n_groups), np.cumsum(one_hot * (1 - yy)[:, None], axis=0)])[cuts]
        cell_pos = one_hot[yy == 1].sum(axis=0)  # this cell's positives per group
        counts = {  # (candidates, groups): each group's rate contributed by this cell
            "selection": (tp + fp) / np.maximum(size, 1),
            "tpr": tp / np.maximum(pos, 1),
            "fpr": fp / np.maximum(neg, 1),
            "fnr": (cell_pos - tp) / np.maximum(pos, 1),
        }
        for r in RATES:
            parts[r].append(counts[r].T)
        n_neg_cell = float(np.sum(ww[yy == 0]))
        gains.append(w_pos * tp.sum(axis=1) + w_neg * (n_neg_cell - fp.sum(axis=1)))
        thresholds.append(t)
        spans.append(slice(start, start + len(t)))
        start += len(t)
    rows_per_rate = {"selection": size, "tpr": pos, "fpr": neg, "fnr": pos}
    rates = {r: np.hstack(parts[r]) for r in RATES}
    program = Program(np.concatenate(gains), spans, rates, rows_per_rate, units=units)
    return program, thresholds


@dataclass(frozen=True)
class InferredThresholdRule(DecisionRule):
    """A :class:`RelaxedThresholdRule` over cells, read from P(group | x): the group itself is
    never needed."""

    cells: RelaxedThresholdRule
    cell_map: np.ndarray  # raw cell (see assign_cells) -> the rule's cell
    feasible: bool = True
    needs_group = False
    needs_group_proba = True
    draws = True

    def cell_of(self, group_proba: np.ndarray) -> np.ndarray:
        raw = assign_cells(group_proba)
        return self.cell_map[np.minimum(raw, len(self.cell_map) - 1)]

    def predict_proba(
        self,
        scores: np.ndarray,
        groups: np.ndarray | None,
        group_proba: np.ndarray | None = None,
        row_keys: np.ndarray | None = None,
    ) -> np.ndarray:
        assert group_proba is not None, "inferred_thresholds reads P(group | x)"
        return self.cells.predict_proba(scores, self.cell_of(group_proba), row_keys)


def fit_inferred_thresholds(
    scores: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    group_proba: np.ndarray,
    constraints: Sequence[Constraint],
    metric: Metric,
    tolerance: float = 1.0,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
) -> InferredThresholdRule:
    """The best randomized rule per inferred-group cell whose true groups' rates meet every
    constraint within ``tolerance`` on these rows, each counted by its ``sample_weight``
    when given (see the module docstring). Marked ``feasible=False`` when the program had
    to relax the bounds it was asked for."""
    scores, y = np.asarray(scores, np.float64), np.asarray(y)
    groups, p = np.asarray(groups, dtype=np.int64), np.asarray(group_proba, np.float64)
    raw = assign_cells(p)
    cell_map = _cell_map(raw, p.shape[1] + 1)
    cells = cell_map[raw]
    program, thresholds = _program(scores, y, groups, cells, metric, sample_weight)
    weights, feasible = program_weights(program, constraints, tolerance)
    steps, accept = zip(*map(step_function, thresholds, weights), strict=True)
    x = np.concatenate(weights)
    rates = {r: program.rates[r] @ x for r in RATES}
    rule = RelaxedThresholdRule(steps, accept, seed, rates, float(program.gain @ x), feasible)
    return InferredThresholdRule(rule, cell_map, feasible)


@register_mitigator
class InferredThresholds(PostProcessor):
    name = "inferred_thresholds"
    needs_group_at_predict = False
    needs_group_proba = True
    randomized = True
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
        if group_proba is None:
            raise ValueError("inferred_thresholds needs group_proba (P(group | x)).")
        seed, tolerance = rule_seed_and_tolerance(params, random_state)
        return fit_inferred_thresholds(
            scores, y, groups, group_proba, constraints, metric, tolerance, seed, sample_weight
        )
