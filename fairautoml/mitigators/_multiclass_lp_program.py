"""The multiclass LP itself: the gain of each (cell, class) decision for the metric, the
constraints' rows (each pair of groups' rates within the bound's share), solved by
HiGHS with wider shares when it fails, and the rates its solution gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from fairautoml.exceptions import InputError
from fairautoml.measures.multiclass import RATES, multiclass_measure

BAD_METRIC = (
    "metric must be 'accuracy', 'balanced_accuracy' or a gain matrix of shape ({k}, {k}) "
    "(gain[true, predicted]); got {given!r}."
)
BAD_CONSTRAINT = (
    "A constraint must be a (measure, bound) pair or have .metric and .bound; got {given!r}."
)


_WIDEN = (1.5, 2.0, 3.0, 5.0)  # if HiGHS fails: wider shares of the bounds, then none


_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def gain_matrix(metric: Any, y: np.ndarray, k: int, weight: np.ndarray) -> np.ndarray:
    """``gain[t, j]``: what a row of class ``t`` predicted ``j`` adds to the metric, per unit
    of row weight, normalised so a perfect rule scores 1: accuracy's identity over the
    total weight, balanced accuracy's ``1 / (k * weight of class t)`` on the diagonal."""
    if isinstance(metric, str) and metric == "accuracy":
        return np.eye(k) / weight.sum()
    if isinstance(metric, str) and metric == "balanced_accuracy":
        per_class = np.bincount(y, weights=weight, minlength=k)
        present = per_class > 0
        diag = np.where(present, 1.0 / (present.sum() * np.maximum(per_class, 1e-300)), 0.0)
        return np.diag(diag)
    gain = np.asarray(metric, dtype=np.float64) if not isinstance(metric, str) else None
    if gain is None or gain.shape != (k, k) or not np.isfinite(gain).all():
        raise InputError(BAD_METRIC.format(k=k, given=metric))
    return gain / weight.sum()


def _constraint_pairs(constraints: Sequence[Any]) -> list[tuple[Any, float]]:
    out = []
    for c in constraints:
        if hasattr(c, "metric") and hasattr(c, "bound"):
            name, bound = c.metric, c.bound
        elif isinstance(c, (tuple, list)) and len(c) == 2:
            name, bound = c
        else:
            raise InputError(BAD_CONSTRAINT.format(given=c))
        out.append((multiclass_measure(name), float(bound)))
    return out


