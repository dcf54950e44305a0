"""Studies that outlive a process: storage URLs, resume, lost trials, the recorded settings.

A search with ``storage=`` records every trial in that Optuna storage as soon as it ends,
so a process killed with SIGKILL loses only the trials it was running. The study's user
attributes hold what is needed to continue: the search settings (``fairautoml_config``),
a fingerprint of the data, the data source when the CLI started it, and the shared
budget (an absolute wall-clock deadline and/or a total trial count), so that running the
same command again resumes the study and ``fairautoml worker`` processes on other
machines join it.

Trials left RUNNING by a dead process are failed (status ``lost`` on the leaderboard) and
never counted towards the budget; see :class:`TrackedStudy` for how they are found. The
budget processes share is in :mod:`fairautoml.session`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from fairautoml import record
from fairautoml.exceptions import ConfigurationError
from fairautoml.record import MACHINE, machine_id, owner_attrs, worker_id

logger = logging.getLogger("fairautoml")

CONFIG_ATTR = "fairautoml_config"
FINGERPRINT_ATTR = "fairautoml_data_fingerprint"
SOURCE_ATTR = "fairautoml_data_source"
BUDGET_ATTR = "fairautoml_budget"
SPENT_ATTR = "fairautoml_search_seconds"
CHOSEN_ATTR = "fairautoml_chosen_trial"
STORAGE_ENV = "FAIRAUTOML_STORAGE"  # the CLI's storage URL when --storage is not given
HEARTBEAT_INTERVAL = 5  # seconds between the heartbeats of a running trial (Optuna's RDB)
GRACE_PERIOD = 60  # seconds without a heartbeat before Optuna fails a running trial
# Settings that define the search: resuming or joining with other values is an error.
SEARCH_DEFINING = (
    "constraints", "metric", "controller", "learners", "mitigators", "sensitive_at_predict",
    "keep_sensitive_as_feature", "validation_fraction", "min_group_size", "confidence",
    "random_state", "pos_label",
)  # fmt: skip
STORAGE_HELP = (
    "Use an Optuna storage URL: sqlite:///path/study.db (one machine), "
    'postgresql://user:password@host/db (many machines, pip install "fairautoml[postgres]"), '
    "or journal:path/study.log (an Optuna journal file)."
)


# --- storage -------------------------------------------------------------------------------


def get_storage(storage: str | BaseStorage | None) -> BaseStorage | None:
    """The storage object for a URL (None: in memory), like ``optuna.storages.get_storage``.

    ``journal:PATH`` (or a path ending in ``.log``) opens an Optuna journal file; any
    other string is an SQLAlchemy URL for Optuna's RDB storage, with Optuna's heartbeat
    (:class:`TrackedStudy` beats for its trials in flight). ``postgresql://`` URLs are
    opened with psycopg 3 (``postgresql+psycopg://``; SQLAlchemy 2.0 would pick psycopg2),
    the rest of the URL as given. SQLite connections wait up to 60 s for a lock, so several
    local processes can share one file.
    """
    if storage is None or isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise ConfigurationError(f"storage must be a URL string; got {type(storage).__name__}.")
    if storage.startswith("journal:") or storage.endswith(".log"):
        path = storage.removeprefix("journal:")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path))
    if "://" not in storage:
        raise ConfigurationError(f"storage {storage!r} is not a URL. {STORAGE_HELP}")
    if storage.startswith("postgresql://"):  # psycopg 3, whatever SQLAlchemy's default driver
        storage = "postgresql+psycopg://" + storage.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if storage.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
        db = storage.split(":///", 1)[-1]
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # heartbeat_interval is "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                storage,
                engine_kwargs=kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=_stale_trial_failed,
            )
    except ImportError as exc:
        raise ConfigurationError(
            f"Cannot open storage {masked(storage)!r}: {exc}. Install the database driver "
            '(for PostgreSQL: pip install "fairautoml[postgres]").'
        ) from exc


def masked(url: Any) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs."""
    if url is None or "://" not in url:
        return str(url)
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL: keep what precedes the host, hide the rest
        return url.split("://", 1)[0] + "://***"


def sqlite_url(directory: str | Path) -> str:
    """The default storage of a CLI run: ``DIR/study.db``."""
    return f"sqlite:///{Path(directory).resolve() / 'study.db'}"


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


def _stale_trial_failed(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Optuna's ``heartbeat_stale_trial_callback``: report a trial it failed."""
    logger.warning(
        "failed trial %d: no heartbeat from its process (%s) for %d s",
        trial.number, trial.user_attrs.get(record.WORKER), GRACE_PERIOD,
    )  # fmt: skip
    found = getattr(study, "_stale", None)
    if found is not None:
        found.append(trial.number)


class TrackedStudy(optuna.Study):
    """An Optuna study whose trials record the process that runs them.

    Each trial this process asks for is tagged with :func:`owner_attrs` and tracked until
    it ends. A trial whose process died is failed, two ways:

    * Optuna's heartbeat (RDB storages: SQLite, PostgreSQL, ...): :meth:`heartbeat`, called
      every ``HEARTBEAT_INTERVAL`` s by the :class:`Session`, records one for each trial
      this process runs; :meth:`fail_lost_trials` calls ``optuna.storages.fail_stale_trials``,
      which fails the RUNNING trials silent for ``GRACE_PERIOD`` s, on any machine.
    * Ours, on this machine: a trial of a process on this machine whose pid is gone is
      failed at once. Still needed: Optuna's journal storage has no heartbeat, and the
      grace period must be long (a busy database delays heartbeats), so without it a
      search resumed right after a crash, or a ``fit`` waiting for its workers, would
      count or wait for a dead process's trial for a minute.

    ``ask`` (and :func:`~fairautoml.search._base.ask_fixed`) first fails lost trials, so
    the budget never counts them.
    """

    _last_sweep = 0.0

    def __init__(
        self, study_name: str, storage: BaseStorage, sampler: optuna.samplers.BaseSampler | None
    ) -> None:
        super().__init__(study_name, storage, sampler=sampler)
        self._heartbeat: RDBStorage | None = None  # the storage itself: the study wraps it
        if isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None:
            self._heartbeat = storage
        self._in_flight: set[int] = set()  # storage ids of this process's running trials
        self._stale: list[int] = []  # filled by _stale_trial_failed during a sweep

    def ask(self, fixed_distributions: dict[str, Any] | None = None) -> optuna.Trial:
        self.fail_lost_trials(min_interval=1.0)
        with warnings.catch_warnings():  # Optuna expects heartbeats with optimize() only
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
            trial = super().ask(fixed_distributions)
        for key, value in owner_attrs().items():
            trial.set_user_attr(key, value)
        self.track(trial._trial_id)  # Optuna has no public trial id (its heartbeat uses it)
        return trial

    def track(self, trial_id: int) -> None:
        """Beat for a new trial of this process until it ends (its first beat now)."""
        if self._heartbeat is not None:
            self._in_flight.add(trial_id)
            self._heartbeat.record_heartbeat(trial_id)

    def heartbeat(self) -> None:
        """Record that this process's trials in flight are alive; forget finished ones."""
        if self._heartbeat is None:
            return
        for trial_id in tuple(self._in_flight):
            if self._heartbeat.get_trial(trial_id).state.is_finished():
                self._in_flight.discard(trial_id)
            else:
                self._heartbeat.record_heartbeat(trial_id)

    def fail_lost_trials(self, min_interval: float = 0.0) -> list[int]:
        """Fail RUNNING trials whose process is gone; return their numbers."""
        now = time.time()
        if now - self._last_sweep < min_interval:
            return []
        self._last_sweep = now
        self._stale = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self)  # Optuna's heartbeat, any machine
        lost = list(self._stale)
        machine = machine_id()
        for t in self.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            owner = t.user_attrs.get(record.WORKER)
            if owner is None or owner == worker_id() or t.user_attrs.get(MACHINE) != machine:
                continue  # not ours to judge, or our own in flight
            if not _pid_alive(int(owner.rsplit(":", 1)[1])):
                with contextlib.suppress(ValueError, RuntimeError):  # finished meanwhile
                    self.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
                    lost.append(t.number)
                    logger.warning("failed trial %d: its process (%s) stopped", t.number, owner)
        return lost


def open_study(
    storage: str | BaseStorage | None,
    study_name: str | None,
    *,
    directions: list[str] | None = None,
    sampler: optuna.samplers.BaseSampler | None = None,
    create: bool = True,
) -> TrackedStudy:
    """Create or load a study (load only when ``create`` is False)."""
    from fairautoml.search import DIRECTIONS

    real = get_storage(storage)
    if real is None:
        real = optuna.storages.InMemoryStorage()
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        if create:
            study = optuna.create_study(
                storage=real,
                study_name=study_name,
                directions=directions or DIRECTIONS,
                load_if_exists=study_name is not None,
            )
            name = study.study_name
        else:
            if study_name is None or storage is None:
                raise ConfigurationError("Joining a study needs a storage URL and a study name.")
            names = optuna.get_all_study_names(real)
            if study_name not in names:
                raise ConfigurationError(
                    f"No study {study_name!r} in {masked(storage)}. Studies there: "
                    f"{', '.join(names) or 'none'}. Start it with `fairautoml fit ... "
                    f"--storage URL --study NAME` first."
                )
            name = study_name
        return TrackedStudy(name, real, sampler=sampler)
    finally:
        optuna.logging.set_verbosity(verbosity)


# --- what the study needs to be continued ---------------------------------------------------


def data_fingerprint(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> str:
    """A content hash of prepared data: resuming or joining with other data is refused."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(",".join(map(str, X.columns)).encode())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(groups, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def check_config(study: optuna.Study, config: dict[str, Any], fingerprint: str) -> None:
    """Store the search settings in a new study; refuse to continue one with other ones."""
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        study.set_user_attr(CONFIG_ATTR, config)
        study.set_user_attr(FINGERPRINT_ATTR, fingerprint)
        return
    diffs = [
        f"{k}={stored.get(k)!r} (now {config.get(k)!r})"
        for k in SEARCH_DEFINING
        if stored.get(k) != config.get(k)
    ]
    if study.user_attrs.get(FINGERPRINT_ATTR) != fingerprint:
        diffs.append("the data (rows, columns, target or groups differ)")
    if diffs:
        raise ConfigurationError(
            f"Study {study.study_name!r} was created with other settings: {'; '.join(diffs)}. "
            "Use the same settings to resume it, or another study name for a new search."
        )
    study.set_user_attr(CONFIG_ATTR, {**stored, **config})  # budget settings may change
