"""``admm``: an ADMM-style decomposition of the constrained joint search.

After Liu, Ram et al. ("An ADMM Based Framework for AutoML Pipeline Configuration",
AAAI 2020; "Solving Constrained CASH Problems with ADMM"). The problem

    maximise metric(x)  subject to  g_k(x) <= b_k  for every constraint k

over ``x = (learner z, hyperparameters theta_z, mitigation mu)`` is split into blocks that
are solved in turn on an augmented Lagrangian with one dual variable ``lam_k >= 0`` per
constraint (the Powell-Hestenes-Rockafellar form for inequalities)::

    L(x; lam) = -metric(x) + 1/(2 rho) * sum_k [max(0, lam_k + rho s_k(x))^2 - lam_k^2]

with ``s_k = g_k - b_k`` the signed violation (``Constraint.violation``). A violating
point pays about ``lam_k s_k + rho s_k^2 / 2``; a feasible one with slack gains at most
``lam_k^2 / (2 rho)``. A trained model yields several points (raw and post-processed);
its value is the least ``L`` among them. One iteration:

1. Learner block: ``z`` by UCB1 on ``-L`` of each learner's best model, the bonus scaled
   by the spread of those best values (at least 0.01); untried learners first.
2. Hyperparameter block: ``n_hp`` configurations from ``z``'s own TPE study, rebuilt in
   memory from all of ``z``'s models valued with the current ``lam`` (so the block always
   sees the current objective), trained with ``z``'s current mitigation choice.
3. Mitigation block, given ``theta*_z`` (``z``'s best model under ``L``): one cheap training
   mitigator (stage none/pre) with its parameters from ``z``'s mitigation TPE study, when
   there is more than "none" to choose; then the allocator's in-processing run, if it
   asks for one, with its parameters from the same study. ``z``'s mitigation choice becomes
   that of its best model.
4. Dual update at the iterate ``x_bar``, the iteration's least-``L`` point:
   ``lam_k <- max(0, lam_k + rho * s_k(x_bar))``.

Blocks alternate until the budget ends. Parallel trials (``n_jobs > 1``): block 2's
configurations are asked at once and trained in parallel, up to ``n_jobs`` at a time.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from fairautoml.mitigators import get_mitigator
from fairautoml.search._base import Budget, OnResult, TrainingTimes
from fairautoml.search._points import PointsController
from fairautoml.search.allocator import Outcome
from fairautoml.study.tracked import TrackedStudy
from fairautoml.study.trial import Candidate, SearchContext, TrialResult


class ADMMController(PointsController):
    name = "admm"
    rho = 10.0  # penalty weight; constraint slacks are rate differences (~0.01-0.3)
    n_hp = 2  # hyperparameter-block trials per iteration
    ucb = 1.0  # exploration weight of the learner bandit

    def run(
        self, study: TrackedStudy, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        self.setup(study)
        self.constraints = ctx.constraints
        self.lam = {c.key: 0.0 for c in ctx.constraints}
        self.models: dict[str, list[Outcome]] = {z: [] for z in self.domain.learners}
        self.mitigation = {z: ("none", {}) for z in self.domain.learners}
        self.pulls = dict.fromkeys(self.domain.learners, 0)
        self.lam_history: list[dict[str, float]] = []
        times = TrainingTimes()

        def spent() -> bool:
            return times.spent(budget, self.n_trained)

        while not spent():
            z = self.select_learner()
            self.pulls[z] += 1
            iterate: list[Outcome] = []
            for _ in range(0, self.n_hp, self._runner(ctx).capacity):
                if spent():
                    break
                step = self.hyperparameter_step(z, study, ctx, on_result)
                for outcome in step:
                    times.add(outcome.seconds - outcome.costly_seconds)
                iterate += step
            if not spent():
                iterate += self.mitigation_step(z, study, ctx, budget, on_result)
            self.dual_update(iterate)

    # --- the augmented Lagrangian ----------------------------------------------------------

    def lagrangian(self, r: TrialResult) -> float:
        if r.status != "ok":
            return math.inf
        penalty = 0.0
        for c in self.constraints:
            lam, s = self.lam[c.key], c.violation(r.constraint_values[c.key])
            penalty += (max(0.0, lam + self.rho * s) ** 2 - lam**2) / (2 * self.rho)
        return -r.metric + penalty

    def value(self, outcome: Outcome) -> float:
        return min(self.lagrangian(r) for r in outcome.results)

    def best_model(self, z: str) -> Outcome | None:
        plain = [o for o in self.models[z] if o.mitigated_from is None and o.ok]
        return min(plain, key=self.value, default=None)

    # --- blocks ------------------------------------------------------------------------------

    def select_learner(self) -> str:
        untried = [z for z, n in self.pulls.items() if n == 0]
        if untried:
            return untried[0]
        values = {z: min(map(self.value, m), default=math.inf) for z, m in self.models.items()}
        finite = [v for v in values.values() if math.isfinite(v)]
        scale = max(float(np.std(finite)) if len(finite) > 1 else 0.0, 0.01)
        total = sum(self.pulls.values())

        def score(z: str) -> float:
            bonus = self.ucb * scale * math.sqrt(2 * math.log(total) / self.pulls[z])
            return -values[z] + bonus if math.isfinite(values[z]) else -math.inf

        return max(self.pulls, key=score)

    def hyperparameter_step(
        self, z: str, study: TrackedStudy, ctx: SearchContext, on_result: OnResult
    ) -> list[Outcome]:
        """Configurations of ``z`` from its block study, as many as train at once
        (``n_jobs``, at most ``n_hp``): asked before any is told (TPE's constant liar)."""
        space = self.domain.learner(z).space
        plain = [o for o in self.models[z] if o.mitigated_from is None]
        block = self._block_study([(o.candidate.learner_params, o) for o in plain], space)
        if not plain:
            block.enqueue_trial(space.defaults())
        mitigator, mitigator_params = self.mitigation[z]
        batch = [
            Candidate(z, space.suggest(block.ask()), mitigator, mitigator_params)
            for _ in range(min(self.n_hp, self._runner(ctx).capacity))
        ]
        outcomes = self.train_batch(study, batch, ctx, on_result)
        self.models[z] += outcomes
        return outcomes

    def mitigation_step(
        self, z: str, study: TrackedStudy, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> list[Outcome]:
        out: list[Outcome] = []
        best = self.best_model(z)
        if best is not None and len(self.search_domain.mitigators) > 1:
            mitigator, params = self._suggest_mitigation(z, self.search_domain.mitigators)
            candidate = Candidate(z, best.candidate.learner_params, mitigator, params)
            out.append(self._train(study, candidate, ctx, on_result))
        mitigated = self.allocate(study, ctx, budget, on_result)
        if mitigated is not None:
            self.models[mitigated.candidate.learner].append(mitigated)
            out.append(mitigated)
        best = self.best_model(z)
        if best is not None:
            self.mitigation[z] = (best.candidate.mitigator, best.candidate.mitigator_params)
        return out

    def mitigation_params(self, base: Outcome, mitigator: str) -> dict[str, Any] | None:
        return self._suggest_mitigation(base.candidate.learner, (mitigator,))[1]

    def dual_update(self, iterate: list[Outcome]) -> None:
        points = [r for o in iterate for r in o.results if r.status == "ok"]
        if not points:
            return
        x_bar = min(points, key=self.lagrangian)
        for c in self.constraints:
            s = c.violation(x_bar.constraint_values[c.key])
            self.lam[c.key] = max(0.0, self.lam[c.key] + self.rho * s)
        self.lam_history.append(dict(self.lam))

    # --- helpers -----------------------------------------------------------------------------

    def _train(
        self, study: TrackedStudy, candidate: Candidate, ctx: SearchContext, on_result: OnResult
    ) -> Outcome:
        outcome = self.train_chosen(study, candidate, ctx, on_result)
        self.models[candidate.learner].append(outcome)
        return outcome

    def _suggest_mitigation(self, z: str, choices: tuple[str, ...]) -> tuple[str, dict]:
        """A training mitigator among ``choices`` and its parameters from z's mitigation
        study (every cheap and in-processing mitigator z was trained with, valued by L)."""
        names = tuple(dict.fromkeys((*self.search_domain.mitigators, *self.in_mitigators)))
        history = [
            ({"mitigation": o.candidate.mitigator, **o.candidate.mitigator_params}, o)
            for o in self.models[z]
            if o.candidate.mitigator in names
        ]
        extra = {"mitigation": CategoricalDistribution(list(names))}
        block = self._block_study(history, None, extra, prefix_by="mitigation")
        if len(choices) == 1:
            block.enqueue_trial({"mitigation": choices[0]})
        trial = block.ask()
        name = trial.suggest_categorical("mitigation", list(names))
        if name not in choices:  # the sampler strayed outside this step's choices
            name = choices[int(self._rng().integers(len(choices)))]
        return name, get_mitigator(name).space.suggest(trial, f"{name}__")

    def _block_study(
        self,
        history: list[tuple[dict[str, Any], Outcome]],
        space: Any,
        extra: dict[str, Any] | None = None,
        prefix_by: str | None = None,
    ) -> optuna.Study:
        """An in-memory single-objective TPE study holding ``history`` valued by L now."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=None if self.random_state is None else self.random_state + self.n_trained,
                n_startup_trials=5,
                multivariate=True,
            )
        block = optuna.create_study(direction="minimize", sampler=sampler)
        trials = []
        for params, outcome in history:
            dists = dict(extra or {})
            if space is not None:
                dists.update(space.distributions())
                values = params
            else:  # mitigation parameters carry the mitigator's prefix
                name = params[prefix_by]
                own = get_mitigator(name).space
                dists.update(own.distributions(f"{name}__"))
                values = {prefix_by: name} | {
                    f"{name}__{k}": v for k, v in params.items() if k != prefix_by
                }
            value = self.value(outcome)
            ok = math.isfinite(value)
            trials.append(
                create_trial(
                    params=values,
                    distributions=dists,
                    value=value if ok else None,
                    state=TrialState.COMPLETE if ok else TrialState.FAIL,
                )
            )
        block.add_trials(trials)
        return block

    def _rng(self) -> np.random.Generator:
        seed = None if self.random_state is None else self.random_state + self.n_trained
        return np.random.default_rng(seed)
