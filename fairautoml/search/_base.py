"""The controller protocol and the shared record of trials (an Optuna study).

A controller proposes :class:`~fairautoml.study.trial.Candidate` objects, has them
evaluated, and records every outcome in the study through :func:`record_trial`, so the
leaderboard, persistence and resume work the same for every controller.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import optuna

from fairautoml.learners import Learner, get_learner
from fairautoml.mitigators import get_mitigator
from fairautoml.study import record
from fairautoml.study.tracked import TrackedStudy
from fairautoml.study.trial import Candidate, Evaluation, SearchContext, TrialResult

logger = logging.getLogger(__name__)


@dataclass
class Budget:
    """When the search must stop: a wall-clock deadline and/or a number of trials.

    No trial starts after ``deadline``; a trial still running at ``hard_deadline`` (or
    longer than ``trial_time_limit``) is stopped and recorded as failed.
    """

    deadline: float | None = None  # time.monotonic() value
    n_trials: int | None = None
    trial_time_limit: float | None = None
    hard_deadline: float | None = None
    # the limit is fairautoml's choice (trial_time_limit="auto"), not the user's: it holds
    # from the first trial that succeeds on; before, stopping a slow trial could leave the
    # search with no answer at all (the hard deadline still stops it)
    limit_after_success: bool = False
    succeeded: bool = False
    started: float = field(default_factory=time.monotonic)
    # seconds kept back before both deadlines, asked afresh (the final refit's need)
    reserve: Callable[[], float] | None = field(default=None, repr=False)

    def _kept_back(self) -> float:
        return 0.0 if self.reserve is None else self.reserve()

    def remaining(self) -> float:
        if self.deadline is None:
            return math.inf
        return self.deadline - self._kept_back() - time.monotonic()

    def trial_limit(self) -> float | None:
        """Seconds the next trial may take (None: unlimited)."""
        waives = self.limit_after_success and not self.succeeded
        limits = [math.inf if waives else self.trial_time_limit or math.inf]
        if self.hard_deadline is not None:
            left = self.hard_deadline - self._kept_back() - time.monotonic()
            limits.append(max(left, 0.0))
        limit = min(limits)
        return None if math.isinf(limit) else limit

    def exhausted(self, n_done: int, next_cost: float = 0.0) -> bool:
        if self.n_trials is not None and n_done >= self.n_trials:
            return True
        return self.remaining() <= next_cost


@dataclass
class TrainingTimes:
    """Seconds of the search's trainings so far, and whether another one fits in the time
    left: it starts only while the budget's remaining time exceeds half a *typical*
    training (the median), so the last ones end near the deadline. The median, not the
    slowest: one slow outlier (an in-processing run, a large forest) must not end the
    search early; a training that would run far past the deadline is stopped at the
    budget's ``hard_deadline``."""

    seconds: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.seconds.append(float(seconds))

    def next_cost(self) -> float:
        return 0.5 * statistics.median(self.seconds) if self.seconds else 0.0

    def spent(self, budget: Budget, n_done: int) -> bool:
        """Whether the budget leaves no room for one more training."""
        return budget.exhausted(n_done, next_cost=self.next_cost())


@dataclass(frozen=True)
class SearchDomain:
    """What may be chosen: learners, training mitigators and post-processors, for a task."""

    learners: tuple[str, ...]
    mitigators: tuple[str, ...] = ("none",)
    posts: tuple[str, ...] = ("none",)
    task: str = "binary"
    # post-processors of the decision-rule policies the user did not choose: measured after
    # the search on its most accurate models, for the report's comparison (Search.compare)
    compare_posts: tuple[str, ...] = ()

    def learner(self, name: str) -> Learner:
        """The learner ``name`` as this domain's task trains it (its estimator and space)."""
        return get_learner(name).for_task(self.task)

    def distributions(self, candidate: Candidate) -> dict[str, Any]:
        """Optuna distributions of a candidate's parameters (for ``study.add_trial``)."""
        from optuna.distributions import CategoricalDistribution as Cat

        out: dict[str, Any] = {
            "learner": Cat(list(self.learners)),
            "mitigator": Cat(list(self.mitigators)),
            "post": Cat(list(self.posts)),
        }
        out.update(self.learner(candidate.learner).space.distributions(f"{candidate.learner}__"))
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
    attrs, constraints = record.encode(evaluation.result, ctx.constraints, ctx.interval_level)
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    for key, value in constraints.items():
        trial.set_constraint(key, value)


