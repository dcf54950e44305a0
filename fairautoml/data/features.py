"""The feature table: any table-like X read as a DataFrame, checked, and prepared the
same way at fit and predict time (numeric columns as float64, others as categories fixed
at fit time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse

from fairautoml import exceptions as E
from fairautoml.exceptions import InputError
from fairautoml.values import describe, is_number, is_scalar, ndim, plain

X_NOT_2D = (
    "X must be a table (a DataFrame, a 2-D array or a list of rows); got {given}. "
    "Pass one row per sample and one column per feature."
)
INDEX_MISMATCH = (
    "The index of {name} differs from the index of X (first differing position {position}: "
    "X has {x_label!r}, {name} has {other_label!r}). Rows are matched by position, so this "
    "usually means the rows are not aligned (e.g. one of them was sorted or filtered). Align "
    "them with {name}.reindex(X.index), or pass {name}.to_numpy() if the positions already "
    "match."
)
X_SPARSE = (
    "X is {given}: sparse input is not supported (the learners get a dense table with "
    "categorical columns). Pass X.toarray() or a DataFrame."
)
DATETIME_COLUMN = (
    "Column {name!r} has dtype {dtype}; convert dates to numbers (e.g. days since an origin) or "
    "strings before fit."
)
MIXED_TYPE_COLUMN = (
    "Column {name!r} mixes value types ({types}). Convert it to one type, e.g. "
    "X[{name!r}] = X[{name!r}].astype(str) for a categorical."
)
NON_FINITE_FEATURES = (
    "Column {name!r} contains {n} infinite value(s). Replace them (e.g. with NaN, which every "
    "learner handles) before fit or predict."
)
UNSUPPORTED_COLUMN = (
    "Column {name!r} holds {kind} values, which no learner can use. Convert it to numbers or "
    "strings (or drop it) before fit."
)
NON_NUMERIC_VALUES = (
    "Column {name!r} was numeric in fit but holds {n} value(s) that are not numbers here (e.g. "
    "{examples}). Pass numbers, with NaN for missing values."
)
BOOLS_FOR_NUMBERS = (
    "Column {name!r} held numbers in fit (dtype {fitted}) but holds True/False here (dtype "
    "{given}). Read as 1/0 they would be numbers the model was never given (the fit's may "
    "be 1 and 2, or counts). Pass the column as the numbers it held in fit (in a CSV: the "
    "numbers, not True/False; e.g. X[{name!r}] = X[{name!r}].map({{False: 0, True: 1}}) "
    "if 0 and 1 are what the fit's values meant)."
)
PREDICT_COLUMNS = (
    "X at predict time does not have the columns seen in fit. Missing: {missing}; unexpected: "
    "{extra}. Pass a table with the training columns (order does not matter)."
)


def as_frame(X: object) -> pd.DataFrame:
    """A shallow copy of ``X`` as a DataFrame (arrays get columns x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X.copy(deep=False)
    if isinstance(X, pd.Series):
        return X.to_frame().copy(deep=False)
    if scipy.sparse.issparse(X):  # before Mapping: a DOK matrix is a dict
        raise InputError(X_SPARSE.format(given=describe(X)))
    if isinstance(X, Mapping):  # columns by name
        try:
            return pd.DataFrame({k: np.asarray(v) for k, v in X.items()})
        except ValueError as exc:
            raise InputError(X_NOT_2D.format(given=f"a dict ({exc})")) from None
    if X is None or isinstance(X, (str, bytes, set)) or ndim(X) == 0:
        raise InputError(X_NOT_2D.format(given=describe(X)))
    if _ragged(X):
        raise InputError(X_NOT_2D.format(given="a list of rows of different lengths"))
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise InputError(X_NOT_2D.format(given=f"{describe(X)} ({exc})")) from None
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InputError(X_NOT_2D.format(given=f"an array of shape {arr.shape}"))
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
        INDEX_MISMATCH.format(
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
                raise InputError(UNSUPPORTED_COLUMN.format(name=name, kind="complex"))
            if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
                numeric.append(name)
            elif isinstance(col.dtype, pd.CategoricalDtype):
                categories[name] = list(col.cat.categories)
            elif pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(
                col
            ):
                raise InputError(DATETIME_COLUMN.format(name=name, dtype=col.dtype))
            elif isinstance(col.dtype, pd.StringDtype):  # pandas' str dtype: strings only
                categories[name] = sorted(col.dropna().unique().tolist())
            else:
                values = _distinct(col.dropna().to_numpy(dtype=object))
                odd = next((v for v in values if not is_scalar(v)), None)
                if odd is not None:
                    kind = type(odd).__name__
                    raise InputError(UNSUPPORTED_COLUMN.format(name=name, kind=kind))
                kinds = {type(v).__name__ for v in values if not isinstance(v, str)}
                has_str = any(isinstance(v, str) for v in values)
                if has_str and kinds:
                    raise InputError(
                        MIXED_TYPE_COLUMN.format(name=name, types=", ".join(["str", *kinds]))
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
            raise InputError(PREDICT_COLUMNS.format(missing=missing, extra=extra))
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
        raise InputError(BOOLS_FOR_NUMBERS.format(name=name, fitted=fitted, given=col.dtype))


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
        raise InputError(UNSUPPORTED_COLUMN.format(name=name, kind="complex"))
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        kept = "float32" if str(col.dtype).lower() == "float32" else "float64"  # Float32 too
        values = col.to_numpy(dtype=kept, na_value=np.nan)
    else:
        source = col.astype(object)
        if any(not is_scalar(v) for v in source.dropna()):
            bad = next(v for v in source.dropna() if not is_scalar(v))
            raise InputError(UNSUPPORTED_COLUMN.format(name=name, kind=type(bad).__name__))
        parsed = pd.to_numeric(source, errors="coerce")
        lost = parsed.isna() & source.notna()
        if lost.any():
            examples = ", ".join(repr(v) for v in source[lost].unique()[:3])
            raise InputError(
                NON_NUMERIC_VALUES.format(name=name, n=int(lost.sum()), examples=examples)
            )
        values = parsed.to_numpy(dtype="float64", na_value=np.nan)
    n_inf = int(np.isinf(values).sum())
    if n_inf:
        raise InputError(NON_FINITE_FEATURES.format(name=name, n=n_inf))
    return values
