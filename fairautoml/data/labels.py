"""The target: one label per row, two classes, and which of them is the favourable one.

``classes[1]`` is the positive (favourable) class: ``pos_label`` when given, else the label
that sorts last; a warning says which was taken when a constraint depends on it and the
labels do not say it themselves (0/1, booleans).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning

from fairautoml import exceptions as E
from fairautoml.exceptions import InputError, PositiveLabelWarning
from fairautoml.values import describe, is_number, is_scalar, ndim, plain

Y_COLUMN_VECTOR = (  # scikit-learn's words, which its estimator checks look for
    "A column-vector y was passed when a 1d array was expected (shape ({n}, 1)); it is "
    "read as one label per row. Pass a 1-D array or a Series (e.g. y.ravel())."
)
Y_NOT_1D = (
    "y must hold one label per row of X (a Series, a list or a 1-D array); got {given}. "
    "Pass the target values, e.g. y = df['label']."
)
Y_NONE = (
    "fit requires y to be passed, but the target y is None. Pass one label per row of X, "
    "e.g. fit(X, y=df['label'], sensitive_features=...)."
)
TARGET_CONTINUOUS = (
    "The target looks continuous ({n} distinct values, not all whole numbers), but a "
    "classifier was asked for. Fit a FairAutoMLRegressor (CLI: --task regression), or "
    "recode y to two classes, e.g. y = (y > threshold)."
)
TARGET_NOT_BINARY = (
    "The target must have exactly two classes; it has {n} ({classes}). FairAutoML makes "
    "yes/no decisions: recode y to two classes, or, for amounts, fit a "
    "FairAutoMLRegressor (CLI: --task regression)."
)
TARGET_CLASSES_OVER_LIMIT = (
    "The target has {n} classes ({classes}); FairAutoML takes 2 classes (yes/no decisions) "
    "or 3 to {limit} (several classes: multiclass), not more. Merge classes down to at "
    "most {limit} (e.g. rare ones into 'other'), or, for an amount or a score, fit a "
    "FairAutoMLRegressor (CLI: --task regression)."
)
TARGET_HAS_NAN = (
    "The target has {n} missing value(s) (NaN/None/inf). Drop those rows or impute the "
    "target before fit."
)
TARGET_MIXED_TYPES = (
    "The target mixes value types ({types}), so equal-looking labels such as 1 and '1' would be "
    "different classes. Convert y to one type, e.g. y.astype(str)."
)
POS_LABEL_UNKNOWN = (
    "pos_label={label!r} is not a class of y; the classes are {classes}. Pass the label of "
    "the favourable outcome (the one a constraint's selection and true-positive rates count)."
)
POS_LABEL_ASSUMED = (
    "{constraints} depend(s) on which outcome is favourable, and y's labels {classes} do not "
    "say: {positive!r} (the label that sorts last) was taken as the favourable (positive) "
    "one. If that is wrong, every such constraint limits the unfavourable outcome: pass "
    "pos_label= (CLI: --positive-label)."
)
AUDIT_LABELS = (
    "The labels {labels} are not the model's classes {classes}: give the target the fit "
    "was trained on (CLI: --target COLUMN; --positive-label for the favourable one)."
)

MAX_CLASSES = 20  # the most classes a target may have: 2 (yes/no), or 3 to this (multiclass)


def target_array(y: object, n_rows: int, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D array of one value per row, without missing or mixed-type values."""
    if y is None:
        raise InputError(Y_NONE)
    if isinstance(y, (str, bytes, dict, set)) or ndim(y) == 0:
        raise InputError(Y_NOT_1D.format(given=describe(y)))
    try:
        arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    except ValueError:
        arr = np.asarray(list(y), dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        warnings.warn(Y_COLUMN_VECTOR.format(n=len(arr)), DataConversionWarning, stacklevel=4)
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(Y_NOT_1D.format(given=f"an array of shape {arr.shape}"))
    if len(arr) != n_rows:
        raise InputError(E.LENGTH_MISMATCH.format(n_x=n_rows, name=name, n_other=len(arr)))
    if arr.dtype == object and not all(is_scalar(v) for v in arr):
        raise InputError(Y_NOT_1D.format(given="values that are not single labels"))
    missing = pd.isna(arr)
    if arr.dtype.kind == "f":
        missing |= np.isinf(arr)
    elif arr.dtype == object:
        missing |= np.array([isinstance(v, (float, np.floating)) and np.isinf(v) for v in arr])
    if missing.any():
        raise InputError(TARGET_HAS_NAN.format(n=int(missing.sum())))
    if arr.dtype == object:
        kinds = {"number" if is_number(v) else type(v).__name__ for v in arr}
        if len(kinds) > 1:
            raise InputError(TARGET_MIXED_TYPES.format(types=", ".join(sorted(kinds))))
    return arr


def encode_target(
    y: object, n_rows: int, pos_label: object = None
) -> tuple[np.ndarray, np.ndarray]:
    """Target as 0/1 ints and the original classes (classes[1] is the positive one:
    ``pos_label``, else the label that sorts last)."""
    arr = target_array(y, n_rows)
    values = sorted(pd.unique(arr), key=lambda v: (str(type(v)), v))
    # classes_ keep y's own dtype (int labels stay int), so that sklearn's metrics read
    # predict's output as the same kind of target as y; labels of mixed types are refused
    if arr.dtype != object:
        classes = np.array(values, dtype=arr.dtype)
    elif values and all(is_number(v) for v in values):
        classes = np.array([plain(v) for v in values])
    else:
        classes = np.array(values, dtype=object)
    if len(classes) != 2:
        if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
            raise InputError(TARGET_CONTINUOUS.format(n=len(classes)))
        shown = ", ".join(repr(plain(c)) for c in classes[:5])
        shown += ", ..." if len(classes) > 5 else ""
        if len(classes) > MAX_CLASSES:
            raise InputError(
                TARGET_CLASSES_OVER_LIMIT.format(n=len(classes), classes=shown, limit=MAX_CLASSES)
            )
        raise InputError(TARGET_NOT_BINARY.format(n=len(classes), classes=shown))
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
    raise InputError(POS_LABEL_UNKNOWN.format(label=plain(pos_label), classes=shown))


def warn_assumed_positive(depends: Sequence[str], classes: np.ndarray, stacklevel: int = 2) -> None:
    """Say which label was taken as favourable when constraints depend on it (``depends``:
    those constraints, as written) and the labels (not 0/1 or booleans) do not say it."""
    if depends and not labels_say_positive(classes):
        message = POS_LABEL_ASSUMED.format(
            constraints=", ".join(depends),
            classes=[plain(c) for c in classes],
            positive=plain(classes[1]),
        )
        warnings.warn(message, PositiveLabelWarning, stacklevel=stacklevel + 1)


def labels_say_positive(classes: np.ndarray) -> bool:
    """Whether the labels name the positive class themselves: 0/1 or False/True (numbers
    or booleans; the text "0"/"1" does not compare equal to them)."""
    return {plain(c) for c in classes} == {0, 1}


UNFAVOURABLE_STEMS = (
    "deny", "denied", "denial", "declin", "reject", "refus", "default", "delinquen",
    "fail", "bad", "fraud", "churn", "charged", "arrest", "recidiv", "fired",
)  # fmt: skip
AFFIRMATIVE = {"yes", "y", "true", "t", "1"}


def _sounds_unfavourable(text: object) -> bool:
    words = "".join(ch if ch.isalpha() else " " for ch in str(text).lower()).split()
    return any(w.startswith(stem) for w in words for stem in UNFAVOURABLE_STEMS)


def looks_unfavourable(label: object, target: object = None) -> bool:
    """Whether ``label`` taken as the favourable class reads like an unfavourable outcome:
    a name such as "denied" or "default", or "yes" / 1 / True of a target column named
    like one ("defaulted": yes). A hint for the command line to be explicit, not a rule."""
    if _sounds_unfavourable(label):
        return True
    return str(plain(label)).strip().lower() in AFFIRMATIVE and _sounds_unfavourable(target)


def encode_labels(y: object, classes: np.ndarray, n_rows: int) -> np.ndarray:
    """Labels (e.g. for ``score``) as 0/1 against the classes seen in fit."""
    arr = target_array(y, n_rows)
    unknown = sorted({plain(v) for v in pd.unique(arr)} - {plain(c) for c in classes}, key=str)
    if unknown:
        raise InputError(
            E.UNKNOWN_LABELS.format(labels=unknown, classes=[plain(c) for c in classes])
        )
    return (arr == classes[1]).astype(np.int64)


# --- labels of new rows, matched as they come (a CSV's labels are text) ----------------------


def binary_outcomes(
    classes: np.ndarray, y: object, y_pred: np.ndarray, pos_label: object = None
) -> tuple[np.ndarray | None, np.ndarray]:
    """0/1 labels (None without ``y``) and 0/1 predictions; 1 is the positive class
    (``pos_label``, else ``classes[1]``), matched as is or as text (a CSV's labels)."""
    positive = classes[1] if pos_label is None else pos_label
    target = str(plain(positive))
    pred = (_as_text(y_pred) == target).to_numpy(int)
    if y is None:
        return None, pred
    values = pd.Series(np.asarray(y).ravel(), dtype=object)
    _check_known(values, classes)
    return (_as_text(values) == target).to_numpy(int), pred


def class_outcomes(
    classes: np.ndarray, y: object, y_pred: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Class codes (positions in ``classes``) of the labels (None without ``y``) and of the
    predictions, matched as is or as text (a CSV's labels)."""
    index = {str(plain(c)): i for i, c in enumerate(classes)}
    pred = _as_text(y_pred).map(index).to_numpy(np.int64)
    if y is None:
        return None, pred
    values = pd.Series(np.asarray(y).ravel(), dtype=object)
    _check_known(values, classes)
    return _as_text(values).map(index).to_numpy(np.int64), pred


def _check_known(values: pd.Series, classes: np.ndarray) -> None:
    """Every label one of ``classes`` (as text): an error naming the others otherwise."""
    known = {str(plain(c)) for c in classes}
    unknown = sorted(set(_as_text(values.dropna())) - known)
    if unknown or values.isna().any():
        shown = unknown or ["missing"]
        raise InputError(AUDIT_LABELS.format(labels=shown, classes=sorted(known)))


def _as_text(values: object) -> pd.Series:
    """Labels as text, numpy scalars as Python ones (1, not np.int64(1))."""
    return pd.Series(np.asarray(values, dtype=object)).map(lambda v: str(plain(v)))