def add_finished_trial(
    study: TrackedStudy,
    params: dict[str, Any],
    distributions: dict[str, Any],
    ctx: SearchContext,
    evaluation: Evaluation,
    extra_attrs: dict[str, Any],
) -> int:
    """Record an already-evaluated point as a finished trial; returns its number."""
    attrs, constraints = record.encode(evaluation.result, ctx.constraints, ctx.interval_level)
    r = evaluation.result
    ok = r.status == "ok"
    frozen = optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL,
        values=[r.metric, r.violation] if ok else None,
        params=params,
        distributions=distributions,
        user_attrs={**attrs, **extra_attrs, record.WORKER: record.worker_id()},
        constraints=constraints or None,
    )
    return study.add_finished(frozen)


OnResult = Callable[[int, Evaluation], None]
T = TypeVar("T")


class Controller(ABC):
    """Proposes candidates until the budget ends; records each in ``study``."""

    name: ClassVar[str]

    def __init__(self, domain: SearchDomain, random_state: int | None = None) -> None:
        self.domain = domain
        self.random_state = random_state
        # successive halving over rows (search.row_rungs): the lowest rung's rows at least
        self.min_rung_rows: int | None = None
        # configurations to try after the cheap starts (fairautoml.search.portfolio)
        self.portfolio: tuple[Any, ...] = ()
        self.runner: Any = None  # set by FairAutoML; in-process when left None
        self.budget = Budget()

    def _runner(self, ctx: SearchContext) -> Any:
        if self.runner is None:
            from fairautoml.search.runner import InProcessRunner

            self.runner = InProcessRunner(ctx)
        return self.runner

    @abstractmethod
    def run(
        self, study: TrackedStudy, ctx: SearchContext, budget: Budget, on_result: OnResult
    ) -> None:
        """Search until ``budget`` is exhausted, calling ``on_result`` after every trial."""

    def sampler(self) -> optuna.samplers.BaseSampler | None:
        """The sampler to create the study with (None: the controller does not sample)."""
        return None

    def tell_evaluation(
        self,
        study: TrackedStudy,
        trial: optuna.trial.Trial,
        evaluation: Evaluation,
        ctx: SearchContext,
        on_result: OnResult,
    ) -> Evaluation:
        """Record an evaluation in its trial, tell the study, and report it."""
        try:
            record_trial(trial, ctx, evaluation)
            r = evaluation.result
            if r.status == "ok":
                study.tell(trial, [r.metric, r.violation])
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            number = trial.number
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
            # another process marked the trial lost meanwhile (perhaps after some of the
            # record was written): keep the result as a new record that replaces it
            if not study.finished_in_storage(trial):
                raise
            number = add_finished_trial(
                study, trial.params, trial.distributions, ctx, evaluation,
                {record.REPLACES: trial.number},
            )  # fmt: skip
            logger.warning(
                "trial %d was marked lost by another process while it ran; recorded as %d",
                trial.number, number,
            )  # fmt: skip
        on_result(number, evaluation)
        return evaluation


def as_evaluation(result: Any, task: Any, elapsed: float) -> Any:
    """A task's result; a timeout or crash of a Candidate's trial as a failed Evaluation."""
    if not isinstance(result, BaseException):
        return result
    if isinstance(task, Candidate):
        message = f"{type(result).__name__}: {result}"
        if type(result).__name__ == "TrialTimeout":
            message += f" ({elapsed:.1f} s; raise trial_time_limit or time_budget)"
        detail = getattr(result, "detail", "")
        return Evaluation(
            TrialResult(task, "failed", fit_time=elapsed, error=f"{message}\n{detail}".strip())
        )
    return result
