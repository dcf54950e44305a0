"""One search, built from an estimator's parameters and the data: for ``FairAutoML.fit``,
``fairautoml worker``, the bench and the experiments alike.

:func:`build_search` checks the parameters (:mod:`fairautoml.estimators.params`), prepares the data
and the validation split, opens the study (a persistent one is coordinated with its other
processes), sets the budget and builds the controller with its per-trial time
limit and runner. A worker joining a study gets the search its coordinator runs, because
both are built here from the parameters the study records. The budget policy (the share
kept for the final refit, when trials move to worker processes, when small data is
cross-validated) lives here too.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import optuna
from joblib import effective_n_jobs

from fairautoml.data.missing_groups import infer_membership, poorly_inferred, warn_if_poor
from fairautoml.data.prepare import PreparedData, prepare_fit_data
from fairautoml.data.splits import cv_folds, split_train_validation, subsample_rows
from fairautoml.estimators.params import (
    check_params,
    domain_for_groups,
    metric_name,
    pick_policy_of,
    study_config,
    task_of,
)
from fairautoml.exceptions import ConfigurationError, SearchError
from fairautoml.measures.constraints import Constraint, bind_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import available_mitigators, get_mitigator
from fairautoml.progress import SearchProgress
from fairautoml.search import (
    Budget,
    Controller,
    SearchDomain,
    add_finished_trial,
    get_controller,
)
from fairautoml.search.confirm import SPARE as CONFIRM_SPARE
from fairautoml.search.confirm import (
    base_of,
    confirm_leaders,
    confirmable,
    confirmation_context,
    confirmation_seconds,
    model_points,
)
from fairautoml.search.ensemble import BUILD_SHARE as ENSEMBLE_SHARE
from fairautoml.search.ensemble import (
    ENSEMBLE,
    ENSEMBLE_OF,
    NO_MODEL,
    EnsembleBuilder,
    is_ensemble,
    members_of,
)
from fairautoml.search.evaluate import evaluate_candidate, evaluate_with_posts, post_variants
from fairautoml.search.portfolio import portfolio_for
from fairautoml.search.runner import make_runner
from fairautoml.search.session import Session, SharedBudget, session_seed
from fairautoml.study import record
from fairautoml.study.leaderboard import leaderboard_frame
from fairautoml.study.pick import PickPolicy
from fairautoml.study.record import worker_id
from fairautoml.study.storage import (
    FINGERPRINT_ATTR,
    check_config,
    data_fingerprint,
    open_study,
)
from fairautoml.study.trial import Candidate, Evaluation, SearchContext, make_group_classifier

logger = logging.getLogger("fairautoml")

# Share of the time budget a persistent study's search leaves for the pick and its refit
# (its deadline is shared by processes that cannot see each other's leader).
REFIT_RESERVE = 0.15
# A search in one process keeps back only what the final steps need: this share for the
# leaderboard and the pick, plus the refit of the current leader when it will be refitted
# (a post-processed pick is not), up to REFIT_RESERVE in all.
BOOKKEEPING = 0.03
# Seconds a persistent search without time budget waits for other workers' running trials.
WAIT_FOR_WORKERS = 600.0
# Smallest time budget (s) for which trials run in worker processes under a time limit.
ISOLATE_FROM = 10.0
# The final steps (confirmation, refit) start only if expected to end within this share of
# the time budget: the last trainings may end a little past the search's deadline.
FINAL_SLACK = 1.05
# the most accurate trained models the other policies' post-processing is measured on
COMPARED_MODELS = 3
CV_FOLDS = 5  # cv_folds="auto": folds, and the most rows searched by cross-validation
CV_MAX_ROWS = 10_000
# min_rung_rows="auto" on a table above max_search_rows: rungs of 11k, 33k and 100k rows
AUTO_RUNG_ROWS = 10_000
ENSEMBLE_RESERVE = 1.5  # the search keeps back this many times the last ensemble's seconds
KEEP_MODELS = 10  # fitted models kept in memory during a search: the pick's first ranks


# --- data and split ------------------------------------------------------------------------


def search_context(
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    sensitive_features: Any,
    sample_weight: Any = None,
) -> tuple[SearchContext, SearchDomain]:
    """Validate parameters and data; the split and everything a trial needs.

    The split depends on the data and ``random_state`` only, so a resumed search, every
    worker of a study and a rebuilt pick all see the same rows. It does not depend on
    ``sample_weight``: the holdout, the folds and the row samples are stratified on
    target x group counting rows, and every row keeps its weight wherever it lands.
    """
    constraints, domain = check_params(params, weighted=sample_weight is not None)
    task = task_of(params)
    data = prepare_fit_data(
        X,
        y,
        sensitive_features,
        keep_sensitive_as_feature=params["keep_sensitive_as_feature"],
        min_group_size=params["min_group_size"],
        pos_label=params["pos_label"],
        sensitive_bins=params.get("sensitive_bins"),
        missing_groups=params.get("missing_groups", "error"),
        task=task,
        sample_weight=sample_weight,
        constraints=constraints,
    )
    if data.missing_groups == "infer":
        data = with_inferred_membership(data, params["random_state"])
    domain = domain_for_groups(domain, data.group_encoder.labels, params, bool(data.known.all()))
    constraints = bind_constraints(constraints, data.group_encoder)
    constraints = task.bind_target(constraints, data.classes, params["pos_label"])
    split_seed = params["random_state"]
    if split_seed is None:  # one split per data set, so resumes and workers share it
        split_seed = int(data_fingerprint(data.X, data.y, data.groups)[:8], 16)
    train_idx, val_idx = split_train_validation(
        data.strata, data.groups, params["validation_fraction"], split_seed,
        labels=data.group_encoder.labels, strata_names=task.strata_labels(data.classes),
        every_stratum=task.needs_class_rows(constraints),
    )  # fmt: skip
    folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    n_folds = n_cv_folds(params["cv_folds"], len(data.y))
    if n_folds:  # the holdout split above still checked that validation can be scored
        folds = cv_folds(data.strata, data.groups, n_folds, split_seed)
        train_idx = val_idx = np.arange(len(data.y))
    elif params["max_search_rows"] is not None:
        train_idx = subsample_rows(
            train_idx, data.strata, data.groups, params["max_search_rows"], split_seed
        )
    ctx = SearchContext(
        data, train_idx, val_idx, constraints, get_metric(metric_name(params)),
        params["random_state"], 1, params["keep_sensitive_as_feature"],
        interval_level=task.interval_level(params["confidence"]),
        pick=pick_policy_of(params),
        cv_folds=folds,
        task=task,
    )  # fmt: skip
    return ctx, domain


def with_inferred_membership(data: PreparedData, random_state: int | None) -> PreparedData:
    """``data`` with the inferred P(group | x, y) of the rows whose group is unknown, and
    how well it could be inferred; when poorly, a warning and no memberships: fairness is
    then measured on the known rows (:mod:`fairautoml.data.missing_groups`)."""
    membership, quality = infer_membership(
        data.X, data.y, data.groups, len(data.group_encoder.labels),
        partial(make_group_classifier, random_state), random_state,
    )  # fmt: skip
    warn_if_poor(quality)
    poor = poorly_inferred(quality)
    quality["measured_on"] = "known rows" if poor else "all rows"
    labels = [str(label) for label in data.group_encoder.labels]
    for shares in ("known_shares", "unknown_shares"):  # per group, by its name
        quality[shares] = dict(zip(labels, quality[shares], strict=True))
    return replace(data, membership=None if poor else membership, group_inference=quality)


def n_cv_folds(cv_folds: int | str | None, n_rows: int) -> int:
    """Cross-validation folds for ``n_rows`` rows (0: a holdout split)."""
    if cv_folds == "auto":
        return CV_FOLDS if n_rows <= CV_MAX_ROWS else 0
    return int(cv_folds or 0)


# --- the search ----------------------------------------------------------------------------


@dataclass
class Search:
    """A built search: its study, data, budget and controller, ready to :meth:`run`.

    ``started`` is when the coordinating ``fit`` began (None for a worker joining the
    study); ``session`` coordinates a persistent study's processes.
    """

    params: Mapping[str, Any]
    study: optuna.Study
    ctx: SearchContext
    domain: SearchDomain
    budget: Budget
    controller: Controller
    started: float | None
    session: Session | None = None
    search_seconds: float | None = None
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    refit_reserve: float = 0.0  # seconds the current leader's refit needs (kept back)
    ensembles: EnsembleBuilder | None = None  # the search's ensembles (ensemble=True)

    @property
    def constraints(self) -> list[Constraint]:
        return self.ctx.constraints

    def run(self, desc: str = "fairautoml") -> int:
        """Run trials until the budget ends; return how many this process ran.

        The models of the points the pick ranks first stay in memory
        (:data:`KEEP_MODELS`); the others are rebuilt if picked.
        """
        params, metric = self.params, self.ctx.metric
        verbose = params["verbose"]
        progress = SearchProgress(
            self.budget.n_trials, self.search_seconds, metric=metric.name, desc=desc,
            verbose=verbose,
            remaining=self.budget.remaining if self.search_seconds is not None else None,
        )  # fmt: skip
        n_before = len(self.evaluations)

        def on_result(number: int, evaluation: Evaluation) -> None:
            self.evaluations[number] = evaluation
            if self.ensembles is not None:
                self.ensembles.observe(number, evaluation)
            forget_weak_models(self.evaluations, KEEP_MODELS, self.ctx.pick)
            self.refit_reserve = self._leader_final_seconds()
            r = evaluation.result
            progress.update(r.metric, self.ctx.pick.pickable(r))
            if self.session is not None:
                self.session.trial_done()
            if verbose >= 2:
                logger.info(
                    "trial %d %s: %s=%.4f violation=%.4f %s",
                    number, r.candidate.describe(), metric.name, r.metric, r.violation, r.status,
                )  # fmt: skip
            if self.ensembles is not None and self._ensemble_due():
                self.add_ensemble(on_result)

        optuna_verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            if not self.budget.exhausted(0):
                self.controller.run(self.study, self.ctx, self.budget, on_result)
            if self.ensembles is not None and self.ensembles.changed:
                self.add_ensemble(on_result, self._final_deadline())
            if self.session is not None and self.started is not None:
                # the coordinator's pick includes the workers' trials still running
                limit = params["time_budget"]
                limit = WAIT_FOR_WORKERS if limit is None else float(limit)
                self.session.wait_for_others(
                    self.started + limit * (1 - REFIT_RESERVE / 2) - time.monotonic()
                )
        finally:
            self.controller.runner.close()
            optuna.logging.set_verbosity(optuna_verbosity)
            progress.close()
            if self.session is not None:
                self.session.close()
        return len(self.evaluations) - n_before

    # --- ensembles (fairautoml.search.ensemble) -----------------------------------------------

    def _final_deadline(self) -> float | None:
        """When the steps after the search must have ended (None: no time budget)."""
        if self.params["time_budget"] is None or self.started is None:
            return None
        return self.started + float(self.params["time_budget"]) * FINAL_SLACK

    def _ensemble_due(self) -> bool:
        """Whether to build an ensemble now, during the search: the library changed, and
        ensembles took at most :data:`~fairautoml.search.ensemble.BUILD_SHARE` of the wall clock
        so far, one more build at the last one's cost included."""
        builder = self.ensembles
        if builder is None or builder.busy or not builder.changed or len(builder.library) < 2:
            return False
        if self.params["time_budget"] is None:  # at the end only: the same seed, the same trials
            return False
        started = self.started if self.started is not None else self.budget.started
        elapsed = time.monotonic() - started
        spent = builder.seconds + builder.last_seconds
        return spent <= ENSEMBLE_SHARE * elapsed and self.budget.remaining() > builder.last_seconds

    def add_ensemble(self, on_result: Any, deadline: float | None = None) -> list[int]:
        """Build an ensemble of the library and record its points as trials (learner
        ``ensemble``, ``derived_from`` -1); their numbers. A failure is logged only."""
        builder = self.ensembles
        if builder is None or builder.busy:
            return []
        builder.busy = True
        numbers: list[int] = []
        try:
            evaluations = builder.build(deadline)
            if not evaluations:
                return []
            members = builder.members_numbers(evaluations[0].result.candidate)
            extra = {record.DERIVED_FROM: NO_MODEL, ENSEMBLE_OF: members}
            for evaluation in evaluations:
                number = add_finished_trial(self.study, {}, {}, self.ctx, evaluation, extra)
                numbers.append(number)
                on_result(number, evaluation)
        except Exception as exc:  # ensembling never stops the search
            logger.warning("recording an ensemble failed (%s: %s)", type(exc).__name__, exc)
        finally:
            builder.busy = False
        return numbers

    def leaderboard(self) -> Any:
        """Every trial of the study (this process's and other workers'), ranked; an error
        when none succeeded."""
        board = leaderboard_frame(self.study, self.constraints, self.ctx.metric, self.ctx.pick)
        if board.empty or not (board["status"] == "ok").any():
            errors = board["error"].dropna().unique()[:3] if not board.empty else []
            raise SearchError(
                f"No trial succeeded ({len(board)} failed). First errors: {list(errors)}. "
                "Check the data and the learners, or raise time_budget."
            )
        return board

    def confirm(self) -> list[int]:
        """Confirm the leading post-processed models on every row (:mod:`fairautoml.search.confirm`)
        while the time budget allows; the new trials' numbers. Only the process that
        started the search confirms, and only with ``confirm=True``."""
        if not self.params.get("confirm", True) or self.started is None:
            return []
        deadline = None
        if self.params["time_budget"] is not None:
            deadline = self.started + float(self.params["time_budget"]) * FINAL_SLACK

        def record_point(evaluation: Evaluation, derived_from: int) -> int:
            params: dict[str, Any] = {}
            distributions: dict[str, Any] = {}
            if not is_ensemble(evaluation.result.candidate):  # an ensemble's record: its own
                params, distributions = self.controller.recorded(evaluation.result.candidate)
            return add_finished_trial(
                self.study, params, distributions, self.ctx, evaluation,
                {record.DERIVED_FROM: derived_from},
            )  # fmt: skip

        board = leaderboard_frame(self.study, self.constraints, self.ctx.metric, self.ctx.pick)
        return confirm_leaders(
            board, self.study, self.ctx, self.evaluations, record_point, deadline
        )

    def compare_policies(self) -> list[int]:
        """Measure the other decision-rule policies' post-processing (``domain.
        compare_posts``) on the :data:`COMPARED_MODELS` most accurate trained models, while
        the time budget allows; the new trials' numbers. Their points are never picked
        (``PickPolicy.deploys``): they put each policy's cost on the report. Run after the
        pick, so they take no time from it; only by the process that started the search."""
        if not self.domain.compare_posts or self.started is None:
            return []
        deadline = None
        if self.params["time_budget"] is not None:
            deadline = self.started + float(self.params["time_budget"]) * FINAL_SLACK
        board = leaderboard_frame(self.study, self.constraints, self.ctx.metric, self.ctx.pick)
        raw = board[(board["post"] == "none") & (board["status"] == "ok")]
        raw = raw[(raw["learner"] != ENSEMBLE) & raw["train_rows"].isna()]
        bases = raw.sort_values(self.ctx.metric.name, ascending=False).head(COMPARED_MODELS)
        variants = post_variants(self.domain.compare_posts)
        numbers: list[int] = []
        for number, seconds in zip(bases["trial"], bases["fit_time"], strict=True):
            if deadline is not None and time.monotonic() + 2 * float(seconds) > deadline:
                break
            number = int(number)
            ctx = self.trial_context(number)
            ctx.deadline = deadline
            evaluations = evaluate_with_posts(self.candidate(number), ctx, variants)
            for evaluation in evaluations[1:]:  # the first is the raw model, recorded already
                numbers.append(add_finished_trial(
                    self.study, {}, {}, self.ctx, evaluation, {record.DERIVED_FROM: number}
                ))  # fmt: skip
        return numbers

    def evaluation(self, number: int) -> Evaluation:
        """Trial ``number`` with its fitted model: kept in memory, or rebuilt (the same
        split and seed give the same model), even after the search's deadline."""
        chosen = self.evaluations.get(number)
        if chosen is not None and chosen.model is not None:
            return chosen
        self.ctx.deadline = None
        chosen = evaluate_candidate(self.candidate(number), self.trial_context(number))
        if chosen.model is None:
            raise SearchError(
                f"The chosen trial {number} could not be rebuilt: {chosen.result.error}. "
                "Rerun with another random_state or report this as a bug."
            )
        return chosen

    def candidate(self, number: int) -> Candidate:
        return record.candidate(self.study.get_trials(deepcopy=False)[number])

    def trial_context(self, number: int) -> SearchContext:
        """The context trial ``number`` was measured in: the search's, or for a confirmed
        point the search's data cross-validated over every row."""
        return trial_context(self.ctx, self.study.get_trials(deepcopy=False)[number])

    def refit_seconds(self, chosen: Evaluation) -> float:
        """Expected seconds to refit ``chosen`` on all rows: its search-time fit scaled to
        all rows, with a fifth to spare; 0 when it will not be refitted."""
        if not self.params["refit"] or will_not_refit(chosen):
            return 0.0
        n_all = len(self.ctx.data.y)
        trained_rows = max(self.ctx.n_training_rows(chosen.result.candidate), 1)
        return chosen.result.fit_time * n_all / trained_rows * 1.2

    def time_for_refit(self, chosen: Evaluation) -> bool:
        """Whether refitting ``chosen`` is expected to end within the budget."""
        if self.params["time_budget"] is None or self.started is None:
            return True
        left = self.started + float(self.params["time_budget"]) * FINAL_SLACK - time.monotonic()
        return self.refit_seconds(chosen) < left

    def final_seconds(self, leader: Evaluation) -> float:
        """What the steps after the search need if ``leader`` leads: its refit on all
        rows, or for a post-processed leader the confirmation of its model
        (:func:`~fairautoml.search.confirm.confirmation_seconds`; 0 where none runs)."""
        if not will_not_refit(leader):
            return self.refit_seconds(leader)
        if not self.params.get("confirm", True) or not confirmable(self.ctx):
            return 0.0
        points = model_points(self.evaluations, base_of(leader.result.candidate))
        seconds = confirmation_seconds(points, self.ctx)
        return CONFIRM_SPARE * seconds if math.isfinite(seconds) else 0.0

    def _leader_final_seconds(self) -> float:
        """What the final steps would need for the point the pick now ranks first (among
        the kept models, which hold the pick's first ranks): :meth:`final_seconds`."""
        kept = [e for e in self.evaluations.values() if e.model is not None]
        leader = max(kept, key=lambda e: self.ctx.pick.key(e.result, e.result.metric), default=None)
        return 0.0 if leader is None else self.final_seconds(leader)


