"""``relaxed_thresholds``: the best randomized per-group threshold rule whose group rates
meet every constraint within a tolerance, found by one linear program (Cruz & Hardt,
"Unprocessing Seven Years of Algorithmic Fairness", ICLR 2024).

A rule that accepts a group's rows by a threshold on the score, or at random between
thresholds, lands on a point (FPR, TPR) of the convex hull of that group's ROC points,
and every point of the hull is reached by mixing the thresholds at its vertices. The
group's selection rate, TPR, FPR and FNR, and accuracy or balanced accuracy (a weight per
correct negative and per correct positive, :func:`~fairautoml.measures.metrics.class_weights`), are
linear in the mixing weights, so a linear program over them finds the best such rule on
these rows exactly, where a search over a grid of thresholds only approximates it. Other
metrics use accuracy as the proxy. A difference bound ``b`` becomes a band
``lo <= rate_g <= hi`` with ``hi - lo <= b``; a ratio bound ``rho`` becomes
``rho * hi <= rate_g <= hi``, each rate at one row's worth or more so that the ratio is
defined. A constraint on some sensitive attributes bands its groups' pooled rates (each
cell's rate weighted by its rows), linear in the same weights. ``tolerance`` is the share
of each bound the program may use (``b' = tolerance * b``,
``rho' = 1 - tolerance * (1 - rho)``); below 1 it leaves a margin against the noise of
small validation groups.

The rule accepts a row of group g with probability ``p_g(s) = sum_i w_gi [s >= t_gi]``, a
step function of the score that reproduces the program's rates on the fitting rows. The
draw is :func:`~fairautoml.mitigators._row_hash.row_uniform` of (score, group,
seed, the row's key from its features), so the same row always gets the same decision,
whatever the batch, and rows tied on the score are drawn each on its own.

In a weighted fit (``sample_weight``) every rate, pooled rate and the metric's gain count
each row by its weight: on integer weights, the rule of the rows repeated that many times.
A ratio's floor is then one row's worth of the *lightest* row (its weight over the group's
total): one row of unit weight unweighted, scale-free with survey weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import linprog

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric, class_weights
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators._row_hash import row_uniform
from fairautoml.mitigators.group_thresholds import _group_curves
from fairautoml.mitigators.registry import register_mitigator

RATES = ("selection", "tpr", "fpr", "fnr")
_WIDEN = (1.5, 2.0, 3.0, 5.0)  # if HiGHS fails: wider shares of the bounds, then none
# tighter than HiGHS' default 1e-7, so the rule's rates meet the relaxed bounds to ~1e-10
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True)
class RelaxedThresholdRule(DecisionRule):
    """Per group, ascending ``thresholds`` and the acceptance probability ``accept[k]`` of a
    score with ``k`` thresholds at or below it; ``rates`` (rate -> per-group values) and
    ``objective`` are what the program predicted on the fitting rows."""

    thresholds: tuple[np.ndarray, ...]
    accept: tuple[np.ndarray, ...]
    seed: int
    rates: dict[str, np.ndarray]
    objective: float
    feasible: bool = True
    needs_group = True
    draws = True

    def accept_probability(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """``p_g(s)``: the probability the rule accepts each row (before the draw)."""
        s, groups = np.asarray(scores, dtype=np.float64), np.asarray(groups)
        out = np.zeros(len(s))
        for g, (t, a) in enumerate(zip(self.thresholds, self.accept, strict=True)):
            rows = groups == g
            out[rows] = a[np.searchsorted(t, s[rows], side="right")]
        return out

    def predict_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, row_keys: np.ndarray | None = None
    ) -> np.ndarray:
        """The drawn decision as a score: accepted rows in [0.5, 1], rejected in [0, 0.5),
        each side ordered by the mean of ``p_g(s)`` and the score (not calibrated)."""
        assert groups is not None, "relaxed_thresholds needs the group of every row"
        s = np.asarray(scores, dtype=np.float64)
        p = self.accept_probability(s, groups)
        accept = p >= row_uniform(s, groups, self.seed, row_keys)
        key = 0.5 * (p + np.clip(s, 0.0, 1.0))  # < 1 on rejected rows (their p < 1)
        return np.where(accept, 0.5 + 0.5 * key, 0.5 * key).astype(np.float64)


class _Hull(NamedTuple):
    """A group's ROC hull vertices: their thresholds, rates and metric gains; the rows
    (total weight) each rate is taken over, and its lightest row's weight."""

    thresholds: np.ndarray
    rates: dict[str, np.ndarray]
    gain: np.ndarray
    rows: dict[str, float]
    units: dict[str, float]


