"""The controller protocol and the shared record of trials (an Optuna study).

A controller proposes :class:`~fairautoml.evaluate.Candidate` objects, has them
evaluated, and records every outcome in the study through :func:`record_trial`, so the
leaderboard, persistence and resume work the same for every controller.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import optuna

from fairautoml.evaluate import Candidate, Evaluation, SearchContext, evaluate_candidate
from fairautoml.learners import get_learner
from fairautoml.mitigators import get_mitigator

DIRECTIONS = ["maximize", "minimize"]  # (validation metric, worst constraint violation)


@dataclass
class Budget:
    """When the search must stop: a wall-clock deadline and/or a number of trials."""

    deadline: float | None = None  # time.monotonic() value
    n_trials: int | None = None
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def exhausted(self, n_done: int, next_cost: float = 0.0) -> bool:
        if self.n_trials is not None and n_done >= self.n_trials:
            return True
        return self.remaining() <= next_cost


@dataclass(frozen=True)
class SearchDomain:
    """What may be chosen: learners, training mitigators and post-processors."""

    learners: tuple[str, ...]
    mitigators: tuple[str, ...] = ("none",)
    posts: tuple[str, ...] = ("none",)

    def suggest(self, trial: optuna.trial.BaseTrial) -> Candidate:
        """Sample a candidate with conditional parameter names (``learner__param``)."""
        learner = trial.suggest_categorical("learner", list(self.learners))
        mitigator = trial.suggest_categorical("mitigator", list(self.mitigators))
        post = trial.suggest_categorical("post", list(self.posts))
        return Candidate(
            learner,
            get_learner(learner).space.suggest(trial, f"{learner}__"),
            mitigator,
            get_mitigator(mitigator).space.suggest(trial, f"{mitigator}__"),
            post,
            get_mitigator(post).space.suggest(trial, f"{post}__") if post != "none" else {},
        )

    def distributions(self, candidate: Candidate) -> dict[str, Any]:
        """Optuna distributions of a candidate's parameters (for ``study.add_trial``)."""
        from optuna.distributions import CategoricalDistribution as Cat

        out: dict[str, Any] = {
            "learner": Cat(list(self.learners)),
            "mitigator": Cat(list(self.mitigators)),
            "post": Cat(list(self.posts)),
        }
        out.update(get_learner(candidate.learner).space.distributions(f"{candidate.learner}__"))
        out.update(
            get_mitigator(candidate.mitigator).space.distributions(f"{candidate.mitigator}__")
        )
        if candidate.post != "none":
            out.update(get_mitigator(candidate.post).space.distributions(f"{candidate.post}__"))
        return out

    @staticmethod
    def params(candidate: Candidate) -> dict[str, Any]:
        out: dict[str, Any] = {
            "learner": candidate.learner,
            "mitigator": candidate.mitigator,
            "post": candidate.post,
        }
        for prefix, params in (
            (candidate.learner, candidate.learner_params),
            (candidate.mitigator, candidate.mitigator_params),
            (candidate.post, candidate.post_params),
        ):
            out.update({f"{prefix}__{k}": v for k, v in params.items()})
        return out


def record_trial(trial: optuna.trial.Trial, ctx: SearchContext, evaluation: Evaluation) -> None:
    """Write a trial's outcome into its study record (attributes and constraints)."""
    r = evaluation.result
    trial.set_user_attr("candidate", r.candidate.to_json())
    trial.set_user_attr("status", r.status)
    trial.set_user_attr("fit_time", r.fit_time)
    if r.error is not None:
        trial.set_user_attr("error", r.error[:2000])
        return
    trial.set_user_attr("metric", r.metric)
    trial.set_user_attr("constraint_values", r.constraint_values)
    for c in ctx.constraints:
        trial.set_constraint(c.metric, c.violation(r.constraint_values[c.metric]))


OnResult = Callable[[int, Evaluation], None]
T = TypeVar("T")


class Controller(ABC):
    """Proposes candidates until the budget ends; records each in ``study``."""

    name: ClassVar[str]

    def __init__(
        self, domain: SearchDomain, random_state: int | None = None, allocator: str = "auto"
    ) -> None:
        self.domain = domain
        self.random_state = random_state
        self.allocator = allocator  # in-processing policy: see fairautoml.allocator

    @abstractmethod
    def run(
        self, study: optuna.Study, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        """Search until ``budget`` is exhausted, calling ``on_result`` after every trial."""

    def sampler(self) -> optuna.samplers.BaseSampler | None:
        """The sampler to create the study with (None: the controller does not sample)."""
        return None

    def tell_candidate(
        self, study: optuna.Study, candidate: Candidate, ctx: SearchContext, on_result: OnResult
    ) -> Evaluation:
        """Evaluate a candidate the controller chose itself and record it in the study.

        The candidate's parameters are enqueued, so the trial the study hands out carries
        exactly them; this is how non-Optuna controllers share the one record of trials.
        """
        study.enqueue_trial(self.domain.params(candidate))
        trial = study.ask()
        recorded = self.domain.suggest(trial)
        return self.evaluate_and_tell(study, trial, recorded, ctx, on_result)

    def evaluate(self, candidate: Candidate, ctx: SearchContext) -> Evaluation:
        """Evaluate one candidate. Every controller evaluates through here, so how trials
        run (in process, in a worker pool, with a time limit) is decided in one place."""
        return evaluate_candidate(candidate, ctx)

    def evaluate_with(
        self, fn: Callable[[Candidate, SearchContext], T], candidate: Candidate, ctx: SearchContext
    ) -> T:
        """Run another module-level evaluation function ``fn(candidate, ctx)`` (e.g.
        :func:`~fairautoml.evaluate.evaluate_with_posts` bound with ``functools.partial``);
        its result must be picklable. Routed like :meth:`evaluate`."""
        return fn(candidate, ctx)

    def evaluate_and_tell(
        self,
        study: optuna.Study,
        trial: optuna.trial.Trial,
        candidate: Candidate,
        ctx: SearchContext,
        on_result: OnResult,
    ) -> Evaluation:
        return self.tell_evaluation(study, trial, self.evaluate(candidate, ctx), ctx, on_result)

    def tell_evaluation(
        self,
        study: optuna.Study,
        trial: optuna.trial.Trial,
        evaluation: Evaluation,
        ctx: SearchContext,
        on_result: OnResult,
    ) -> Evaluation:
        """Record an evaluation in its trial, tell the study, and report it."""
        record_trial(trial, ctx, evaluation)
        r = evaluation.result
        if r.status == "ok":
            study.tell(trial, [r.metric, r.violation])
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        on_result(trial.number, evaluation)
        return evaluation