def trial_context(ctx: SearchContext, trial: optuna.trial.FrozenTrial) -> SearchContext:
    """The context a recorded trial was measured in (see :meth:`Search.trial_context`)."""
    if not record.confirmed(trial):
        return ctx
    confirm_ctx = confirmation_context(ctx)
    if confirm_ctx is None:
        raise SearchError(
            f"Trial {trial.number} was confirmed after the search, but a search of this "
            "data is not (cross-validated, or trained on every training row already)."
        )
    return confirm_ctx


def will_not_refit(evaluation: Evaluation) -> bool:
    """A post-processed model is not refitted: its rule fits the scores it was fitted on.
    Nor is an ensemble with a mitigated member: its fairness is the mix of its members'
    scores as measured, and members trained again each drift on their own (a mitigated
    member's refit may move its scores, and the mix magnifies it)."""
    if evaluation.model is not None and evaluation.model.rule is not None:
        return True
    candidate = evaluation.result.candidate
    if not is_ensemble(candidate):
        return False
    members, _ = members_of(candidate)
    return any(m.mitigator != "none" for m in members)


def forget_weak_models(evaluations: dict[int, Evaluation], keep: int, policy: PickPolicy) -> None:
    """Keep fitted models only for the ``keep`` points the pick would rank first (memory
    stays bounded)."""
    with_model = [(n, e) for n, e in evaluations.items() if e.model is not None]
    if len(with_model) <= keep:
        return
    with_model.sort(key=lambda item: policy.key(item[1].result, item[1].result.metric))
    for _, e in with_model[: len(with_model) - keep]:
        e.model = e.decisions = None


