"""Join a running search from another process or machine: ``fairautoml worker``.

The study started by ``fairautoml fit --storage URL --study NAME`` (or ``--out DIR``)
records its settings, the data source and the shared budget; a worker reads them,
rebuilds the same data and validation split, checks the data's fingerprint, and runs
the search ``fit`` runs (both are built by :func:`~fairautoml.estimators.build.build_search`:
the same controller, per-trial time limit and runner) on the same study until
the study's budget is over.
Its trials appear in the coordinator's leaderboard; the coordinator makes the final pick.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import datasets
from fairautoml.data.memberships import probability_columns
from fairautoml.estimators.build import build_search
from fairautoml.exceptions import ConfigurationError, FairAutoMLError
from fairautoml.study.record import worker_id
from fairautoml.study.storage import (
    BUDGET_ATTR,
    CONFIG_ATTR,
    SOURCE_ATTR,
    open_study,
    recorded_settings,
)

WEIGHTS_CLI_COLUMN = "--weight {column!r} is not a column of {path}. Columns: {columns}."
WEIGHTS_CLI_NOT_NUMERIC = (
    "--weight column {column!r} holds {n} value(s) that are not numbers (e.g. {examples}). "
    "Give a column of non-negative numbers, one weight per row."
)
WEIGHTS_CLI_CLASH = (
    "--weight {column!r} is also the {role} column: the weight column must be another "
    "column (it is neither a feature nor the target)."
)
CSV_NO_ROWS = (
    "{path} has no rows ({found}): fairautoml reads a CSV with a header line of column "
    "names and at least one row of data below it. Give the file with its rows (an export "
    "that failed or was cut short leaves it empty)."
)

logger = logging.getLogger("fairautoml")


def load_source(source: dict[str, Any]) -> tuple[pd.DataFrame, pd.Series, Any]:
    """``(X, y, sensitive_features)`` from a data source record (without the weight
    column, when the record names one: see :func:`load_data`)."""
    X, y, s, _ = load_data(source)
    return X, y, s


def load_data(source: dict[str, Any]) -> tuple[pd.DataFrame, pd.Series, Any, Any]:
    """``(X, y, sensitive_features, sample_weight)`` from a data source record.

    ``{"dataset": "adult", "sensitive": "sex"}`` for a bundled dataset, or
    ``{"csv": PATH, "target": COLUMN, "sensitive": [COLUMN, ...]}`` for a CSV file; with
    ``"weight": COLUMN`` that column is the rows' ``sample_weight`` (and not a feature).
    ``sample_weight`` is None without it.
    """
    X, y, s = _read(source)
    column = source.get("weight")
    if not column:
        return X, y, s, None
    where = source.get("csv") or source.get("dataset")
    X, weight = split_weight(X, column, where, sensitive=s, target=y.name)
    return X, y, s, weight


def split_weight(
    X: pd.DataFrame, column: str, where: Any, *, sensitive: Any = None, target: Any = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """``(X without the --weight column, its values as numbers)``, for ``fit`` and
    ``update`` alike: the column must be in ``X`` (read from ``where``; ``target``, the
    column already taken off, is named among its columns), not a sensitive column, and
    hold numbers."""
    if column not in X.columns:
        columns = ", ".join(map(str, [*X.columns, *([target] if target is not None else [])]))
        raise FairAutoMLError(WEIGHTS_CLI_COLUMN.format(column=column, path=where, columns=columns))
    s = sensitive
    if column in ([s] if isinstance(s, str) else list(s or [])):
        raise FairAutoMLError(WEIGHTS_CLI_CLASH.format(column=column, role="--sensitive"))
    weight = X[column]
    numbers = pd.to_numeric(weight, errors="coerce")
    lost = numbers.isna() & weight.notna()
    if lost.any():
        examples = ", ".join(repr(v) for v in weight[lost].unique()[:3])
        raise FairAutoMLError(
            WEIGHTS_CLI_NOT_NUMERIC.format(column=column, n=int(lost.sum()), examples=examples)
        )
    return X.drop(columns=[column]), numbers.to_numpy(dtype=float)


def _read(source: dict[str, Any]) -> tuple[pd.DataFrame, pd.Series, Any]:
    if source.get("dataset"):
        # "original": the file's labels, in which the model predicts and is audited (the
        # CLI's fits record it); a record from before the key existed holds 0/1 codes
        labels = source.get("labels", "codes")
        return datasets.load(source["dataset"], source.get("sensitive"), labels=labels)
    path, target = source.get("csv"), source.get("target")
    if not (path and target and (source.get("sensitive") or source.get("group_probabilities"))):
        raise FairAutoMLError(
            "Give a bundled dataset (--dataset adult) or a CSV with --target and --sensitive "
            "(or --group-probabilities), e.g. fairautoml fit data.csv --target income "
            "--sensitive sex."
        )
    if not Path(path).exists():
        raise FairAutoMLError(f"Data file {path} does not exist. Pass its path on this machine.")
    frame = read_csv(path)
    if target not in frame.columns:
        raise FairAutoMLError(
            f"--target {target!r} is not a column of {path}. Columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    if source.get("weight") == target:
        raise FairAutoMLError(WEIGHTS_CLI_CLASH.format(column=target, role="--target"))
    return frame.drop(columns=[target]), frame[target], list(source["sensitive"])


def read_target_rows(path: str | Path, y: Any, weight_column: str | None) -> pd.DataFrame:
    """``fairautoml fit --target-rows``'s CSV as ``target_X``: without the target and weight
    columns (labels there are not used: the rows only say where the model will be used)."""
    rows = read_csv(path)
    unused = [c for c in (getattr(y, "name", None), weight_column) if c and c in rows.columns]
    return rows.drop(columns=unused)


def read_csv(path: str | Path) -> pd.DataFrame:
    """The CSV at ``path``; one with no rows (an empty file, or a header line only) is an
    error that says so, not pandas' traceback."""
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise FairAutoMLError(CSV_NO_ROWS.format(path=path, found="the file is empty")) from None
    if frame.empty:
        found = f"only a header line of {frame.shape[1]} column(s)"
        raise FairAutoMLError(CSV_NO_ROWS.format(path=path, found=found))
    return frame


