"""Input validation and preparation: the one place user data is checked and converted.

Every learner receives the same prepared table: numeric columns as float64 (NaN for
missing) and every other column as a pandas ``category`` with the categories fixed at
fit time (unseen values become NaN). LightGBM and XGBoost use the categories natively;
the linear and sklearn learners one-hot encode them. User objects are never modified.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from fairautoml import exceptions as E
from fairautoml.constraints import Constraint
from fairautoml.exceptions import InputError, PositiveLabelWarning

GROUP_SEPARATOR = " & "


def as_frame(X: object) -> pd.DataFrame:
    """A shallow copy of ``X`` as a DataFrame (arrays get columns x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X.copy(deep=False)
    if isinstance(X, pd.Series):
        return X.to_frame().copy(deep=False)
    if isinstance(X, Mapping):  # columns by name
        try:
            return pd.DataFrame({k: np.asarray(v) for k, v in X.items()})
        except ValueError as exc:
            raise InputError(E.X_NOT_2D.format(given=f"a dict ({exc})")) from None
    if hasattr(X, "toarray") and hasattr(X, "nnz"):  # a SciPy sparse matrix or array
        raise InputError(E.X_SPARSE.format(given=_describe(X)))
    if X is None or isinstance(X, (str, bytes, set)) or _ndim(X) == 0:
        raise InputError(E.X_NOT_2D.format(given=_describe(X)))
    if _ragged(X):
        raise InputError(E.X_NOT_2D.format(given="a list of rows of different lengths"))
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise InputError(E.X_NOT_2D.format(given=f"{_describe(X)} ({exc})")) from None
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InputError(E.X_NOT_2D.format(given=f"an array of shape {arr.shape}"))
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _ndim(value: object) -> int:
    """Number of dimensions; -1 for ragged nested lists (which numpy refuses)."""
    try:
        return int(np.ndim(value))
    except ValueError:
        return -1


def _ragged(X: object) -> bool:
    """Rows of different lengths (numpy would refuse them)."""
    if not isinstance(X, (list, tuple)):
        return False
    lengths = {len(row) if isinstance(row, (list, tuple)) else -1 for row in X}
    return len(lengths) > 1


def _describe(value: object) -> str:
    """A short description of what the user passed, for error messages."""
    if hasattr(value, "shape"):
        return f"{type(value).__name__} of shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def plain(value: object) -> object:
    """numpy scalars as Python ones, so messages read 1000 rather than np.int64(1000)."""
    return value.item() if isinstance(value, np.generic) else value


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


def _is_number(value: object) -> bool:
    return isinstance(value, (numbers.Number, np.bool_)) and not isinstance(value, complex)


@dataclass
class FeatureSchema:
    """The columns seen in fit and how each is presented to learners."""

    columns: list[str]
    numeric: list[str]
    categories: dict[str, list[object]] = field(default_factory=dict)

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
                odd = next((v for v in values if not _is_scalar(v)), None)
                if odd is not None:
                    kind = type(odd).__name__
                    raise InputError(E.UNSUPPORTED_COLUMN.format(name=name, kind=kind))
                kinds = {type(v).__name__ for v in values if not isinstance(v, str)}
                has_str = any(isinstance(v, str) for v in values)
                if has_str and kinds:
                    raise InputError(
                        E.MIXED_TYPE_COLUMN.format(name=name, types=", ".join(["str", *kinds]))
                    )
                if not has_str and kinds and all(_is_number(v) for v in values):
                    numeric.append(name)
                else:
                    categories[name] = sorted(values.tolist(), key=str)
        return cls(list(X.columns), numeric, categories)

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
                out[name] = _as_float(name, col)
        return pd.DataFrame(out, index=X.index)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values (all of them when some are unhashable, e.g. lists)."""
    try:
        return pd.unique(values)
    except TypeError:
        return values


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, bytes, numbers.Number, np.generic)) or (
        pd.api.types.is_scalar(value) and not isinstance(value, (list, dict, set, tuple))
    )


def _as_float(name: str, col: pd.Series) -> np.ndarray:
    """A numeric column as float64 (NaN for missing); anything else is an error."""
    if pd.api.types.is_complex_dtype(col):
        raise InputError(E.UNSUPPORTED_COLUMN.format(name=name, kind="complex"))
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
    else:
        source = col.astype(object)
        if any(not _is_scalar(v) for v in source.dropna()):
            bad = next(v for v in source.dropna() if not _is_scalar(v))
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


def _group_keys(frame: pd.DataFrame) -> np.ndarray:
    """One label per row: the attribute's value, or the intersection of several."""
    for name in frame.columns:
        n_nan = int(frame[name].isna().sum()) + _n_infinite(frame[name])
        if n_nan:
            raise InputError(E.SENSITIVE_HAS_NAN.format(name=name, n=n_nan))
    columns = [frame[name].astype(str).to_numpy(dtype=object) for name in frame.columns]
    keys = columns[0]
    for column in columns[1:]:  # vectorised: a row-wise join takes seconds on 50k rows
        keys = keys + GROUP_SEPARATOR + column
    return keys


@dataclass
class GroupEncoder:
    """Maps sensitive-attribute values (or their intersections) to integer codes."""

    names: list[str]
    labels: list[str]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> GroupEncoder:
        return cls(list(map(str, frame.columns)), sorted(set(_group_keys(frame))))

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        keys = _group_keys(frame)
        lookup = {label: i for i, label in enumerate(self.labels)}
        unseen = sorted(set(keys) - lookup.keys())
        if unseen:
            raise InputError(E.UNSEEN_GROUP.format(groups=unseen, known=self.labels))
        return np.array([lookup[k] for k in keys], dtype=np.int64)


def sensitive_frame(
    X: pd.DataFrame, sensitive_features: object, n_rows: int
) -> tuple[pd.DataFrame, list[str]]:
    """The sensitive attribute(s) as a DataFrame, and which columns of X they came from."""
    if sensitive_features is None:
        raise InputError(E.SENSITIVE_MISSING)
    given = sensitive_features
    if isinstance(given, (set, frozenset, bytes)) or (
        _ndim(given) == 0 and not isinstance(given, (str, Mapping))
    ):
        raise InputError(E.SENSITIVE_NOT_ROWS.format(given=_describe(given)))
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
            raise InputError(E.SENSITIVE_NOT_ROWS.format(given=_describe(given))) from exc
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


def _label_array(y: object, n_rows: int, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D array of one label per row, without missing or mixed-type labels."""
    if y is None:
        raise InputError(E.Y_NONE)
    if isinstance(y, (str, bytes, dict, set)) or _ndim(y) == 0:
        raise InputError(E.Y_NOT_1D.format(given=_describe(y)))
    try:
        arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    except ValueError:
        arr = np.asarray(list(y), dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(E.Y_NOT_1D.format(given=f"an array of shape {arr.shape}"))
    if len(arr) != n_rows:
        raise InputError(E.LENGTH_MISMATCH.format(n_x=n_rows, name=name, n_other=len(arr)))
    if arr.dtype == object and not all(_is_scalar(v) for v in arr):
        raise InputError(E.Y_NOT_1D.format(given="values that are not single labels"))
    missing = pd.isna(arr)
    if arr.dtype.kind == "f":
        missing |= np.isinf(arr)
    elif arr.dtype == object:
        missing |= np.array([isinstance(v, (float, np.floating)) and np.isinf(v) for v in arr])
    if missing.any():
        raise InputError(E.TARGET_HAS_NAN.format(n=int(missing.sum())))
    if arr.dtype == object:
        kinds = {"number" if _is_number(v) else type(v).__name__ for v in arr}
        if len(kinds) > 1:
            raise InputError(E.TARGET_MIXED_TYPES.format(types=", ".join(sorted(kinds))))
    return arr


def encode_target(
    y: object, n_rows: int, pos_label: object = None
) -> tuple[np.ndarray, np.ndarray]:
    """Target as 0/1 ints and the original classes (classes[1] is the positive one:
    ``pos_label``, else the label that sorts last)."""
    arr = _label_array(y, n_rows)
    values = sorted(pd.unique(arr), key=lambda v: (str(type(v)), v))
    # classes_ keep y's own dtype (int labels stay int), so that sklearn's metrics read
    # predict's output as the same kind of target as y; labels of mixed types are refused
    if arr.dtype != object:
        classes = np.array(values, dtype=arr.dtype)
    elif values and all(_is_number(v) for v in values):
        classes = np.array([plain(v) for v in values])
    else:
        classes = np.array(values, dtype=object)
    if len(classes) != 2:
        if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
            raise InputError(E.TARGET_CONTINUOUS.format(n=len(classes)))
        shown = ", ".join(map(repr, classes[:5])) + (", ..." if len(classes) > 5 else "")
        raise InputError(E.TARGET_NOT_BINARY.format(n=len(classes), classes=shown))
    if pos_label is not None:
        positive = positive_index(classes, pos_label)
        classes = classes[[1 - positive, positive]]
    return (arr == classes[1]).astype(np.int64), classes


def positive_index(classes: np.ndarray, pos_label: object) -> int:
    """Which of the two ``classes`` is ``pos_label``: equal, else equal as text (a label
    typed on the command line), else an error naming the classes."""
    given = plain(pos_label)
    for key in (lambda v: v, str):
        found = [i for i, c in enumerate(classes) if key(plain(c)) == key(given)]
        if len(found) == 1:
            return found[0]
    shown = [plain(c) for c in classes]
    raise InputError(E.POS_LABEL_UNKNOWN.format(label=plain(pos_label), classes=shown))


def warn_assumed_positive(
    constraints: Sequence[Constraint], classes: np.ndarray, stacklevel: int = 2
) -> None:
    """Say which label was taken as favourable when a constraint depends on it and the
    labels (not 0/1 or booleans) do not say it."""
    depends = [str(c) for c in constraints if c.needs_positive_label]
    if depends and not labels_say_positive(classes):
        message = E.POS_LABEL_ASSUMED.format(
            constraints=", ".join(depends),
            classes=[plain(c) for c in classes],
            positive=plain(classes[1]),
        )
        warnings.warn(message, PositiveLabelWarning, stacklevel=stacklevel + 1)


def labels_say_positive(classes: np.ndarray) -> bool:
    """Whether the labels name the positive class themselves: 0/1 or False/True (numbers
    or booleans; the text "0"/"1" does not compare equal to them)."""
    return {plain(c) for c in classes} == {0, 1}


def encode_labels(y: object, classes: np.ndarray, n_rows: int) -> np.ndarray:
    """Labels (e.g. for ``score``) as 0/1 against the classes seen in fit."""
    arr = _label_array(y, n_rows)
    unknown = sorted({plain(v) for v in pd.unique(arr)} - {plain(c) for c in classes}, key=str)
    if unknown:
        raise InputError(
            E.UNKNOWN_LABELS.format(labels=unknown, classes=[plain(c) for c in classes])
        )
    return (arr == classes[1]).astype(np.int64)


def sensitive_names(given: object, X: pd.DataFrame, n_rows: int) -> list[str]:
    """The column names of X that ``given`` refers to (empty when it holds values)."""
    if isinstance(given, str):
        return [given]
    return list(given) if _are_column_names(given, X, n_rows) else []  # type: ignore[arg-type]


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


@dataclass
class PreparedData:
    """Validated training data: features as learners expect them, 0/1 target, group codes."""

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    schema: FeatureSchema
    group_encoder: GroupEncoder
    classes: np.ndarray
    sensitive_columns: list[str]  # columns of X the groups were read from

    def subset(self, idx: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        return self.X.iloc[idx], self.y[idx], self.groups[idx]


def prepare_fit_data(
    X: object,
    y: object,
    sensitive_features: object,
    *,
    keep_sensitive_as_feature: bool = False,
    min_group_size: int = 20,
    pos_label: object = None,
) -> PreparedData:
    """Validate fit inputs and present them as every learner expects them."""
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
    n = len(frame)
    target, classes = encode_target(y, n, pos_label)
    sens, sens_columns = sensitive_frame(frame, sensitive_features, n)
    encoder = GroupEncoder.fit(sens)
    groups = encoder.encode(sens)
    check_groups(groups, target, encoder.labels, min_group_size)
    features = frame.reset_index(drop=True)
    if sens_columns and not keep_sensitive_as_feature:
        features = features.drop(columns=sens_columns)
        if features.shape[1] == 0:
            raise InputError(E.NO_FEATURES.format(names=sens_columns))
    schema = FeatureSchema.infer(features)
    return PreparedData(
        schema.transform(features), target, groups, schema, encoder, classes, sens_columns
    )


def subsample_rows(
    rows: np.ndarray, y: np.ndarray, groups: np.ndarray, n: int, random_state: int | None
) -> np.ndarray:
    """At most ``n`` of ``rows``, stratified on target x group (sorted; all if fewer)."""
    if len(rows) <= n:
        return rows
    strata = (groups * 2 + y)[rows]
    stratify = strata if np.unique(strata, return_counts=True)[1].min() >= 2 else None
    kept, _ = train_test_split(rows, train_size=n, random_state=random_state, stratify=stratify)
    return np.sort(kept)


def split_train_validation(
    y: np.ndarray,
    groups: np.ndarray,
    validation_fraction: float,
    random_state: int | None,
    labels: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a split stratified on target x group.

    Validation must hold at least two rows of every group x class: its two cross-fitting
    halves each need every group with both classes, or a group's rates (and a
    post-processor's thresholds) are undefined there. A clear error beats a search whose
    every trial fails. ``labels`` name the group codes in that error.
    """
    strata = groups * 2 + y
    idx = np.arange(len(y))
    present, counts = np.unique(strata, return_counts=True)
    stratify = strata if counts.min() >= 2 else y
    n_val = math.ceil(validation_fraction * len(y))
    needed = 2 * len(present)

    def too_few(reason: str) -> InputError:
        return InputError(
            E.TOO_FEW_ROWS.format(
                n_rows=len(y), fraction=validation_fraction, n_val=n_val, reason=reason
            )
        )

    if n_val < needed or len(y) - n_val < len(present):
        raise too_few(
            f"at least {needed} are needed (two for each of the {len(present)} group x class "
            "combinations)"
        )
    train, val = train_test_split(
        idx, test_size=n_val, random_state=random_state, stratify=stratify
    )
    in_val = np.bincount(strata[val], minlength=int(strata.max()) + 1)
    for code in np.unique(groups):
        for cls, word in ((1, "positive"), (0, "negative")):
            if in_val[code * 2 + cls] < 2:
                name = labels[code] if labels is not None else int(code)
                raise too_few(
                    f"group {name!r} gets {in_val[code * 2 + cls]} {word} row(s) there, and "
                    "every group needs at least two of each class"
                )
    return np.sort(train), np.sort(val)


def cv_folds(
    y: np.ndarray, groups: np.ndarray, n_folds: int, random_state: int | None
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``(fit rows, scored rows)`` of each fold, stratified on target x group (on the target
    alone when a target x group combination has fewer rows than folds)."""
    strata = groups * 2 + y
    _, counts = np.unique(strata, return_counts=True)
    labels = strata if counts.min() >= n_folds else y
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    return tuple(folds.split(np.zeros(len(y)), labels))
