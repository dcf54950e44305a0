"""Ensembles of the search's models as candidates (greedy selection, Caruana et al. 2004).

During a search every trained model's validation scores (held-out scores under
cross-validation) are kept in memory for the :data:`LIBRARY_SIZE` models whose own best
point the pick ranks first (their *library*). From it :class:`EnsembleBuilder` grows an
ensemble by greedy selection with replacement: it starts from the library's best model
and, for up to :data:`MAX_ROUNDS` rounds, adds the model (again, if it is already in)
whose addition does best on the objective, stopping after :data:`PATIENCE` rounds in a
row that improve nothing, and keeps the best mix it passed through. An ensemble's score
is the weighted mean of its members' scores (probabilities of a yes, or amounts: one code
for both tasks), the weights the times each was added.

The objective is the fair one, not raw accuracy: the best point the pick could take
(:meth:`~fairautoml.study.pick.PickPolicy.key`: its tier first, then the metric) among the
raw ensemble and the post-processor settings behind the library leaders' best points
(:data:`PROXY_POSTS` at most). Selection evaluates it many times, so each setting's rule
is fitted once on every validation row instead of cross-fitted on :data:`POST_FOLDS
<fairautoml.study.trial.POST_FOLDS>` folds (about six times cheaper); the chosen ensemble is then
measured like any trained model: raw and under every post-processor setting of the search,
cross-fitted, each point a trial of the study (learner ``ensemble``, its members and
weights in ``learner_params``; ``derived_from`` -1: no one trained model of the study).

An ensemble is a candidate like any other: :func:`fit_ensemble` trains its members (each
as its own candidate) wherever the search trains a candidate, so the pick, confirmation,
the refit on every row and the rebuilding of a picked point from its record apply to it
unchanged; blind post-processors read the same group classifier. What sets it apart (its
members, its record, its refit) it answers through its kind (:mod:`fairautoml.study.kinds`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.mitigators import (
    FoldModels,
    GroupPredictingModel,
    PostProcessor,
    ScoringModel,
    get_mitigator,
    rule_proba,
    time_left,
    weight_kwargs,
)
from fairautoml.search.evaluate import add_group_model, fit_scoring_model, score_point
from fairautoml.search.measure import measured
from fairautoml.search.post_rows import (
    GroupProbaOnce,
    ScoreOrder,
    fitting_rows,
    held_out_group_proba,
)
from fairautoml.study.kinds import CandidateKind, register_kind
from fairautoml.study.trial import Candidate, Evaluation, SearchContext, TrialResult

logger = logging.getLogger("fairautoml")

ENSEMBLE = "ensemble"  # the learner name of an ensemble candidate
LIBRARY_SIZE = 10  # models kept (scores and fitted model) for ensembles: the pick's first
MAX_ROUNDS = 20  # additions at most (weights sum to at most MAX_ROUNDS + 1)
PATIENCE = 3  # rounds in a row that improve nothing before the selection stops
PROXY_POSTS = 1  # post-processor settings the selection objective tries besides the raw
MEASURE_SECONDS = 1.0  # first guess of the seconds measuring an ensemble's points takes
BUILD_SHARE = 0.1  # during a search, ensembles take at most this share of its wall clock
ENSEMBLE_OF = "ensemble_of"  # user attribute of an ensemble's points: its members' trials
NO_MODEL = -1  # derived_from of an ensemble's points: no one trained model of the study


# --- the candidate and its model ------------------------------------------------------------


def is_ensemble(candidate: Candidate) -> bool:
    return candidate.learner == ENSEMBLE


def ensemble_candidate(members: Sequence[Candidate], weights: Sequence[int]) -> Candidate:
    """The candidate of an ensemble: each member trained as its own candidate (no
    post-processing), its score weighted by ``weights``."""
    listed = [{**m.__dict__, "post": "none", "post_params": {}} for m in members]
    params = {"members": json.loads(json.dumps(listed, default=str)), "weights": list(weights)}
    return Candidate(ENSEMBLE, params)


def members_of(candidate: Candidate) -> tuple[list[Candidate], list[float]]:
    params = candidate.learner_params
    members = [Candidate(**m) for m in params["members"]]
    weights = [float(w) for w in params["weights"]]
    if len(members) != len(weights) or not members or min(weights) <= 0:
        raise ValueError(f"an ensemble needs members with positive weights; got {params}")
    return members, weights


def _board_params(params: Any) -> dict[str, Any]:
    """The leaderboard's params column: members (learner, parameters, mitigator), weights."""
    members = [{"learner": m["learner"], **m["learner_params"], "mitigator": m["mitigator"]}
               for m in params.get("members", [])]  # fmt: skip
    return {"members": members, "weights": params.get("weights", [])}