def hull_vertices(fpr: np.ndarray, tpr: np.ndarray) -> np.ndarray:
    """Indices of the convex hull's vertices of ROC points sorted by (fpr, tpr).

    The upper chain holds the useful points; the lower one matters only where a group's
    scores do worse than chance, and keeping it makes the program exact over all mixtures.
    """
    x, y = fpr.tolist(), tpr.tolist()

    def chain(sign: float) -> list[int]:
        out: list[int] = []
        for i in range(len(x)):
            while len(out) >= 2:
                a, b = out[-2], out[-1]
                cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
                if sign * cross < 0:
                    break
                out.pop()
            out.append(i)
        return out

    return np.array(sorted(set(chain(1.0)) | set(chain(-1.0))), dtype=np.int64)


def rate_rows(
    y: np.ndarray, weight: np.ndarray | None = None
) -> tuple[dict[str, float], dict[str, float]]:
    """The rows (their total weight) each rate of these rows is taken over, and the weight
    of its lightest row (1 each, unweighted; 1 where a rate has no rows)."""
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    strata = {"selection": np.ones(len(y), dtype=bool), "tpr": y == 1, "fpr": y == 0}
    strata["fnr"] = strata["tpr"]
    rows = {r: float(np.sum(w[m])) for r, m in strata.items()}
    units = {r: float(np.min(w[m & (w > 0)], initial=np.inf)) for r, m in strata.items()}
    return rows, {r: u if np.isfinite(u) else 1.0 for r, u in units.items()}


def _hull(
    scores: np.ndarray, y: np.ndarray, w_neg: float, w_pos: float, weight: np.ndarray | None
) -> _Hull:
    thresholds, rates, gain = _group_curves(scores, y, w_neg, w_pos, weight)
    keep = hull_vertices(rates["fpr"], rates["tpr"])
    rows, units = rate_rows(y, weight)
    kept = {r: v[keep] for r, v in rates.items()}
    return _Hull(thresholds[keep], kept, gain[keep], rows, units)


def relaxed_bound(constraint: Constraint, tolerance: float) -> float:
    """The bound the program enforces: ``tolerance`` times the allowed gap (or shortfall)."""
    if constraint.is_ratio:
        return max(1.0 - tolerance * (1.0 - constraint.bound), 0.0)
    return tolerance * constraint.bound


class Program(NamedTuple):
    """The linear program over mixing weights: per *cell* (a set of rows that share one
    randomized threshold: a group here, an inferred group in ``inferred_thresholds``) its
    candidate thresholds' weights sum to 1; every group's rates are linear in the weights.
    """

    gain: np.ndarray  # metric gain per weight
    cells: list[slice]  # the weights of each cell
    rates: dict[str, np.ndarray]  # rate -> (n_groups, n_weights): group g's rate = row g @ w
    rows: dict[str, np.ndarray]  # rate -> (n_groups,): rows (total weight) of each group's rate
    codes: np.ndarray | None = None  # each group's code (None: 0 .. n_groups - 1)
    # rate -> (n_groups,): the weight of each group's lightest row there (None: 1 each)
    units: dict[str, np.ndarray] | None = None


def _program(hulls: list[_Hull], codes: Sequence[int]) -> Program:
    """Per-group thresholds: each group (of these ``codes``) is its own cell, its rates read
    from its hull."""
    offsets = np.cumsum([0, *(len(h.gain) for h in hulls)])
    cells = [slice(a, b) for a, b in itertools.pairwise(offsets)]
    rates = {r: np.zeros((len(hulls), int(offsets[-1]))) for r in RATES}
    for g, (h, cell) in enumerate(zip(hulls, cells, strict=True)):
        for r in RATES:
            rates[r][g, cell] = h.rates[r]
    rows = {r: np.array([h.rows[r] for h in hulls]) for r in RATES}
    units = {r: np.array([h.units[r] for h in hulls]) for r in RATES}
    gain = np.concatenate([h.gain for h in hulls])
    return Program(gain, cells, rates, rows, np.asarray(codes, dtype=np.int64), units)


