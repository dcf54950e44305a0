"""The sensitive attributes: read from columns or values, binned, and coded as the cells
of their intersection (:class:`GroupEncoder`), with the checks a fair search needs
(enough rows of each group and class).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.data.features import _n_infinite
from fairautoml.data.messages import (
    BINS_BAD_EDGES,
    BINS_NOT_MAPPING,
    BINS_NOT_NUMERIC,
    BINS_UNKNOWN_ATTRIBUTE,
    CONSTRAINT_CELLS,
    CONTINUOUS_BINNED,
    CONTINUOUS_HAS_NAN,
    CONTINUOUS_NOT_NUMERIC,
    CONTINUOUS_ONE_VALUE,
    SENSITIVE_COLUMN_MISSING,
    SENSITIVE_CONTINUOUS,
    SENSITIVE_HAS_NAN,
    SENSITIVE_MISSING,
    SENSITIVE_NOT_ROWS,
    UNSEEN_GROUP,
)
from fairautoml.exceptions import ConfigurationError, ConstraintError, InputError
from fairautoml.values import describe, is_number, ndim, plain

GROUP_SEPARATOR = " & "


UNKNOWN_GROUP = -1  # the group code of a row whose group is not known


# what fit does with rows whose group is unknown (FairAutoML's ``missing_groups``)
MISSING_GROUPS = ("error", "exclude", "infer")


MAX_UNBINNED_VALUES = 20  # a numeric attribute with more distinct values must be binned


QUANTILES = "quantiles:"  # sensitive_bins value "quantiles:K": K bins of equal size


# an attribute read as numbers (a dependence constraint, no bins) keeps each distinct value
# as its own level; with more distinct values than this, each row takes the nearest of this
# many quantiles (a resolution no measure of dependence notices)
MAX_LEVELS = 1000


def check_bins_spec(bins: object) -> None:
    """``sensitive_bins`` is None or ``{name: increasing cut points | "quantiles:K"}``."""
    if bins is None:
        return
    if not isinstance(bins, Mapping):
        raise ConfigurationError(BINS_NOT_MAPPING.format(given=describe(bins)))
    for name, edges in bins.items():
        if isinstance(edges, str):
            if _n_quantiles(edges) is None:
                raise ConfigurationError(BINS_BAD_EDGES.format(name=name, given=edges))
            continue
        if isinstance(edges, (Mapping, set, bytes)) or ndim(edges) != 1:
            raise ConfigurationError(BINS_BAD_EDGES.format(name=name, given=edges))
        values = list(edges)  # type: ignore[call-overload]
        numbers = all(is_number(v) and not isinstance(v, bool) for v in values)
        if not values or not numbers or not np.all(np.isfinite(np.asarray(values, float))):
            raise ConfigurationError(BINS_BAD_EDGES.format(name=name, given=edges))
        if np.any(np.diff(np.asarray(values, dtype=float)) <= 0):
            raise ConfigurationError(BINS_BAD_EDGES.format(name=name, given=edges))


def _n_quantiles(spec: str) -> int | None:
    """K of "quantiles:K" (K >= 2), else None."""
    if not spec.startswith(QUANTILES):
        return None
    k = spec[len(QUANTILES) :].strip()
    return int(k) if k.isdigit() and int(k) >= 2 else None


def bins_record(bins: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``sensitive_bins`` as plain JSON values (a study records it, a resume compares it)."""
    if bins is None:
        return None
    return {str(k): v if isinstance(v, str) else [float(x) for x in v] for k, v in bins.items()}


def _numeric(col: pd.Series) -> np.ndarray | None:
    """The column's values as floats when every one is a number (booleans are not)."""
    if pd.api.types.is_bool_dtype(col):
        return None
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    values = col.to_numpy(dtype=object)
    if all(is_number(v) and not isinstance(v, (bool, np.bool_)) for v in values):
        return values.astype("float64")
    return None


def resolve_bins(frame: pd.DataFrame, bins: Mapping[str, Any] | None) -> dict[str, list[float]]:
    """The cut points of each binned attribute of ``frame``; "quantiles:K" becomes the
    quantiles of these rows (kept, so new rows are cut at the same points)."""
    check_bins_spec(bins)
    resolved: dict[str, list[float]] = {}
    for name, edges in (bins or {}).items():
        if str(name) not in frame.columns:
            known = ", ".join(repr(c) for c in frame.columns)
            raise InputError(BINS_UNKNOWN_ATTRIBUTE.format(name=name, known=known))
        values = _binnable(frame[str(name)], str(name))
        if isinstance(edges, str):
            k = _n_quantiles(edges) or 2
            cuts = np.quantile(values[np.isfinite(values)], np.linspace(0, 1, k + 1)[1:-1])
            resolved[str(name)] = sorted({float(c) for c in cuts})
        else:
            resolved[str(name)] = [float(e) for e in edges]
    return resolved