def build_search(
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    sensitive_features: Any,
    *,
    started: float | None = None,
    study: optuna.Study | None = None,
    sample_weight: Any = None,
) -> Search:
    """The search ``params`` (a ``FairAutoML``'s ``get_params()``) describe on this data.

    ``started`` (``time.monotonic()`` when the fit began): the process that starts or
    resumes the search; its budget counts from then. Without it, a worker joining
    ``study`` (a persistent study a ``fit`` started): the data must be the study's
    (same fingerprint, which covers ``sample_weight``), and the budget is the study's
    shared one.
    """
    ctx, domain = search_context(params, X, y, sensitive_features, sample_weight)
    fingerprint = data_fingerprint(ctx.data.X, ctx.data.y, ctx.data.groups, ctx.data.weight)
    seed = params["random_state"]
    search_seconds = None
    session: Session | None = None
    if started is None:  # a worker
        if study is None:
            raise ValueError("build_search: a worker (started=None) joins a given study")
        if fingerprint != study.user_attrs.get(FINGERPRINT_ATTR):
            raise ConfigurationError(
                f"The data given differ from the data study {study.study_name!r} was "
                "started with. Give the worker the same file (--data PATH)."
            )
        session = Session.join(study)
        budget: Budget = session.budget
        seed = session_seed(seed, "worker " + worker_id())
    else:
        study = open_study(params["storage"], params["study_name"])
        n_before = len(study.trials)
        if n_before:  # another sampler seed, or the resumed sampler re-proposes old trials
            logger.info("resuming study %r: %d trials recorded", study.study_name, n_before)
            seed = session_seed(seed, f"resume{n_before}")
        if params["time_budget"] is not None:
            search_seconds = float(params["time_budget"]) * (1 - REFIT_RESERVE)
        if params["storage"] is not None:
            check_config(study, study_config(params), fingerprint)
            session = Session.coordinate(study, search_seconds, params["n_trials"])
            budget = session.budget
        else:
            deadline = None
            if search_seconds is not None:
                search_seconds = float(params["time_budget"]) * (1 - BOOKKEEPING)
                deadline = started + search_seconds
            budget = Budget(deadline=deadline, n_trials=params["n_trials"])
    controller = get_controller(params["controller"])(domain, seed)
    controller.min_rung_rows = min_rung_rows(params["min_rung_rows"], ctx)
    if params.get("portfolio", True):
        controller.portfolio = portfolio_for(domain.task)
    study.sampler = controller.sampler() or study.sampler
    limit_trials(params, budget, started)
    ctx.deadline = budget.deadline  # costly mitigators fail fast rather than overrun it
    controller.budget = budget
    prefit_group_classifier(ctx, domain)
    controller.runner = make_runner(
        ctx, effective_n_jobs(params["n_jobs"]), budget.trial_time_limit is not None
    )
    if started is None and budget.deadline is not None:
        search_seconds = budget.remaining()
    search = Search(params, study, ctx, domain, budget, controller, started, session)
    search.search_seconds = search_seconds
    if params.get("ensemble", True) and started is not None:  # workers keep no library
        search.ensembles = EnsembleBuilder(ctx, post_variants(domain.posts))
    if session is None and params["time_budget"] is not None:
        budget.reserve = partial(kept_back, search, float(params["time_budget"]))
    return search


