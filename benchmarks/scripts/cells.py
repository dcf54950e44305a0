"""What the measurement scripts share: the commit their report names, their cells file
(one JSON line per finished cell, so that a rerun skips what is done) and the loop that
fills it, and the shifted Adult split the shift scripts fit and test on."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

# The shifted Adult split (shifted_adult_split): applicants over AGE are rare where the
# model is fitted (kept at OLD_KEPT) and common where it is used (those of AGE or less
# kept at YOUNG_KEPT).
AGE = 45
OLD_KEPT = 0.15  # share of the source half's applicants over AGE kept for the fit
YOUNG_KEPT = 0.3  # share of the deployment half's applicants of AGE or less kept


def code_commit() -> str:
    """The short commit of the code that runs ("unknown" outside a git checkout)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def read_cells(path: Path) -> list[dict[str, Any]]:
    """The finished cells of ``path`` (none when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_cells(
    path: Path,
    keys: Iterable[tuple[Any, ...]],
    measure: Callable[..., dict[str, Any]],
    key_of: Callable[[dict[str, Any]], Hashable],
    shown: int | None = None,
) -> list[dict[str, Any]]:
    """The finished cells of ``path``, then ``measure(*key)`` for each of ``keys`` that
    none of them is (``key_of(cell)``), in order, each appended to ``path`` as soon as it
    is done (a rerun, or one cut short, skips what is done) and printed (its first
    ``shown`` characters; None: all)."""
    cells = read_cells(path)
    done = {key_of(c) for c in cells}
    for key in keys:
        if key in done:
            continue
        found = measure(*key)
        cells.append(found)
        with path.open("a") as f:
            f.write(json.dumps(found) + "\n")
        print(json.dumps(found)[:shown], flush=True)
    return cells


def _keep(rows: np.ndarray, age: np.ndarray, old: float, young: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    share = np.where(age[rows] > AGE, old, young)
    return np.sort(rows[rng.random(len(rows)) < share])


def shifted_adult_split(
    age: np.ndarray, y: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fit rows, deployment rows, other deployment rows)`` of Adult (``age``, ``y``: its
    columns): the rows split in half stratified on the target; the *source* half keeps
    every applicant of ``AGE`` or less and ``OLD_KEPT`` of the older ones (the fit rows),
    the *deployment* half every applicant over ``AGE`` and ``YOUNG_KEPT`` of the younger
    ones, split again in half stratified on the target."""
    y = np.asarray(y)
    source, deployment = train_test_split(
        np.arange(len(y)), test_size=0.5, stratify=y, random_state=seed
    )
    fit_rows = _keep(source, age, OLD_KEPT, 1.0, seed)
    deployment = _keep(deployment, age, 1.0, YOUNG_KEPT, seed + 1000)
    first, second = train_test_split(
        deployment, test_size=0.5, stratify=y[deployment], random_state=seed
    )
    return fit_rows, first, second