def _binnable(col: pd.Series, name: str) -> np.ndarray:
    values = _numeric(col)
    if values is None:
        example = next((v for v in col if not is_number(v) or isinstance(v, bool)), col.iloc[0])
        raise InputError(BINS_NOT_NUMERIC.format(name=name, example=plain(example)))
    return values


def _edge(x: float) -> str:
    return f"{x:g}"


def bin_labels(edges: Sequence[float]) -> list[str]:
    """The groups cut points make, in order: "<25", "[25, 40)", ..., ">=60" (left-closed)."""
    inner = [f"[{_edge(a)}, {_edge(b)})" for a, b in pairwise(edges)]
    return [f"<{_edge(edges[0])}", *inner, f">={_edge(edges[-1])}"]


def _bin_index(col: pd.Series, name: str, edges: Sequence[float]) -> np.ndarray:
    """Each row's bin (0 .. len(edges)); values beyond the edges fall in the end bins."""
    return np.searchsorted(np.asarray(edges, dtype=float), _binnable(col, name), side="right")


def resolve_levels(
    frame: pd.DataFrame,
    continuous: Mapping[str, str],
    bins: Mapping[str, Any] | None,
) -> dict[str, list[float]]:
    """The levels of each attribute read as numbers (``continuous``: attribute -> the
    constraint that reads it): its distinct values (at most :data:`MAX_LEVELS`, else that
    many quantiles). Missing values, text and bins on it are errors naming the fix."""
    levels: dict[str, list[float]] = {}
    for name, constraint in continuous.items():
        if name not in frame.columns:
            continue  # binding the constraint is the error that names the known attributes
        if name in (bins or {}):
            raise InputError(CONTINUOUS_BINNED.format(constraint=constraint, name=name))
        col = frame[name]
        values = _numeric(col)
        if values is None:
            example = next((v for v in col if not is_number(v) or isinstance(v, bool)), None)
            raise InputError(
                CONTINUOUS_NOT_NUMERIC.format(constraint=constraint, name=name, example=example)
            )
        n_bad = int((~np.isfinite(values)).sum())
        if n_bad:
            raise InputError(CONTINUOUS_HAS_NAN.format(name=name, n=n_bad, constraint=constraint))
        distinct = np.unique(values)
        if len(distinct) < 2:
            raise InputError(
                CONTINUOUS_ONE_VALUE.format(constraint=constraint, name=name, value=distinct[0])
            )
        if len(distinct) > MAX_LEVELS:
            distinct = np.unique(np.quantile(values, np.linspace(0, 1, MAX_LEVELS)))
        levels[name] = [float(v) for v in distinct]
    return levels


def level_labels(levels: Sequence[float]) -> list[str]:
    """The labels of an attribute's levels: each value as a number reads back."""
    return [repr(float(v)) for v in levels]


def _level_index(col: pd.Series, levels: Sequence[float]) -> np.ndarray:
    """Each row's nearest level (values beyond the levels: the end ones)."""
    grid = np.asarray(levels, dtype=float)
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    right = np.clip(np.searchsorted(grid, values), 1, len(grid) - 1)
    left = right - 1
    nearer_left = np.abs(values - grid[left]) <= np.abs(grid[right] - values)
    return np.where(nearer_left, left, right) if len(grid) > 1 else np.zeros(len(values), int)


def _check_unbinned(
    frame: pd.DataFrame, bins: Mapping[str, Any], levels: Mapping[str, Any] | None = None
) -> None:
    """A numeric attribute with many distinct values is an error that shows how to bin it
    (one read as numbers by a dependence constraint, ``levels``, is not)."""
    for name in frame.columns:
        values = None if name in bins or name in (levels or {}) else _numeric(frame[name])
        n = 0 if values is None else len(np.unique(values))
        if n > MAX_UNBINNED_VALUES:
            raise InputError(SENSITIVE_CONTINUOUS.format(name=name, n=n, limit=MAX_UNBINNED_VALUES))


