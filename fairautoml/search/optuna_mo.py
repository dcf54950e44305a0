"""``optuna``: a multi-objective Optuna study over the joint space.

Objectives are (validation metric, worst constraint violation); every constraint is
also declared with ``Trial.set_constraint`` so constraint-aware samplers (TPE, NSGA-II)
prefer feasible regions. The first trials are the spaces' defaults, one per learner,
so the search starts from configurations known to be sensible.
"""

from __future__ import annotations

import warnings

import optuna

from fairautoml.evaluate import Candidate, SearchContext
from fairautoml.learners import get_learner
from fairautoml.mitigators import get_mitigator
from fairautoml.search._base import Budget, Controller, OnResult


class OptunaController(Controller):
    name = "optuna"

    def sampler(self) -> optuna.samplers.BaseSampler:
        with warnings.catch_warnings():  # multivariate/group are "experimental" but stable
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=self.random_state, multivariate=True, group=True, n_startup_trials=8
            )

    def starting_points(self) -> list[Candidate]:
        """Each learner's defaults, with the first post-processor when there is one."""
        post = next((p for p in self.domain.posts if p != "none"), "none")
        post_params = get_mitigator(post).space.defaults() if post != "none" else {}
        return [
            Candidate(name, get_learner(name).space.defaults(), "none", {}, post, post_params)
            for name in self.domain.learners
        ]

    def run(
        self, study: optuna.Study, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        # enqueued one at a time, when asked for: a budget that ends early leaves none waiting
        starts = self.starting_points() if not study.trials else []

        def propose() -> tuple[optuna.trial.Trial, Candidate]:
            if starts:
                study.enqueue_trial(self.domain.params(starts.pop(0)))
            trial = study.ask()
            return trial, self.domain.suggest(trial)

        self.run_parallel(study, ctx, budget, on_result, propose)
