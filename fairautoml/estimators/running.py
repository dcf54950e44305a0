"""A built search, running: its trials, then the ensembles, the confirmation of the
leading post-processed models and the other decision-rule policies' models, each only
when its time fits the budget; and the budget policy (the share kept for the final
refit, the slack the final steps may take).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna

from fairautoml.exceptions import SearchError
from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators import get_mitigator
from fairautoml.progress import SearchProgress
from fairautoml.search import (
    Budget,
    Controller,
    SearchDomain,
    add_finished_trial,
)
from fairautoml.search.confirm import (
    ALL_TRAINING_ROWS,
    base_of,
    confirm_leaders,
    confirmable,
    confirmation_context,
    confirmation_kind,
    confirmation_plan,
    confirmation_seconds,
    model_points,
)
from fairautoml.search.confirm import SPARE as CONFIRM_SPARE
from fairautoml.search.cores import CorePlan
from fairautoml.search.ensemble import BUILD_SHARE as ENSEMBLE_SHARE
from fairautoml.search.ensemble import ENSEMBLE_OF, NO_MODEL, EnsembleBuilder
from fairautoml.search.evaluate import (
    evaluate_candidate,
    evaluate_trained,
    evaluate_with_posts,
    read_group_proba,
)
from fairautoml.search.post_settings import post_variants
from fairautoml.search.session import Session
from fairautoml.study import record
from fairautoml.study.kinds import kind_of
from fairautoml.study.leaderboard import leaderboard_frame
from fairautoml.study.pick import PickPolicy
from fairautoml.study.trial import Candidate, Evaluation, SearchContext

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


ENSEMBLE_RESERVE = 1.5  # the search keeps back this many times the last ensemble's seconds


# Share of the time budget a search that trains on a sample of a big table may keep back
# to confirm its leader on more of the rows: the same model trained on a few times the
# rows gains more than the search's last trials (chosen on seeds set aside:
# docs/decisions.md).
BIG_TABLE_SHARE = 0.3


KEEP_MODELS = 10  # fitted models kept in memory during a search: the pick's first ranks


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
    cores: CorePlan | None = None  # how the trials use the cores; after them, all of them
    # the fit rows' feature bins for the audit reference (fairautoml.audit.verdicts.fit_features),
    # computed before the trials so that their seconds are the search's; None: at the pick
    fit_features: dict[str, Any] | None = None

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
                # like a trial, it ends with the search: its settings stop at the deadline
                left = self.budget.remaining()
                ends = time.monotonic() + left if math.isfinite(left) else None
                self.add_ensemble(on_result, ends)

        optuna_verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            if not self.budget.exhausted(0):
                self.controller.run(self.study, self.ctx, self.budget, on_result)
            if self.cores is not None:  # what trains after the trials has every core
                self.ctx.n_jobs = self.cores.final_threads
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
            if evaluation.result.candidate.kind.drawn:  # else its record is its own
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
        pick, so they take no time from it; only by the process that started the search.

        A model the search kept is scored again, not trained again; each model starts only
        if its expected cost (:func:`policy_cost`) still fits before the end of the time
        budget itself, not its final slack, and no setting starts after it: these points
        are for the report, and a fit's wall time is the budget."""
        if not self.domain.compare_posts or self.started is None:
            return []
        deadline = None
        if self.params["time_budget"] is not None:
            deadline = self.started + float(self.params["time_budget"])
        board = leaderboard_frame(self.study, self.constraints, self.ctx.metric, self.ctx.pick)
        raw = board[(board["post"] == "none") & (board["status"] == "ok")]
        single = raw["learner"].map(lambda learner: kind_of(learner).trained_model)
        raw = raw[single.astype(bool) & raw["train_rows"].isna()]
        bases = raw.sort_values(self.ctx.metric.name, ascending=False).head(COMPARED_MODELS)
        variants = post_variants(self.domain.compare_posts)
        numbers: list[int] = []
        last_cost = 0.0
        for number, seconds in zip(bases["trial"], bases["fit_time"], strict=True):
            number = int(number)
            kept = self.evaluations.get(number)
            ctx = self.trial_context(number)
            retrain = kept is None or kept.model is None or bool(self.ctx.cv_folds)
            expected = max(last_cost, policy_cost(float(seconds), retrain, ctx, variants))
            if deadline is not None and time.monotonic() + expected > deadline:
                break
            began = time.monotonic()
            ctx.deadline = deadline
            evaluations = None
            if kept is not None:
                evaluations = evaluate_trained(kept, ctx, variants, until=deadline)
            if evaluations is None:
                evaluations = evaluate_with_posts(self.candidate(number), ctx, variants)
            for evaluation in evaluations[1:]:  # the first is the raw model, recorded already
                numbers.append(add_finished_trial(
                    self.study, {}, {}, self.ctx, evaluation, {record.DERIVED_FROM: number}
                ))  # fmt: skip
            last_cost = time.monotonic() - began
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
        if not self.params["refit"] or will_not_refit(chosen, self.ctx):
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
        (:func:`~fairautoml.search.confirm.confirmation_seconds`; 0 where none runs; the
        most that is kept back where a confirmation on a sample of the training rows fits
        in that and one on every row would not)."""
        if not will_not_refit(leader, self.ctx):
            return self.refit_seconds(leader)
        if not self.params.get("confirm", True) or not confirmable(self.ctx):
            return 0.0
        points = model_points(self.evaluations, base_of(leader.result.candidate))
        seconds = confirmation_seconds(points, self.ctx)
        if not math.isfinite(seconds):
            return 0.0
        need = CONFIRM_SPARE * seconds
        if self.params["time_budget"] is None:
            return need
        budget = float(self.params["time_budget"])
        most = self.most_kept_back(budget) - self.final_ensemble_seconds()  # after the ensemble
        if need > most and confirmation_plan(points, self.ctx, most):
            return most  # it trains on as many of the training rows as that time allows
        return need

    def final_ensemble_seconds(self) -> float:
        """What the search keeps back for its final ensemble: :data:`ENSEMBLE_RESERVE`
        times the last one's seconds (0 without ensembles)."""
        if self.ensembles is None:
            return 0.0
        return ENSEMBLE_RESERVE * self.ensembles.last_seconds

    def most_kept_back(self, time_budget: float) -> float:
        """The most seconds the search keeps back for its final steps (:func:`kept_back`):
        ``REFIT_RESERVE - BOOKKEEPING`` of the budget, or :data:`BIG_TABLE_SHARE` where
        the search trains on a sample of a big table's rows and confirms its leader on
        more of them (:mod:`fairautoml.search.confirm`)."""
        if confirmation_kind(self.ctx) == ALL_TRAINING_ROWS and self.params.get("confirm", True):
            return time_budget * BIG_TABLE_SHARE
        return time_budget * (REFIT_RESERVE - BOOKKEEPING)

    def _leader_final_seconds(self) -> float:
        """What the final steps would need for the point the pick now ranks first (among
        the kept models, which hold the pick's first ranks): :meth:`final_seconds`."""
        kept = [e for e in self.evaluations.values() if e.model is not None]
        leader = max(kept, key=lambda e: self.ctx.pick.key(e.result, e.result.metric), default=None)
        return 0.0 if leader is None else self.final_seconds(leader)


