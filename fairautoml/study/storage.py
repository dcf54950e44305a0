"""Studies that outlive a process: storage URLs, resume, lost trials, the recorded settings.

A search with ``storage=`` records every trial in that Optuna storage as soon as it ends,
so a process killed with SIGKILL loses only the trials it was running. The study's user
attributes hold what is needed to continue: the search settings (``fairautoml_config``),
a fingerprint of the data, the data source when the CLI started it, and the shared
budget (an absolute wall-clock deadline and/or a total trial count), so that running the
same command again resumes the study and ``fairautoml worker`` processes on other
machines join it.

Trials left RUNNING by a dead process are failed (status ``lost`` on the leaderboard) and
never counted towards the budget; :class:`~fairautoml.study.tracked.TrackedStudy` finds
them. The budget processes share is in :mod:`fairautoml.search.session`.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from fairautoml.exceptions import ConfigurationError
from fairautoml.study.record import DIRECTIONS
from fairautoml.study.tracked import (
    GRACE_PERIOD,
    HEARTBEAT_INTERVAL,
    TrackedStudy,
    stale_trial_failed,
)

# --- storages (persistence.get_storage): the URL always masked, never its password -------------
STORAGE_URL_INVALID = "Cannot read the storage URL {url!r} ({error}). {help}"
STORAGE_SCHEME = (
    "Cannot open the storage {url!r}: {scheme!r} is not a database fairautoml can open "
    "({error}). {help}"
)
STORAGE_LOGIN = (
    "Cannot log in to the storage {url!r}: the server refused the user or the password "
    "({reason}). Check the user and the password in the URL (a password with @, : or / "
    "must be percent-encoded, e.g. @ as %40); give the URL in ${env} to keep the password "
    "off the command line."
)
STORAGE_UNREACHABLE = (
    "Cannot connect to the storage {url!r} ({reason}). Check that the database server is "
    "running and accepts connections from this machine at that host and port, and that "
    "the database exists (PostgreSQL: createdb NAME); or use a file on this machine: "
    "sqlite:///path/study.db."
)
STORAGE_FILE = (
    "Cannot open the storage file of {url!r} ({reason}). Give a path in a directory this "
    "process may write to, e.g. sqlite:///path/study.db (or fit --out DIR)."
)
STORAGE_REFUSED = (
    "The storage {url!r} refused to keep Optuna's tables ({reason}). Give a user who may "
    "create and write tables in that database, or another database."
)

logger = logging.getLogger("fairautoml")

CONFIG_ATTR = "fairautoml_config"
FINGERPRINT_ATTR = "fairautoml_data_fingerprint"
SOURCE_ATTR = "fairautoml_data_source"
BUDGET_ATTR = "fairautoml_budget"
SPENT_ATTR = "fairautoml_search_seconds"
CHOSEN_ATTR = "fairautoml_chosen_trial"
# the search's PickPolicy.confirmed_first, which the table's size decides (a big table's
# confirmed points rank by the metric): a view of the study ranks as the search did
CONFIRMED_FIRST_ATTR = "fairautoml_confirmed_first"
STORAGE_ENV = "FAIRAUTOML_STORAGE"  # the CLI's storage URL when --storage is not given
# Settings that define the search: resuming or joining with other values is an error.
SEARCH_DEFINING = (
    "constraints", "metric", "controller", "learners", "mitigators", "sensitive_at_predict",
    "keep_sensitive_as_feature", "validation_fraction", "min_group_size", "confidence",
    "random_state", "pos_label", "task", "sensitive_bins", "missing_groups", "decision_rule",
    "deterministic",
)  # fmt: skip
# A setting newer than some stored studies: what a study without it was searched with.
ADDED_SETTINGS = {"decision_rule": None, "deterministic": False}
# Settings a study may hold that this version does not have: a study that holds them is
# still joined and resumed, without them ("allocator": mitigation has one rule, no setting).
RETIRED_SETTINGS = ("allocator",)
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
    (:class:`~fairautoml.study.tracked.TrackedStudy` beats for its trials in flight).
    ``postgresql://`` URLs are opened with psycopg 3 (``postgresql+psycopg://``;
    SQLAlchemy 2.0 would pick psycopg2), the rest of the URL as given. SQLite connections
    wait up to 60 s for a lock, so several local processes can share one file. A URL that
    cannot be opened (an unknown database, a server out of reach, a login refused) is a
    :class:`ConfigurationError` that names the fix, the URL masked (:func:`storage_error`).
    """
    if storage is None or isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise ConfigurationError(f"storage must be a URL string; got {type(storage).__name__}.")
    from sqlalchemy.exc import SQLAlchemyError  # imported where a URL is opened, as Optuna does

    try:
        return _open_storage(storage)
    except SQLAlchemyError as exc:
        raise storage_error(storage, exc) from None