def prefit_group_classifier(ctx: SearchContext, domain: SearchDomain) -> None:
    """Fit the search's group classifier (every fold's under cross-validation) before the
    trials, when a searched post-processor reads P(group | x): trials then share it, also
    in worker processes, and none pays for it under its own time limit (with many groups
    it can take longer than a trial may). A failure is left to the trials that need it."""
    known = set(available_mitigators())
    if not any(
        p in known and getattr(get_mitigator(p), "needs_group_proba", False) for p in domain.posts
    ):
        return
    try:
        for fold in range(len(ctx.cv_folds)) if ctx.cv_folds else [None]:
            ctx.group_estimator(fold)
    except Exception as exc:  # the trials that need it fail and say why
        logger.warning("the group classifier could not be fitted before the search: %s", exc)


def kept_back(search: Search, time_budget: float) -> float:
    """Seconds the search keeps back for its final step (the leader's refit or
    confirmation): what it needs, up to ``REFIT_RESERVE - BOOKKEEPING`` of the budget, and
    nothing when it needs more than everything after the search could give it (the reserve
    and the final slack): that step will not run, and holding time back for it would only
    end the search early."""
    need = search.refit_reserve
    if search.ensembles is not None:  # the final ensemble, at the last one's cost
        need += ENSEMBLE_RESERVE * search.ensembles.last_seconds
    if need > time_budget * (REFIT_RESERVE + FINAL_SLACK - 1):
        return 0.0
    return min(need, time_budget * (REFIT_RESERVE - BOOKKEEPING))