def _refitted(params: Any) -> bool:
    """Trained again on every row unless a member is mitigated: its fairness is the mix of
    its members' scores as measured, and members trained again each drift on their own (a
    mitigated member's refit may move its scores, and the mix magnifies it)."""
    return all(m.get("mitigator", "none") == "none" for m in params.get("members", []))


def combine(scores: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The weighted mean of the members' scores (in the members' order: the same sum
    at search time and in a rebuilt model)."""
    total = np.zeros(np.shape(scores[0]), dtype=np.float64)  # (n,) or (n, k) probabilities
    for s, w in zip(scores, weights, strict=True):
        total += float(w) * np.asarray(s, dtype=np.float64)
    return total / float(sum(weights))


class EnsembleScoring(ScoringModel):
    """A weighted mean of fitted scoring models' scores."""

    def __init__(self, members: Sequence[ScoringModel], weights: Sequence[float]) -> None:
        self.members = list(members)
        self.weights = [float(w) for w in weights]
        self.needs_group = any(m.needs_group for m in self.members)

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return combine([m.predict_proba(X, groups) for m in self.members], self.weights)


def _bare(scoring: ScoringModel) -> ScoringModel:
    """A model without the search's group classifier beside it (the ensemble adds its own)."""
    return scoring.scoring if isinstance(scoring, GroupPredictingModel) else scoring


def _member_fitted(fitted: ScoringModel | None, i: int) -> ScoringModel | None:
    """Member ``i``'s part of a fitted ensemble (one fit, or fold models)."""
    if fitted is None:
        return None
    fitted = _bare(fitted)
    if isinstance(fitted, FoldModels):
        return FoldModels([_bare(m).members[i] for m in fitted.models])  # type: ignore[attr-defined]
    return fitted.members[i]  # type: ignore[attr-defined]


def fit_ensemble(
    candidate: Candidate,
    ctx: SearchContext,
    X: pd.DataFrame,
    y: np.ndarray,
    g: np.ndarray,
    fitted: ScoringModel | None = None,
    sample_weight: np.ndarray | None = None,
) -> EnsembleScoring:
    """Train every member on these rows (with ``fitted``, refit each as its mitigator
    refits): what :func:`~fairautoml.search.evaluate.fit_scoring_model` does for an ensemble.

    Within a search's deadline (a big table's confirmation on every training row), a
    member whose expected seconds (the members' so far, on average) would end past it is
    not started: the training fails instead of running past the user's budget (an
    ensemble's members trained again on more rows can take several times their trials'
    seconds: ``docs/decisions.md``)."""
    members, weights = members_of(candidate)
    models: list[ScoringModel] = []
    started = time.monotonic()
    for i, member in enumerate(members):
        if i and time_left() < (time.monotonic() - started) / i:
            raise TimeoutError(
                f"the ensemble's member {i + 1} of {len(members)} would end after the "
                "search's deadline"
            )
        models.append(
            fit_scoring_model(member, ctx, X, y, g, _member_fitted(fitted, i), sample_weight)
        )
    return EnsembleScoring([_bare(m) for m in models], weights)


# --- greedy selection -----------------------------------------------------------------------


def greedy_selection(
    n_models: int,
    objective: Callable[[np.ndarray], Any],
    start: int,
    rounds: int = MAX_ROUNDS,
    deadline: float | None = None,
    patience: int = PATIENCE,
) -> np.ndarray:
    """Caruana's selection with replacement: counts per model, from ``start`` once; each
    round adds the model whose addition gives the largest ``objective(counts)`` (any
    comparable value, larger is better), even when that is no better than before (a mix
    can need two additions to improve), for ``rounds`` rounds, until ``patience`` rounds
    in a row improved on nothing, or ``deadline`` (``time.monotonic()``). Returns the best
    counts seen (the earliest of equals: the fewest additions)."""
    counts = np.zeros(n_models, dtype=np.int64)
    counts[start] = 1
    best, best_value = counts.copy(), objective(counts)
    idle = 0
    for _ in range(rounds):
        round_best, chosen = None, None
        for k in range(n_models):
            if deadline is not None and time.monotonic() > deadline:
                return best  # the round is cut short: what the finished rounds found
            trial = counts.copy()
            trial[k] += 1
            value = objective(trial)
            if round_best is None or value > round_best:
                round_best, chosen = value, k
        if chosen is None:
            break
        counts[chosen] += 1
        if round_best > best_value:
            best, best_value, idle = counts.copy(), round_best, 0
        else:
            idle += 1
            if idle >= patience:
                break
    return best


# --- the library and the builder -------------------------------------------------------------


@dataclass
class Member:
    """A trained model of the library: its trial, configuration, scores and model."""

    number: int
    candidate: Candidate
    scores: np.ndarray
    scoring: ScoringModel
    fit_time: float