def _open_storage(storage: str) -> BaseStorage:
    """:func:`get_storage` of a URL string, SQLAlchemy's errors as they come."""
    from sqlalchemy.engine import make_url

    if storage.startswith("journal:") or storage.endswith(".log"):
        path = storage.removeprefix("journal:")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path))
    if "://" not in storage:
        raise ConfigurationError(f"storage {storage!r} is not a URL. {STORAGE_HELP}")
    try:
        make_url(storage)
    except ValueError as exc:  # SQLAlchemy's parser: e.g. a port that is not a number
        raise ConfigurationError(
            STORAGE_URL_INVALID.format(url=masked(storage), error=exc, help=STORAGE_HELP)
        ) from None
    given = storage
    if storage.startswith("postgresql://"):  # psycopg 3, whatever SQLAlchemy's default driver
        storage = "postgresql+psycopg://" + storage.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if storage.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
        db = storage.split(":///", 1)[-1]
        if db and db != ":memory:":
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(
                    STORAGE_FILE.format(url=masked(given), reason=exc)
                ) from None
    try:
        with warnings.catch_warnings():  # heartbeat_interval is "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                storage,
                engine_kwargs=kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=stale_trial_failed,
            )
    except ImportError as exc:
        raise ConfigurationError(
            f"Cannot open storage {masked(storage)!r}: {exc}. Install the database driver "
            '(for PostgreSQL: pip install "fairautoml[postgres]").'
        ) from exc


def storage_error(url: str, exc: Exception) -> ConfigurationError:
    """SQLAlchemy's error on opening ``url`` as one message that names the problem and the
    fix, with the URL masked and no traceback: an unknown kind of database, a login the
    server refused, a server or file that cannot be reached, tables it refused."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    shown = masked(url)
    if isinstance(exc, NoSuchModuleError):
        scheme = url.split("://", 1)[0]
        return ConfigurationError(
            STORAGE_SCHEME.format(url=shown, scheme=scheme, error=exc, help=STORAGE_HELP)
        )
    if isinstance(exc, ArgumentError):
        return ConfigurationError(
            STORAGE_URL_INVALID.format(url=shown, error=exc, help=STORAGE_HELP)
        )
    reason = _reason(url, exc)
    if not isinstance(exc, OperationalError):
        return ConfigurationError(STORAGE_REFUSED.format(url=shown, reason=reason))
    if any(words in reason.lower() for words in _LOGIN_REFUSED):
        return ConfigurationError(STORAGE_LOGIN.format(url=shown, reason=reason, env=STORAGE_ENV))
    if url.startswith("sqlite"):
        return ConfigurationError(STORAGE_FILE.format(url=shown, reason=reason))
    return ConfigurationError(STORAGE_UNREACHABLE.format(url=shown, reason=reason))


# what drivers say when the server refuses a login (PostgreSQL, MySQL)
_LOGIN_REFUSED = ("authentication failed", "no password supplied", "access denied")


def _reason(url: str, exc: Exception) -> str:
    """The driver's first line (SQLAlchemy's own adds a traceback hint), without the
    password should a driver repeat it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    given = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(given).splitlines() if line.strip()]
    reason = lines[0] if lines else type(given).__name__
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):  # a URL SQLAlchemy cannot read: no password to hide
        password = None
    return reason.replace(str(password), "***") if password else reason


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


def open_study(
    storage: str | BaseStorage | None,
    study_name: str | None,
    *,
    directions: list[str] | None = None,
    sampler: optuna.samplers.BaseSampler | None = None,
    create: bool = True,
) -> TrackedStudy:
    """Create or load a study (load only when ``create`` is False)."""
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


def data_fingerprint(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, weight: np.ndarray | None = None
) -> str:
    """A content hash of prepared data: resuming or joining with other data is refused.
    ``weight`` (a weighted fit's ``sample_weight``) enters the hash; an unweighted fit's
    hash is the one it always was."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(",".join(map(str, X.columns)).encode())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(groups, dtype=np.int64).tobytes())
    if weight is not None:
        digest.update(b"sample_weight")
        digest.update(np.ascontiguousarray(weight, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def recorded_settings(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator settings a study's user attributes record, without retired ones."""
    config = attrs.get(CONFIG_ATTR) or {}
    return {k: v for k, v in config.items() if k not in RETIRED_SETTINGS}


def check_config(study: optuna.Study, config: dict[str, Any], fingerprint: str) -> None:
    """Store the search settings in a new study; refuse to continue one with other ones."""
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        study.set_user_attr(CONFIG_ATTR, config)
        study.set_user_attr(FINGERPRINT_ATTR, fingerprint)
        return
    diffs = [
        f"{k}={stored.get(k, ADDED_SETTINGS.get(k))!r} (now {config.get(k)!r})"
        for k in SEARCH_DEFINING
        if stored.get(k, ADDED_SETTINGS.get(k)) != config.get(k)
    ]
    if study.user_attrs.get(FINGERPRINT_ATTR) != fingerprint:
        diffs.append(
            "the data (rows, columns, target, groups, sample_weight, or the target_X weights "
            "and shift_robust's reweightings differ)"
        )
    if diffs:
        raise ConfigurationError(
            f"Study {study.study_name!r} was created with other settings: {'; '.join(diffs)}. "
            "Use the same settings to resume it, or another study name for a new search."
        )
    study.set_user_attr(CONFIG_ATTR, {**stored, **config})  # budget settings may change
