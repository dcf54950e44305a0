"""``flaml``: FLAML's cost-frugal search (CFO, or BlendSearch) through ``flaml.tune``.

The joint space is one hierarchical FLAML space: ``model`` chooses among nested dicts,
one per learner with that learner's hyperparameters (FLAML's conditional spaces), and
``mitigation`` among the cheap training mitigators with theirs. The search starts from
the spaces' low-cost values (``low_cost`` in ``search_spaces/*.yaml``). Each trained
model is scored raw and under every post-processor setting; FLAML sees the model's best
point, as ``loss = -metric`` with the worst violation reported as a metric constraint
(``metric_constraints=[("violation", "<=", 0)]``). Every point is recorded in the study;
in-processing runs come from the allocator after each trial.

Parallel trials (``n_jobs > 1``): ``flaml.tune`` runs concurrent trials only through Ray
or Spark, so then the searcher is driven directly, ``n_jobs`` trainings at a time
(:meth:`FlamlController.run_concurrent`); with one job, through ``tune.run``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from flaml import tune

from fairautoml.mitigators import get_mitigator
from fairautoml.search._base import Budget, OnResult, SearchDomain, TrainingTimes
from fairautoml.search._points import PointsController, Proposal
from fairautoml.search.allocator import Outcome
from fairautoml.spaces import Param, SearchSpace
from fairautoml.study.tracked import TrackedStudy
from fairautoml.study.trial import Candidate, SearchContext

FAILED_LOSS = 1e6  # what FLAML is told for a model that failed to train
MAX_EMPTY_SUGGESTIONS = 100  # tune.run's max_failure: suggestions of None before giving up


class _BudgetSpent(Exception):
    """Raised inside FLAML's loop to end it when our budget is spent."""