def _base_key(candidate: Candidate) -> str:
    return replace(candidate, post="none", post_params={}).to_json()


class EnsembleBuilder:
    """The search's library of models and the ensembles grown from it (module docstring).

    ``observe`` every recorded point; ``build`` returns the points of a new ensemble to
    record (an empty list when selection keeps a single model or repeats the last one).
    """

    def __init__(
        self,
        ctx: SearchContext,
        variants: Sequence[tuple[str, dict[str, Any]]],
        size: int = LIBRARY_SIZE,
    ) -> None:
        self.ctx = ctx
        self.variants = tuple(variants)
        self.size = size
        self.library: list[Member] = []
        self.points: dict[str, list[TrialResult]] = {}  # a model's points, by its base
        self.changed = False  # the library changed since the last build
        self.built: set[str] = set()  # ensembles recorded (their candidate's JSON)
        self.seconds = 0.0  # spent building
        self.last_seconds = 0.0  # the last build's
        self.busy = False  # a build is being recorded (its points are observed too)
        self.measure_seconds = MEASURE_SECONDS  # the last measuring of an ensemble's points
        self._group_proba: np.ndarray | None = None

    # --- the library --------------------------------------------------------------------

    def observe(self, number: int, evaluation: Evaluation) -> None:
        """Note a recorded point; a trained model's raw point brings its scores (taken
        from the evaluation, which keeps no copy) and joins the library if it ranks."""
        scores, evaluation.scores = evaluation.scores, None
        result = evaluation.result
        cand = result.candidate
        if is_ensemble(cand) or result.confirmed:
            return
        self.points.setdefault(_base_key(cand), []).append(result)
        if (
            scores is None
            or result.status != "ok"
            or cand.post != "none"
            or cand.train_rows is not None  # a lower row rung: screening only
            or evaluation.model is None
            or len(scores) != len(self.ctx.val_idx)
            or not np.all(np.isfinite(scores))
        ):
            return
        member = Member(number, cand, np.asarray(scores, dtype=np.float64),
                        evaluation.model.scoring, result.fit_time)  # fmt: skip
        self.library.append(member)
        self._prune()
        self.changed = self.changed or any(m is member for m in self.library)

    def own_key(self, member: Member) -> tuple:
        """The pick's key of the member's best point measured in the search."""
        policy = self.ctx.pick
        points = self.points.get(_base_key(member.candidate), [])
        return max((policy.key(r, r.metric) for r in points), default=(-math.inf,))

    def _ranked(self) -> list[Member]:
        return sorted(self.library, key=self.own_key, reverse=True)

    def _prune(self) -> None:
        self.library = self._ranked()[: self.size]

    # --- the objective ------------------------------------------------------------------

    def proxy_posts(self, ranked: Sequence[Member]) -> list[tuple[str, dict[str, Any]]]:
        """The post-processor settings behind the best points of the library's leaders."""
        policy, out = self.ctx.pick, []
        for member in ranked:
            points = self.points.get(_base_key(member.candidate), [])
            best = policy.best(points)
            if best is None or best.candidate.post == "none":
                continue
            setting = (best.candidate.post, dict(best.candidate.post_params))
            if setting not in out:
                out.append(setting)
            if len(out) >= PROXY_POSTS:
                break
        return out

    def group_proba(self) -> np.ndarray:
        """P(group | x) on the validation rows, held out (the search's group classifier)."""
        if self._group_proba is None:
            template: ScoringModel = self.library[0].scoring
            self._group_proba = held_out_group_proba(add_group_model(template, self.ctx), self.ctx)
        return self._group_proba

    def proxy_key(self, scores: np.ndarray, posts: Sequence[tuple[str, dict[str, Any]]]) -> tuple:
        """The selection objective of ensemble scores: the best key among the raw point
        and each setting's rule fitted once on every validation row."""
        ctx = self.ctx
        _, y, g = ctx.val
        every = np.arange(len(y))
        best = self.ctx.pick.key(*_measured(ctx, scores, scores))
        for name, params in posts:
            post = get_mitigator(name)
            assert isinstance(post, PostProcessor)
            proba_g = self.group_proba() if post.needs_group_proba else None
            rows, groups, weight = fitting_rows(post, ctx, every)
            fit_extra = {} if proba_g is None else {"group_proba": proba_g[rows]}
            try:
                rule = post.fit(scores[rows], y[rows], groups, ctx.constraints, ctx.metric,
                                params, ctx.random_state, **fit_extra,
                                **weight_kwargs(weight))  # fmt: skip
                proba = rule_proba(rule, scores, g, group_proba=proba_g, keys=ctx.val_keys)
            except Exception:  # a setting that fails on these scores counts for nothing
                continue
            best = max(best, self.ctx.pick.key(*_measured(ctx, scores, proba)))
        return best

    # --- building ------------------------------------------------------------------------

    def select(self, deadline: float | None = None) -> tuple[list[Member], list[int]] | None:
        """The members and weights greedy selection keeps (None: a single model)."""
        ranked = self._ranked()
        if len(ranked) < 2:
            return None
        posts = self.proxy_posts(ranked)
        scores = np.stack([m.scores for m in ranked])

        def objective(counts: np.ndarray) -> tuple:
            used = np.flatnonzero(counts)
            return self.proxy_key(combine(scores[used], counts[used]), posts)

        counts = greedy_selection(len(ranked), objective, 0, MAX_ROUNDS, deadline)
        used = [int(k) for k in np.flatnonzero(counts)]
        if len(used) < 2:
            return None
        order = sorted(used, key=lambda k: ranked[k].number)
        return [ranked[k] for k in order], [int(counts[k]) for k in order]

    def build(self, deadline: float | None = None) -> list[Evaluation]:
        """Select an ensemble and measure it like a trained model: its raw point and every
        post-processor setting of the search, cross-fitted. Nothing when selection keeps a
        single model or the ensemble was recorded already; a failure is logged."""
        started = time.monotonic()
        self.changed = False
        try:
            return self._build(deadline)
        except Exception as exc:  # ensembling never stops the search
            logger.warning("building an ensemble failed (%s: %s)", type(exc).__name__, exc)
            return []
        finally:
            self.last_seconds = time.monotonic() - started
            self.seconds += self.last_seconds

    def _build(self, deadline: float | None) -> list[Evaluation]:
        # the selection leaves time to measure the ensemble's points before the deadline
        selection_deadline = None if deadline is None else deadline - 1.2 * self.measure_seconds
        chosen = self.select(selection_deadline)
        if chosen is None:
            return []
        members, weights = chosen
        candidate = ensemble_candidate([m.candidate for m in members], weights)
        if candidate.to_json() in self.built:
            return []
        self.built.add(candidate.to_json())
        ctx = self.ctx
        scores = combine([m.scores for m in members], weights)
        scoring = ensemble_model([m.scoring for m in members], weights)
        if any(get_mitigator(name).needs_group_proba for name, _ in self.variants):
            scoring = add_group_model(scoring, ctx)
        trained = sum(m.fit_time for m in members)
        start = time.perf_counter()
        out = [score_point(candidate, ctx, scoring, scores, start, trained)]
        out[0].result = replace(out[0].result, fit_time=trained)
        order, group_proba = ScoreOrder.of(scores, ctx), GroupProbaOnce(scoring, ctx)
        for name, params in self.variants:
            if deadline is not None and time.monotonic() > deadline:
                break
            point = replace(candidate, post=name, post_params=dict(params))
            now = time.perf_counter()
            out.append(score_point(point, ctx, scoring, scores, now, trained, order, group_proba))
        self.measure_seconds = time.perf_counter() - start
        return out

    def members_numbers(self, candidate: Candidate) -> list[int]:
        """The library trials of an ensemble's members."""
        wanted = [m.to_json() for m in members_of(candidate)[0]]
        by_json = {m.candidate.to_json(): m.number for m in self.library}
        return [by_json.get(w, NO_MODEL) for w in wanted]


