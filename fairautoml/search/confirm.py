"""Confirm the search's leading post-processed models on every row before the pick.

A holdout search fits each post-processing rule, and measures the rule's disparity, on
the validation rows alone: a quarter of the data. Where a group has few rows there, the
rule's thresholds carry that noise, the measured disparity carries it again, and the pick
needs a wide margin to keep its promise on new data. So after the search a few trained
models are *confirmed* (the most accurate *challenger* of the pick first, then the pick's
own model: :func:`leaders`): their configuration is
trained again by :data:`CONFIRM_FOLDS`-fold cross-validation over every row the search
had (training and validation), each row gets a score from the fold model that did not
train on it, and every cheap post-processor setting the search tried on that model is
fitted, cross-fitted and measured on all of those scores. Each setting is recorded as a new
trial marked ``confirmed`` (``derived_from`` the trial that trained the original model).

The pick prefers a confirmed point to an unconfirmed one of the same tier
(:meth:`~fairautoml.study.pick.PickPolicy.key`, cross-validated confirmation): it was
measured on four times the rows, and an unconfirmed point that ranks above it within the
tier mostly owes its rank to the noise of the smaller sample (the leaders were chosen on
that sample). Three folds, not five, so that a short search on tens of thousands of rows
more often has time for a challenger and the pick's own model (each fold model trains on
two thirds of the rows instead of four fifths; ``docs/decisions.md`` has the order and
fold count tried). A confirmed model is the fold models, each new row scored by one of them
(:class:`~fairautoml.mitigators.FoldModels`), with the rule fitted on all held-out
scores: the scores the rule meets after the search are distributed as those it was
fitted on.

Confirmation is for holdout searches (a cross-validated search already measures every
row). Above :data:`CONFIRM_MAX_ROWS` rows, where more trainings on every row would
cost more than they could tell (the validation rows are many), and the search trained its
models on a sample of the training rows (``max_search_rows``), a leader is confirmed by
training its configuration on *more training rows* instead: every one (at most
:data:`CONFIRM_MAX_TRAINING_ROWS`, a stratified sample of them above: a model trained on
ten million rows needs gigabytes beside the table and minutes a search rarely has left,
while beyond that sample more rows stop adding accuracy), or, where that would not end in
the time left, the largest stratified sample that would (a multiple of
:data:`SAMPLE_STEP` rows, at least :data:`MIN_GROWTH` times the rows the search trained it
on, else it is not confirmed): at a million rows a model trained on every row costs more
than a two-minute budget has left after the search, and one trained on a few times the
search's sample is still the more accurate model. The rows are recorded with the point
(its ``train_rows``), so a rebuild trains on the same sample. Its rules are fitted and
measured on the search's validation rows, as in the search, so the confirmed points are
the search's points of a model that saw more of the data, and the pick ranks them with
the others by the metric (``PickPolicy.confirmed_first`` off: measured on the same rows,
a confirmed point has no claim to rank first in its tier, and preferred there, a cheap,
weak leader confirmed where the stronger ones did not fit in the time left displaced a
more accurate pick: ``docs/decisions.md``). It runs while the time budget allows: the
search keeps back :data:`SPARE` times the first leader's expected cost
(:func:`confirmation_seconds`); each leader runs only if its expected cost, on the rows
:func:`confirmation_plan` gives it, fits in what is left of the budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.splits import cv_folds, subsample_rows
from fairautoml.search.evaluate import evaluate_with_posts
from fairautoml.search.post_settings import is_costly_post
from fairautoml.study import record
from fairautoml.study.pick import FEASIBLE, TIER_NAMES
from fairautoml.study.storage import data_fingerprint
from fairautoml.study.trial import Candidate, Evaluation, SearchContext

logger = logging.getLogger("fairautoml")

CONFIRM_FOLDS = 3  # fewer trainings: time to confirm a challenger beside the pick's model
CONFIRM_MAX_ROWS = 200_000  # above: confirmed by training on every training row instead
CONFIRM_MAX_TRAINING_ROWS = 1_000_000  # ... or on a stratified sample of this many
CROSS_VALIDATED = "cross_validated"  # how a search is confirmed (confirmation_kind)
ALL_TRAINING_ROWS = "all_training_rows"
HOW = {
    CROSS_VALIDATED: "its model was trained again by cross-validation over the training and "
    "validation rows, and these numbers are measured on all of them",
    ALL_TRAINING_ROWS: "its model was trained again on more training rows than the search's "
    f"sample (every one, at most {CONFIRM_MAX_TRAINING_ROWS:,}, or the largest stratified "
    "sample the time left allowed: the pipeline says how many), its rule fitted and measured "
    "on the validation rows",
}
CONFIRM_LEADERS = 3  # trained models confirmed at most, in the pick's order
SPARE = 1.2  # the search keeps back this many times the first leader's expected seconds
SAMPLE_STEP = 50_000  # a confirmation on a sample of the training rows: a multiple of this
MIN_GROWTH = 2.0  # ... and at least this many times the rows the search trained it on


def base_of(candidate: Candidate) -> Candidate:
    """The trained configuration behind a point: the candidate without post-processing."""
    return replace(candidate, post="none", post_params={})


def on_every_row(candidate: Candidate) -> Candidate:
    """The candidate trained on every row of its context (confirmation measures the model
    that would ship, whatever sample of rows the search trained it on)."""
    return replace(candidate, train_rows=None)


def confirmation_kind(ctx: SearchContext) -> str | None:
    """How a search in ``ctx`` is confirmed: :data:`CROSS_VALIDATED` (a holdout search of
    at most :data:`CONFIRM_MAX_ROWS` rows), :data:`ALL_TRAINING_ROWS` (a larger one that
    trained on a sample of its training rows), else None (cheap to ask after every trial)."""
    if ctx.cv_folds:
        return None
    n_rows = len(ctx.data.y)
    if n_rows <= CONFIRM_MAX_ROWS:
        return CROSS_VALIDATED
    if ctx.trains_on_sample:
        return ALL_TRAINING_ROWS
    return None


def confirmable(ctx: SearchContext) -> bool:
    """Whether a search in ``ctx`` is confirmed at all (:func:`confirmation_kind`)."""
    return confirmation_kind(ctx) is not None


def training_rows(ctx: SearchContext) -> np.ndarray:
    """Every row of a holdout split that is not a validation row (the search may have
    trained on a sample of them); above :data:`CONFIRM_MAX_TRAINING_ROWS`, a stratified
    sample of that many (the same for every rebuild of a confirmed pick)."""
    rows = np.ones(len(ctx.data.y), dtype=bool)
    rows[ctx.val_idx] = False
    rows = np.flatnonzero(rows)
    seed = 0 if ctx.random_state is None else ctx.random_state
    strata, groups = ctx.data.strata, ctx.data.stratified_on
    return subsample_rows(rows, strata, groups, CONFIRM_MAX_TRAINING_ROWS, seed)


def confirmation_context(ctx: SearchContext) -> SearchContext | None:
    """The context confirmed points are measured in (:func:`confirmation_kind`): every row
    scored by cross-validation, or training on every training row; None where the search
    is not confirmed."""
    kind = confirmation_kind(ctx)
    if kind is None:
        return None
    if kind == ALL_TRAINING_ROWS:
        return replace(ctx, train_idx=training_rows(ctx))
    n_rows = len(ctx.data.y)
    seed = ctx.random_state
    if seed is None:  # the same folds for every rebuild of a confirmed pick
        seed = int(data_fingerprint(ctx.data.X, ctx.data.y, ctx.data.groups)[:8], 16)
    every_row = np.arange(n_rows)
    folds = cv_folds(ctx.data.strata, ctx.data.stratified_on, CONFIRM_FOLDS, seed)
    return replace(ctx, train_idx=every_row, val_idx=every_row, cv_folds=folds)


def model_points(evaluations: Mapping[int, Evaluation], base: Candidate) -> list[Evaluation]:
    """The search's points of one trained model that confirming it measures again, raw
    point first: every cheap post-processor setting (costly ones, a classifier to train
    or a trade-off curve per group, would cost four times their search-time seconds)."""
    points = [
        e
        for e in evaluations.values()
        if not e.result.confirmed
        and base_of(e.result.candidate) == base
        and (e.result.candidate.post == "none" or not is_costly_post(e.result.candidate.post))
    ]
    return sorted(points, key=lambda e: e.result.candidate.post != "none")


def n_confirm_training_rows(ctx: SearchContext) -> int:
    """How many training rows a :data:`ALL_TRAINING_ROWS` confirmation can train on at
    most (:func:`training_rows`, without drawing them)."""
    return min(len(ctx.data.y) - len(ctx.val_idx), CONFIRM_MAX_TRAINING_ROWS)


def confirmation_seconds(
    points: list[Evaluation], ctx: SearchContext, rows: int | None = None
) -> float:
    """Expected seconds to confirm the model of ``points`` (:func:`model_points`): its
    training once per fold on the folds' share of every row, and its post-processing on
    all rows instead of the validation rows; or (:data:`ALL_TRAINING_ROWS`) its training
    on ``rows`` training rows (None: every one) and its post-processing as in the search.
    Training time is taken to grow in proportion to the rows."""
    if not points or points[0].result.candidate.post != "none":
        return float("inf")
    trained = points[0].result.fit_time
    trained_rows = max(ctx.n_training_rows(points[0].result.candidate), 1)
    post = sum(max(e.result.fit_time - trained, 0.0) for e in points[1:])
    if confirmation_kind(ctx) == ALL_TRAINING_ROWS:
        n_training = n_confirm_training_rows(ctx) if rows is None else rows
        return trained * n_training / trained_rows + post
    n_all = len(ctx.data.y)
    fold_rows = n_all * (CONFIRM_FOLDS - 1) / CONFIRM_FOLDS
    training = CONFIRM_FOLDS * trained * fold_rows / trained_rows
    return training + post * n_all / max(len(ctx.val_idx), 1)


def confirmation_plan(
    points: list[Evaluation], ctx: SearchContext, seconds: float | None
) -> tuple[int | None, float] | None:
    """(training rows, expected seconds) of the confirmation of ``points``' model that
    ends within ``seconds`` (None: no limit): every row (rows None) where that fits; for
    :data:`ALL_TRAINING_ROWS`, else the largest multiple of :data:`SAMPLE_STEP` rows that
    fits in ``seconds`` / :data:`SPARE`, if at least :data:`MIN_GROWTH` times the rows
    the search trained the model on, and only for one trained model (an ensemble's
    seconds are its members', each trained in its own trial: trained again together on
    more rows, one ran far past that estimate: ``docs/decisions.md``). None: no
    confirmation fits (or no raw model's point)."""
    every = confirmation_seconds(points, ctx)
    if not np.isfinite(every):
        return None
    if seconds is None or every <= seconds:
        return None, every
    if confirmation_kind(ctx) != ALL_TRAINING_ROWS:
        return None
    if not points[0].result.candidate.kind.trained_model:
        return None  # a composite's members trained apart: their seconds do not add up to its
    post = confirmation_seconds(points, ctx, 0)
    unit = confirmation_seconds(points, ctx, SAMPLE_STEP) - post
    sized_on = seconds / SPARE  # a sample sized to fill the time would overrun it half the time
    if unit <= 0 or sized_on <= post:
        return None
    rows = int((sized_on - post) // unit) * SAMPLE_STEP
    if rows < MIN_GROWTH * ctx.n_training_rows(points[0].result.candidate):
        return None
    return rows, confirmation_seconds(points, ctx, rows)


def leaders(board: pd.DataFrame, study: Any, k: int, metric: str) -> list[tuple[int, Candidate]]:
    """The first ``k`` trained models to confirm, as (a leading trial, its base), among
    those whose points in ``board`` (in the pick's order) are post-processed and not yet
    confirmed: the best *challenger*, the pick's own model, then the other challengers and
    the pick's runners-up.

    A challenger has a useful point that meets the constraints on validation, but not
    with confidence, and is more accurate there (``metric``) than the pick; most accurate
    first. The robust tier is decided on the validation rows, where the models that pass
    are often those whose rates barely move, not the most accurate; measured on every row
    a challenger's interval narrows and the pick may take it. Confirming a challenger and
    the pick's model lets the pick compare them on every row (a cross-validated
    confirmed point ranks first in its tier); a challenger that fails costs the pick
    nothing.
    """
    rows = board[(board["status"] == "ok") & (board["post"] != "none") & ~board["confirmed"]]
    if rows.empty:
        return []
    bar = float(board[metric].iloc[0])
    challengers = rows[(rows["tier"] == TIER_NAMES[FEASIBLE]) & (rows[metric] > bar)]
    challengers = challengers.sort_values(metric, ascending=False, kind="stable")
    first = challengers.iloc[:1]
    ordered = pd.concat([first, rows.iloc[:1], challengers.iloc[1:], rows.iloc[1:]])
    out: list[tuple[int, Candidate]] = []
    trials = study.get_trials(deepcopy=False)  # read only: a copy per row costs seconds
    for number in ordered["trial"]:
        if len(out) >= k:
            break
        base = base_of(record.candidate(trials[int(number)]))
        if all(on_every_row(base) != on_every_row(b) for _, b in out):
            out.append((int(number), base))
    return out


def confirm_leaders(
    board: pd.DataFrame,
    study: Any,
    ctx: SearchContext,
    evaluations: dict[int, Evaluation],
    record_point: Any,
    deadline: float | None,
    k: int = CONFIRM_LEADERS,
) -> list[int]:
    """Confirm up to ``k`` leading models (see the module docstring), each whose expected
    cost fits before ``deadline`` (a ``time.monotonic()`` value; None: no limit).

    ``record_point(evaluation, derived_from) -> trial number`` writes a confirmed point
    into the study. Returns the new trials' numbers; a failure is logged and skips the
    model (the search's own points stand).
    """
    confirm_ctx = confirmation_context(ctx)
    if confirm_ctx is None:
        return []
    confirm_ctx.deadline = deadline
    numbers: list[int] = []
    trials = study.get_trials(deepcopy=False)
    for trial, base in leaders(board, study, k, ctx.metric.name):
        points = model_points(evaluations, base)
        if not points:  # trained by another worker of the study: its scores are not here
            logger.info("trial %d not confirmed: its model's points are not kept here", trial)
            continue
        left = None if deadline is None else deadline - time.monotonic()
        plan = confirmation_plan(points, ctx, left)
        if plan is None:
            expected = confirmation_seconds(points, ctx)
            logger.info(
                "trial %d not confirmed: expected %.1f s on every training row, %.1f s left",
                trial, expected, left,
            )  # fmt: skip
            continue  # a cheaper leader further down may still fit
        rows, expected = plan
        if rows is not None:
            logger.info(
                "trial %d confirmed on %d training rows (expected %.1f s, %.1f s left)",
                trial, rows, expected, left,
            )  # fmt: skip
        posts = [(e.result.candidate.post, e.result.candidate.post_params) for e in points[1:]]
        candidate = replace(on_every_row(base), train_rows=rows)
        confirmed = evaluate_with_posts(candidate, confirm_ctx, posts)
        if confirmed[0].result.status != "ok":
            logger.warning("confirming trial %d failed: %s", trial, confirmed[0].result.error)
            continue
        derived_from = record.derived_from(trials[trial])
        for evaluation in confirmed:
            evaluation.result = replace(evaluation.result, confirmed=True)
            number = record_point(evaluation, derived_from)
            evaluations[number] = evaluation
            numbers.append(number)
    return numbers


__all__ = [
    "ALL_TRAINING_ROWS",
    "CONFIRM_FOLDS",
    "CONFIRM_MAX_TRAINING_ROWS",
    "CROSS_VALIDATED",
    "HOW",
    "MIN_GROWTH",
    "SAMPLE_STEP",
    "SPARE",
    "base_of",
    "confirm_leaders",
    "confirmable",
    "confirmation_context",
    "confirmation_kind",
    "confirmation_plan",
    "confirmation_seconds",
    "model_points",
    "n_confirm_training_rows",
    "on_every_row",
    "training_rows",
]
