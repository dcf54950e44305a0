"""Build a candidate's pipeline, fit it on the training rows, score it on validation.

Validation is a holdout split, or (``SearchContext.cv_folds``, for small data) every row:
each fold's model scores the rows it did not train on, and the candidate's model is the
fold models together (:class:`~fairautoml.mitigators.FoldModels`).

Post-processing rules are fitted on validation scores. To keep the validation numbers
honest, they come from *cross-fitted* decisions: the validation rows are split in
:data:`POST_FOLDS` folds, and each fold is decided by a rule fitted on the others. The
rule that ships is then fitted on all validation rows; the more folds, the closer each
fold's rule is to it, so the measured disparity carries less of the folds' own fitting
noise.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.data.groups import UNKNOWN_GROUP
from fairautoml.data.missing_groups import known_rows
from fairautoml.learners import get_learner
from fairautoml.mitigators import (
    DecisionRule,
    FoldModels,
    GroupPredictingModel,
    PostProcessor,
    ScoringModel,
    TrainingMitigator,
    available_mitigators,
    get_mitigator,
    search_deadline,
    weight_kwargs,
)
from fairautoml.model.fair_model import FairModel
from fairautoml.search.measure import compact, measured
from fairautoml.search.post_rows import (
    GroupProbaOnce,
    ScoreOrder,
    cross_fitted,
    fitting_rows,
    group_proba_kwargs,
)
from fairautoml.search.post_settings import is_costly_post
from fairautoml.study.trial import (
    Candidate,
    Evaluation,
    SearchContext,
    TrialResult,
)

logger = logging.getLogger("fairautoml")


def fit_scoring_model(
    candidate: Candidate,
    ctx: SearchContext,
    X: pd.DataFrame,
    y: np.ndarray,
    g: np.ndarray,
    fitted: ScoringModel | None = None,
    sample_weight: np.ndarray | None = None,
) -> ScoringModel:
    """The candidate's learner trained with its mitigation on these rows (weighted by
    ``sample_weight`` when given); with ``fitted`` (the model the search measured), trained
    again as its mitigator refits (:meth:`~fairautoml.mitigators.TrainingMitigator.refit`).
    A candidate made of others (an ensemble) trains through its kind's ``fit``
    (:mod:`fairautoml.study.kinds`), which trains each member so: this module never imports
    the composites."""
    composite = candidate.kind.fit
    if composite is not None:
        return composite(candidate, ctx, X, y, g, fitted, sample_weight)
    learner = get_learner(candidate.learner).for_task(ctx.task.name)
    mitigator = get_mitigator(candidate.mitigator)
    if not mitigator.works_with(candidate.learner):
        raise ValueError(
            f"mitigator {mitigator.name!r} works only with the learner(s) "
            f"{', '.join(sorted(mitigator.learners or ()))}; got {candidate.learner!r}"
        )
    assert isinstance(mitigator, TrainingMitigator), f"{mitigator.name} is not a training stage"
    check_weighted(mitigator, sample_weight)

    def make_estimator() -> Any:
        return learner.make(candidate.learner_params, ctx.random_state, ctx.n_jobs)

    if mitigator.stage != "none" and (g == UNKNOWN_GROUP).any():  # it fits to the groups
        known = known_rows(g)
        X, y, g = X.iloc[known], y[known], g[known]
        sample_weight = None if sample_weight is None else sample_weight[known]
    params, seed, weights = (
        candidate.mitigator_params,
        ctx.random_state,
        weight_kwargs(sample_weight),
    )
    if fitted is not None:
        return mitigator.refit(
            fitted, make_estimator, X, y, g, ctx.constraints, params, seed, **weights,
            task=ctx.task,
        )  # fmt: skip
    return mitigator.fit(
        make_estimator, X, y, g, ctx.constraints, params, seed, **weights, task=ctx.task
    )


def check_weighted(mitigator: Any, sample_weight: np.ndarray | None) -> None:
    """A weighted fit runs only mitigators that take ``sample_weight`` (the search leaves
    the others out; this guards a rebuilt or replayed trial)."""
    if sample_weight is not None and not mitigator.accepts_sample_weight:
        raise ValueError(
            E.MITIGATOR_NO_WEIGHTS.format(name=mitigator.name, weighted=weighted_mitigators())
        )


def weighted_mitigators() -> str:
    """The registered mitigators that take ``sample_weight``, for messages."""
    names = [n for n in available_mitigators() if get_mitigator(n).accepts_sample_weight]
    return ", ".join(names)


def reads_group_proba(candidate: Candidate) -> bool:
    """Whether the candidate's post-processor reads P(group | x)."""
    return candidate.post != "none" and get_mitigator(candidate.post).needs_group_proba