def missing_group_rows(frame: pd.DataFrame) -> np.ndarray:
    """The rows whose group is unknown: a missing (or infinite) value of any attribute."""
    missing = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        col = frame[name]
        missing |= col.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            missing |= np.isinf(col.to_numpy(dtype="float64", na_value=np.nan))
    return missing


def _check_no_missing(frame: pd.DataFrame) -> None:
    """Today's default (``missing_groups="error"``): a missing group value is an error that
    names the other ways to handle it."""
    for name in frame.columns:
        n_nan = int(frame[name].isna().sum()) + _n_infinite(frame[name])
        if n_nan:
            raise InputError(SENSITIVE_HAS_NAN.format(name=name, n=n_nan))


def _group_keys(
    frame: pd.DataFrame,
    bins: Mapping[str, Sequence[float]],
    levels: Mapping[str, Sequence[float]] | None = None,
) -> np.ndarray:
    """One label per row: the attribute's value (its bin's label when binned, its nearest
    level when read as numbers), or the intersection of several (``frame``: rows whose
    group is known)."""
    columns = _group_columns(frame, bins, levels)
    keys = columns[0]
    for column in columns[1:]:  # vectorised: a row-wise join takes seconds on 50k rows
        keys = keys + GROUP_SEPARATOR + column
    return keys


def _group_columns(
    frame: pd.DataFrame,
    bins: Mapping[str, Sequence[float]],
    levels: Mapping[str, Sequence[float]] | None = None,
) -> list[np.ndarray]:
    """Each attribute's group label per row: its value, its bin's label when binned, its
    nearest level's when read as numbers."""
    _check_no_missing(frame)
    levels = levels or {}
    return [
        np.asarray(bin_labels(bins[name]), dtype=object)[_bin_index(frame[name], name, bins[name])]
        if name in bins
        else np.asarray(level_labels(levels[name]), dtype=object)[
            _level_index(frame[name], levels[name])
        ]
        if name in levels
        else frame[name].astype(str).to_numpy(dtype=object)
        for name in frame.columns
    ]


def _ordered(
    keys: np.ndarray,
    frame: pd.DataFrame,
    bins: Mapping[str, Sequence[float]],
    levels: Mapping[str, Sequence[float]] | None = None,
) -> list:
    """The distinct keys sorted; binned attributes in the order of their bins, those read
    as numbers in the order of their values."""
    levels = levels or {}
    if not bins and not levels:
        return sorted(set(keys))
    order = pd.DataFrame(
        {
            name: _bin_index(frame[name], name, bins[name])
            if name in bins
            else _level_index(frame[name], levels[name])
            if name in levels
            else frame[name].astype(str).to_numpy()
            for name in frame.columns
        }
    )
    order["key"] = keys
    return order.drop_duplicates("key").sort_values(list(frame.columns))["key"].tolist()


