"""``optuna``: a multi-objective Optuna study over the joint space.

Objectives are (validation metric, worst constraint violation); every constraint is
also declared with ``Trial.set_constraint`` so constraint-aware samplers prefer
feasible regions. The sampler proposes learner x hyperparameters x cheap training
mitigator (conditional names ``learner__param``); every trained model is also scored
under every post-processor setting, and in-processing runs come from the allocator, with
their parameters chosen by the same sampler. The first trials are each learner's
low-cost start (a feasible, post-processed point within a fraction of a second), then
each learner's defaults, so the search starts from configurations known to be sensible.

The default sampler is multi-objective TPE (multivariate, grouped); it was measured
against NSGA-II and random search (``results/sampler_choice.md``).

Parallel trials: ``study.ask()`` several times before telling (TPE's ``constant_liar``)
gives a batch of configurations to train at once.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import optuna

from fairautoml.allocator import Outcome
from fairautoml.evaluate import SearchContext
from fairautoml.search._base import Budget, OnResult, ask_fixed
from fairautoml.search._points import PointsController, starting_points

SAMPLERS = ("tpe", "nsga2", "random")


class OptunaController(PointsController):
    name = "optuna"
    default_sampler: ClassVar[str] = "tpe"

    def sampler(self) -> optuna.samplers.BaseSampler:
        kind = self.default_sampler
        with warnings.catch_warnings():  # multivariate/group are "experimental" but stable
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if kind == "tpe":
                return optuna.samplers.TPESampler(
                    seed=self.random_state, multivariate=True, group=True, n_startup_trials=8
                )
            if kind == "nsga2":
                return optuna.samplers.NSGAIISampler(seed=self.random_state, population_size=20)
            if kind == "random":
                return optuna.samplers.RandomSampler(seed=self.random_state)
        raise ValueError(f"Unknown sampler {kind!r}; use one of {', '.join(SAMPLERS)}.")

    def mitigation_params(self, base: Outcome, mitigator: str) -> dict[str, Any] | None:
        """The first run of a mitigator uses its defaults; later ones, the sampler's pick."""
        return (
            None
            if self.allocator_.runs.get(mitigator)
            else super().mitigation_params(base, mitigator)
        )

    def run(
        self, study: optuna.Study, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        self.setup(study)
        starts: list[dict] = []  # cheap starts first (a feasible point early), then defaults
        for low_cost in (True, False) if not study.trials else ():
            for candidate in starting_points(self.search_domain, low_cost=low_cost):
                if self.params(candidate) not in starts:
                    starts.append(self.params(candidate))
        slowest = 0.0
        while not budget.exhausted(self.n_trained, next_cost=0.5 * slowest):
            trial = ask_fixed(study, starts.pop(0)) if starts else study.ask()
            candidate = self.suggest_training(trial)
            outcome = self.train(study, trial, candidate, ctx, on_result)
            slowest = max(slowest, outcome.seconds)
            self.allocate(study, ctx, budget, on_result)