def with_group_model(
    scoring: ScoringModel, ctx: SearchContext, fold: int | None = None
) -> GroupPredictingModel:
    """``scoring`` plus the search's group classifier fitted on the same rows."""
    n_groups = len(ctx.data.group_encoder.labels)
    return GroupPredictingModel(scoring, ctx.group_estimator(fold), n_groups)


def checked_scores(
    scoring: ScoringModel, X: pd.DataFrame, g: np.ndarray, ctx: SearchContext
) -> np.ndarray:
    """The model's scores on ``X``, of the task's shape (:meth:`~fairautoml.tasks.Task.score_shape`:
    (n,), or (n, k) for several classes) and finite."""
    scores = np.asarray(scoring.predict_proba(X, g), dtype=np.float64)
    shape = ctx.task.score_shape(len(X), ctx.data.classes)
    if scores.shape != shape or not np.all(np.isfinite(scores)):
        bad = int(np.sum(~np.isfinite(scores))) if scores.shape == shape else scores.shape
        raise ValueError(f"the model returned invalid scores ({bad} non-finite or bad shape)")
    return scores


def fit_and_score(
    candidate: Candidate, ctx: SearchContext, predict_group: bool = False
) -> tuple[ScoringModel, np.ndarray]:
    """The candidate's scoring model and its held-out scores on the validation rows
    (trained on ``candidate.train_rows`` of the training rows, when set)."""
    wants_group = predict_group or reads_group_proba(candidate)
    if not ctx.cv_folds:
        sample = ctx.sampled(candidate.train_rows)
        X_tr, y_tr, g_tr = sample.train
        X_val, _, g_val = ctx.val
        with search_deadline(ctx.deadline):
            scoring = fit_scoring_model(
                candidate, ctx, X_tr, y_tr, g_tr, sample_weight=sample.train_weight
            )
            if wants_group:
                scoring = with_group_model(scoring, ctx)
        return scoring, checked_scores(scoring, X_val, g_val, ctx)
    scores = np.empty(ctx.task.score_shape(len(ctx.val_idx), ctx.data.classes))
    models = []
    started = time.monotonic()
    n_folds = len(ctx.cv_folds)
    for k, (fit_rows, scored_rows) in enumerate(ctx.cv_folds):  # val_idx is every row
        if k and ctx.deadline is not None:  # fail fast, as costly mitigators do
            per_fold = (time.monotonic() - started) / k
            if ctx.deadline - time.monotonic() < per_fold * (n_folds - k):
                raise TimeoutError(
                    f"cross-validation stopped after {k} of {n_folds} folds: the other "
                    "folds would end after the search's deadline"
                )
        X_fit, y_fit, g_fit = ctx.data.training_subset(fit_rows)
        X_scored, _, g_scored = ctx.data.subset(scored_rows)
        with search_deadline(ctx.deadline):
            w_fit = ctx.data.weights(fit_rows)
            model = fit_scoring_model(candidate, ctx, X_fit, y_fit, g_fit, sample_weight=w_fit)
            if wants_group:
                model = with_group_model(model, ctx, fold=k)
        scores[scored_rows] = checked_scores(model, X_scored, g_scored, ctx)
        models.append(model)
    return FoldModels(models), scores


def add_group_model(scoring: ScoringModel, ctx: SearchContext) -> ScoringModel:
    """``scoring`` with the search's group classifier trained on its own training rows."""
    if isinstance(scoring, FoldModels):
        return FoldModels(
            [with_group_model(model, ctx, fold=k) for k, model in enumerate(scoring.models)]
        )
    return with_group_model(scoring, ctx)


def evaluate_candidate(candidate: Candidate, ctx: SearchContext) -> Evaluation:
    """Fit and score one candidate; a failure is recorded, never raised."""
    start = time.perf_counter()
    try:
        scoring, scores = fit_and_score(candidate, ctx)
    except Exception as exc:  # one failing trial never kills the search
        return failed_evaluation(candidate, exc, time.perf_counter() - start)
    return score_point(candidate, ctx, scoring, scores, start, 0.0)


