"""One process's turn on a persistent study: the budget every process shares, the
heartbeat that shows the process is alive, and the search time it adds to the study.

The coordinator (``fit``) stores the budget in the study; workers follow it. Trials are
counted in the study, so every process stops at the same total.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState

from fairautoml.search import Budget
from fairautoml.study import record
from fairautoml.study.storage import BUDGET_ATTR, SPENT_ATTR
from fairautoml.study.tracked import HEARTBEAT_INTERVAL, TrackedStudy

logger = logging.getLogger("fairautoml")


def session_seed(random_state: int | None, role: str) -> int | None:
    """Sampler seed of one session: the same seed twice would re-propose the same trials."""
    if random_state is None:
        return None
    return (int(random_state) + zlib.crc32(role.encode())) % (2**31)


@dataclass
class SharedBudget(Budget):
    """The study's budget, shared by every process working on it.

    Trials are counted in the study (any process; RUNNING ones of live processes
    included, lost ones not), and the deadline is the wall-clock time stored in the study
    (``follow=True`` re-reads it, so a worker follows a resumed coordinator).
    """

    study: TrackedStudy | None = None
    follow: bool = False
    _read_at: float = field(default=0.0, repr=False)
    _stop_after: float | None = field(default=None, repr=False)

    def stop_after(self, seconds: float) -> None:
        """Stop running trials ``seconds`` after the (followed) deadline."""
        self._stop_after = seconds
        self.hard_deadline = None if self.deadline is None else self.deadline + seconds

    def remaining(self) -> float:
        if self.follow and self.study is not None and time.monotonic() - self._read_at > 2.0:
            self._read_at = time.monotonic()
            epoch = self.study.user_attrs.get(BUDGET_ATTR, {}).get("deadline")
            self.deadline = None if epoch is None else epoch_to_monotonic(epoch)
            if self._stop_after is not None:
                self.stop_after(self._stop_after)
        return super().remaining()

    def exhausted(self, n_done: int, next_cost: float = 0.0) -> bool:
        if self.remaining() <= next_cost:
            return True
        if self.n_trials is None or self.study is None:
            return False
        self.study.fail_lost_trials()
        return count_trials(self.study) >= self.n_trials


def count_trials(study: optuna.Study) -> int:
    """Trained models recorded (ok or failed) or running; lost trials do not count, nor
    the extra points a trained model yields under post-processing (``derived_from``)."""
    states = (TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING)
    trials = study.get_trials(deepcopy=False, states=states)
    replaced = record.replaced_trials(trials)
    return sum(
        (t.state == TrialState.RUNNING or record.recorded(t))
        and not record.is_derived(t)
        and t.number not in replaced
        for t in trials
    )


def epoch_to_monotonic(epoch: float) -> float:
    return time.monotonic() + (epoch - time.time())


class Session:
    """One process's turn on a persistent study: budget, heartbeat and spent time.

    The coordinator (``fit``) owns the budget: the time budget is the study's total
    search time, so a resumed search gets what earlier sessions left; ``n_trials`` is
    the study's total number of trials. Workers follow the stored budget.
    """

    def __init__(self, study: TrackedStudy, budget: SharedBudget, coordinator: bool) -> None:
        self.study = study
        self.budget = budget
        self.coordinator = coordinator
        self._spent_before = float(study.user_attrs.get(SPENT_ATTR, 0.0))
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="fairautoml-beat")
        study.heartbeat()
        study.fail_lost_trials()
        self._thread.start()

    @classmethod
    def coordinate(
        cls, study: TrackedStudy, search_seconds: float | None, n_trials: int | None
    ) -> Session:
        spent = float(study.user_attrs.get(SPENT_ATTR, 0.0))
        deadline = None
        if search_seconds is not None:
            left = max(search_seconds - spent, 0.0)
            deadline = time.time() + left
        study.set_user_attr(BUDGET_ATTR, {"deadline": deadline, "n_trials": n_trials})
        budget = SharedBudget(
            deadline=None if deadline is None else epoch_to_monotonic(deadline),
            n_trials=n_trials,
            study=study,
        )
        return cls(study, budget, coordinator=True)

    @classmethod
    def join(cls, study: TrackedStudy) -> Session:
        stored = study.user_attrs.get(BUDGET_ATTR, {})
        epoch = stored.get("deadline")
        budget = SharedBudget(
            deadline=None if epoch is None else epoch_to_monotonic(epoch),
            n_trials=stored.get("n_trials"),
            study=study,
            follow=True,
        )
        return cls(study, budget, coordinator=False)

    def trial_done(self) -> None:
        """The coordinator adds its search time to the study's total after every trial."""
        if self.coordinator:
            spent = self._spent_before + time.monotonic() - self._started
            self.study.set_user_attr(SPENT_ATTR, spent)

    def wait_for_others(self, timeout: float) -> None:
        """Wait (up to ``timeout`` s) for trials other processes still run, so the final
        pick sees them; trials of dead processes are failed meanwhile."""
        end = time.monotonic() + timeout
        while True:
            self.study.fail_lost_trials()
            running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running:
                return
            if time.monotonic() >= end:
                break
            time.sleep(0.5)
        logger.warning("picking without %d trial(s) still running elsewhere", len(running))

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL):
            try:
                self.study.heartbeat()
            except Exception:  # a busy database must not kill the search
                logger.debug("heartbeat failed", exc_info=True)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_INTERVAL + 1)
        self.trial_done()
