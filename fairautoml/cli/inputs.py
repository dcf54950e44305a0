"""What a command reads off its flags: the sensitive columns with their bins, the data
source it records (a bundled dataset or a CSV, its target and weights), the storage, and
the task (read off the target, or named).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from fairautoml import datasets
from fairautoml.data.groups import QUANTILES, check_bins_spec
from fairautoml.data.memberships import probability_columns as table_without
from fairautoml.exceptions import FairAutoMLError
from fairautoml.study import storage as persistence
from fairautoml.tasks import TASKS, Task, get_task, infer_task

BINS_CLI = (
    "--sensitive {given!r}: the bins after ':' must be increasing cut points (age:25,40,60) "
    "or quantiles (age:q4, at least q2)."
)
PROBABILITIES_AND_SENSITIVE = (
    "Give either --sensitive (known groups) or --group-probabilities (each row's probability "
    "of each group), not both: run once with each to compare."
)
DATASET_TASK_UNSUPPORTED = (
    "The bundled dataset {name!r} is a {task} table, which fairautoml does not fit yet "
    "(classification and regression only). Pick another dataset: fairautoml datasets."
)


def _source(args: argparse.Namespace) -> dict[str, object]:
    """Where the data come from, recorded in the study so that workers can load them."""
    if args.dataset:
        sensitive = args.sensitive[0] if args.sensitive else None
        # the table's own labels (a record without the key, from before, means 0/1 codes)
        source = {"dataset": args.dataset, "sensitive": sensitive, "labels": "original"}
        return _weighted(source, args)
    source: dict[str, object] = {
        "csv": str(Path(args.data).resolve()) if args.data else None,
        "target": args.target,
        "sensitive": list(args.sensitive or []),
    }
    if getattr(args, "group_probabilities", None):  # the columns, popped when read
        source["group_probabilities"] = args.group_probabilities
    return _weighted(source, args)


def _weighted(source: dict[str, object], args: argparse.Namespace) -> dict[str, object]:
    """The source record with the ``--weight`` column, the ``--target-rows`` file and
    ``--shift-robust``, when given (a worker weighs and measures the rows as the fit did)."""
    weight = getattr(args, "weight", None)
    source = {**source, "weight": weight} if weight else source
    if getattr(args, "shift_robust", False):
        source = {**source, "shift_robust": True}
    rows = getattr(args, "target_rows", None)
    return {**source, "target_rows": str(Path(rows).resolve())} if rows else source


def probability_columns(frame: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """The table without the ``--group-probabilities`` columns, and those columns (one per
    group, named as the groups); ``(frame, None)`` without the flag. Naming a column the
    table lacks, or giving ``--sensitive`` too, is an error."""
    given = getattr(args, "group_probabilities", None)
    if not given:
        return frame, None
    if getattr(args, "sensitive", None):
        raise FairAutoMLError(PROBABILITIES_AND_SENSITIVE)
    return table_without(frame, given)


def parse_sensitive(given: list[str] | None) -> tuple[list[str], dict[str, Any] | None]:
    """``--sensitive`` values as column names and ``sensitive_bins``: ``age:25,40,60`` cuts
    age at 25, 40 and 60, ``age:q4`` at its quartiles; a plain name is not binned."""
    names: list[str] = []
    bins: dict[str, Any] = {}
    for value in given or []:
        name, _, spec = value.rpartition(":")
        if not name or not _looks_like_bins(spec):
            names.append(value)  # a column name (which may itself hold a colon)
            continue
        names.append(name)
        try:
            bins[name] = _bins_spec(spec)
            check_bins_spec({name: bins[name]})  # the estimator's rule, in the CLI's words
        except (ValueError, FairAutoMLError):
            raise FairAutoMLError(BINS_CLI.format(given=value)) from None
    return names, bins or None


def _bins_spec(spec: str) -> str | list[float]:
    """``q4`` as "quantiles:4", ``25,40,60`` as cut points."""
    if spec[:1].lower() == "q":
        return f"{QUANTILES}{int(spec[1:])}"
    edges = [float(e) for e in spec.split(",")]
    return [int(e) if e.is_integer() else e for e in edges]


def _looks_like_bins(spec: str) -> bool:
    """What follows the last colon starts like cut points, or is q with a count."""
    return spec[:1] in set("0123456789+-.") or (
        spec[:1].lower() == "q" and (spec[1:].isdigit() or len(spec) == 1)
    )


def _env_storage() -> str | None:
    """The storage URL in ``$FAIRAUTOML_STORAGE`` (keeps a password off the command line)."""
    return os.environ.get(persistence.STORAGE_ENV) or None


def _storage(args: argparse.Namespace) -> str | None:
    """``--storage`` or ``$FAIRAUTOML_STORAGE``, else a SQLite file in ``--out`` (None: in
    memory)."""
    storage = args.storage or _env_storage()
    if storage:
        return storage
    return persistence.sqlite_url(args.out) if args.out else None


def fit_task(args: argparse.Namespace, y: Any) -> tuple[Task, str | None]:
    """The task of a fit (``--task``, the bundled dataset's, or read off the target) and,
    when it was read off the target, the line that says so."""
    if args.task:
        return get_task(args.task), None
    if args.dataset:
        kind = datasets.DATASETS[args.dataset].task
        if kind not in TASKS:
            raise FairAutoMLError(DATASET_TASK_UNSUPPORTED.format(name=args.dataset, task=kind))
        return get_task(kind), None
    task = infer_task(y)
    word = {
        "regression": "amounts: regression",
        "multiclass": "several classes: multiclass",
    }.get(task.name, "classes: classification")
    return task, f"task: {word} (read off the target; --task to override)"
