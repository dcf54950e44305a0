"""The multiclass post-processing linear program: the most accurate randomized re-labelling
of a score model's classes whose groups' one-vs-rest rates meet the constraints.

**Variables.** As in Putzel & Lee (2022, "Blackbox Post-Processing for Multiclass
Fairness"), the rule is a *mixing matrix* per group: ``W[h, c, j] = P(final class j |
score cell c, group h)``. Putzel & Lee's cells are the base model's predicted class; here
a cell is the predicted class *and* a bin of its margin over the runner-up
(``n_bins`` per class, pooled quantiles), so the program can re-label the rows the model
is least sure of first. Every group's confusion counts, hence its selection rates, TPRs
and FPRs per class, and accuracy or any metric linear in the confusion counts, are linear
in ``W``, so one program (HiGHS through ``scipy.optimize.linprog``, like
:mod:`~fairautoml.mitigators.relaxed_thresholds`) finds the best such rule on the fitting
rows exactly; its predicted rates are what the rule does there, in expectation. Xian, Yin
& Zhao (ICML 2023, "Fair and Optimal Classification via Post-Processing") show the
Bayes-optimal fair rule is an argmax of per-group shifted scores, randomized at ties: the
limit of ever finer cells. We take the lookup table over the shifts because the program's
solution *is* the rule (no dual variables to recover, no ties to break), its size does not
grow with the rows (``G x cells x k`` weights), and the blind variant below stays linear.

**Bands.** A difference bound ``b`` on a rate of class ``j`` becomes a band
``lo_j <= rate_gj <= hi_j`` with ``hi_j - lo_j <= tolerance * b`` for every group ``g``; a
ratio bound ``rho`` becomes ``rho' hi_j <= rate_gj <= hi_j`` with
``rho' = 1 - tolerance (1 - rho)`` and each rate at one row's worth or more (so the ratio
is defined), as in the binary program. Only the favourable classes' rates are banded.

**Blind.** Without the group at predict time, a row uses ``sum_h q_h(x) W[h, c(x)]``, its
matrices mixed by ``q(x) = P(group | x)``; the rates of the *true* groups (or, with no
groups given, of the soft memberships ``q``) stay linear in ``W``. With one-hot ``q`` the
rule is the group-aware one.

**Randomization.** Each row's class is drawn from its row of probabilities with a uniform
that is a SplitMix64 hash of the row's scores (and group, when the rule reads it), its key
from its features when given, and the seed, like
:func:`~fairautoml.mitigators._row_hash.row_uniform`: the same row always gets
the same class, whatever the batch, and rows tied on every score are drawn each on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairautoml.exceptions import InputError
from fairautoml.measures.multiclass import check_favourable
from fairautoml.mitigators._base import DecisionRule
from fairautoml.mitigators._multiclass_lp_program import (
    _WIDEN,
    Program,
    _constraint_pairs,
    _model_decision,
    _settle_unused,
    build_program,
    gain_matrix,
    program_rates,
    solve,
)
from fairautoml.mitigators._row_hash import row_uniform_matrix

_PROBA_ATOL = 1e-6

SCORES_SHAPE = (
    "scores must be class probabilities of shape (n_rows, n_classes) with n_classes >= 2; "
    "got shape {shape}. Pass predict_proba's output, columns in classes_ order."
)
SCORES_NOT_FINITE = "scores has {n} missing or infinite value(s); the model's output is broken."
GROUP_PROBA_SHAPE = (
    "group_proba must have shape (n_rows, n_groups) = ({n}, {g}) holding P(group | x) that "
    "sum to 1 per row; got {given}."
)
GROUPS_NOT_CODES = (
    "groups must be integer codes 0 .. {last} of the groups the rule was fitted on; got "
    "{examples}. Encode them as the fit did."
)
NEEDS_GROUPS = "This rule reads the group of each row; pass groups (codes 0 .. {last})."
NEEDS_GROUP_PROBA = "This blind rule reads P(group | x); pass group_proba of shape (n, {g})."
NO_GROUPS = "Pass groups (codes) or group_proba (P(group | x)) to fit the rule."
BAD_TOLERANCE = "tolerance must lie in [0, 1] (the share of each bound used); got {tolerance!r}."


# --- score cells -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreCells:
    """Cell of a row: its argmax class times ``n_bins`` plus the bin of its margin over the
    runner-up, cut at ``edges[argmax]`` (ascending inner quantiles of the fitting rows')."""

    n_classes: int
    n_bins: int
    edges: tuple[np.ndarray, ...]

    @property
    def n_cells(self) -> int:
        return self.n_classes * self.n_bins

    def assign(self, scores: np.ndarray) -> np.ndarray:
        top, margin = _top_and_margin(scores)
        bins = np.zeros(len(top), dtype=np.int64)
        for c in range(self.n_classes):
            rows = top == c
            if rows.any() and self.edges[c].size:
                bins[rows] = np.searchsorted(self.edges[c], margin[rows], side="right")
        return top * self.n_bins + bins

    def argmax_of_cell(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_classes), self.n_bins)


