"""Input validation and preparation: the one place user data is checked and converted.

Every learner receives the same prepared table: numeric columns as float64 (NaN for
missing) and every other column as a pandas ``category`` with the categories fixed at
fit time (unseen values become NaN). LightGBM and XGBoost use the categories natively;
the linear and sklearn learners one-hot encode them. User objects are never modified.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fairautoml import exceptions as E
from fairautoml.exceptions import InputError

GROUP_SEPARATOR = " & "


def as_frame(X: object) -> pd.DataFrame:
    """A shallow copy of ``X`` as a DataFrame (arrays get columns x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X.copy(deep=False)
    if isinstance(X, pd.Series):
        return X.to_frame().copy(deep=False)
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InputError(f"X must be 2-dimensional (rows x columns); got {arr.ndim} dimensions.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


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
            raise InputError(E.DUPLICATE_COLUMNS.format(names=dup))
        numeric, categories = [], {}
        for name in X.columns:
            col = X[name]
            if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
                if np.isinf(col.to_numpy(dtype="float64", na_value=np.nan)).any():
                    raise InputError(E.NON_FINITE_FEATURES.format(name=name))
                numeric.append(name)
            elif isinstance(col.dtype, pd.CategoricalDtype):
                categories[name] = list(col.cat.categories)
            elif pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(
                col
            ):
                raise InputError(
                    f"Column {name!r} has dtype {col.dtype}; convert dates to numbers "
                    f"(e.g. days since an origin) or strings before fit."
                )
            else:
                values = col.dropna()
                kinds = {type(v).__name__ for v in values if not isinstance(v, str)}
                has_str = any(isinstance(v, str) for v in values)
                if has_str and kinds:
                    raise InputError(
                        E.MIXED_TYPE_COLUMN.format(name=name, types=", ".join(["str", *kinds]))
                    )
                if not has_str and kinds and all(_is_number(v) for v in values):
                    numeric.append(name)
                else:
                    categories[name] = sorted(values.unique().tolist(), key=str)
        return cls(list(X.columns), numeric, categories)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Present ``X`` as learners expect it; columns may come in any order."""
        missing = [c for c in self.columns if c not in X.columns]
        extra = [c for c in X.columns if c not in self.columns]
        if missing or extra:
            raise InputError(E.PREDICT_COLUMNS.format(missing=missing, extra=extra))
        out = {}
        for name in self.columns:
            col = X[name]
            if name in self.categories:
                known = self.categories[name]
                values = col.astype("object")
                values = values.where(values.isin(known), None)  # unseen and missing -> NaN
                out[name] = pd.Categorical(values, categories=known)
            else:
                out[name] = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()
        return pd.DataFrame(out, index=X.index)


def _group_keys(frame: pd.DataFrame) -> np.ndarray:
    """One label per row: the attribute's value, or the intersection of several."""
    for name in frame.columns:
        n_nan = int(frame[name].isna().sum())
        if n_nan:
            raise InputError(E.SENSITIVE_HAS_NAN.format(name=name, n=n_nan))
    return frame.astype(str).agg(GROUP_SEPARATOR.join, axis=1).to_numpy()


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
        raise InputError(
            "sensitive_features is required: pass the group of each row (Series, array, "
            "DataFrame) or the name(s) of the sensitive column(s) of X."
        )
    names: list[str] = []
    if isinstance(sensitive_features, str) or (
        isinstance(sensitive_features, (list, tuple))
        and sensitive_features
        and all(isinstance(v, str) for v in sensitive_features)
        and len(sensitive_features) != n_rows
    ):
        names = (
            [sensitive_features]
            if isinstance(sensitive_features, str)
            else list(sensitive_features)
        )
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise InputError(
                E.SENSITIVE_COLUMN_MISSING.format(missing=missing, columns=list(X.columns))
            )
        frame = X[names].copy()
    elif isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features.copy()
    elif isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.to_frame(name=sensitive_features.name or "sensitive")
    else:
        arr = np.asarray(sensitive_features, dtype=object)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        frame = pd.DataFrame(arr, columns=[f"sensitive{i}" for i in range(arr.shape[1])])
    if len(frame) != n_rows:
        raise InputError(
            E.LENGTH_MISMATCH.format(n_x=n_rows, name="sensitive_features", n_other=len(frame))
        )
    return frame.reset_index(drop=True), names


def encode_target(y: object, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Target as 0/1 ints and the original classes (classes[1] is the positive one)."""
    arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(f"y must be 1-dimensional; got shape {arr.shape}.")
    if len(arr) != n_rows:
        raise InputError(E.LENGTH_MISMATCH.format(n_x=n_rows, name="y", n_other=len(arr)))
    missing = pd.isna(arr)
    if arr.dtype.kind == "f":
        missing |= np.isinf(arr)
    if missing.any():
        raise InputError(E.TARGET_HAS_NAN.format(n=int(missing.sum())))
    classes = np.array(sorted(pd.unique(arr), key=lambda v: (str(type(v)), v)), dtype=object)
    if len(classes) != 2:
        shown = ", ".join(map(repr, classes[:5])) + (", ..." if len(classes) > 5 else "")
        raise InputError(E.TARGET_NOT_BINARY.format(n=len(classes), classes=shown))
    return (arr == classes[1]).astype(np.int64), classes


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
) -> PreparedData:
    """Validate fit inputs and present them as every learner expects them."""
    frame = as_frame(X)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(E.EMPTY_INPUT.format(n_rows=frame.shape[0], n_cols=frame.shape[1]))
    if frame.columns.duplicated().any():
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(E.DUPLICATE_COLUMNS.format(names=dup))
    frame.columns = [str(c) for c in frame.columns]
    n = len(frame)
    target, classes = encode_target(y, n)
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


def split_train_validation(
    y: np.ndarray, groups: np.ndarray, validation_fraction: float, random_state: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a split stratified on target x group."""
    strata = groups * 2 + y
    idx = np.arange(len(y))
    _, counts = np.unique(strata, return_counts=True)
    stratify = strata if counts.min() >= 2 else y
    train, val = train_test_split(
        idx, test_size=validation_fraction, random_state=random_state, stratify=stratify
    )
    return np.sort(train), np.sort(val)
