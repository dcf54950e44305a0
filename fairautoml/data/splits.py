"""How the rows are split: the train/validation holdout, cross-validation folds and row
samples, each stratified on target x group so that every group's rates can be measured.

``y`` here is the target as strata: the class for classification, a quantile bin of the
amount for regression (the task's ``strata``); small integers either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from fairautoml.exceptions import InputError

TOO_FEW_ROWS = (
    "Too few rows for a validation split: {n_rows} rows with validation_fraction={fraction} "
    "give {n_val} validation rows, but {reason}. Add rows, raise validation_fraction, or merge "
    "small groups."
)


def subsample_rows(
    rows: np.ndarray, y: np.ndarray, groups: np.ndarray, n: int, random_state: int | None
) -> np.ndarray:
    """At most ``n`` of ``rows``, stratified on target x group (sorted; all if fewer)."""
    if len(rows) <= n:
        return rows
    strata = _strata(y, groups)[rows]
    stratify = strata if np.unique(strata, return_counts=True)[1].min() >= 2 else None
    kept, _ = train_test_split(rows, train_size=n, random_state=random_state, stratify=stratify)
    return np.sort(kept)


def split_train_validation(
    y: np.ndarray,
    groups: np.ndarray,
    validation_fraction: float,
    random_state: int | None,
    labels: Sequence[str] | None = None,
    strata_names: Sequence[str] = ("negative", "positive"),
    every_stratum: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a split stratified on target x group.

    Validation must hold at least two rows of every group x class: its two cross-fitting
    halves each need every group with both classes, or a group's rates (and a
    post-processor's thresholds) are undefined there. A clear error beats a search whose
    every trial fails. ``labels`` name the group codes in that error, ``strata_names`` the
    target's strata (the classes, or a regression target's quantile bins). Without
    ``every_stratum`` (a regression target, whose strata only balance the split) validation
    must hold two rows of every group, not of every group x stratum.
    """
    groups = np.asarray(groups)
    strata = _strata(y, groups)
    _, strata_counts = np.unique(strata, return_counts=True)
    if every_stratum:
        cells, width = strata, _width(y)
        fallback = y
    else:
        cells, width = _shifted(groups), 1
        fallback = cells if np.unique(cells, return_counts=True)[1].min() >= 2 else None
    idx = np.arange(len(y))
    present = np.unique(cells)
    stratify = strata if strata_counts.min() >= 2 else fallback
    n_val = math.ceil(validation_fraction * len(y))
    needed = 2 * len(present)

    def too_few(reason: str) -> InputError:
        return InputError(
            TOO_FEW_ROWS.format(
                n_rows=len(y), fraction=validation_fraction, n_val=n_val, reason=reason
            )
        )

    if n_val < needed or len(y) - n_val < len(present):
        raise too_few(
            f"at least {needed} are needed (two for each of the {len(present)} "
            + ("group x target combinations)" if every_stratum else "groups)")
        )
    train, val = train_test_split(
        idx, test_size=n_val, random_state=random_state, stratify=stratify
    )
    in_val = np.bincount(cells[val], minlength=int(cells.max()) + 1)
    for code in np.unique(groups[groups >= 0]):  # the known groups
        cell = (code + 1) * width
        for cls in reversed(range(width)):
            if cell + cls in present and in_val[cell + cls] < 2:
                name = labels[code] if labels is not None else int(code)
                if every_stratum:
                    word = strata_names[cls] if cls < len(strata_names) else f"stratum {cls}"
                    what = f"{word} row(s) there, and every group needs at least two of each"
                else:
                    what = "row(s) there, and every group needs at least two"
                raise too_few(f"group {name!r} gets {in_val[cell + cls]} {what}")
    return np.sort(train), np.sort(val)


def cv_folds(
    y: np.ndarray, groups: np.ndarray, n_folds: int, random_state: int | None
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``(fit rows, scored rows)`` of each fold, stratified on target x group (on the target
    alone when a target x group combination has fewer rows than folds)."""
    strata = _strata(y, groups)
    _, counts = np.unique(strata, return_counts=True)
    labels = strata if counts.min() >= n_folds else y
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    return tuple(folds.split(np.zeros(len(y)), labels))


def _width(y: np.ndarray) -> int:
    """How many target strata there are (2 for a binary target)."""
    return max(int(np.max(y)) + 1, 2) if len(y) else 2


def _shifted(groups: np.ndarray) -> np.ndarray:
    """Group codes from 0, rows whose group is unknown (code -1) first: a stratum of their own."""
    return np.asarray(groups) + 1


def _strata(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One code per target stratum x group (rows whose group is unknown: one more group)."""
    return _shifted(groups) * _width(y) + np.asarray(y)