def compared_rates(
    program: Program, constraint: Constraint, rate: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rates ``constraint`` compares, linear in the weights, the rows (total weight)
    each is taken over, and the weight of its lightest row: the groups' own, or for a
    constraint on some attributes, its groups' pooled rates (a pooled rate is its cells'
    rates weighted by their rows)."""
    linear, rows = program.rates[rate], np.asarray(program.rows[rate], dtype=np.float64)
    units = np.ones(len(rows)) if program.units is None else np.asarray(program.units[rate])
    if not constraint.attributes or constraint.projection is None:
        return linear, rows, units
    codes = program.codes if program.codes is not None else np.arange(len(rows))
    into = np.unique(constraint.groups_of(codes), return_inverse=True)[1].reshape(-1)
    inside = into[None, :] == np.arange(into.max() + 1)[:, None]
    member = inside * rows[None, :]
    total = member.sum(axis=1)
    lightest = np.where(inside & (rows > 0)[None, :], units[None, :], np.inf).min(axis=1)
    keep = total > 0
    return (member[keep] / total[keep, None]) @ linear, total[keep], lightest[keep]


def _band_rows(
    program: Program, constraints: Sequence[Constraint], tolerance: float, floors: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """``A_ub``, ``b_ub`` keeping every constrained rate of every group in its band, and the
    number of band variables (``lo``, ``hi`` per constrained rate, after the weights).

    Under a ratio, each group's rate is also kept at one row's worth or more (its lightest
    row's weight over its rows' total, in a weighted fit): rates of zero meet
    ``rho * hi <= rate_g`` but leave the measured ratio undefined (a violation).
    """
    n_weights = len(program.gain)
    bands = [
        (c.is_ratio, relaxed_bound(c, tolerance), *compared_rates(program, c, r))
        for c in constraints
        for r in c.rates
    ]
    n_vars = n_weights + 2 * len(bands)
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    for k, (is_ratio, bound, rates, n_rows, units) in enumerate(bands):
        lo, hi = n_weights + 2 * k, n_weights + 2 * k + 1
        for g, linear in enumerate(rates):
            below, above = np.zeros(n_vars), np.zeros(n_vars)
            below[:n_weights], below[hi] = linear, -1.0  # rate_g - hi <= 0
            above[:n_weights] = -linear  # rho * hi - rate_g <= 0, or lo - rate_g <= 0
            above[hi if is_ratio else lo] = bound if is_ratio else 1.0
            rows += [below, above]
            rhs += [0.0, 0.0]
            if floors and is_ratio and n_rows[g]:  # -rate_g <= -unit / rows
                floor = np.zeros(n_vars)
                floor[:n_weights] = -linear
                rows.append(floor)
                rhs.append(-units[g] / n_rows[g])
        if not is_ratio:
            width = np.zeros(n_vars)  # hi - lo <= bound
            width[hi], width[lo] = 1.0, -1.0
            rows.append(width)
            rhs.append(bound)
    return np.array(rows).reshape(len(rows), n_vars), np.array(rhs), 2 * len(bands)


def solve(
    program: Program, constraints: Sequence[Constraint], tolerance: float, floors: bool
) -> list[np.ndarray] | None:
    """Mixing weights per cell that maximise the summed gain; None if HiGHS fails."""
    n_weights = len(program.gain)
    a_ub, b_ub, n_bands = _band_rows(program, constraints, tolerance, floors)
    a_eq = np.zeros((len(program.cells), n_weights + n_bands))
    for i, cell in enumerate(program.cells):
        a_eq[i, cell] = 1.0
    cost = np.zeros(n_weights + n_bands)
    cost[:n_weights] = -program.gain
    result = linprog(
        cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(len(program.cells)),
        bounds=(0.0, 1.0), method="highs", options=_LP_OPTIONS,
    )  # fmt: skip
    if result.status != 0:
        return None
    x = np.clip(result.x[:n_weights], 0.0, None)
    x[x < 1e-12] = 0.0
    return [x[cell] / x[cell].sum() for cell in program.cells]


def best_alone(program: Program) -> list[np.ndarray]:
    """Each cell's best threshold alone: what no constraint asks to change."""
    return [
        np.eye(len(program.gain[cell]))[int(np.argmax(program.gain[cell]))]
        for cell in program.cells
    ]