def evaluate_with_posts(
    candidate: Candidate,
    ctx: SearchContext,
    posts: Sequence[tuple[str, dict[str, Any]]] = (),
    costly_from: float | None = None,
) -> list[Evaluation]:
    """Train the candidate's scoring model once; score it raw and under every post-processor.

    Post-processing only reads validation scores, so one trained model yields a point per
    ``(post, params)`` at little extra cost. The first evaluation is the raw model (post
    ``"none"``), then the cheap settings. Costly ones (:func:`is_costly_post`: a group
    classifier to train, or per-group trade-off curves) follow only when ``costly_from``
    is None or the best metric among this model's earlier points the pick could take
    (:meth:`~fairautoml.study.pick.PickPolicy.pickable`) reaches it: the
    controller passes the level its best models reached, so the costly settings are spent
    on models that could become the pick. Each point's ``fit_time`` is the training time
    plus its own post-processing. A failure fails its own point only (training failure:
    the one point).
    """
    start = time.perf_counter()
    base = replace(candidate, post="none", post_params={})
    cheap, costly = split_posts(posts)
    try:
        predict_group = read_group_proba(cheap)
        scoring, scores = fit_and_score(base, ctx, predict_group)
    except Exception as exc:  # one failing trial never kills the search
        return [failed_evaluation(base, exc, time.perf_counter() - start)]
    return points_of_trained(
        base, ctx, (scoring, scores, predict_group), start, cheap, costly, costly_from
    )


Posts = Sequence[tuple[str, dict[str, Any]]]


def split_posts(posts: Posts) -> tuple[list[tuple[str, dict[str, Any]]], ...]:
    """``posts`` as (cheap, costly) settings (:func:`is_costly_post`), in their order."""
    cheap = [(n, p) for n, p in posts if not is_costly_post(n)]
    return cheap, [(n, p) for n, p in posts if is_costly_post(n)]


def read_group_proba(posts: Posts) -> bool:
    """Whether any of ``posts`` reads P(group | x) (an unknown one fails its own point)."""
    known = set(available_mitigators())
    return any(get_mitigator(n).needs_group_proba for n, _ in posts if n in known)


def evaluate_trained(
    evaluation: Evaluation,
    ctx: SearchContext,
    posts: Sequence[tuple[str, dict[str, Any]]],
    until: float | None = None,
) -> list[Evaluation] | None:
    """The points :func:`evaluate_with_posts` would give, for a search point whose trained
    model the search kept: its validation scores are read again instead of training it
    again (on a big table the training is most of the cost). None when they cannot be:
    no model kept, or cross-validation (its out-of-fold scores are not kept). ``until``:
    no setting starts after it (:func:`points_of_trained`)."""
    if evaluation.model is None or ctx.cv_folds:
        return None
    start = time.perf_counter()
    base = replace(evaluation.result.candidate, post="none", post_params={})
    scoring = evaluation.model.scoring
    try:
        scores = evaluation.scores
        if scores is None:
            X_val, _, g_val = ctx.val
            scores = checked_scores(scoring, X_val, g_val, ctx)
    except Exception as exc:  # trained again by the caller
        logger.info("the kept model of %s could not score again: %s", base.describe(), exc)
        return None
    cheap, costly = split_posts(posts)
    predicts_group = isinstance(scoring, GroupPredictingModel)
    if not predicts_group and read_group_proba(cheap):
        scoring, predicts_group = with_group_model(scoring, ctx), True
    return points_of_trained(
        base, ctx, (scoring, scores, predicts_group), start, cheap, costly, until=until
    )


def points_of_trained(
    base: Candidate,
    ctx: SearchContext,
    trained_model: tuple[ScoringModel, np.ndarray, bool],
    start: float,
    cheap: Sequence[tuple[str, dict[str, Any]]],
    costly: Sequence[tuple[str, dict[str, Any]]] = (),
    costly_from: float | None = None,
    until: float | None = None,
) -> list[Evaluation]:
    """A trained model's points (see :func:`evaluate_with_posts`): raw, then under each
    cheap post-processor, then the costly ones. ``trained_model``: the scoring model, its
    validation scores, and whether it predicts the group already; ``start``: when its
    training began; ``until``: a ``time.monotonic()`` after which no further setting
    starts (None: every one runs)."""
    scoring, scores, predict_group = trained_model
    trained = time.perf_counter() - start
    out = [score_point(base, ctx, scoring, scores, start, 0.0)]
    out[0].scores = scores  # for the search's ensembles (fairautoml.search.ensemble)
    order = ScoreOrder.of(scores, ctx) if cheap or costly else None
    group_proba = GroupProbaOnce(scoring, ctx)

    def past() -> bool:
        return until is not None and time.monotonic() > until

    for name, params in cheap:
        if past():
            break
        point = replace(base, post=name, post_params=dict(params))
        now = time.perf_counter()
        out.append(score_point(point, ctx, scoring, scores, now, trained, order, group_proba))
    if costly_from is not None:
        best = ctx.pick.best_pickable_metric(e.result for e in out)
        if best is None or best < costly_from:
            costly = []
    if not costly or past():  # nor a group classifier fitted for settings that will not run
        return out
    if any(get_mitigator(n).needs_group_proba for n, _ in costly) and not predict_group:
        started = time.perf_counter()
        try:
            with search_deadline(ctx.deadline):
                scoring = add_group_model(scoring, ctx)
        except Exception as exc:  # the costly points fail; the trained model's stand
            failed = time.perf_counter() - started + trained
            point = replace(base, post=costly[0][0], post_params=dict(costly[0][1]))
            return [*out, failed_evaluation(point, exc, failed)]
        trained += time.perf_counter() - started
    group_proba = GroupProbaOnce(scoring, ctx)
    for name, params in costly:
        if past():
            break
        point = replace(base, post=name, post_params=dict(params))
        now = time.perf_counter()
        out.append(score_point(point, ctx, scoring, scores, now, trained, order, group_proba))
    return out