def policy_cost(
    seconds: float, retrain: bool, ctx: SearchContext, variants: Sequence[tuple[str, Any]]
) -> float:
    """Expected seconds of :meth:`Search.compare_policies` for one model whose training
    took ``seconds``: trained again, twice that; kept, nothing to train, unless a setting
    reads P(group | x) and the search's group classifier is not fitted yet (its fit, a
    boosted model on the same rows, is taken to cost what the model's did). The settings
    themselves are bounded by the deadline, one at a time."""
    if retrain:
        return 2 * seconds
    if read_group_proba(variants) and not ctx.has_group_estimator():
        return seconds
    return 0.0


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


def will_not_refit(evaluation: Evaluation, ctx: SearchContext) -> bool:
    """A post-processed model is not refitted: its rule fits the scores it was fitted on.
    Nor is a composite its kind does not refit (an ensemble with a mitigated member: its
    fairness is the mix of its members' scores as measured, and members trained again each
    drift on their own; fairautoml.study.kinds). Nor, where the rows without a group train
    in drawn groups (``missing_groups="infer"``, :attr:`PreparedData.training_groups`), a
    model whose mitigation fits to the groups: its weights or multipliers rest on one draw
    per row, and trained again on more rows the same settings land on another model (a
    ``docs/decisions.md`` record, "Training mitigations in drawn groups")."""
    if evaluation.model is not None and evaluation.model.rule is not None:
        return True
    candidate = evaluation.result.candidate
    if ctx.data.training_groups is not None and fits_to_groups(candidate):
        return True
    return not candidate.kind.refitted(candidate.learner_params)


def fits_to_groups(candidate: Candidate) -> bool:
    """Whether the candidate's training reads the groups (a mitigation before or in the
    learner; an ensemble's members are its kind's to answer for)."""
    return get_mitigator(candidate.mitigator).stage != "none"


def forget_weak_models(evaluations: dict[int, Evaluation], keep: int, policy: PickPolicy) -> None:
    """Keep fitted models only for the ``keep`` points the pick would rank first (memory
    stays bounded)."""
    with_model = [(n, e) for n, e in evaluations.items() if e.model is not None]
    if len(with_model) <= keep:
        return
    with_model.sort(key=lambda item: policy.key(item[1].result, item[1].result.metric))
    for _, e in with_model[: len(with_model) - keep]:
        e.model = e.decisions = None


def kept_back(search: Search, time_budget: float) -> float:
    """Seconds the search keeps back for its final step (the leader's refit or
    confirmation): what it needs, up to :meth:`Search.most_kept_back`, and nothing when it
    needs more than everything after the search could give it (that, the bookkeeping and
    the final slack): that step will not run, and holding time back for it would only end
    the search early."""
    need = search.refit_reserve + search.final_ensemble_seconds()
    most = search.most_kept_back(time_budget)
    if need > most + time_budget * (BOOKKEEPING + FINAL_SLACK - 1):
        return 0.0
    return min(need, most)