@dataclass(frozen=True)
class Program:
    """The program's data. Variables ``x = vec(W)`` of shape (H, C, k), then bands.

    ``mass[h, c, g, t]``: weight of rows of cell ``c``, class ``t``, measured in group ``g``,
    that decide with matrix ``h``; every rate of every group is linear in ``x`` with
    coefficients from it (:meth:`rate`)."""

    mass: np.ndarray  # (H, C, G, k)
    gain: np.ndarray  # (H, C, k): objective coefficient of each weight
    rows: np.ndarray  # (G, k): rows (counts) of each group and class, for the ratio floors

    @property
    def shape(self) -> tuple[int, int, int]:
        h, c, _, k = self.mass.shape
        return h, c, k

    def rate(self, rate: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``coef`` of shape (G, k, H, C) and ``const`` (G, k) such that group g's rate of
        class j is ``sum_{h,c} coef[g, j, h, c] * W[h, c, j] + const[g, j]``; and which
        (g, j) are defined (a non-empty denominator)."""
        m = self.mass  # (H, C, G, t)
        size = m.sum(axis=(0, 1, 3))  # (G,)
        per_class = m.sum(axis=(0, 1))  # (G, k)
        cell_total = m.sum(axis=3)  # (H, C, G)
        # (H, C, G, k): for final class j, rows of (h, c, g) with true class j
        own = m
        k = m.shape[3]
        const = np.zeros(per_class.shape)
        if rate == "selection":
            den = np.repeat(size[:, None], k, axis=1)
            num = np.repeat(cell_total[..., None], k, axis=3)
        elif rate in ("tpr", "fnr"):
            den, num = per_class, own
        elif rate == "fpr":
            den = size[:, None] - per_class
            num = cell_total[..., None] - own
        else:
            raise ValueError(rate)
        defined = den > 0
        coef = np.where(defined, 1.0 / np.where(defined, den, 1.0), 0.0)  # (G, k)
        coef = num.transpose(2, 3, 0, 1) * coef[:, :, None, None]  # (G, k, H, C)
        if rate == "fnr":
            coef, const = -coef, np.where(defined, 1.0, 0.0)
        return coef, const, defined


def build_program(
    scores: np.ndarray,
    y: np.ndarray,
    cells: Any,
    decide: np.ndarray,
    measure: np.ndarray,
    gain: np.ndarray,
    weight: np.ndarray,
) -> Program:
    """The program of rows with decision weights ``decide`` (n, H) and measurement weights
    ``measure`` (n, G) (one-hot groups, or P(group | x))."""
    k = cells.n_classes
    n_cells = cells.n_cells
    cell = cells.assign(scores)
    key = cell * k + y
    n_h, n_g = decide.shape[1], measure.shape[1]
    mass = np.zeros((n_h, n_g, n_cells * k))
    for h in range(n_h):
        for g in range(n_g):
            w = decide[:, h] * measure[:, g] * weight
            mass[h, g] = np.bincount(key, weights=w, minlength=n_cells * k)
    mass = mass.reshape(n_h, n_g, n_cells, k).transpose(0, 2, 1, 3)  # (H, C, G, k)
    flow = np.zeros((n_h, n_cells * k))  # (h, c, t): decision mass regardless of group
    for h in range(n_h):
        flow[h] = np.bincount(key, weights=decide[:, h] * weight, minlength=n_cells * k)
    flow = flow.reshape(n_h, n_cells, k)
    rows = np.zeros((n_g, k))
    for g in range(n_g):
        rows[g] = np.bincount(y, weights=measure[:, g], minlength=k)
    return Program(mass, flow @ gain, rows)


def _bands(
    program: Program,
    constraints: list[tuple[Any, float]],
    favourable: list[int] | None,
    tolerance: float,
    floors: bool,
) -> tuple[np.ndarray, np.ndarray, int]:
    """``A_ub``, ``b_ub`` over (weights, bands) and the number of band variables."""
    n_h, n_c, k = program.shape
    n_w = n_h * n_c * k
    classes = list(range(k)) if favourable is None else favourable
    items = [(m, b, r, j) for m, b in constraints for r in m.rates for j in classes]
    n_vars = n_w + 2 * len(items)
    a_rows: list[np.ndarray] = []
    b_rows: list[float] = []
    linear_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for i, (measure, bound, rate, j) in enumerate(items):
        if rate not in linear_cache:
            linear_cache[rate] = program.rate(rate)
        coef, const, defined = linear_cache[rate]
        lo, hi = n_w + 2 * i, n_w + 2 * i + 1
        share = max(1.0 - tolerance * (1.0 - bound), 0.0) if measure.is_ratio else tolerance * bound
        for g in np.flatnonzero(defined[:, j]):
            linear = np.zeros((n_h, n_c, k))
            linear[:, :, j] = coef[g, j]
            below, above = np.zeros(n_vars), np.zeros(n_vars)
            below[:n_w], below[hi] = linear.ravel(), -1.0  # rate - hi <= -const
            above[:n_w] = -linear.ravel()  # share * hi - rate <= const  |  lo - rate <= const
            above[hi if measure.is_ratio else lo] = share if measure.is_ratio else 1.0
            a_rows += [below, above]
            b_rows += [-const[g, j], const[g, j]]
            if floors and measure.is_ratio:
                den = (
                    program.rows[g].sum()
                    if rate == "selection"
                    else _rate_rows(program, g, j, rate)
                )
                if den > 0:  # -rate <= const - 1 / rows
                    floor = np.zeros(n_vars)
                    floor[:n_w] = -linear.ravel()
                    a_rows.append(floor)
                    b_rows.append(const[g, j] - 1.0 / den)
        if not measure.is_ratio:
            width = np.zeros(n_vars)
            width[hi], width[lo] = 1.0, -1.0
            a_rows.append(width)
            b_rows.append(share)
    a_ub = np.array(a_rows).reshape(len(a_rows), n_vars)
    return a_ub, np.array(b_rows), 2 * len(items)


def _rate_rows(program: Program, g: int, j: int, rate: str) -> float:
    own = program.rows[g, j]
    return float(program.rows[g].sum() - own if rate == "fpr" else own)


def solve(
    program: Program,
    constraints: list[tuple[Any, float]],
    favourable: list[int] | None,
    tolerance: float,
    floors: bool,
) -> np.ndarray | None:
    """Mixing weights (H, C, k) maximising the gain; None when HiGHS finds no solution."""
    n_h, n_c, k = program.shape
    n_w = n_h * n_c * k
    a_ub, b_ub, n_bands = _bands(program, constraints, favourable, tolerance, floors)
    n_vars = n_w + n_bands
    a_eq = np.zeros((n_h * n_c, n_vars))
    for row in range(n_h * n_c):
        a_eq[row, row * k : (row + 1) * k] = 1.0
    cost = np.zeros(n_vars)
    cost[:n_w] = -program.gain.ravel()
    result = linprog(
        cost, A_ub=a_ub if len(a_ub) else None, b_ub=b_ub if len(a_ub) else None,
        A_eq=a_eq, b_eq=np.ones(n_h * n_c), bounds=(0.0, 1.0), method="highs",
        options=_LP_OPTIONS,
    )  # fmt: skip
    if result.status != 0:
        return None
    w = np.clip(result.x[:n_w], 0.0, None).reshape(n_h, n_c, k)
    w[w < 1e-12] = 0.0
    return w / w.sum(axis=2, keepdims=True)


def _model_decision(program: Program, cells: Any) -> np.ndarray:
    """Every (group, cell) keeps its argmax class: the model's own decision, what no
    constraint asks to change (re-labelling cells to fit the validation rows better
    without a constraint would only fit their noise)."""
    n_h = program.shape[0]
    return np.repeat(np.eye(cells.n_classes)[cells.argmax_of_cell()][None], n_h, axis=0)


def _settle_unused(w: np.ndarray, program: Program, cells: Any) -> np.ndarray:
    """Weights of (group, cell)s without fitting rows keep the argmax class: the program
    left them arbitrary."""
    used = program.mass.sum(axis=(2, 3)) > 0  # (H, C)
    keep = np.eye(cells.n_classes)[cells.argmax_of_cell()]  # (C, k)
    return np.where(used[:, :, None], w, keep[None, :, :])


def program_rates(program: Program, w: np.ndarray) -> dict[str, np.ndarray]:
    """Each group's rates under mixing weights ``w``: rate -> (G, k), NaN where undefined."""
    out = {}
    for r in RATES:
        coef, const, defined = program.rate(r)
        value = np.einsum("gjhc,hcj->gj", coef, w) + const
        out[r] = np.where(defined, value, np.nan)
    return out