def score_point(
    candidate: Candidate,
    ctx: SearchContext,
    scoring: ScoringModel,
    scores: np.ndarray,
    start: float,
    trained: float,
    order: ScoreOrder | None = None,
    group_proba: GroupProbaOnce | None = None,
) -> Evaluation:
    """Apply the candidate's post-processing to validation scores and measure the point
    (``order``: the scores' :class:`ScoreOrder`, ``group_proba``: ``scoring``'s P(group |
    x) there; both shared by a model's settings)."""
    try:
        _, y_val, _ = ctx.val
        w_val = ctx.val_weight
        rule: DecisionRule | None = None
        proba, fold_rules = scores, ()
        if candidate.post != "none":
            post = get_mitigator(candidate.post)
            assert isinstance(post, PostProcessor), f"{post.name} is not a post-processor"
            check_weighted(post, w_val)
            group_proba = group_proba or GroupProbaOnce(scoring, ctx)
            gp = group_proba() if post.needs_group_proba else None
            order = order or ScoreOrder.of(scores, ctx)
            proba, fold_rules = cross_fitted(post, candidate, ctx, scores, gp, order)
            rows, fit_groups, fit_weight = fitting_rows(post, ctx, order.every)
            rule = post.fit(
                scores[rows], y_val[rows], fit_groups, ctx.constraints, ctx.metric,
                candidate.post_params, ctx.random_state, **group_proba_kwargs(gp, rows),
                **weight_kwargs(fit_weight),
            )  # fmt: skip
        result = measured(candidate, ctx, proba, trained + time.perf_counter() - start, fold_rules)
        model = build_model(candidate, ctx, scoring, rule)
        kept = ctx.task.cut_off and (rule is None or rule.calibrates)
        return Evaluation(
            result, model, decisions=compact(ctx.task.decide(proba)),
            probabilities=np.asarray(proba, dtype=np.float32) if kept else None,
        )  # fmt: skip
    except Exception as exc:  # one failing trial never kills the search
        return failed_evaluation(candidate, exc, trained + time.perf_counter() - start)


def failed_evaluation(candidate: Candidate, exc: Exception, seconds: float) -> Evaluation:
    message = f"{type(exc).__name__}: {exc}"
    detail = traceback.format_exc(limit=3)
    return Evaluation(
        TrialResult(candidate, "failed", fit_time=seconds, error=f"{message}\n{detail}")
    )


def build_model(
    candidate: Candidate, ctx: SearchContext, scoring: ScoringModel, rule: DecisionRule | None
) -> FairModel:
    data = ctx.data
    return FairModel(
        data.schema,
        data.group_encoder,
        data.sensitive_columns,
        ctx.keep_sensitive_as_feature,
        scoring,
        rule,
        data.classes,
        candidate.describe(),
        ctx.task,
    )


def refit(candidate: Candidate, ctx: SearchContext, model: FairModel) -> FairModel:
    """Retrain the scoring model on train + validation rows as its mitigator refits; keep
    the fitted decision rule."""
    data = ctx.data
    scoring = fit_scoring_model(
        candidate, ctx, data.X, data.y, data.mitigation_groups, model.scoring,
        sample_weight=data.weight,
    )  # fmt: skip
    if reads_group_proba(candidate):  # the rule was fitted on this classifier's output
        scoring = with_group_model(scoring, ctx)
    return build_model(candidate, ctx, scoring, model.rule)
