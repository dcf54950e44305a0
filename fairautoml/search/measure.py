"""A point measured on the validation rows: the metric on every row, each constraint with
its interval on the rows fairness is measured on (under a robust shift claim, the worst
case over a set of reweightings), the pick's diagnostics, and the rule noise of a
cross-fitted post-processing rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fairautoml.measures.claims import (
    assurance,
    robust_violation,
    rule_noise,
    worst_case,
    worst_violation,
)
from fairautoml.measures.constraints import evaluate_constraints, evaluate_intervals
from fairautoml.measures.membership import regression_point, regression_values
from fairautoml.study.trial import (
    Candidate,
    SearchContext,
    TrialResult,
)


def compact(decisions: np.ndarray) -> np.ndarray:
    """Decisions in the smallest integer type that holds them (class codes, 0/1); amounts
    as they are: a worker process sends them back with every point."""
    values = np.asarray(decisions)
    if values.dtype.kind in "iub" and (
        values.size == 0 or (values.min() >= 0 and values.max() < 128)
    ):
        return values.astype(np.int8)
    return values


def _constraint_values(
    ctx: SearchContext,
    pred: np.ndarray,
    with_intervals: bool = False,
    scores: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Each constraint's value for decisions ``pred`` on the rows fairness is measured on,
    and (``with_intervals``) its bootstrap interval: the one place the search measures
    them. Under a robust shift claim (``fit(..., shift_robust=True)``), the worst case
    over the reweightings of :attr:`~fairautoml.study.trial.SearchContext.val_weight_set`
    (:func:`~fairautoml.measures.claims.worst_case`); else under the rows' weights."""
    reweightings = ctx.val_weight_set
    if reweightings is None:
        return _values_under(ctx, pred, ctx.val_weight, with_intervals, scores)
    points = [_values_under(ctx, pred, w, with_intervals, scores) for w in reweightings]
    return worst_case(ctx.constraints, points)


def _values_under(
    ctx: SearchContext,
    pred: np.ndarray,
    w_val: np.ndarray | None,
    with_intervals: bool,
    scores: np.ndarray | None,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """:func:`_constraint_values` with the validation rows weighted by ``w_val``: from the
    groups' rows, or, where the fit was given membership probabilities instead of groups,
    by the regression estimator
    (:func:`~fairautoml.measures.membership.regression_point`). ``scores``: the point's
    probabilities, read by the constraints on their calibration within groups."""
    _, y_val, _ = ctx.val
    fair = ctx.fairness_rows
    y_fair, pred_fair = fair.take(y_val), fair.take(pred)
    read = scores is not None and any(c.reads_scores for c in ctx.constraints)
    scores_fair = fair.take(scores) if read else None
    w_fair = None if w_val is None else fair.take(w_val)
    counted_by = ctx.fairness_membership
    if fair.probabilities is not None:
        P = fair.probabilities
        if not with_intervals:
            return regression_values(ctx.constraints, y_fair, pred_fair, P, w_fair), {}
        return regression_point(
            ctx.constraints, y_fair, pred_fair, P, w_fair, level=ctx.interval_level,
            random_state=ctx.random_state,
        )  # fmt: skip
    values = evaluate_constraints(
        ctx.constraints, y_fair, pred_fair, fair.groups, w_fair, counted_by, scores_fair
    )
    if not with_intervals:
        return values, {}
    intervals = evaluate_intervals(
        ctx.constraints, y_fair, pred_fair, fair.groups,
        level=ctx.interval_level, random_state=ctx.random_state, sample_weight=w_fair,
        membership=counted_by, scores=scores_fair,
    )  # fmt: skip
    return values, intervals


def measured(
    candidate: Candidate,
    ctx: SearchContext,
    proba: np.ndarray,
    fit_time: float = 0.0,
    fold_rules: Sequence[np.ndarray] = (),
) -> TrialResult:
    """The point of decisions ``proba`` on the validation rows: the metric (weighted) on
    every row, the constraints with their intervals on the rows fairness is measured on
    (:attr:`~fairautoml.study.trial.SearchContext.fairness_rows`), the pick's diagnostics.
    ``fold_rules``: a post-processed point's cross-fitting rules' probabilities on every
    row, whose spread is the rule's fitting noise (recorded beside the intervals; the pick
    does not read it: docs/decisions.md, "The rule's fitting noise in the interval")."""
    _, y_val, _ = ctx.val
    w_val = ctx.val_weight
    pred = ctx.task.decide(proba)
    values, intervals = _constraint_values(ctx, pred, with_intervals=True, scores=proba)
    noise = rule_noise(
        [_constraint_values(ctx, ctx.task.decide(p), scores=p)[0] for p in fold_rules]
    )
    return TrialResult(
        candidate,
        "ok",
        metric=ctx.metric.measure(y_val, pred, proba, w_val),
        constraint_values=values,
        violation=worst_violation(ctx.constraints, values),
        fit_time=fit_time,
        constraint_intervals=intervals,
        robust_violation=robust_violation(ctx.constraints, intervals),
        diagnostics=ctx.task.diagnostics(y_val, pred, w_val),
        assurance=assurance(ctx.constraints, values, intervals, ctx.interval_level),
        rule_noise=noise,
    )
