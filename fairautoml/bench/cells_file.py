"""A sweep's cells file: one JSON record per finished cell, appended as each ends.

Appends are flushed to disk one line at a time, so a killed run loses at most the line it
was writing; reading skips such a torn line, and the next run starts on a fresh line. The
last record of a cell key wins (a cell re-run with ``--retry-failed``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("fairautoml.bench")

RESULTS_FILE = "cells.jsonl"
STARTED_FILE = "started.jsonl"  # cells as they start: tells a dead worker's cells apart
NOT_APPLICABLE = "not_applicable"  # a cell's status when its method cannot express it
DONE_STATUSES = ("ok", NOT_APPLICABLE)  # not re-run by --retry-failed


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every record in a JSON-lines file; a torn last line (a killed run) is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            logger.warning("%s:%d is not valid JSON (an interrupted write?); ignored", path, number)
    return records


def latest(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last record of each cell key."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        out[r["key"]] = r
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def append_record(path: Path, record: dict[str, Any]) -> None:
    line = json.dumps(record, default=_json_default, allow_nan=True)
    with path.open("a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def end_torn_line(path: Path) -> None:
    """After a killed write, start the next record on a line of its own."""
    if path.exists() and path.stat().st_size:
        with path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
        if torn:
            with path.open("a") as f:
                f.write("\n")