def ensemble_model(scorings: Sequence[ScoringModel], weights: Sequence[float]) -> ScoringModel:
    """The ensemble of fitted members, as :func:`fit_ensemble` would train it: one
    :class:`EnsembleScoring`, or under cross-validation one per fold (:class:`FoldModels`)."""
    bare = [_bare(s) for s in scorings]
    if isinstance(bare[0], FoldModels):
        n_folds = len(bare[0].models)
        folds = [
            EnsembleScoring([_bare(s.models[k]) for s in bare], weights)  # type: ignore[attr-defined]
            for k in range(n_folds)
        ]
        return FoldModels(folds)
    return EnsembleScoring(bare, weights)


def _measured(ctx: SearchContext, scores: np.ndarray, proba: np.ndarray) -> tuple[Any, float]:
    """(a TrialResult-like point, its metric) of decisions ``proba`` on the validation rows,
    as the pick reads it."""
    point = measured(Candidate(ENSEMBLE), ctx, proba)
    return point, point.metric


# a composite (fairautoml.study.kinds): drawn by no controller, and no one trained model
KIND = register_kind(ENSEMBLE, CandidateKind(
    lambda params: list(params.get("members", [])), _board_params, _refitted,
    trained_model=False, drawn=False, fit=fit_ensemble))  # fmt: skip

__all__ = [
    "ENSEMBLE",
    "EnsembleBuilder",
    "EnsembleScoring",
    "ensemble_candidate",
    "fit_ensemble",
    "greedy_selection",
    "is_ensemble",
    "members_of",
]
