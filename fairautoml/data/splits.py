"""How the rows are split: the train/validation holdout, cross-validation folds and row
samples, each stratified on target x group so that every group's rates can be measured
(the intersection cells, or with only per-attribute constraints and tiny cells, the
cells with the tiny ones pooled into their rarest constrained group:
:func:`stratification_groups`).

``y`` here is the target as strata: the class for classification, a quantile bin of the
amount for regression (the task's ``strata``); small integers either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from fairautoml.exceptions import InputError

# a cell with fewer rows of a target stratum is pooled when cells are not compared
# (stratification_groups): as many as the most folds a search splits rows into
SMALL_STRATUM_ROWS = 5

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
    measured: Sequence[tuple[np.ndarray, Sequence[str]]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a split stratified on target x group.

    Validation must hold at least two rows of every group x class: its two cross-fitting
    halves each need every group with both classes, or a group's rates (and a
    post-processor's thresholds) are undefined there. A clear error beats a search whose
    every trial fails. ``labels`` name the group codes in that error, ``strata_names`` the
    target's strata (the classes, or a regression target's quantile bins). Without
    ``every_stratum`` (a regression target, whose strata only balance the split) validation
    must hold two rows of every group, not of every group x stratum. ``measured``: the
    groups the constraints compare, as (codes per row, labels), when they are not the
    ``groups`` stratified on (:func:`stratification_groups` merged small cells).
    """
    groups = np.asarray(groups)
    strata = _strata(y, groups)
    _, strata_counts = np.unique(strata, return_counts=True)
    if every_stratum:
        cells = strata
        fallback = y
    else:
        cells = _shifted(groups)
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
    for codes, names in measured if measured is not None else [(groups, labels)]:
        short = _short_in_validation(y, np.asarray(codes), val, names, strata_names, every_stratum)
        if short is not None:
            raise too_few(short)
    return np.sort(train), np.sort(val)


def _short_in_validation(
    y: np.ndarray,
    groups: np.ndarray,
    val: np.ndarray,
    labels: Sequence[str] | None,
    strata_names: Sequence[str],
    every_stratum: bool,
) -> str | None:
    """Why validation rows ``val`` cannot measure a group of ``groups`` (two rows of each
    of its target strata, or of the group, are needed), or None."""
    cells, width = (_strata(y, groups), _width(y)) if every_stratum else (_shifted(groups), 1)
    present = np.unique(cells)
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
                return f"group {name!r} gets {in_val[cell + cls]} {what}"
    return None


def stratification_groups(
    groups: np.ndarray, y: np.ndarray, groupings: Sequence[np.ndarray], min_rows: int
) -> np.ndarray | None:
    """The groups to stratify on when constraints compare each attribute's groups but no
    intersection (``groupings``: each compared grouping's code per row): the intersection
    cells, except that a cell with fewer than ``min_rows`` rows of a target stratum joins
    the rarest group it belongs to (None: no cell is that small).

    Why: stratifying on every cell keeps today's splits where cells are large, but a
    cell of a few rows cannot be spread over the folds, and the splits would fall back to
    the target alone, losing the small groups the constraints do compare. Pooled into
    its rarest constrained group, a tiny cell's rows spread with that group's, so the
    group that most risks being missing from a split is stratified on as a whole; the
    other groups it belongs to are larger and spread by their other rows. Rows without
    a group stay a stratum of their own.
    """
    groups = np.asarray(groups, dtype=np.int64)
    known = groups >= 0
    if not groupings or not known.any():
        return None
    width = _width(y)
    n_cells = int(groups.max()) + 1
    counts = np.bincount(
        groups[known] * width + np.asarray(y)[known], minlength=n_cells * width
    ).reshape(n_cells, width)
    small = ((counts > 0) & (counts < min_rows)).any(axis=1)
    if not small.any():
        return None
    rows = known & small[np.maximum(groups, 0)]
    sizes = np.stack(
        [np.bincount(g[known], minlength=int(g.max()) + 1)[g[rows]] for g in groupings]
    )
    rarest = np.argmin(sizes, axis=0)  # the same for every row of a cell
    offsets = np.cumsum([n_cells] + [int(g.max()) + 1 for g in groupings])[:-1]
    chosen = np.stack([np.asarray(g)[rows] for g in groupings])[rarest, np.arange(rows.sum())]
    out = groups.copy()
    out[rows] = offsets[rarest] + chosen
    return out


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