@dataclass
class GroupEncoder:
    """Maps sensitive-attribute values (or their intersections) to integer codes; a binned
    attribute is first cut at the fitted ``bins`` (attribute name -> cut points). A row
    whose group is unknown gets :data:`UNKNOWN_GROUP` where missing values are allowed."""

    names: list[str]
    labels: list[str]
    bins: dict[str, list[float]] = field(default_factory=dict)
    # each label's value of every attribute (None: read off the labels, e.g. saved before)
    cells: list[tuple[str, ...]] | None = None
    # the levels of each attribute a dependence constraint reads as numbers (no bins)
    levels: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        bins: Mapping[str, Any] | None = None,
        allow_missing: bool = False,
        continuous: Mapping[str, str] | None = None,
    ) -> GroupEncoder:
        """The groups of the rows whose group is known (``allow_missing``: rows with a
        missing value are left out; else they are an error). ``continuous``: the
        attributes a dependence constraint reads as numbers (attribute -> that
        constraint), each distinct value kept as its own level (:func:`resolve_levels`)."""
        levels = resolve_levels(frame, continuous or {}, bins)
        if allow_missing:
            frame = frame[~missing_group_rows(frame)]
        edges = resolve_bins(frame, bins)
        _check_unbinned(frame, edges, levels)
        keys = _group_keys(frame, edges, levels)
        labels = _ordered(keys, frame, edges, levels)
        columns = _group_columns(frame, edges, levels)
        first = pd.Series(keys).drop_duplicates()
        parts = {key: tuple(str(col[i]) for col in columns) for i, key in first.items()}
        cells = [parts[k] for k in labels]
        return cls(list(map(str, frame.columns)), labels, edges, cells, levels)

    def projection(self, attributes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """The map from cell codes to the codes of the groups of ``attributes`` (each
        pooled over the other attributes), and those groups' labels; the cells themselves
        for every attribute. Groups are ordered by value (binned attributes by bin)."""
        unknown = [a for a in attributes if a not in self.names]
        if unknown:
            raise ConstraintError(
                E.CONSTRAINT_UNKNOWN_ATTRIBUTE.format(
                    constraint=f"[{', '.join(attributes)}]",
                    unknown=", ".join(map(repr, unknown)),
                    known=", ".join(map(repr, self.names)),
                )
            )
        if set(attributes) == set(self.names):
            return np.arange(len(self.labels), dtype=np.int64), list(self.labels)
        at = [self.names.index(a) for a in attributes]
        cells = self.cells or [tuple(label.split(GROUP_SEPARATOR)) for label in self.labels]
        if any(len(cell) != len(self.names) for cell in cells):
            raise ConstraintError(  # a value holding the separator, in an old encoder
                CONSTRAINT_CELLS.format(names=self.names, separator=GROUP_SEPARATOR)
            )
        groups = sorted({tuple(cell[i] for i in at) for cell in cells}, key=self._order(at))
        index = {group: code for code, group in enumerate(groups)}
        codes = np.array([index[tuple(cell[i] for i in at)] for cell in cells], dtype=np.int64)
        return codes, [GROUP_SEPARATOR.join(group) for group in groups]

    def grouping(
        self, groups: np.ndarray, attributes: Sequence[str]
    ) -> tuple[np.ndarray, list[str]]:
        """Each row's group of ``attributes`` from its cell code ``groups`` (a row without a
        group stays :data:`UNKNOWN_GROUP`), and those groups' labels."""
        codes, labels = self.projection(attributes)
        groups = np.asarray(groups, dtype=np.int64)
        return np.where(groups < 0, groups, codes[np.maximum(groups, 0)]), labels

    def _order(self, at: Sequence[int]) -> Any:
        """Sort key of a group of the attributes at positions ``at``: values as text,
        binned attributes in the order of their bins."""
        bins, levels = self.fitted_bins, self.fitted_levels
        orders = [
            {label: i for i, label in enumerate(bin_labels(bins[self.names[i]]))}
            if self.names[i] in bins
            else {label: i for i, label in enumerate(level_labels(levels[self.names[i]]))}
            if self.names[i] in levels
            else None
            for i in at
        ]
        return lambda group: tuple(
            (0, order.get(v, -1), "") if order is not None else (1, 0, v)
            for v, order in zip(group, orders, strict=True)
        )

    def encode(self, frame: pd.DataFrame, allow_missing: bool = False) -> np.ndarray:
        """Each row's group code; :data:`UNKNOWN_GROUP` for a row with a missing value when
        ``allow_missing``, else such a row is an error."""
        codes = np.full(len(frame), UNKNOWN_GROUP, dtype=np.int64)
        known = ~missing_group_rows(frame) if allow_missing else np.ones(len(frame), bool)
        keys = _group_keys(
            frame[known] if allow_missing else frame, self.fitted_bins, self.fitted_levels
        )
        lookup = {label: i for i, label in enumerate(self.labels)}
        unseen = sorted(set(keys) - lookup.keys())
        if unseen:
            raise InputError(UNSEEN_GROUP.format(groups=unseen, known=self.labels))
        codes[known] = [lookup[k] for k in keys]
        return codes

    @property
    def fitted_levels(self) -> dict[str, list[float]]:
        """The levels of the attributes read as numbers (none for an encoder saved before
        they could be)."""
        return getattr(self, "levels", None) or {}

    @property
    def fitted_bins(self) -> dict[str, list[float]]:
        """The cut points (none for an encoder saved before attributes could be binned)."""
        return getattr(self, "bins", None) or {}

    def binned(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (a copy) with each binned attribute replaced by its bin labels: the
        groups as reports name them."""
        out = frame.copy(deep=False)
        for name, edges in self.fitted_bins.items():
            if name in out.columns:
                labels = np.asarray(bin_labels(edges), dtype=object)
                out[name] = labels[_bin_index(out[name], name, edges)]
        return out


def constrained_groupings(
    constraints: Sequence[Any], names: Sequence[str]
) -> list[tuple[str, ...]]:
    """The sets of attributes whose groups ``constraints`` compare, each in ``names``'
    order: every attribute (the intersection's cells) for a constraint without brackets,
    and where no constraint is given (the cells are what reports and audits show then).
    A constraint naming an attribute that is not there is left out: binding it is the
    error that names the known ones."""
    every = tuple(names)
    found: list[tuple[str, ...]] = []
    for constraint in constraints or [None]:
        attributes = getattr(constraint, "attributes", ()) or every
        if not set(attributes) <= set(every):
            continue
        grouping = tuple(name for name in every if name in attributes)
        if grouping not in found:
            found.append(grouping)
    return found or [every]


def sensitive_frame(
    X: pd.DataFrame, sensitive_features: object, n_rows: int
) -> tuple[pd.DataFrame, list[str]]:
    """The sensitive attribute(s) as a DataFrame, and which columns of X they came from."""
    if sensitive_features is None:
        raise InputError(SENSITIVE_MISSING)
    given = sensitive_features
    if isinstance(given, (set, frozenset, bytes)) or (
        ndim(given) == 0 and not isinstance(given, (str, Mapping))
    ):
        raise InputError(SENSITIVE_NOT_ROWS.format(given=describe(given)))
    names = sensitive_names(given, X, n_rows)
    if names:
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise InputError(
                SENSITIVE_COLUMN_MISSING.format(missing=missing, columns=list(X.columns))
            )
        frame = X[names].copy()
    elif isinstance(given, pd.DataFrame):
        frame = given.copy(deep=False)
    elif isinstance(given, pd.Series):
        frame = given.to_frame(name=given.name if given.name is not None else "sensitive")
    elif isinstance(given, Mapping):
        try:
            frame = pd.DataFrame({str(k): np.asarray(v, dtype=object) for k, v in given.items()})
        except ValueError as exc:
            raise InputError(SENSITIVE_NOT_ROWS.format(given=f"a dict ({exc})")) from None
    else:
        try:
            arr = np.asarray(given, dtype=object)
        except ValueError as exc:
            raise InputError(SENSITIVE_NOT_ROWS.format(given=describe(given))) from exc
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise InputError(SENSITIVE_NOT_ROWS.format(given=f"an array of shape {arr.shape}"))
        frame = pd.DataFrame(arr, columns=[f"sensitive{i}" for i in range(arr.shape[1])])
    if frame.shape[1] == 0:
        raise InputError(SENSITIVE_NOT_ROWS.format(given="a table without columns"))
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise InputError(E.DUPLICATE_COLUMNS.format(table="sensitive_features", names=dup))
    if len(frame) != n_rows:
        raise InputError(
            E.LENGTH_MISMATCH.format(n_x=n_rows, name="sensitive_features", n_other=len(frame))
        )
    return frame.reset_index(drop=True), names


def _are_column_names(value: object, X: pd.DataFrame, n_rows: int) -> bool:
    """A short list of strings names columns of X; a list of one value per row does not."""
    if not isinstance(value, (list, tuple)) or not value:
        return False
    if not all(isinstance(v, str) for v in value):
        return False
    if len(value) == n_rows and not all(v in X.columns for v in value):
        return False
    return len(value) <= X.shape[1] or all(v in X.columns for v in value)


def sensitive_names(given: object, X: pd.DataFrame, n_rows: int) -> list[str]:
    """The column names of X that ``given`` refers to (empty when it holds values)."""
    if isinstance(given, str):
        return [given]
    return list(given) if _are_column_names(given, X, n_rows) else []  # type: ignore[arg-type]


def check_group_sizes(
    groups: np.ndarray, labels: Sequence[str], min_size: int, template: str
) -> None:
    """At least two groups, each of at least ``min_size`` rows (``template`` says so)."""
    if len(labels) < 2:
        raise InputError(E.SINGLE_GROUP.format(group=labels[0] if labels else None))
    counts = np.bincount(groups, minlength=len(labels))
    for code, label in enumerate(labels):
        if counts[code] < min_size:
            raise InputError(template.format(group=label, n=int(counts[code]), min_size=min_size))


def check_groups(groups: np.ndarray, y: np.ndarray, labels: Sequence[str], min_size: int) -> None:
    """Every group must be large enough, with both classes, to estimate its rates."""
    if len(labels) < 2:
        raise InputError(E.SINGLE_GROUP.format(group=labels[0] if labels else None))
    for code, label in enumerate(labels):
        member = groups == code
        n_pos, n = int(y[member].sum()), int(member.sum())
        if n < min_size or n_pos < 2 or n - n_pos < 2:
            raise InputError(
                E.GROUP_TOO_SMALL.format(
                    group=label, n=n, n_pos=n_pos, n_neg=n - n_pos, min_size=min_size
                )
            )
