"""Input validation and preparation: the one place user data is checked and converted.

Every learner receives the same prepared table: numeric columns as float64 (NaN for
missing) and every other column as a pandas ``category`` with the categories fixed at
fit time (unseen values become NaN). LightGBM and XGBoost use the categories natively;
the linear and sklearn learners one-hot encode them. User objects are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse

from fairautoml import exceptions as E
from fairautoml.exceptions import ConfigurationError, ConstraintError, InputError
from fairautoml.values import describe, is_number, is_scalar, ndim, plain

GROUP_SEPARATOR = " & "
UNKNOWN_GROUP = -1  # the group code of a row whose group is not known
# what fit does with rows whose group is unknown (FairAutoML's ``missing_groups``)
MISSING_GROUPS = ("error", "exclude", "infer")


def as_frame(X: object) -> pd.DataFrame:
    """A shallow copy of ``X`` as a DataFrame (arrays get columns x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X.copy(deep=False)
    if isinstance(X, pd.Series):
        return X.to_frame().copy(deep=False)
    if scipy.sparse.issparse(X):  # before Mapping: a DOK matrix is a dict
        raise InputError(E.X_SPARSE.format(given=describe(X)))
    if isinstance(X, Mapping):  # columns by name
        try:
            return pd.DataFrame({k: np.asarray(v) for k, v in X.items()})
        except ValueError as exc:
            raise InputError(E.X_NOT_2D.format(given=f"a dict ({exc})")) from None
    if X is None or isinstance(X, (str, bytes, set)) or ndim(X) == 0:
        raise InputError(E.X_NOT_2D.format(given=describe(X)))
    if _ragged(X):
        raise InputError(E.X_NOT_2D.format(given="a list of rows of different lengths"))
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise InputError(E.X_NOT_2D.format(given=f"{describe(X)} ({exc})")) from None
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InputError(E.X_NOT_2D.format(given=f"an array of shape {arr.shape}"))
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _ragged(X: object) -> bool:
    """Rows of different lengths (numpy would refuse them)."""
    if not isinstance(X, (list, tuple)):
        return False
    lengths = {len(row) if isinstance(row, (list, tuple)) else -1 for row in X}
    return len(lengths) > 1


def _n_infinite(col: pd.Series) -> int:
    """How many values are +-inf (numeric columns or floats inside object columns)."""
    if pd.api.types.is_bool_dtype(col):
        return 0
    if pd.api.types.is_numeric_dtype(col):
        return int(np.isinf(col.to_numpy(dtype="float64", na_value=np.nan)).sum())
    if col.dtype == object:
        return int(sum(isinstance(v, (float, np.floating)) and np.isinf(v) for v in col))
    return 0


def check_aligned(X: object, name: str, other: object) -> None:
    """Pandas objects passed together must share X's index; rows match by position."""
    if not isinstance(X, (pd.DataFrame, pd.Series)) or not isinstance(
        other, (pd.DataFrame, pd.Series)
    ):
        return
    if len(X.index) != len(other.index) or X.index.equals(other.index):
        return  # a length mismatch has its own message
    pairs = zip(X.index, other.index, strict=True)
    pos = next((i for i, (a, b) in enumerate(pairs) if not _same(a, b)), 0)
    raise InputError(
        E.INDEX_MISMATCH.format(
            name=name,
            position=pos,
            x_label=plain(X.index[pos]),
            other_label=plain(other.index[pos]),
        )
    )


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


@dataclass
class FeatureSchema:
    """The columns seen in fit and how each is presented to learners."""

    columns: list[str]
    numeric: list[str]
    categories: dict[str, list[object]] = field(default_factory=dict)
    # each numeric column's kind of values in fit: "bool" for True/False, else its dtype
    # (a schema saved before it was kept has none, and its columns are not checked)
    dtypes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def infer(cls, X: pd.DataFrame) -> FeatureSchema:
        if X.columns.duplicated().any():
            dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
            raise InputError(E.DUPLICATE_COLUMNS.format(table="X", names=dup))
        numeric, categories = [], {}
        for name in X.columns:
            col = X[name]
            if pd.api.types.is_complex_dtype(col):
                raise InputError(E.UNSUPPORTED_COLUMN.format(name=name, kind="complex"))
            if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
                numeric.append(name)
            elif isinstance(col.dtype, pd.CategoricalDtype):
                categories[name] = list(col.cat.categories)
            elif pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(
                col
            ):
                raise InputError(E.DATETIME_COLUMN.format(name=name, dtype=col.dtype))
            elif isinstance(col.dtype, pd.StringDtype):  # pandas' str dtype: strings only
                categories[name] = sorted(col.dropna().unique().tolist())
            else:
                values = _distinct(col.dropna().to_numpy(dtype=object))
                odd = next((v for v in values if not is_scalar(v)), None)
                if odd is not None:
                    kind = type(odd).__name__
                    raise InputError(E.UNSUPPORTED_COLUMN.format(name=name, kind=kind))
                kinds = {type(v).__name__ for v in values if not isinstance(v, str)}
                has_str = any(isinstance(v, str) for v in values)
                if has_str and kinds:
                    raise InputError(
                        E.MIXED_TYPE_COLUMN.format(name=name, types=", ".join(["str", *kinds]))
                    )
                if not has_str and kinds and all(is_number(v) for v in values):
                    numeric.append(name)
                else:
                    categories[name] = sorted(values.tolist(), key=str)
        dtypes = {name: _value_kind(X[name]) for name in numeric}
        return cls(list(X.columns), numeric, categories, dtypes)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Present ``X`` as learners expect it; columns may come in any order."""
        missing = [c for c in self.columns if c not in X.columns]
        extra = [c for c in X.columns if c not in self.columns]
        if missing or extra:
            raise InputError(E.PREDICT_COLUMNS.format(missing=missing, extra=extra))
        if X.columns.duplicated().any():
            dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
            raise InputError(E.DUPLICATE_COLUMNS.format(table="X", names=dup))
        out = {}
        for name in self.columns:
            col = X[name]
            if name in self.categories:
                known = self.categories[name]
                values = col.astype("object")
                values = values.where(values.isin(known), None)  # unseen and missing -> NaN
                out[name] = pd.Categorical(values, categories=known)
            else:
                self._check_not_bools(name, col)
                out[name] = _as_float(name, col)
        return pd.DataFrame(out, index=X.index)

    def _check_not_bools(self, name: str, col: pd.Series) -> None:
        """True/False where the fit saw numbers is an error: read as 1/0 they would stand
        for numbers the user never gave (a column of 1 and 2 in fit, say)."""
        fitted = (getattr(self, "dtypes", None) or {}).get(name)
        if fitted is None or fitted == "bool" or not _has_bools(col):
            return
        raise InputError(E.BOOLS_FOR_NUMBERS.format(name=name, fitted=fitted, given=col.dtype))


def _has_bools(col: pd.Series) -> bool:
    """Whether the column holds True/False values: a boolean dtype, or Python or numpy
    booleans among the values of an object column."""
    if pd.api.types.is_bool_dtype(col):
        return True
    if col.dtype != object:
        return False
    return any(isinstance(v, (bool, np.bool_)) for v in col)


def _value_kind(col: pd.Series) -> str:
    """What a numeric column holds, as :attr:`FeatureSchema.dtypes` records it: "bool" for
    True/False (whatever the dtype), else the dtype."""
    if pd.api.types.is_bool_dtype(col):
        return "bool"
    values = col.dropna() if col.dtype == object else ()
    if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
        return "bool"
    return str(col.dtype)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values (all of them when some are unhashable, e.g. lists)."""
    try:
        return pd.unique(values)
    except TypeError:
        return values


def _as_float(name: str, col: pd.Series) -> np.ndarray:
    """A numeric column as float64 (NaN for missing), a float32 one kept float32 (a big
    table's features then take half the memory); anything else is an error."""
    if pd.api.types.is_complex_dtype(col):
        raise InputError(E.UNSUPPORTED_COLUMN.format(name=name, kind="complex"))
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        kept = "float32" if str(col.dtype).lower() == "float32" else "float64"  # Float32 too
        values = col.to_numpy(dtype=kept, na_value=np.nan)
    else:
        source = col.astype(object)
        if any(not is_scalar(v) for v in source.dropna()):
            bad = next(v for v in source.dropna() if not is_scalar(v))
            raise InputError(E.UNSUPPORTED_COLUMN.format(name=name, kind=type(bad).__name__))
        parsed = pd.to_numeric(source, errors="coerce")
        lost = parsed.isna() & source.notna()
        if lost.any():
            examples = ", ".join(repr(v) for v in source[lost].unique()[:3])
            raise InputError(
                E.NON_NUMERIC_VALUES.format(name=name, n=int(lost.sum()), examples=examples)
            )
        values = parsed.to_numpy(dtype="float64", na_value=np.nan)
    n_inf = int(np.isinf(values).sum())
    if n_inf:
        raise InputError(E.NON_FINITE_FEATURES.format(name=name, n=n_inf))
    return values


# --- continuous sensitive attributes: bins ----------------------------------------------------

MAX_UNBINNED_VALUES = 20  # a numeric attribute with more distinct values must be binned
QUANTILES = "quantiles:"  # sensitive_bins value "quantiles:K": K bins of equal size


def check_bins_spec(bins: object) -> None:
    """``sensitive_bins`` is None or ``{name: increasing cut points | "quantiles:K"}``."""
    if bins is None:
        return
    if not isinstance(bins, Mapping):
        raise ConfigurationError(E.BINS_NOT_MAPPING.format(given=describe(bins)))
    for name, edges in bins.items():
        if isinstance(edges, str):
            if _n_quantiles(edges) is None:
                raise ConfigurationError(E.BINS_BAD_EDGES.format(name=name, given=edges))
            continue
        if isinstance(edges, (Mapping, set, bytes)) or ndim(edges) != 1:
            raise ConfigurationError(E.BINS_BAD_EDGES.format(name=name, given=edges))
        values = list(edges)  # type: ignore[call-overload]
        numbers = all(is_number(v) and not isinstance(v, bool) for v in values)
        if not values or not numbers or not np.all(np.isfinite(np.asarray(values, float))):
            raise ConfigurationError(E.BINS_BAD_EDGES.format(name=name, given=edges))
        if np.any(np.diff(np.asarray(values, dtype=float)) <= 0):
            raise ConfigurationError(E.BINS_BAD_EDGES.format(name=name, given=edges))


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
            raise InputError(E.BINS_UNKNOWN_ATTRIBUTE.format(name=name, known=known))
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
        raise InputError(E.BINS_NOT_NUMERIC.format(name=name, example=plain(example)))
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


def _check_unbinned(frame: pd.DataFrame, bins: Mapping[str, Any]) -> None:
    """A numeric attribute with many distinct values is an error that shows how to bin it."""
    for name in frame.columns:
        values = None if name in bins else _numeric(frame[name])
        n = 0 if values is None else len(np.unique(values))
        if n > MAX_UNBINNED_VALUES:
            raise InputError(
                E.SENSITIVE_CONTINUOUS.format(name=name, n=n, limit=MAX_UNBINNED_VALUES)
            )


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
            raise InputError(E.SENSITIVE_HAS_NAN.format(name=name, n=n_nan))


def _group_keys(frame: pd.DataFrame, bins: Mapping[str, Sequence[float]]) -> np.ndarray:
    """One label per row: the attribute's value (its bin's label when binned), or the
    intersection of several (``frame``: rows whose group is known)."""
    columns = _group_columns(frame, bins)
    keys = columns[0]
    for column in columns[1:]:  # vectorised: a row-wise join takes seconds on 50k rows
        keys = keys + GROUP_SEPARATOR + column
    return keys


def _group_columns(frame: pd.DataFrame, bins: Mapping[str, Sequence[float]]) -> list[np.ndarray]:
    """Each attribute's group label per row: its value, or its bin's label when binned."""
    _check_no_missing(frame)
    return [
        np.asarray(bin_labels(bins[name]), dtype=object)[_bin_index(frame[name], name, bins[name])]
        if name in bins
        else frame[name].astype(str).to_numpy(dtype=object)
        for name in frame.columns
    ]


def _ordered(keys: np.ndarray, frame: pd.DataFrame, bins: Mapping[str, Sequence[float]]) -> list:
    """The distinct keys sorted; binned attributes in the order of their bins."""
    if not bins:
        return sorted(set(keys))
    order = pd.DataFrame(
        {
            name: _bin_index(frame[name], name, bins[name])
            if name in bins
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

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        bins: Mapping[str, Any] | None = None,
        allow_missing: bool = False,
    ) -> GroupEncoder:
        """The groups of the rows whose group is known (``allow_missing``: rows with a
        missing value are left out; else they are an error)."""
        if allow_missing:
            frame = frame[~missing_group_rows(frame)]
        edges = resolve_bins(frame, bins)
        _check_unbinned(frame, edges)
        keys = _group_keys(frame, edges)
        labels = _ordered(keys, frame, edges)
        columns = _group_columns(frame, edges)
        first = pd.Series(keys).drop_duplicates()
        parts = {key: tuple(str(col[i]) for col in columns) for i, key in first.items()}
        return cls(list(map(str, frame.columns)), labels, edges, [parts[k] for k in labels])

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
                E.CONSTRAINT_CELLS.format(names=self.names, separator=GROUP_SEPARATOR)
            )
        groups = sorted({tuple(cell[i] for i in at) for cell in cells}, key=self._order(at))
        index = {group: code for code, group in enumerate(groups)}
        codes = np.array([index[tuple(cell[i] for i in at)] for cell in cells], dtype=np.int64)
        return codes, [GROUP_SEPARATOR.join(group) for group in groups]

    def _order(self, at: Sequence[int]) -> Any:
        """Sort key of a group of the attributes at positions ``at``: values as text,
        binned attributes in the order of their bins."""
        bins = self.fitted_bins
        orders = [
            {label: i for i, label in enumerate(bin_labels(bins[self.names[i]]))}
            if self.names[i] in bins
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
        keys = _group_keys(frame[known] if allow_missing else frame, self.fitted_bins)
        lookup = {label: i for i, label in enumerate(self.labels)}
        unseen = sorted(set(keys) - lookup.keys())
        if unseen:
            raise InputError(E.UNSEEN_GROUP.format(groups=unseen, known=self.labels))
        codes[known] = [lookup[k] for k in keys]
        return codes

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


def sensitive_frame(
    X: pd.DataFrame, sensitive_features: object, n_rows: int
) -> tuple[pd.DataFrame, list[str]]:
    """The sensitive attribute(s) as a DataFrame, and which columns of X they came from."""
    if sensitive_features is None:
        raise InputError(E.SENSITIVE_MISSING)
    given = sensitive_features
    if isinstance(given, (set, frozenset, bytes)) or (
        ndim(given) == 0 and not isinstance(given, (str, Mapping))
    ):
        raise InputError(E.SENSITIVE_NOT_ROWS.format(given=describe(given)))
    names = sensitive_names(given, X, n_rows)
    if names:
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise InputError(
                E.SENSITIVE_COLUMN_MISSING.format(missing=missing, columns=list(X.columns))
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
            raise InputError(E.SENSITIVE_NOT_ROWS.format(given=f"a dict ({exc})")) from None
    else:
        try:
            arr = np.asarray(given, dtype=object)
        except ValueError as exc:
            raise InputError(E.SENSITIVE_NOT_ROWS.format(given=describe(given))) from exc
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise InputError(E.SENSITIVE_NOT_ROWS.format(given=f"an array of shape {arr.shape}"))
        frame = pd.DataFrame(arr, columns=[f"sensitive{i}" for i in range(arr.shape[1])])
    if frame.shape[1] == 0:
        raise InputError(E.SENSITIVE_NOT_ROWS.format(given="a table without columns"))
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


def check_sample_weight(sample_weight: object, n_rows: int) -> np.ndarray | None:
    """``sample_weight`` as a new float64 array of one finite weight >= 0 per row, not all
    zero (None stays None: every row counts once); a clear error otherwise. The user's
    object is not modified."""
    if sample_weight is None:
        return None
    given = sample_weight
    if isinstance(given, (str, bytes, Mapping, set, frozenset)) or ndim(given) == 0:
        raise InputError(E.WEIGHTS_NOT_NUMERIC.format(given=describe(given)))
    if isinstance(given, pd.DataFrame):
        if given.shape[1] != 1:
            shape = f"a table of {given.shape[1]} columns"
            raise InputError(E.WEIGHTS_NOT_NUMERIC.format(given=shape))
        given = given.iloc[:, 0]
    try:
        if isinstance(given, pd.Series) and pd.api.types.is_numeric_dtype(given):
            arr = given.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(given)
    except (TypeError, ValueError):
        raise InputError(E.WEIGHTS_NOT_NUMERIC.format(given=describe(given))) from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(E.WEIGHTS_NOT_NUMERIC.format(given=f"an array of shape {arr.shape}"))
    if arr.dtype.kind not in "biuf":
        odd = [v for v in arr if not (is_number(v) or v is None or isinstance(v, (bool, np.bool_)))]
        if odd:
            raise InputError(
                E.WEIGHTS_NOT_NUMERIC.format(given=f"{len(odd)} value(s) such as {plain(odd[0])!r}")
            )
        arr = np.array([np.nan if v is None else v for v in arr], dtype=np.float64)
    weight = np.array(arr, dtype=np.float64)  # a copy: the caller's array is never changed
    if len(weight) != n_rows:
        raise InputError(
            E.LENGTH_MISMATCH.format(n_x=n_rows, name="sample_weight", n_other=len(weight))
        )
    bad = ~np.isfinite(weight)
    if bad.any():
        raise InputError(E.WEIGHTS_NOT_FINITE.format(n=int(bad.sum())))
    negative = weight < 0
    if negative.any():
        examples = ", ".join(f"{v:g}" for v in weight[negative][:3])
        raise InputError(E.WEIGHTS_NEGATIVE.format(n=int(negative.sum()), examples=examples))
    if not np.any(weight > 0):
        raise InputError(E.WEIGHTS_ALL_ZERO)
    return weight


def check_weighted_groups(
    groups: np.ndarray,
    strata: np.ndarray | None,
    weight: np.ndarray | None,
    labels: Sequence[str],
    strata_names: Sequence[str] | None = None,
) -> None:
    """Every group (and with ``strata_names``, every group x class) must carry some weight,
    or its weighted rates are undefined."""
    if weight is None:
        return
    for code, label in enumerate(labels):
        member = groups == code
        if not weight[member].sum() > 0:
            raise InputError(E.WEIGHTS_EMPTY_CELL.format(group=label, among=""))
        if strata_names is None or strata is None:
            continue
        for k, name in enumerate(strata_names):
            cell = member & (strata == k)
            if cell.any() and not weight[cell].sum() > 0:
                among = f" among its {name} rows"
                raise InputError(E.WEIGHTS_EMPTY_CELL.format(group=label, among=among))


@dataclass
class PreparedData:
    """Validated training data: features as learners expect them, the target as the task
    prepared it (0/1 classes, or amounts), group codes, and the target's strata."""

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    schema: FeatureSchema
    group_encoder: GroupEncoder
    classes: np.ndarray | None  # None for amounts
    sensitive_columns: list[str]  # columns of X the groups were read from
    strata: np.ndarray | None = None  # the task's target strata; None: y itself (classes)
    weight: np.ndarray | None = None  # sample_weight per row; None: every row counts once
    # what the search does with rows whose group is unknown (MISSING_GROUPS); "error" when
    # every row's group is known
    missing_groups: str = "error"
    # "infer": P(group | x, y) per row, shape (n, n_groups) (a known group: probability 1),
    # and how well the groups could be inferred (fairautoml.data.missing_groups)
    membership: np.ndarray | None = None
    group_inference: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.strata is None:
            self.strata = np.asarray(self.y, dtype=np.int64)

    @property
    def known(self) -> np.ndarray:
        """Whether each row's group is known."""
        return self.groups != UNKNOWN_GROUP

    def subset(self, idx: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        return self.X.iloc[idx], self.y[idx], self.groups[idx]

    def weights(self, idx: np.ndarray) -> np.ndarray | None:
        """The rows' ``sample_weight`` (None for an unweighted fit)."""
        return None if self.weight is None else self.weight[idx]

    def rows(self, idx: np.ndarray) -> PreparedData:
        """These data on the rows ``idx`` only (renumbered in that order)."""
        membership = None if self.membership is None else self.membership[idx]
        return replace(
            self, X=self.X.iloc[idx], y=self.y[idx], groups=self.groups[idx],
            strata=self.strata[idx], weight=self.weights(idx), membership=membership,
        )  # fmt: skip


def prepare_fit_data(
    X: object,
    y: object,
    sensitive_features: object,
    *,
    keep_sensitive_as_feature: bool = False,
    min_group_size: int = 20,
    pos_label: object = None,
    sensitive_bins: Mapping[str, Any] | None = None,
    missing_groups: str = "error",
    task: Any,
    sample_weight: object = None,
    constraints: Sequence[Any] = (),
) -> PreparedData:
    """Validate fit inputs and present them as every learner expects them; ``task`` (a
    :class:`~fairautoml.tasks.Task`, which builds on this module) prepares the target and
    checks the groups. ``sensitive_bins`` cuts numeric attributes into bins
    (:func:`resolve_bins`); ``sample_weight`` (:func:`check_sample_weight`) weighs rows.
    ``missing_groups`` other than "error" lets rows whose group is unknown in, coded
    :data:`UNKNOWN_GROUP`; the groups of the other rows are checked, by class where the
    ``constraints`` compare rates per class (:meth:`~fairautoml.tasks.Task.needs_class_rows`)."""
    frame = as_frame(X)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(
            E.EMPTY_INPUT.format(n_rows=frame.shape[0], n_cols=frame.shape[1], method="fit")
        )
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise InputError(E.DUPLICATE_COLUMNS.format(table="X", names=dup))
    check_aligned(X, "y", y)
    check_aligned(X, "sensitive_features", sensitive_features)
    check_aligned(X, "sample_weight", sample_weight)
    n = len(frame)
    weight = check_sample_weight(sample_weight, n)
    target, classes = task.prepare_target(y, n, pos_label)
    sens, sens_columns = sensitive_frame(frame, sensitive_features, n)
    allow_missing = check_missing_groups(missing_groups, sens)
    encoder = GroupEncoder.fit(sens, sensitive_bins, allow_missing)
    groups = encoder.encode(sens, allow_missing)
    known = groups != UNKNOWN_GROUP
    by_class = task.needs_class_rows(constraints)
    try:
        task.check_groups(
            groups[known], target[known], encoder.labels, min_group_size, by_class, classes
        )
    except InputError as exc:
        if not encoder.bins:
            raise
        names, verb = ", ".join(encoder.bins), "is" if len(encoder.bins) == 1 else "are"
        raise InputError(E.BINS_SMALL_GROUP.format(error=exc, names=names, verb=verb)) from None
    strata = task.strata(target)
    check_weighted_groups(
        groups, strata, weight, encoder.labels, task.strata_names if by_class else None
    )
    features = frame.reset_index(drop=True)
    if sens_columns and not keep_sensitive_as_feature:
        features = features.drop(columns=sens_columns)
        if features.shape[1] == 0:
            raise InputError(E.NO_FEATURES.format(names=sens_columns))
    schema = FeatureSchema.infer(features)
    return PreparedData(
        schema.transform(features), target, groups, schema, encoder, classes, sens_columns,
        strata, weight, missing_groups if allow_missing else "error",
    )  # fmt: skip


def check_missing_groups(mode: object, sens: pd.DataFrame) -> bool:
    """Whether rows whose group is unknown may stay (``mode`` "exclude" or "infer" and some
    such rows); a row without a group under "error", or no row with one, is an error."""
    if mode not in MISSING_GROUPS:
        raise ConfigurationError(
            E.MISSING_GROUPS_MODE.format(given=describe(mode), modes=", ".join(MISSING_GROUPS))
        )
    if mode == "error":
        _check_no_missing(sens)
        return False
    missing = missing_group_rows(sens)
    if missing.all():
        names = ", ".join(map(str, sens.columns))
        raise InputError(E.MISSING_GROUPS_ALL.format(n=len(sens), names=names, mode=mode))
    return bool(missing.any())