def _top_and_margin(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = np.argmax(scores, axis=1)
    if scores.shape[1] < 2:
        return top, np.zeros(len(top))
    part = np.partition(scores, -2, axis=1)
    return top.astype(np.int64), part[:, -1] - part[:, -2]


def fit_cells(scores: np.ndarray, n_bins: int) -> ScoreCells:
    """``n_bins`` margin bins per argmax class at the quantiles of its fitting rows' margins
    (fewer where the margins have fewer distinct values)."""
    k = scores.shape[1]
    top, margin = _top_and_margin(scores)
    edges = []
    for c in range(k):
        m = margin[top == c]
        if n_bins <= 1 or m.size < 2 * n_bins:
            edges.append(np.empty(0))
            continue
        inner = np.quantile(m, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
        edges.append(np.unique(inner))
    return ScoreCells(k, max(int(n_bins), 1), tuple(edges))


# --- per-row draws ------------------------------------------------------------------------


def draw_classes(proba: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The class of each row drawn from its row of ``proba`` by its uniform ``u`` in (0, 1]:
    the first class whose cumulative probability reaches ``u`` (never one of probability 0)."""
    cumulative = np.cumsum(proba, axis=1)
    cumulative[:, -1] = np.inf  # rounding never leaves a row without a class
    chosen = np.argmax(cumulative >= u[:, None], axis=1)
    # a zero-probability class can only be reached through rounding: step past it
    stuck = proba[np.arange(len(chosen)), chosen] <= 0
    if stuck.any():
        chosen[stuck] = np.argmax(proba[stuck], axis=1)
    return chosen.astype(np.int64)


# --- the rule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MulticlassLPRule(DecisionRule):
    """Per decision group ``h``, the mixing matrix ``mixing[h]`` of shape (cells, k): the
    probability of each final class for a row of that cell. ``rates`` (rate -> (G, k)) and
    ``objective`` are what the program predicted on the fitting rows; ``feasible`` is False
    when the bounds asked for could not be met there (see :func:`fit_multiclass_lp`)."""

    cells: ScoreCells
    mixing: np.ndarray
    seed: int
    rates: dict[str, np.ndarray]
    objective: float
    feasible: bool = True
    blind: bool = field(default=False, kw_only=True)
    draws = True

    @property
    def needs_group(self) -> bool:  # type: ignore[override]
        return not self.blind

    @property
    def needs_group_proba(self) -> bool:  # type: ignore[override]
        return self.blind

    @property
    def n_groups(self) -> int:
        return int(self.mixing.shape[0])

    def _decision_weights(
        self, n: int, groups: np.ndarray | None, group_proba: np.ndarray | None
    ) -> np.ndarray:
        if self.blind:
            if group_proba is None:
                raise InputError(NEEDS_GROUP_PROBA.format(g=self.n_groups))
            return _check_group_proba(group_proba, n, self.n_groups)
        if groups is None:
            raise InputError(NEEDS_GROUPS.format(last=self.n_groups - 1))
        return _one_hot(_group_codes(groups, n, self.n_groups), self.n_groups)

    def assignment_proba(
        self, scores: np.ndarray, groups: np.ndarray | None, group_proba: np.ndarray | None = None
    ) -> np.ndarray:
        """P(final class | row), shape (n, k), before the draw."""
        s = _check_scores(scores, self.cells.n_classes)
        m = self._decision_weights(len(s), groups, group_proba)
        cell = self.cells.assign(s)
        return np.einsum("nh,nhj->nj", m, self.mixing[:, cell, :].transpose(1, 0, 2))

    def predict(
        self, scores: np.ndarray, groups: np.ndarray | None, **extra: np.ndarray
    ) -> np.ndarray:
        """The drawn class code of each row (repeatable per row)."""
        return np.argmax(self.predict_proba(scores, groups, **extra), axis=1)

    def predict_proba(
        self,
        scores: np.ndarray,
        groups: np.ndarray | None,
        group_proba: np.ndarray | None = None,
        row_keys: np.ndarray | None = None,
    ) -> np.ndarray:
        """The drawn class as scores: ``(onehot(drawn) + assignment_proba) / 2``, rows summing
        to 1, whose argmax is the drawn class (it alone is above 1/2). Not calibrated."""
        s = _check_scores(scores, self.cells.n_classes)
        proba = self.assignment_proba(s, groups, group_proba)
        keys = None if self.blind else np.asarray(groups).ravel()
        drawn = draw_classes(proba, row_uniform_matrix(s, keys, self.seed, row_keys))
        return 0.5 * (np.eye(proba.shape[1])[drawn] + proba)


# --- checks ---------------------------------------------------------------------------------


def _check_scores(scores: Any, n_classes: int | None = None) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] < 2 or (n_classes is not None and s.shape[1] != n_classes):
        raise InputError(SCORES_SHAPE.format(shape=s.shape))
    bad = int(np.sum(~np.isfinite(s)))
    if bad:
        raise InputError(SCORES_NOT_FINITE.format(n=bad))
    return s


def _group_codes(groups: Any, n: int, n_groups: int | None = None) -> np.ndarray:
    g = np.asarray(groups).ravel()
    last = "n_groups - 1" if n_groups is None else n_groups - 1
    if g.size != n or g.dtype.kind not in "iu" or (g.size and g.min() < 0):
        examples = f"{g.size} value(s) of dtype {g.dtype}" if g.size != n else repr(g[:3])
        raise InputError(GROUPS_NOT_CODES.format(last=last, examples=examples))
    if n_groups is not None and g.size and g.max() >= n_groups:
        raise InputError(GROUPS_NOT_CODES.format(last=last, examples=repr(int(g.max()))))
    return g.astype(np.int64)


def _check_group_proba(group_proba: Any, n: int, n_groups: int | None = None) -> np.ndarray:
    q = np.asarray(group_proba, dtype=np.float64)
    g = q.shape[1] if q.ndim == 2 and n_groups is None else n_groups
    ok = q.ndim == 2 and q.shape == (n, g) and bool(np.isfinite(q).all()) and bool((q >= 0).all())
    if not ok or not np.allclose(q.sum(axis=1), 1.0, atol=_PROBA_ATOL):
        raise InputError(GROUP_PROBA_SHAPE.format(n=n, g=g, given=f"shape {q.shape}"))
    return q / q.sum(axis=1, keepdims=True)


def _one_hot(codes: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n)[codes]


# --- the program ----------------------------------------------------------------------------


def fit_multiclass_lp(
    scores: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None,
    constraints: Sequence[Any],
    *,
    group_proba: np.ndarray | None = None,
    blind: bool = False,
    favourable: Sequence[int] | None = None,
    metric: Any = "accuracy",
    tolerance: float = 1.0,
    n_bins: int = 4,
    sample_weight: np.ndarray | None = None,
    seed: int = 0,
) -> MulticlassLPRule:
    """The most accurate mixing-matrix rule on these rows whose groups' rates meet every
    constraint within ``tolerance`` of its bound (see the module docstring).

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes)
        Held-out class probabilities (or any scores whose argmax is the prediction).
    y : array-like of shape (n_samples,)
        Class codes ``0 .. n_classes - 1``.
    groups : array-like of shape (n_samples,) or None
        Group codes ``0 .. n_groups - 1``: the groups whose rates are constrained (and, unless
        ``blind``, the group each row decides with). None: the soft memberships
        ``group_proba`` are the measured groups.
    constraints : sequence
        ``(measure name, bound)`` pairs, or :class:`~fairautoml.measures.constraints.Constraint`s;
        names of :data:`~fairautoml.measures.multiclass.MULTICLASS_MEASURES`.
    group_proba : array-like of shape (n_samples, n_groups), optional
        P(group | x); required when ``blind`` or ``groups`` is None.
    blind : bool
        Decide from ``group_proba`` instead of the group.
    favourable : sequence of int, optional
        The classes whose rates are constrained (default: every class).
    metric : {"accuracy", "balanced_accuracy"} or ndarray of shape (k, k)
        What is maximised: linear in the confusion counts (``gain[true, predicted]``).
    tolerance : float in [0, 1]
        Share of each bound the rule may use; below 1 it leaves a margin for noise.
    n_bins : int
        Margin bins per argmax class (1: Putzel & Lee's matrices over the predicted class).
    sample_weight : array-like of shape (n_samples,), optional
        Row weights.
    seed : int
        Seed of the per-row draws.

    Returns
    -------
    MulticlassLPRule
        ``feasible=False`` when HiGHS could not meet the bounds as asked; the rule then
        comes from wider shares of the bounds, or, last, is the model's own argmax.
    """
    s = _check_scores(scores)
    n, k = s.shape
    y_codes = np.asarray(y).ravel()
    if (
        y_codes.size != n
        or y_codes.dtype.kind not in "iu"
        or y_codes.min() < 0
        or y_codes.max() >= k
    ):
        raise InputError(
            f"y must hold one class code 0 .. {k - 1} per row of scores ({n} rows); got "
            f"{y_codes.size} value(s) of dtype {y_codes.dtype}."
        )
    y_codes = y_codes.astype(np.int64)
    if not 0.0 <= float(tolerance) <= 1.0:
        raise InputError(BAD_TOLERANCE.format(tolerance=tolerance))
    if groups is None and group_proba is None:
        raise InputError(NO_GROUPS)
    q = None if group_proba is None else _check_group_proba(group_proba, n)
    n_groups = q.shape[1] if q is not None else int(_group_codes(groups, n).max()) + 1
    if groups is not None:
        codes = _group_codes(groups, n, n_groups)
        measured = _one_hot(codes, n_groups)
    else:
        codes, measured = None, q
    if blind and q is None:
        raise InputError(NEEDS_GROUP_PROBA.format(g=n_groups))
    decide = q if blind else measured
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if weight.shape != (n,) or not (np.isfinite(weight).all() and (weight >= 0).all()):
        raise InputError("sample_weight must be one finite, non-negative weight per row.")
    pairs = _constraint_pairs(constraints)
    fav = check_favourable(favourable, k)
    cells = fit_cells(s, n_bins)
    gain = gain_matrix(metric, y_codes, k, weight)
    program = build_program(s, y_codes, cells, decide, measured, gain, weight)
    w, feasible = _weights(program, pairs, fav, float(tolerance), cells)
    w = _settle_unused(w, program, cells)
    rates = program_rates(program, w)
    objective = float(np.sum(program.gain * w))
    return MulticlassLPRule(cells, w, int(seed), rates, objective, feasible, blind=blind)


def _weights(
    program: Program,
    pairs: list[tuple[Any, float]],
    favourable: list[int] | None,
    tolerance: float,
    cells: ScoreCells,
) -> tuple[np.ndarray, bool]:
    if not pairs:
        return _model_decision(program, cells), True
    wider = [min(max(tolerance, 0.2) * f, 1e6) for f in _WIDEN]
    attempts = [(tolerance, True), (tolerance, False), *((t, False) for t in wider)]
    for i, (share, floors) in enumerate(attempts):
        w = solve(program, pairs, favourable, share, floors)
        if w is not None:
            return w, i == 0
    return _model_decision(program, cells), False
