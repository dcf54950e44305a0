"""The shared study a search records into: which process runs each trial, lost trials
failed, and trials created in one insert, all through Optuna's public storage API.

Every study a search writes to is a :class:`TrackedStudy` (opened by
:func:`fairautoml.study.storage.open_study`, in memory or on a storage shared by processes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

from fairautoml.study import record

logger = logging.getLogger("fairautoml")

HEARTBEAT_INTERVAL = 5  # seconds between the heartbeats of a running trial (Optuna's RDB)
GRACE_PERIOD = 60  # seconds without a heartbeat before Optuna fails a running trial


class TrackedStudy(optuna.Study):
    """An Optuna study whose trials record the process that runs them.

    Each trial this process asks for is tagged with :func:`~fairautoml.study.record.owner_attrs`
    and tracked until it ends. A trial whose process died is failed, two ways:

    * Optuna's heartbeat (RDB storages: SQLite, PostgreSQL, ...): :meth:`heartbeat`, called
      every ``HEARTBEAT_INTERVAL`` s by the :class:`~fairautoml.search.session.Session`, records one
      for each trial this process runs; :meth:`fail_lost_trials` calls
      ``optuna.storages.fail_stale_trials``, which fails the RUNNING trials silent for
      ``GRACE_PERIOD`` s, on any machine.
    * Ours, on this machine: a trial of a process on this machine whose pid is gone is
      failed at once. Still needed: Optuna's journal storage has no heartbeat, and the
      grace period must be long (a busy database delays heartbeats), so without it a
      search resumed right after a crash, or a ``fit`` waiting for its workers, would
      count or wait for a dead process's trial for a minute.

    :meth:`ask` and :meth:`ask_fixed` first fail lost trials, so the budget never counts
    them. New trials are written with the storage's public methods (``backend``).
    """

    _last_sweep = 0.0

    def __init__(
        self, study_name: str, storage: BaseStorage, sampler: optuna.samplers.BaseSampler | None
    ) -> None:
        super().__init__(study_name, storage, sampler=sampler)
        # The one private attribute of Optuna's read anywhere: the storage the study writes
        # through (for an RDB storage, Optuna's cache in front of it, which must see every
        # trial created). Optuna has no public call that creates a running trial with fixed
        # parameters in one insert, or that returns the number of an added trial; its
        # storage's methods are public (the API custom storages implement).
        self.backend: BaseStorage = self._storage
        self.study_id = self.backend.get_study_id_from_name(study_name)
        self._heartbeat: RDBStorage | None = None
        if isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None:
            self._heartbeat = storage
        self.in_flight: set[int] = set()  # storage ids of this process's running trials
        self.stale_found: list[int] = []  # filled by stale_trial_failed during a sweep

    def trial_id(self, number: int) -> int:
        """The storage's id of trial ``number`` (Optuna's ``Trial`` keeps it private)."""
        return self.backend.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def ask(self, fixed_distributions: dict[str, Any] | None = None) -> optuna.Trial:
        self.fail_lost_trials(min_interval=1.0)
        with warnings.catch_warnings():  # Optuna expects heartbeats with optimize() only
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
            trial = super().ask(fixed_distributions)
        for key, value in record.owner_attrs().items():
            trial.set_user_attr(key, value)
        self.track(self.trial_id(trial.number))
        return trial

    def ask_fixed(self, params: dict[str, Any]) -> optuna.Trial:
        """A new running trial whose suggestions return ``params`` (others are sampled).

        What ``enqueue_trial`` followed by ``ask`` does, without the queue: Optuna's waiting
        trials live in the storage and ``ask`` pops one with a read-then-update that SQLite
        does not lock, so with several processes on one study two could pop the same waiting
        trial, run it twice, and one would find it already finished when telling. Here the
        trial is created running, with the values as its fixed parameters, in one insert,
        tagged and tracked (heartbeats) as :meth:`ask` does with the trials it hands out.
        (The sampler's view of the study is read afresh at every ``tell``.)
        """
        self.fail_lost_trials(min_interval=1.0)
        template = optuna.trial.create_trial(
            state=TrialState.RUNNING,
            system_attrs={"fixed_params": dict(params)},
            user_attrs=record.owner_attrs(),
        )
        trial_id = self.backend.create_new_trial(self.study_id, template_trial=template)
        self.track(trial_id)
        return optuna.trial.Trial(self, trial_id)

    def add_finished(self, trial: FrozenTrial) -> int:
        """Record a finished trial in one insert; its number (``add_trial`` returns none).

        Unlike enqueue + ask, this does not go through the study's shared queue, so several
        processes working on one study cannot take each other's points.
        """
        trial_id = self.backend.create_new_trial(self.study_id, template_trial=trial)
        return self.backend.get_trial_number_from_id(trial_id)

    def finished_in_storage(self, trial: optuna.trial.Trial) -> bool:
        """Whether the stored trial has ended (another process may have failed it)."""
        return self.backend.get_trial(self.trial_id(trial.number)).state.is_finished()

    def track(self, trial_id: int) -> None:
        """Beat for a new trial of this process until it ends (its first beat now)."""
        if self._heartbeat is not None:
            self.in_flight.add(trial_id)
            self._heartbeat.record_heartbeat(trial_id)

    def heartbeat(self) -> None:
        """Record that this process's trials in flight are alive; forget finished ones."""
        if self._heartbeat is None:
            return
        for trial_id in tuple(self.in_flight):
            if self._heartbeat.get_trial(trial_id).state.is_finished():
                self.in_flight.discard(trial_id)
            else:
                self._heartbeat.record_heartbeat(trial_id)

    def fail_lost_trials(self, min_interval: float = 0.0) -> list[int]:
        """Fail RUNNING trials whose process is gone; return their numbers."""
        now = time.time()
        if now - self._last_sweep < min_interval:
            return []
        self._last_sweep = now
        self.stale_found = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self)  # Optuna's heartbeat, any machine
        lost = list(self.stale_found)
        machine = record.machine_id()
        for t in self.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            owner = record.worker(t)
            if owner is None or owner == record.worker_id() or record.machine(t) != machine:
                continue  # not ours to judge, or our own in flight
            if not _pid_alive(int(owner.rsplit(":", 1)[1])):
                with contextlib.suppress(ValueError, RuntimeError):  # finished meanwhile
                    self.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
                    lost.append(t.number)
                    logger.warning("failed trial %d: its process (%s) stopped", t.number, owner)
        return lost


def stale_trial_failed(study: optuna.Study, trial: FrozenTrial) -> None:
    """Optuna's ``heartbeat_stale_trial_callback``: report a trial it failed."""
    logger.warning(
        "failed trial %d: no heartbeat from its process (%s) for %d s",
        trial.number, record.worker(trial), GRACE_PERIOD,
    )  # fmt: skip
    if isinstance(study, TrackedStudy):
        study.stale_found.append(trial.number)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    with contextlib.suppress(OSError, IndexError):  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True
