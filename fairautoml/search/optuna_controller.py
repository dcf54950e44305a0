"""``optuna``: an Optuna study over the joint space, guided by what the final pick takes.

The study is multi-objective (validation metric, worst constraint violation) with every
constraint declared by ``Trial.set_constraint``: the record every controller shares, its
Pareto front the trade-off shown to the user. What to *train* next is a different
question. Every trained model is scored raw and under every post-processor setting, and
the final pick (:mod:`fairautoml.study.pick`) takes the most accurate point that holds at
the unfavourable end of its bootstrap interval. So a model is worth what its best such
point is worth, and its raw violation says little: post-processing moves it.

The default sampler, ``fair_tpe``, searches on exactly that. Each trained model is one
trial of an in-memory single-objective TPE study over the training parameters (learner
x hyperparameters x cheap training mitigator, conditional names ``learner__param``),
valued by its best point the pick could take
(:meth:`~fairautoml.study.pick.PickPolicy.pickable`); a model with no such point is an
infeasible trial, ranked by how far its nearest point is from one
(:meth:`~fairautoml.study.pick.PickPolicy.miss`). Optuna's TPE puts feasible trials before
infeasible ones. The multi-objective samplers (``mo_tpe``: multi-objective TPE over every point,
``nsga2``; ``random``) sample from the shared study itself;
``controller="optuna[mo_tpe]"`` selects one (the benchmarks page of the docs compares them).

In-processing runs come from the allocator, their parameters from the shared study's
sampler. With ``n_jobs > 1`` that many models train at once, each in its own worker
process; the sampler is asked again before the running ones are told (TPE's constant
liar), so the batch is spread out. The first trials are each learner's low-cost start (a
feasible, post-processed point within a fraction of a second), then the portfolio
(:mod:`fairautoml.search.portfolio`): configurations learned offline to do well across
tables, in a fixed order, each whose learner is searched, whose parameters lie in its
space and whose time estimate fits the time left. The sampler learns from them like from
any trial. Without a portfolio (``portfolio=False``, a task that has none, or a domain
that rules out all of it), the defaults of the learners whose cheap start did best within
the constraints (:func:`promising_defaults`) follow the cheap starts instead, so the
search starts from configurations known to be sensible without paying for every
learner's defaults.
A resumed search rebuilds the sampler's study from the recorded trials.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

import optuna
from optuna.trial import TrialState, create_trial

from fairautoml.search._base import Budget, OnResult
from fairautoml.search._points import (
    IN_KEY,
    PointsController,
    Proposal,
    starting_points,
)
from fairautoml.search.allocator import Outcome
from fairautoml.search.portfolio import PortfolioEntry, fits_in, rows_fitted, usable_entries
from fairautoml.study import record
from fairautoml.study.pick import PickPolicy
from fairautoml.study.tracked import TrackedStudy
from fairautoml.study.trial import Candidate, SearchContext, TrialResult

SAMPLERS = ("fair_tpe", "mo_tpe", "nsga2", "random")
MODEL_VALUE = "model_violation"  # the sampler study's constraint: a model's least violation
PROMISING_SHARE = 0.5  # the share of learners whose defaults follow the cheap starts


class OptunaController(PointsController):
    name = "optuna"
    default_sampler: ClassVar[str] = "fair_tpe"

    def sampler(self) -> optuna.samplers.BaseSampler:
        """The shared study's sampler (with ``fair_tpe``: for in-processing parameters)."""
        kind = self.default_sampler
        if kind not in SAMPLERS:
            raise ValueError(f"Unknown sampler {kind!r}; use one of {', '.join(SAMPLERS)}.")
        with warnings.catch_warnings():  # multivariate/group are "experimental" but stable
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if kind == "nsga2":
                return optuna.samplers.NSGAIISampler(seed=self.random_state, population_size=20)
            if kind == "random":
                return optuna.samplers.RandomSampler(seed=self.random_state)
            return _tpe(self.random_state)

    def mitigation_params(self, base: Outcome, mitigator: str) -> dict[str, Any] | None:
        """The first run of a mitigator uses its low-cost values; later ones, the sampler's
        pick."""
        return (
            None
            if self.allocator_.runs.get(mitigator)
            else super().mitigation_params(base, mitigator)
        )

    def run(
        self, study: TrackedStudy, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        self.setup(study)
        models = self.models_study(study, ctx) if self.default_sampler == "fair_tpe" else None
        starts: list[dict] = []  # a resumed search starts from what it recorded
        defaults: list[dict] = []
        portfolio: list[tuple[PortfolioEntry, dict]] = []
        if not study.trials:
            starts = self.unique_params(starting_points(self.search_domain, low_cost=True))
            portfolio = self.portfolio_params(starts)
            if not portfolio:  # none for this task or none the user's domain allows
                defaults = self.unique_params(starting_points(self.search_domain), starts)
        cheap: dict[str, tuple[float, float] | None] = {}  # learner -> its cheap start's value
        asked: dict[int, tuple[optuna.trial.Trial, optuna.trial.Trial | None]] = {}

        def propose() -> Proposal | None:
            mitigation = self.propose_mitigation(study, budget)
            if mitigation is not None:
                return mitigation
            proposal = None
            if starts:
                trial = study.ask_fixed(starts.pop(0))
            elif portfolio and (params := self.next_in_time(portfolio, ctx, budget)) is not None:
                trial = study.ask_fixed(params)
            elif defaults and len(cheap) < len(self.search_domain.learners):
                return None  # the defaults to train wait for every cheap start's value
            elif defaults:
                starts.extend(promising_defaults(defaults, cheap))
                defaults.clear()
                return propose()
            elif models is not None:  # several asked before told: TPE's constant liar
                proposal = models.ask()
                self.suggest_training(proposal)
                trial = study.ask_fixed(proposal.params)
            else:
                trial = study.ask()
            asked[trial.number] = (trial, proposal)
            return trial, self.suggest_training(trial), None

        def after(outcome: Outcome) -> None:
            if outcome.mitigated_from is not None:
                return
            trial, proposal = asked.pop(outcome.numbers[0])
            if len(cheap) < len(self.search_domain.learners):
                value = model_value(outcome.results, learner_prior(ctx.pick))
                cheap.setdefault(outcome.candidate.learner, value)
            if models is not None:
                self.tell_model(models, proposal, trial, outcome.results, ctx)

        self.keep_busy(study, ctx, budget, on_result, propose, after)

    def unique_params(self, candidates: list[Candidate], seen: Sequence[dict] = ()) -> list[dict]:
        """The candidates' recorded parameters, each once and none of ``seen``."""
        out: list[dict] = []
        for candidate in candidates:
            params = self.params(candidate)
            if params not in out and params not in seen:
                out.append(params)
        return out

    def portfolio_params(self, seen: Sequence[dict]) -> list[tuple[PortfolioEntry, dict]]:
        """The portfolio entries this search may try (:func:`usable_entries`), in order,
        each with its recorded parameters, none of ``seen`` (the cheap starts)."""
        out: list[tuple[PortfolioEntry, dict]] = []
        for entry, candidate in usable_entries(self.portfolio, self.search_domain):
            params = self.params(candidate)
            if params not in seen and all(params != p for _, p in out):
                out.append((entry, params))
        return out

    def next_in_time(
        self, portfolio: list[tuple[PortfolioEntry, dict]], ctx: SearchContext, budget: Budget
    ) -> dict | None:
        """The parameters of the next portfolio entry whose time estimate fits the time left
        (:func:`~fairautoml.search.portfolio.fits_in`), dropping it and those before it
        that do not; None when none is left."""
        rows = rows_fitted(ctx, None if self.rungs is None else self.rungs.first)
        while portfolio:
            entry, params = portfolio.pop(0)
            if fits_in(entry, rows, budget.remaining(), budget.trial_limit()):
                return params
        return None

    # --- the fair_tpe sampler's study: one trial per trained model --------------------------

    def models_study(self, study: TrackedStudy, ctx: SearchContext) -> optuna.Study:
        """The sampler's in-memory study, holding the models already trained in ``study``."""
        models = optuna.create_study(direction="maximize", sampler=_tpe(self.random_state))
        trials = study.get_trials(deepcopy=False)
        points: dict[int, list[optuna.trial.FrozenTrial]] = {}
        for t in trials:
            if record.is_derived(t):
                points.setdefault(record.derived_from(t), []).append(t)
        by_model = {
            t.number: [record.decode(p, ctx.constraints) for p in (t, *points.get(t.number, ()))]
            for t in trials
            if t.state.is_finished() and not record.is_derived(t) and IN_KEY not in t.params
        }
        # as the leaderboard does: the usefulness floor raised by the best feasible point
        finished = (t for t in trials if t.state.is_finished())
        policy = ctx.pick.raised(record.decode(t, ctx.constraints) for t in finished)
        for t in trials:
            if t.number in by_model:
                self.tell_model(models, None, t, by_model[t.number], ctx, policy)
        return models

    def tell_model(
        self,
        models: optuna.Study,
        proposal: optuna.trial.Trial | None,
        trial: optuna.trial.BaseTrial,
        results: list[TrialResult],
        ctx: SearchContext,
        policy: PickPolicy | None = None,
    ) -> None:
        """Record one trained model in the sampler's study (``proposal``: the trial it asked),
        valued under ``policy`` (default: the search's)."""
        value = model_value(results, policy or ctx.pick)
        if proposal is not None:
            if value is None:
                models.tell(proposal, state=TrialState.FAIL)
                return
            proposal.set_constraint(MODEL_VALUE, value[1])
            models.tell(proposal, value[0])
            return
        # the training parameters only: a trained trial's record has no post-processing
        params = dict(trial.params)
        distributions = {k: trial.distributions[k] for k in params}
        if value is None:
            frozen = create_trial(state=TrialState.FAIL, params=params, distributions=distributions)
        else:
            frozen = create_trial(
                value=value[0],
                params=params,
                distributions=distributions,
                constraints={MODEL_VALUE: value[1]},
            )
        models.add_trial(frozen)


def learner_prior(pick: PickPolicy) -> PickPolicy:
    """The policy a cheap start is valued under to rank its learner: the pick's, without
    the bootstrap interval.

    Why: whether one cheap model's best point also holds at the end of its interval says
    how near the bound its post-processing landed, not how good the learner's defaults
    will be. Asked for it, the ranking would put a strong learner whose cheap start is only
    feasible after a weak one whose cheap start is robust at a lower metric, and the
    search could never train the strong learner's defaults (``docs/search.md``).
    """
    return replace(pick, robust=False)


def promising_defaults(
    defaults: list[dict], cheap: dict[str, tuple[float, float] | None]
) -> list[dict]:
    """The defaults of the better half of the learners, ranked by their cheap start's value
    (:func:`model_value` under :func:`learner_prior`: fair first, then by metric; else by
    violation), best first.

    Why: a learner's defaults cost several times its cheap start, and training every
    learner's defaults would spend most of a short search on the same starts whatever
    the controller. The cheap starts rank the learners for almost nothing; the sampler
    can still choose any learner later.
    """

    def rank(params: dict) -> tuple[float, float]:
        value = cheap.get(params["learner"])
        return (math.inf, 0.0) if value is None else (value[1], -value[0])

    keep = math.ceil(len(defaults) * PROMISING_SHARE)
    return sorted(defaults, key=rank)[:keep]


def model_value(results: list[TrialResult], policy: PickPolicy) -> tuple[float, float] | None:
    """What one trained model is worth to the search: (metric, violation), violation 0
    when one of its points is one the pick could take (the best such point's metric),
    else the point nearest to that (:meth:`~fairautoml.study.pick.PickPolicy.miss`) with
    its distance. None if training failed."""
    ok = [r for r in results if r.status == "ok" and math.isfinite(r.metric)]
    if not ok:
        return None
    best = policy.best_pickable_metric(ok)
    if best is not None:
        return best, 0.0
    least = min(ok, key=lambda r: (policy.miss(r), -r.metric))
    return least.metric, policy.miss(least)


def _tpe(seed: int | None) -> optuna.samplers.TPESampler:
    with warnings.catch_warnings():  # multivariate/group are "experimental" but stable
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, n_startup_trials=8
        )


def with_sampler(kind: str) -> type[OptunaController]:
    """The ``optuna`` controller with another sampler: ``controller="optuna[KIND]"``."""
    if kind not in SAMPLERS:
        raise ValueError(f"Unknown sampler {kind!r}; use one of {', '.join(SAMPLERS)}.")
    attrs = {"name": f"optuna[{kind}]", "default_sampler": kind}
    return type(f"OptunaController_{kind}", (OptunaController,), attrs)
