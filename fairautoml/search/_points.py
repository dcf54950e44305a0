"""What every built-in controller shares: trained models as several points, and allocation.

A controller proposes a *training* configuration (learner, hyperparameters, a cheap
training mitigator of stage ``none``/``pre``). It is trained once and scored raw and under
every post-processor setting; each score is one trial of the study. The raw point is
the controller's own trial; the post-processed ones are added finished right after
it, with the user attribute ``derived_from`` naming it. In-processing mitigators (stage
``in``) are not searched by the controller: after each trained configuration the
:mod:`~fairautoml.search.allocator` decides whether a configuration is worth one, and the
in-processing run is recorded the same way (its mitigator under the ``in_mitigator``
parameter, so the ``mitigator`` parameter keeps one distribution for the samplers).

Chosen parameters reach the study as a trial created running with them fixed
(:meth:`~fairautoml.study.tracked.TrackedStudy.ask_fixed`): Optuna's queue of enqueued
trials is not safe between processes sharing a study.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import optuna

from fairautoml.mitigators import get_mitigator
from fairautoml.search._base import (
    Budget,
    Controller,
    OnResult,
    SearchDomain,
    TrainingTimes,
    add_finished_trial,
    as_evaluation,
)
from fairautoml.search.allocator import Allocator, Outcome
from fairautoml.search.evaluate import evaluate_with_posts
from fairautoml.search.post_settings import default_settings, is_costly_post, post_variants
from fairautoml.search.row_rungs import RowRungs
from fairautoml.study import record
from fairautoml.study.tracked import TrackedStudy
from fairautoml.study.trial import Candidate, SearchContext

IN_KEY = "in_mitigator"
COSTLY_POSTS_TOP = 1  # costly post-processing runs on models that beat every earlier one
COSTLY_POSTS_SHARE = 0.25  # at most this share of a timed search's wall clock goes to them
# a training to start: its trial, the candidate, and the configuration it mitigates (or None)
Proposal = tuple[optuna.trial.Trial, Candidate, "Outcome | None"]


class PointsController(Controller):
    """A controller whose trained models yield several points and feed an allocator."""

    def setup(self, study: TrackedStudy) -> None:
        """Split the domain by stage; count the trained models already in the study."""
        stages = {m: get_mitigator(m).stage for m in self.domain.mitigators}
        cheap = tuple(m for m, stage in stages.items() if stage != "in") or ("none",)
        self.in_mitigators = tuple(m for m, stage in stages.items() if stage == "in")
        self.search_domain = replace(self.domain, mitigators=cheap)
        self.variants = post_variants(self.domain.posts)
        self.allocator_: Allocator = Allocator(self.in_mitigators)
        self.allocator_.timed = self.budget.deadline is not None
        self.n_trained = sum(
            t.state.is_finished() and not record.is_derived(t)
            for t in study.get_trials(deepcopy=False)
        )
        self.rungs: RowRungs | None = None  # the row rungs of the running search, if any
        self.model_bests: list[float] = []  # best pickable metric of each model trained here
        self.costly_seconds = 0.0  # spent on costly post-processing by the models trained here
        self.costly_rounds = 0  # models that got the costly post-processing
        # trainings running: trial number -> (trial, candidate, mitigated_from, start)
        self.in_flight: dict[int, tuple[optuna.trial.Trial, Candidate, Outcome | None, float]] = {}

    def costly_posts_from(self) -> float | None:
        """The metric a model's cheap points must reach to also get the costly post-processors.

        Costly settings (a group classifier to train, per-group trade-off curves, a sweep
        per direction for equalized odds) can take many times as long as training a small
        model, and they rarely beat the cheap relaxed thresholds on the same scores. So they
        run on a model only when its best point the pick could take
        (:meth:`~fairautoml.study.pick.PickPolicy.pickable`) reaches the
        :data:`COSTLY_POSTS_TOP`-th best of the models trained so far (every model, until
        that many had such a point), and, in a timed search, only while the time they took,
        plus one more round at their average, stays within :data:`COSTLY_POSTS_SHARE` of
        the wall clock by then and ends before the deadline (else infinity: none run), so
        the budget goes to training. A model trained on a row rung below the top gets none
        (:meth:`submit`): it is judged against its rung on cheap points alike.
        """
        if self.allocator_.timed and self.costly_rounds:
            elapsed = time.monotonic() - self.budget.started
            next_round = self.costly_seconds / self.costly_rounds
            if self.costly_seconds + next_round > COSTLY_POSTS_SHARE * (elapsed + next_round):
                return math.inf
            if next_round > self.budget.remaining():  # it would run into the deadline
                return math.inf
        if len(self.model_bests) < COSTLY_POSTS_TOP:
            return None
        return sorted(self.model_bests, reverse=True)[COSTLY_POSTS_TOP - 1]

    # --- parameters as the study records them ---------------------------------------------

    def suggest_training(self, trial: optuna.trial.BaseTrial) -> Candidate:
        """Sample learner, hyperparameters and a cheap training mitigator (no post)."""
        domain = self.search_domain
        learner = trial.suggest_categorical("learner", list(domain.learners))
        mitigator = trial.suggest_categorical("mitigator", list(domain.mitigators))
        return Candidate(
            learner,
            domain.learner(learner).space.suggest(trial, f"{learner}__"),
            mitigator,
            get_mitigator(mitigator).space.suggest(trial, f"{mitigator}__"),
        )

    def replay(self, trial: optuna.trial.BaseTrial, candidate: Candidate) -> Candidate:
        """Suggest a candidate's parameters in ``trial`` (values come from the fixed
        ones; any left out, e.g. an in-processing mitigator's, the sampler chooses)."""
        learner = trial.suggest_categorical("learner", list(self.domain.learners))
        learner_params = self.domain.learner(learner).space.suggest(trial, f"{learner}__")
        if candidate.mitigator in self.in_mitigators:
            mitigator = trial.suggest_categorical(IN_KEY, list(self.in_mitigators))
        else:
            choices = list(self.search_domain.mitigators)
            mitigator = trial.suggest_categorical("mitigator", choices)
        mitigator_params = get_mitigator(mitigator).space.suggest(trial, f"{mitigator}__")
        post, post_params = "none", {}
        if candidate.post != "none":
            post = trial.suggest_categorical("post", list(self.domain.posts))
            post_params = get_mitigator(post).space.suggest(trial, f"{post}__")
        return Candidate(learner, learner_params, mitigator, mitigator_params, post, post_params)

    def recorded(self, point: Candidate) -> tuple[dict[str, Any], dict[str, Any]]:
        """A point's parameters and their distributions as this controller's trials record
        them (a parameter's distribution must be the same in every trial of a study)."""
        fixed = optuna.trial.FixedTrial(self.params(point))
        self.replay(fixed, point)
        return fixed.params, fixed.distributions

    def params(self, candidate: Candidate, *, with_mitigator_params: bool = True) -> dict:
        out = SearchDomain.params(candidate)
        if candidate.mitigator in self.in_mitigators:
            out[IN_KEY] = out.pop("mitigator")
            if not with_mitigator_params:
                prefix = f"{candidate.mitigator}__"
                out = {k: v for k, v in out.items() if not k.startswith(prefix)}
        if candidate.post == "none":
            out.pop("post")
        return out

    # --- training and recording -----------------------------------------------------------

    def submit(
        self,
        trial: optuna.trial.Trial,
        candidate: Candidate,
        ctx: SearchContext,
        mitigated_from: Outcome | None = None,
    ) -> None:
        """Start training ``candidate`` (already suggested in ``trial``) on the runner."""
        posts, costly_from = self.variants, self.costly_posts_from()
        if self.rungs is not None and self.rungs.below_top(candidate.train_rows):
            # a lower rung screens, every model alike: the raw point and each cheap
            # post-processor's default setting; the top rung gets every setting
            posts, costly_from = default_settings(self.variants), math.inf
        evaluate = partial(evaluate_with_posts, posts=posts, costly_from=costly_from)
        runner = self._runner(ctx)
        runner.submit(trial.number, evaluate, candidate, self.budget.trial_limit())
        self.in_flight[trial.number] = (trial, candidate, mitigated_from, time.monotonic())

    def collect(self, study: TrackedStudy, ctx: SearchContext, on_result: OnResult) -> Outcome:
        """Wait for the next training to end; record all its points."""
        number, result = self._runner(ctx).wait_any()
        trial, candidate, mitigated_from, start = self.in_flight.pop(number)
        seconds = time.monotonic() - start
        evaluations = as_evaluation(result, candidate, seconds)
        if not isinstance(evaluations, list):  # stopped at its time limit: one failed point
            evaluations = [evaluations]
        numbers = [trial.number]
        # the derived points first: once the trained trial is told, others may read the
        # study as complete for it (a coordinator waiting for workers' running trials)
        for evaluation in evaluations[1:]:
            params, distributions = self.recorded(evaluation.result.candidate)
            number = add_finished_trial(
                study, params, distributions, ctx, evaluation, {record.DERIVED_FROM: trial.number}
            )
            on_result(number, evaluation)
            numbers.append(number)
        self.tell_evaluation(study, trial, evaluations[0], ctx, on_result)
        self.budget.succeeded |= any(e.result.status == "ok" for e in evaluations)
        ctx.pick = ctx.pick.raised(e.result for e in evaluations)  # what is within reach
        outcome = Outcome(
            candidate,
            [e.result for e in evaluations],
            numbers,
            seconds,
            mitigated_from,
            policy=ctx.pick,
        )
        self.n_trained += 1
        outcome.costly_seconds = costly_post_seconds(outcome)
        self.costly_seconds += outcome.costly_seconds
        self.costly_rounds += outcome.costly_seconds > 0
        self.allocator_.observe(outcome)
        best = outcome.fair_metric
        if best is not None:
            self.model_bests.append(best)
        return outcome

    def train(
        self,
        study: TrackedStudy,
        trial: optuna.trial.Trial,
        candidate: Candidate,
        ctx: SearchContext,
        on_result: OnResult,
        mitigated_from: Outcome | None = None,
    ) -> Outcome:
        """Train ``candidate`` (already suggested in ``trial``) now; record all its points."""
        self.submit(trial, candidate, ctx, mitigated_from)
        return self.collect(study, ctx, on_result)

    def train_chosen(
        self, study: TrackedStudy, candidate: Candidate, ctx: SearchContext, on_result: OnResult
    ) -> Outcome:
        """Train a configuration the controller chose itself (its parameters fixed)."""
        trial, chosen, _ = self.chosen(study, candidate)
        return self.train(study, trial, chosen, ctx, on_result)

    def train_batch(
        self,
        study: TrackedStudy,
        candidates: list[Candidate],
        ctx: SearchContext,
        on_result: OnResult,
    ) -> list[Outcome]:
        """Train configurations the controller chose, up to ``n_jobs`` at once; outcomes
        in the order the trainings ended."""
        runner, waiting, out = self._runner(ctx), list(candidates), []
        while waiting or self.in_flight:
            while waiting and len(self.in_flight) < runner.capacity:
                trial, chosen, _ = self.chosen(study, waiting.pop(0))
                self.submit(trial, chosen, ctx)
            out.append(self.collect(study, ctx, on_result))
        return out

    def keep_busy(
        self,
        study: TrackedStudy,
        ctx: SearchContext,
        budget: Budget,
        on_result: OnResult,
        propose: Callable[[], Proposal | None],
        after: Callable[[Outcome], None] = lambda outcome: None,
    ) -> None:
        """Train what ``propose`` returns, up to ``n_jobs`` models at once (the runner's
        capacity), until the budget ends; ``after`` sees each outcome of a proposal as it
        ends. A new training starts only while one fits in the time left
        (:class:`TrainingTimes`). Costly post-processing is left out of the trainings'
        seconds: it is gated on its own (:meth:`costly_posts_from`), so one round of it
        does not end the search early.

        With row rungs (:mod:`~fairautoml.search.row_rungs`), a proposed configuration
        trains first on the lowest rung's sample, and one that leads its rung is trained
        again on the next rung's rows before anything new is proposed; those trainings
        are the search's own, so ``after`` (the sampler's feedback) does not see them."""
        runner, times = self._runner(ctx), TrainingTimes()
        rungs = self.rungs = (
            None if ctx.cv_folds else RowRungs.for_rows(len(ctx.train_idx), self.min_rung_rows)
        )
        promoted: list[Candidate] = []  # configurations that earned the next rung's rows
        while True:
            while len(self.in_flight) < runner.capacity and not times.spent(
                budget, self.n_trained + len(self.in_flight)
            ):
                if promoted:
                    proposal = self.chosen(study, promoted.pop(0))
                else:
                    proposal = propose()
                    if proposal is None:
                        break
                    if rungs is not None and proposal[2] is None:  # a new configuration
                        trial, candidate, _ = proposal
                        proposal = (trial, replace(candidate, train_rows=rungs.first), None)
                self.submit(*proposal[:2], ctx, proposal[2])
            if not self.in_flight:
                return
            outcome = self.collect(study, ctx, on_result)
            times.add(outcome.seconds - outcome.costly_seconds)
            rows = outcome.candidate.train_rows
            judged = rungs is not None and outcome.mitigated_from is None
            if not (judged and rows != rungs.first):  # a promotion is the search's own
                after(outcome)
            if judged and rungs.promote(rows, outcome.fair_metric):
                promoted.append(replace(outcome.candidate, train_rows=rungs.rows_above(rows)))

    def chosen(
        self,
        study: TrackedStudy,
        candidate: Candidate,
        mitigated_from: Outcome | None = None,
        *,
        with_mitigator_params: bool = True,
    ) -> Proposal:
        """A configuration the controller chose itself, as a trial to train: its parameters
        fixed (the mitigator's left to the sampler without ``with_mitigator_params``), its
        training rows kept."""
        params = self.params(candidate, with_mitigator_params=with_mitigator_params)
        trial = study.ask_fixed(params)
        replayed = replace(self.replay(trial, candidate), train_rows=candidate.train_rows)
        return trial, replayed, mitigated_from

    # --- in-processing on the allocator's say -----------------------------------------------

    def mitigation_params(self, base: Outcome, mitigator: str) -> dict[str, Any] | None:
        """Parameters of an in-processing run (None: let the study's sampler choose): the
        mitigator's low-cost values for its first run, its defaults after. FLAML's low-cost
        start: the first run buys the measurement of the mitigator's cost, and must fit
        in the per-trial time limit before anything is known of it."""
        space = get_mitigator(mitigator).space
        return space.defaults() if self.allocator_.runs.get(mitigator) else space.low_cost()

    def propose_mitigation(self, study: TrackedStudy, budget: Budget) -> Proposal | None:
        """The in-processing run the allocator asks for, as a trial to train, if any."""
        if not self.in_mitigators or budget.exhausted(self.n_trained + len(self.in_flight)):
            return None
        limit = budget.trial_limit()
        pick = self.allocator_.pick(budget.remaining(), math.inf if limit is None else limit)
        if pick is None:
            return None
        base, mitigator = pick
        params = self.mitigation_params(base, mitigator)
        wanted = replace(base.candidate, mitigator=mitigator, mitigator_params=params or {})
        return self.chosen(study, wanted, base, with_mitigator_params=params is not None)

    def allocate(
        self, study: TrackedStudy, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> Outcome | None:
        """Run the in-processing the allocator asks for, if any, now."""
        proposal = self.propose_mitigation(study, budget)
        if proposal is None:
            return None
        trial, candidate, base = proposal
        return self.train(study, trial, candidate, ctx, on_result, mitigated_from=base)


def starting_points(domain: SearchDomain, *, low_cost: bool = False) -> list[Candidate]:
    """Each learner's defaults (or low-cost start), untreated."""
    out = []
    for name in domain.learners:
        space = domain.learner(name).space
        out.append(Candidate(name, space.low_cost() if low_cost else space.defaults()))
    return out


def costly_post_seconds(outcome: Outcome) -> float:
    """Wall-clock seconds an outcome spent on costly post-processing (0 when none ran):
    its whole time less the training and the cheap points' own post-processing."""
    raw, posts = outcome.results[0], outcome.results[1:]
    if not any(is_costly_post(r.candidate.post) for r in posts):
        return 0.0
    cheap = raw.fit_time + sum(
        r.fit_time - raw.fit_time for r in posts if not is_costly_post(r.candidate.post)
    )
    return max(outcome.seconds - cheap, 0.0)
