"""The model file: skops (safe to share) or, when asked for by name, a joblib pickle.

Opening a pickle runs whatever code it holds, so a model file sent to an auditor would be
an open door; scikit-learn's persistence guide points to ``skops.io`` for files that cross
a trust boundary. A skops file stores the objects' state and names their types; loading
builds only the types the reader trusts. fairautoml builds exactly the types its models
are made of, each by the way skops builds it (:mod:`fairautoml.model.allowlist`, checked
before skops imports or builds anything); any other type in a file is refused by name
unless the caller passes it as trusted. An empty, cut or altered file is called damaged,
never "trust it".

A skops file holds one dict, the envelope::

    {"format": "fairautoml-model", "version": 1,
     "estimator": <the fitted FairAutoML without study_, leaderboard_, pareto_front_>,
     "tables": {"leaderboard_": <table>, "pareto_front_": <table>}}

skops cannot store pandas DataFrames, so each table is kept as its column names, its
index, and per column either a numeric numpy array or a JSON list with the pandas dtype
it is restored to (:func:`encode_table`, :func:`decode_table`).

This module does not import the estimator (``automl`` writes through it); ``model_file``
checks that what was read is one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import skops.io as sio

from fairautoml.exceptions import ConfigurationError, DamagedModelError, UntrustedModelError
from fairautoml.mitigators import EstimatorScoringModel, ScoringModel
from fairautoml.mitigators.exponentiated_gradient import MixtureModel
from fairautoml.model.allowlist import (
    DamagedModelFile,
    allowed_names,
    check_loaded_trees,
    types_in,
    with_current_modules,
)
from fairautoml.model.allowlist import refused as refused_types
from fairautoml.model.fair_model import FairModel
from fairautoml.values import plain

# --- audit and model files ------------------------------------------------------------------
MODEL_FILE_MISSING = "No model file at {path}. Write one with automl.save(path)."
MODEL_SUFFIX = (
    "Cannot tell which format to write {path} in: name it model.skops (safe to share: loading "
    "runs no code) or give a pickle suffix ({pickles}) to write joblib."
)
NOT_A_MODEL_FILE = (
    "{path} is not a model file fairautoml can read ({error}); write one with "
    "automl.save('model.skops')."
)
PICKLE_NOT_TRUSTED = (
    "{path} is a pickle (joblib) file: opening it runs whatever code it holds, so fairautoml "
    "opens it only if you trust where it came from: fairautoml.load(path, trusted=True) (CLI: "
    "--trusted). Save models as .skops to share them safely."
)
SKOPS_UNTRUSTED = (
    "{path} holds types that no fairautoml model is made of: {types}. Building them could "
    "run code, so nothing in the file was built. A model written by fairautoml.save holds "
    "none of them: the file was made by other code or altered. If it holds types of your "
    "own and you trust where it came from, load it with fairautoml.load(path, "
    "trusted=[<those type names>]) or trusted=True (CLI: --trusted)."
)
MODEL_FILE_DAMAGED = (
    "{path} is damaged ({why}): it is not a whole model file (empty, cut short in a copy "
    "or download, or altered after it was written), so it was not opened. Get the file "
    "again from its source, or write it again with automl.save(path)."
)

# the scoring models that read their scores through their task
TASK_KEEPERS = (EstimatorScoringModel, MixtureModel)

SKOPS_SUFFIX = ".skops"
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
ENVELOPE_FORMAT = "fairautoml-model"
ENVELOPE_VERSION = 1
TABLES = ("leaderboard_", "pareto_front_")  # DataFrame attributes skops cannot store

Trusted = bool | Sequence[str]


# --- writing ---------------------------------------------------------------------------------


def write_model(estimator: Any, path: str | Path) -> Path:
    """Write ``estimator`` to ``path``: skops for ``.skops``, joblib for a pickle suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (SKOPS_SUFFIX, *PICKLE_SUFFIXES):
        raise ConfigurationError(MODEL_SUFFIX.format(path=path, pickles=", ".join(PICKLE_SUFFIXES)))
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in PICKLE_SUFFIXES:
        joblib.dump(estimator, path, compress=3)  # __getstate__ leaves the study out
    else:
        sio.dump(envelope(estimator), path)
    return path


def envelope(estimator: Any) -> dict[str, Any]:
    """The dict a skops file holds (see the module docstring)."""
    bare = copy.copy(estimator)  # through __getstate__: without the study handle
    tables = {}
    for name in TABLES:
        if isinstance(getattr(bare, name, None), pd.DataFrame):
            tables[name] = encode_table(getattr(bare, name))
            delattr(bare, name)
    return {
        "format": ENVELOPE_FORMAT,
        "version": ENVELOPE_VERSION,
        "estimator": bare,
        "tables": tables,
    }