def program_weights(
    program: Program, constraints: Sequence[Constraint], tolerance: float
) -> tuple[list[np.ndarray], bool]:
    """The program's weights, and whether the first attempt, the one asked for, succeeded:
    without the ratios' floors next, then with wider shares of the bounds, last each cell's
    best threshold alone."""
    if not constraints:
        return best_alone(program), True
    wider = (max(tolerance, 0.2) * k for k in _WIDEN)
    attempts = [(tolerance, True), (tolerance, False), *((share, False) for share in wider)]
    for i, (share, floors) in enumerate(attempts):
        weights = solve(program, constraints, share, floors)
        if weights is not None:
            return weights, i == 0
    return best_alone(program), False


def fit_relaxed_thresholds(
    scores: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    constraints: Sequence[Constraint],
    metric: Metric,
    tolerance: float = 1.0,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
) -> RelaxedThresholdRule:
    """The best randomized per-group threshold rule on these rows (see the module docstring).

    Parameters
    ----------
    scores, y, groups : array-like of shape (n_samples,)
        Held-out scores, 0/1 labels and group codes ``0 .. n_groups - 1``.
    tolerance : float
        Share of each constraint's bound the rule may use; 0 asks for exact parity.
    seed : int
        Seed of the per-row draws.
    sample_weight : array-like of shape (n_samples,), optional
        Row weights: every rate and the metric's gain count a row by its weight.

    Differences can always be met (every group at the same point of the diagonal); a ratio
    cannot when a group has no rows for the rate (no positives, under a TPR ratio). Then
    the rule, marked ``feasible=False``, is the program's without the ratios' floors (see
    :func:`_band_rows`); should HiGHS fail even so, the shares widen and, last, each group
    takes its best threshold. A group without rows here accepts scores from 0.5.
    """
    scores, y, groups = np.asarray(scores, np.float64), np.asarray(y), np.asarray(groups)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    w_neg, w_pos = class_weights(metric, y, w)
    present = [g for g in range(n_groups) if np.any(groups == g)]
    hulls = [
        _hull(
            scores[groups == g], y[groups == g], w_neg, w_pos, None if w is None else w[groups == g]
        )
        for g in present
    ]
    weights, feasible = program_weights(_program(hulls, present), constraints, tolerance)
    return _rule(n_groups, present, hulls, weights, seed, feasible)


def step_function(thresholds: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A cell's mixture of thresholds as ascending thresholds and the acceptance probability
    of a score with ``k`` of them at or below it (see :class:`RelaxedThresholdRule`)."""
    used = (weights > 0) & (thresholds < np.inf)  # +inf accepts nobody
    order = np.argsort(thresholds[used])
    cumulative = np.concatenate([[0.0], np.cumsum(weights[used][order])])
    if abs(cumulative[-1] - 1.0) < 1e-9:
        cumulative[-1] = 1.0  # the top scores are accepted for sure
    return thresholds[used][order], np.clip(cumulative, 0.0, 1.0)


def rule_seed_and_tolerance(params: dict[str, Any], random_state: int | None) -> tuple[int, float]:
    """The per-row draws' seed (``random_state``, else a random one) and the ``tolerance``."""
    seed = random_state if random_state is not None else int(np.random.randint(2**31))
    return seed, float(params.get("tolerance", 1.0))


def _rule(
    n_groups: int,
    present: list[int],
    hulls: list[_Hull],
    weights: list[np.ndarray],
    seed: int,
    feasible: bool,
) -> RelaxedThresholdRule:
    """The step functions ``p_g`` of the groups' weights, with the program's predictions."""
    thresholds = [np.array([0.5])] * n_groups
    accept = [np.array([0.0, 1.0])] * n_groups
    rates = {r: np.full(n_groups, np.nan) for r in RATES}
    objective = 0.0
    for g, h, w in zip(present, hulls, weights, strict=True):
        thresholds[g], accept[g] = step_function(h.thresholds, w)
        for r in RATES:
            rates[r][g] = float(w @ h.rates[r])
        objective += float(w @ h.gain)
    return RelaxedThresholdRule(tuple(thresholds), tuple(accept), seed, rates, objective, feasible)


@register_mitigator
class RelaxedThresholds(PostProcessor):
    name = "relaxed_thresholds"
    needs_group_at_predict = True
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
        sample_weight: np.ndarray | None = None,
    ) -> DecisionRule:
        seed, tolerance = rule_seed_and_tolerance(params, random_state)
        return fit_relaxed_thresholds(
            scores, y, groups, constraints, metric, tolerance, seed, sample_weight
        )