def _wait_for_study(storage: str, study_name: str, wait: float) -> Any:
    """The study once its coordinator has started it (waiting up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            sqlite_file = storage.split(":///", 1)[-1] if storage.startswith("sqlite") else None
            if sqlite_file and not Path(sqlite_file).exists():  # do not create an empty one
                raise ConfigurationError(
                    f"No SQLite file at {sqlite_file}: start the study with `fairautoml fit "
                    "--out DIR` (or --storage URL) first, or pass --wait SECONDS."
                )
            study = open_study(storage, study_name, create=False)
            if BUDGET_ATTR in study.user_attrs or time.monotonic() >= deadline:
                return study
        except Exception:  # not there yet, or its tables are being created
            if time.monotonic() >= deadline:
                raise
        time.sleep(1.0)


def run_worker(
    storage: str,
    study_name: str,
    *,
    data: str | None = None,
    n_jobs: int = 1,
    verbose: int = 1,
    wait: float = 0.0,
) -> int:
    """Run trials on a persistent study until its shared budget ends; return how many.

    ``data`` replaces the CSV path recorded in the study (the file on this machine);
    ``wait`` is how many seconds to wait for the study to be started (workers may be
    launched before the coordinator).
    """
    from fairautoml.estimators.automl import estimator_for

    study = _wait_for_study(storage, study_name, wait)
    attrs = study.user_attrs
    if CONFIG_ATTR not in attrs or SOURCE_ATTR not in attrs:
        raise ConfigurationError(
            f"Study {study_name!r} has no recorded data source: it was not started by "
            "`fairautoml fit`. From Python, join it by calling FairAutoML(storage=..., "
            "study_name=...).fit(X, y, sensitive_features=s) in each process."
        )
    source = dict(attrs[SOURCE_ATTR])
    if data is not None:
        source["csv"] = str(Path(data).resolve())
    X, y, s, w = load_data(source)
    probabilities = None
    if source.get("group_probabilities"):  # fit --group-probabilities: no known groups
        X, probabilities = probability_columns(X, source["group_probabilities"])
        s = None
    config = {**recorded_settings(attrs), "n_jobs": n_jobs, "verbose": verbose}
    task = config.pop("task", None)
    params = {**estimator_for(task)(**config).get_params(), "task": task or "binary"}
    target = source.get("target_rows")  # fit --target-rows: the same importance weights
    target_X = None if not target else read_target_rows(target, y, source.get("weight"))
    search = build_search(
        params, X, y, s, study=study, sample_weight=w, group_probabilities=probabilities,
        target_X=target_X, shift_robust=bool(source.get("shift_robust")),
    )  # fmt: skip
    if search.budget.exhausted(0):
        logger.warning("study %r: its budget is over; nothing to do", study_name)
    return search.run(desc=f"worker {worker_id()}")