def min_rung_rows(setting: int | str | None, ctx: SearchContext) -> int | None:
    """The lowest row rung's size (None: no rungs). ``"auto"``: :data:`AUTO_RUNG_ROWS` when
    the search trains on a sample of a big table, else none: there rungs train more models
    for a pick as accurate, while on mid-sized tables at short budgets a model screened on
    a small sample can lose a pick accuracy."""
    if setting == "auto":
        return AUTO_RUNG_ROWS if ctx.trains_on_sample else None
    return None if setting is None else int(setting)


def limit_trials(params: Mapping[str, Any], budget: Budget, started: float | None) -> None:
    """Set the per-trial limit and the moment running trials are stopped."""
    limit = params["trial_time_limit"]
    if params["time_budget"] is None:
        budget.trial_time_limit = None if limit == "auto" else limit
        return
    total = float(params["time_budget"])
    if limit == "auto":  # below ISOLATE_FROM, starting worker processes costs too much
        limit = total / 3 if total >= ISOLATE_FROM else None
        budget.limit_after_success = True
    budget.trial_time_limit = limit
    if isinstance(budget, SharedBudget) and started is not None:
        budget.hard_deadline = started + total * (1 - REFIT_RESERVE / 2)
    elif started is not None:  # less the reserve, asked afresh (Budget.reserve)
        budget.hard_deadline = started + total * (1 - BOOKKEEPING / 2)
    elif isinstance(budget, SharedBudget):  # as long after the deadline as fit's
        budget.stop_after(total * REFIT_RESERVE / 2)


__all__ = ["Search", "build_search", "min_rung_rows", "search_context", "trial_context"]
