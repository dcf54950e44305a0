"""Confirm the search's leading post-processed models on every row before the pick.

A holdout search fits each post-processing rule, and measures the rule's disparity, on
the validation rows alone: a quarter of the data. Where a group has few rows there, the
rule's thresholds carry that noise, the measured disparity carries it again, and the pick
needs a wide margin to keep its promise on new data. So after the search the trained
models whose points lead the pick's ranking are *confirmed*: their configuration is
trained again by :data:`CONFIRM_FOLDS`-fold cross-validation over every row the search
had (training and validation), each row gets a score from the fold model that did not
train on it, and every cheap post-processor setting the search tried on that model is
fitted, cross-fitted and measured on all of those scores. Each setting is recorded as a new
trial marked ``confirmed`` (``derived_from`` the trial that trained the original model).

The pick prefers a confirmed point to an unconfirmed one of the same tier
(:meth:`~fairautoml.selection.PickPolicy.key`): it was measured on four times the rows,
and an unconfirmed point that ranks above it within the tier mostly owes its rank to the
noise of the smaller sample (the leaders were chosen on that sample). A confirmed model
is the fold models, each new row scored by one of them
(:class:`~fairautoml.mitigators.FoldModels`), with the rule fitted on all held-out
scores: the scores the rule meets after the search are distributed as those it was
fitted on.

Confirmation is for holdout searches of up to :data:`CONFIRM_MAX_ROWS` rows (a
cross-validated search already measures every row) and runs while the time budget
allows: the search keeps back :data:`SPARE` times the first leader's expected cost
(:func:`confirmation_seconds`); each leader runs only if its expected cost fits in what
is left of the budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import record
from fairautoml.evaluate import evaluate_with_posts, is_costly_post
from fairautoml.persistence import data_fingerprint
from fairautoml.splits import cv_folds
from fairautoml.trial import Candidate, Evaluation, SearchContext

logger = logging.getLogger("fairautoml")

CONFIRM_FOLDS = 5
CONFIRM_MAX_ROWS = 200_000  # above: the search's holdout numbers stand (issue: big tables)
CONFIRM_LEADERS = 3  # trained models confirmed at most, in the pick's order
SPARE = 1.2  # the search keeps back this many times the first leader's expected seconds


def base_of(candidate: Candidate) -> Candidate:
    """The trained configuration behind a point: the candidate without post-processing."""
    return replace(candidate, post="none", post_params={})


def confirmable(ctx: SearchContext) -> bool:
    """Whether a search in ``ctx`` is confirmed: a holdout search of at most
    :data:`CONFIRM_MAX_ROWS` rows (cheap to ask after every trial)."""
    return not ctx.cv_folds and len(ctx.data.y) <= CONFIRM_MAX_ROWS


def confirmation_context(ctx: SearchContext) -> SearchContext | None:
    """``ctx`` with every row scored by cross-validation, for confirming; None where the
    search already cross-validated or the data are too large (:func:`confirmable`)."""
    if not confirmable(ctx):
        return None
    n_rows = len(ctx.data.y)
    seed = ctx.random_state
    if seed is None:  # the same folds for every rebuild of a confirmed pick
        seed = int(data_fingerprint(ctx.data.X, ctx.data.y, ctx.data.groups)[:8], 16)
    every_row = np.arange(n_rows)
    folds = cv_folds(ctx.data.y, ctx.data.groups, CONFIRM_FOLDS, seed)
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


def confirmation_seconds(points: list[Evaluation], ctx: SearchContext) -> float:
    """Expected seconds to confirm the model of ``points`` (:func:`model_points`): its
    training once per fold on the folds' share of every row, and its post-processing on
    all rows instead of the validation rows."""
    if not points or points[0].result.candidate.post != "none":
        return float("inf")
    trained = points[0].result.fit_time
    post = sum(max(e.result.fit_time - trained, 0.0) for e in points[1:])
    n_all = len(ctx.data.y)
    fold_rows = n_all * (CONFIRM_FOLDS - 1) / CONFIRM_FOLDS
    training = CONFIRM_FOLDS * trained * fold_rows / max(len(ctx.train_idx), 1)
    return training + post * n_all / max(len(ctx.val_idx), 1)


def leaders(board: pd.DataFrame, study: Any, k: int) -> list[tuple[int, Candidate]]:
    """The first ``k`` trained models, in the pick's order of their points, whose points
    there are post-processed and not yet confirmed: (a leading trial, its base)."""
    out: list[tuple[int, Candidate]] = []
    for row in board.itertuples(index=False):
        if len(out) >= k:
            break
        if row.status != "ok" or row.post == "none" or bool(row.confirmed):
            continue
        base = base_of(record.candidate(study.trials[int(row.trial)]))
        if all(base != b for _, b in out):
            out.append((int(row.trial), base))
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
    for trial, base in leaders(board, study, k):
        points = model_points(evaluations, base)
        if not points:  # trained by another worker of the study: its scores are not here
            continue
        expected = confirmation_seconds(points, ctx)
        if deadline is not None and time.monotonic() + expected > deadline:
            continue  # a cheaper leader further down may still fit
        posts = [(e.result.candidate.post, e.result.candidate.post_params) for e in points[1:]]
        confirmed = evaluate_with_posts(base, confirm_ctx, posts)
        if confirmed[0].result.status != "ok":
            logger.warning("confirming trial %d failed: %s", trial, confirmed[0].result.error)
            continue
        derived_from = record.derived_from(study.trials[trial])
        for evaluation in confirmed:
            evaluation.result = replace(evaluation.result, confirmed=True)
            number = record_point(evaluation, derived_from)
            evaluations[number] = evaluation
            numbers.append(number)
    return numbers


__all__ = [
    "CONFIRM_FOLDS",
    "SPARE",
    "base_of",
    "confirm_leaders",
    "confirmable",
    "confirmation_context",
    "confirmation_seconds",
    "model_points",
]
