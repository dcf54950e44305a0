"""Membership probabilities (BISG, BIFSG): each row's probability of each group, one named
column per group, checked once (:func:`checked_memberships`) for every place that reads
them (the measures of :mod:`fairautoml.measures.membership`, the audit). Each error names
the rows and the fix (normalise, drop the rows, fill them in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.exceptions import InputError

SUM_TOLERANCE = 1e-6

MEMBERSHIP_SHAPE = (
    "group_probabilities must be a table with one column per group (a DataFrame whose "
    "column names are the groups, or a 2-D array), one row per row of X; got {given}. For "
    "two groups and one probability p per row, pass np.column_stack([p, 1 - p])."
)

MEMBERSHIP_NOT_NUMERIC = (
    "group_probabilities must hold numbers; column(s) {columns} do not. Pass the "
    "probabilities themselves (e.g. BISG's pr_white, pr_black, ...), not labels."
)

MEMBERSHIP_GROUPS = (
    "group_probabilities needs at least two groups (columns) with distinct names; got "
    "{given}. Pass one column per group, e.g. BISG's probabilities of every race."
)

MEMBERSHIP_LENGTH = (
    "group_probabilities has {n_p} row(s) but X has {n_x}: pass one row of probabilities "
    "per row of X, in the same order."
)

MEMBERSHIP_MISSING = (
    "group_probabilities has missing or infinite values in {count} row(s) ({rows}). Every "
    "row needs its probabilities: drop those rows from X, y and the probabilities, or fill "
    "them in (e.g. with the population's shares where no proxy is known)."
)

MEMBERSHIP_NEGATIVE = (
    "group_probabilities has negative values in {count} row(s) ({rows}). Probabilities "
    "lie in [0, 1]: check the columns, or drop those rows."
)

MEMBERSHIP_COLUMNS = (
    "The group probabilities' column(s) {missing} are not in the table; its columns: "
    "{columns}. Name the columns that hold each row's probability of each group."
)

MEMBERSHIP_SUM = (
    "The probabilities of {count} row(s) do not sum to 1 (within {tol:g}): {rows}. "
    "Normalise each row (P = P.div(P.sum(axis=1), axis=0)) if the columns are every "
    "group, add the missing groups' column if some are left out, or drop those rows."
)


@dataclass(frozen=True)
class Memberships:
    """Checked probabilities: ``values`` (n rows x G groups, rows summing to 1), the
    groups' names (the columns') and the attribute they describe (the columns' name)."""

    values: np.ndarray
    groups: tuple[str, ...]
    attribute: str | None = None


def checked_memberships(probabilities: Any, n_rows: int | None = None) -> Memberships:
    """``probabilities`` (a DataFrame, one named column per group, or a 2-D array) checked:
    numbers, at least two groups, one row per row of X, none missing, none negative, each
    row summing to 1 within :data:`SUM_TOLERANCE`; each error names the rows and the fix."""
    if isinstance(probabilities, pd.DataFrame):
        frame = probabilities
    else:
        array = None if isinstance(probabilities, (str, bytes, pd.Series)) else probabilities
        try:
            array = None if array is None else np.asarray(array)
        except (TypeError, ValueError):
            array = None
        if array is None or array.ndim != 2:
            raise InputError(MEMBERSHIP_SHAPE.format(given=_described(probabilities)))
        frame = pd.DataFrame(array, columns=[str(j) for j in range(array.shape[1])])
    names = [str(c) for c in frame.columns]
    if len(names) < 2 or len(set(names)) != len(names):
        raise InputError(MEMBERSHIP_GROUPS.format(given=names))
    text = [n for n, c in zip(names, frame.columns, strict=True)
            if not pd.api.types.is_numeric_dtype(frame[c])]  # fmt: skip
    if text:
        raise InputError(MEMBERSHIP_NOT_NUMERIC.format(columns=text))
    values = frame.to_numpy(dtype=np.float64)
    if n_rows is not None and len(values) != n_rows:
        raise InputError(MEMBERSHIP_LENGTH.format(n_p=len(values), n_x=n_rows))
    index = frame.index
    for bad, message in (
        (~np.isfinite(values).all(axis=1), MEMBERSHIP_MISSING),
        ((values < 0).any(axis=1), MEMBERSHIP_NEGATIVE),
        (np.abs(values.sum(axis=1) - 1.0) > SUM_TOLERANCE, MEMBERSHIP_SUM),
    ):
        if bad.any():
            raise InputError(
                message.format(count=int(bad.sum()), rows=_rows(index, bad), tol=SUM_TOLERANCE)
            )
    name = frame.columns.name
    return Memberships(values, tuple(names), None if name is None else str(name))


def probability_columns(
    frame: pd.DataFrame, columns: str | list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table without the probabilities' ``columns`` (names, or one comma-separated
    string as the command line gives them), and those columns: what the command line and
    a worker joining its study read off a CSV. A column the table lacks is an error."""
    names = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else columns
    names = [c for c in names if c]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise InputError(
            MEMBERSHIP_COLUMNS.format(missing=missing, columns=list(map(str, frame.columns)))
        )
    return frame.drop(columns=names), frame[names]


def _rows(index: pd.Index, bad: np.ndarray) -> str:
    labels = [repr(v) for v in index[bad][:5].tolist()]
    more = int(bad.sum()) - len(labels)
    return "rows " + ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def _described(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__}" + ("" if shape is None else f" of shape {shape}")


__all__ = ["SUM_TOLERANCE", "Memberships", "checked_memberships", "probability_columns"]