class FlamlController(PointsController):
    name = "flaml"
    search_alg: ClassVar[str] = "CFO"  # or "BlendSearch"

    def run(
        self, study: TrackedStudy, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        self.setup(study)
        learners, mitigators = self.domain.learners, self.search_domain.mitigators
        config = {
            "model": tune.choice(
                [_nested("learner", z, self.domain.learner(z).space) for z in learners]
            ),
            "mitigation": tune.choice(
                [_nested("mitigator", m, get_mitigator(m).space) for m in mitigators]
            ),
        }
        low_cost = {
            "model": [_low_cost(self.domain.learner(z).space) for z in learners],
            "mitigation": [{} for _ in mitigators],
        }
        starts = [  # every learner's low-cost start, untreated, is evaluated first
            {
                "model": {"learner": z, **self.domain.learner(z).space.low_cost()},
                "mitigation": {
                    "mitigator": mitigators[0],
                    **get_mitigator(mitigators[0]).space.defaults(),
                },
            }
            for z in learners
        ]
        times = TrainingTimes()

        def evaluate(config: dict[str, Any]) -> dict[str, float]:
            if times.spent(budget, self.n_trained):
                raise _BudgetSpent
            candidate = _candidate(config, self.domain)
            outcome = self.train_chosen(study, candidate, ctx, on_result)
            times.add(outcome.seconds - outcome.costly_seconds)
            self.allocate(study, ctx, budget, on_result)
            return _flaml_result(outcome)

        seed = self.random_state if self.random_state is not None else np.random.randint(2**31)
        search_alg = search_algorithm(self.search_alg, config, low_cost, starts, seed)
        if self._runner(ctx).capacity > 1:
            self.run_concurrent(search_alg, config, study, ctx, budget, on_result)
            return
        n_left = -1 if budget.n_trials is None else max(budget.n_trials - self.n_trained, 0)
        remaining = budget.remaining()
        flaml_logger = logging.getLogger("flaml")
        level = flaml_logger.level
        try:
            tune.run(
                evaluate,
                config=config,
                metric="loss",
                mode="min",
                metric_constraints=[("violation", "<=", 0.0)],
                search_alg=search_alg,
                time_budget_s=None if remaining == float("inf") else remaining,
                num_samples=n_left,
                verbose=0,
                use_ray=False,
            )
        except _BudgetSpent:
            pass
        finally:
            flaml_logger.setLevel(level)

    def run_concurrent(
        self,
        search_alg: Any,
        config: dict[str, Any],
        study: TrackedStudy,
        ctx: SearchContext,
        budget: Budget,
        on_result: OnResult,
    ) -> None:
        """``n_jobs`` trainings at once: FLAML's searcher driven directly (``suggest`` /
        ``on_trial_complete``, as ``tune.run`` does one trial at a time), since
        ``flaml.tune`` runs trials concurrently only through Ray or Spark."""
        remaining = budget.remaining()
        search_alg.set_search_properties(
            "loss",
            "min",
            config,
            **({} if remaining == float("inf") else {"time_budget_s": remaining}),
        )
        asked: dict[int, tuple[str, dict[str, Any]]] = {}  # trial number -> FLAML's id, config

        def propose() -> Proposal | None:
            mitigation = self.propose_mitigation(study, budget)
            if mitigation is not None:
                return mitigation
            for _ in range(MAX_EMPTY_SUGGESTIONS):  # as tune.run, which retries
                flaml_id = f"t{len(asked)}-{self.n_trained}-{len(self.in_flight)}"
                suggested = search_alg.suggest(flaml_id)
                if suggested is not None or self.in_flight:
                    break
            if suggested is None:  # nothing until a running trial reports
                return None
            candidate = _candidate(suggested, self.domain)
            trial = study.ask_fixed(self.params(candidate))
            asked[trial.number] = (flaml_id, suggested)
            return trial, self.replay(trial, candidate), None

        def after(outcome: Outcome) -> None:
            if outcome.mitigated_from is None:
                flaml_id, suggested = asked.pop(outcome.numbers[0])
                result = {**_flaml_result(outcome), "time_total_s": outcome.seconds}
                search_alg.on_trial_complete(flaml_id, as_reported(result, suggested))

        self.keep_busy(study, ctx, budget, on_result, propose, after)


def _flaml_result(outcome: Outcome) -> dict[str, float]:
    """What FLAML is told of a trained model: its best point's loss and violation."""
    best = outcome.best()
    if best.status != "ok":
        return {"loss": FAILED_LOSS, "violation": FAILED_LOSS}
    return {"loss": -best.metric, "violation": best.violation}


def as_reported(result: dict[str, float], config: dict[str, Any]) -> dict[str, Any]:
    """A trial's result as ``tune.report`` hands it to the searcher: with its config under
    ``config`` and each top-level key under ``config/KEY``. Why: a CFO whose local search
    has converged restarts from the best start point, reading its config from the
    ``config/`` keys alone; without them a search driven directly (parallel trials) fails."""
    return {**result, "config": config, **{f"config/{k}": v for k, v in config.items()}}


def search_algorithm(kind: str, config: dict, low_cost: dict, starts: list, seed: int) -> Any:
    from flaml import CFO, BlendSearch

    cls = {"CFO": CFO, "BlendSearch": BlendSearch}[kind]
    return cls(
        metric="loss",
        mode="min",
        space=config,
        low_cost_partial_config=low_cost,
        points_to_evaluate=starts,
        metric_constraints=[("violation", "<=", 0.0)],
        seed=int(seed) % (2**31),
    )


def _domain(p: Param) -> Any:
    if p.type == "categorical":
        return tune.choice(list(p.choices))
    assert p.low is not None and p.high is not None
    if p.type == "int":
        if p.low == p.high:
            return int(p.low)
        return (tune.lograndint if p.log else tune.randint)(int(p.low), int(p.high) + 1)
    if p.low == p.high:
        return float(p.low)
    return (tune.loguniform if p.log else tune.uniform)(float(p.low), float(p.high))


def _nested(key: str, name: str, space: SearchSpace) -> dict[str, Any]:
    return {key: name, **{p.name: _domain(p) for p in space.params}}


def _low_cost(space: SearchSpace) -> dict[str, Any]:
    """The declared low-cost values (FLAML starts its local search from them)."""
    return {p.name: p.low_cost for p in space.params if p.low_cost is not None}


def _candidate(config: dict[str, Any], domain: SearchDomain) -> Candidate:
    model = dict(config["model"])
    mitigation = dict(config["mitigation"])
    learner, mitigator = model.pop("learner"), mitigation.pop("mitigator")
    return Candidate(
        learner, _typed(domain.learner(learner).space, model),
        mitigator, _typed(get_mitigator(mitigator).space, mitigation),
    )  # fmt: skip


def _typed(space: SearchSpace, values: dict[str, Any]) -> dict[str, Any]:
    """FLAML's numbers as the space declares them (ints as int, within bounds)."""
    out = {}
    for p in space.params:
        v = values[p.name]
        if p.type == "int":
            v = int(min(max(round(v), p.low), p.high))  # type: ignore[type-var]
        elif p.type == "float":
            v = float(min(max(v, p.low), p.high))  # type: ignore[type-var]
        out[p.name] = v
    return out