def encode_table(frame: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as values skops stores: numeric columns as arrays, others as JSON."""
    columns = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf":
            columns[str(name)] = {"array": col.to_numpy()}
        else:
            values = [None if _missing(v) else plain(v) for v in col.astype(object)]
            columns[str(name)] = {"json": json.dumps(values, default=str), "dtype": str(col.dtype)}
    return {"columns": columns, "index": json.dumps([plain(i) for i in frame.index], default=str)}


def _missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def decode_table(table: dict[str, Any]) -> pd.DataFrame:
    """The DataFrame :func:`encode_table` stored."""
    data = {}
    for name, col in table["columns"].items():
        if "array" in col:
            data[name] = col["array"]
        else:
            series = pd.Series(json.loads(col["json"]), dtype=object)
            data[name] = series if col["dtype"] == "object" else series.astype(col["dtype"])
    frame = pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in data.items()})
    frame.index = pd.Index(json.loads(table["index"]))
    return frame


# --- reading ---------------------------------------------------------------------------------

# first bytes of a joblib/pickle file: a pickle protocol mark, or joblib's compressors'
PICKLE_MAGIC = (b"\x80", b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x04\x22\x4d\x18")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def read_model(path: str | Path, trusted: Trusted = False) -> Any:
    """What ``path`` holds: a skops file, every type in it checked against the exact
    allow-list before anything is built (:mod:`fairautoml.model.allowlist`), or, with
    ``trusted=True`` only, a pickle.

    ``trusted``: False builds only allow-listed types; a list of type names trusts those
    too (a skops file); True trusts the file as a whole (any skops type, or a pickle).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(MODEL_FILE_MISSING.format(path=path))
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise DamagedModelError(MODEL_FILE_DAMAGED.format(path=path, why="the file is empty"))
    if not head.startswith(ZIP_MAGIC):  # skops files are zip archives; pickles are not
        if path.suffix.lower() == SKOPS_SUFFIX:
            why = "it is not a zip archive, as every .skops file is"
            raise DamagedModelError(MODEL_FILE_DAMAGED.format(path=path, why=why))
        if path.suffix.lower() not in PICKLE_SUFFIXES and not head.startswith(PICKLE_MAGIC):
            why = "neither a skops archive nor a joblib pickle"
            raise ConfigurationError(NOT_A_MODEL_FILE.format(path=path, error=why))
        if trusted is not True:
            raise UntrustedModelError(PICKLE_NOT_TRUSTED.format(path=path))
        return joblib.load(path)
    try:
        data, schema = with_current_modules(path.read_bytes())
    except DamagedModelFile as exc:
        raise DamagedModelError(MODEL_FILE_DAMAGED.format(path=path, why=exc)) from None
    if trusted is True:
        obj = sio.loads(data, trusted=_skops_types(data, path))
    else:
        obj = _gated_load(data, schema, path, () if trusted is False else tuple(trusted))
    if isinstance(obj, dict) and obj.get("format") == ENVELOPE_FORMAT:
        return open_envelope(obj)
    return obj


def _gated_load(data: bytes, schema: dict[str, Any], path: Path, extra: tuple[str, ...]) -> Any:
    """Load the skops file ``data`` (read from ``path``; ``schema``, its node tree) whose
    every (loader, type) is allow-listed or in ``extra``; refuse it, naming what is not,
    before skops imports or builds anything."""
    found = types_in(schema)
    refused = refused_types(found, extra)
    if refused:
        raise UntrustedModelError(SKOPS_UNTRUSTED.format(path=path, types=", ".join(refused)))
    # skops's own audit, a second line: it must name nothing the gate did not see
    skops_found = _skops_types(data, path)
    unseen = sorted(set(skops_found) - allowed_names(found) - set(extra))
    if unseen:
        raise UntrustedModelError(SKOPS_UNTRUSTED.format(path=path, types=", ".join(unseen)))
    try:
        obj = sio.loads(data, trusted=skops_found)
        check_loaded_trees(obj)
    except DamagedModelFile as exc:
        raise DamagedModelError(MODEL_FILE_DAMAGED.format(path=path, why=exc)) from None
    return obj


def _skops_types(data: bytes, path: Path) -> list[str]:
    try:
        return sio.get_untrusted_types(data=data)
    except Exception as exc:  # a zip that is not a skops archive, or a damaged one
        why = f"{type(exc).__name__}: {exc}"
        raise DamagedModelError(MODEL_FILE_DAMAGED.format(path=path, why=why)) from None


def open_envelope(content: dict[str, Any]) -> Any:
    """The estimator of an envelope, its tables restored, its scoring models told their
    task where the file was written before they kept it (:func:`with_tasks`)."""
    estimator = content["estimator"]
    for name, table in content.get("tables", {}).items():
        setattr(estimator, name, decode_table(table))
    model = getattr(estimator, "best_estimator_", None)
    if isinstance(model, FairModel):
        with_tasks(model.scoring, model.task)
    return estimator


def with_tasks(scoring: Any, task: Any) -> None:
    """Give ``task`` to the scoring models under ``scoring`` that have none: files written
    before scoring models kept their task (2026-11-27) read an estimator's scores by its
    type. Walks the scoring models and their parts only (lists of them, their attributes)."""
    stack, seen = [scoring], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, ScoringModel):
            if isinstance(item, TASK_KEEPERS) and "task" not in vars(item):
                item.task = task
            parts = (v for v in vars(item).values() if isinstance(v, (ScoringModel, list, tuple)))
            stack.extend(parts)
