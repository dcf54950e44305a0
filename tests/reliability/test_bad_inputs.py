"""The catalogue of bad inputs: each gets a documented error that names the problem and the
fix, and every object the user passed is unchanged afterwards.

One row per case: which call (``fit`` or a method of a fitted model), how to build its
inputs from a fresh copy of a small biased table, the error class, and the message
template from ``fairautoml.exceptions`` the whole message must match.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml import exceptions as E
from fairautoml.data.features import (
    BOOLS_FOR_NUMBERS,
    DATETIME_COLUMN,
    INDEX_MISMATCH,
    MIXED_TYPE_COLUMN,
    NON_FINITE_FEATURES,
    NON_NUMERIC_VALUES,
    PREDICT_COLUMNS,
    UNSUPPORTED_COLUMN,
    X_NOT_2D,
)
from fairautoml.data.labels import (
    TARGET_CLASSES_OVER_LIMIT,
    TARGET_CONTINUOUS,
    TARGET_HAS_NAN,
    TARGET_MIXED_TYPES,
    TARGET_NOT_BINARY,
    Y_NONE,
    Y_NOT_1D,
)
from fairautoml.data.messages import (
    SENSITIVE_COLUMN_MISSING,
    SENSITIVE_HAS_NAN,
    SENSITIVE_MISSING,
    SENSITIVE_NOT_ROWS,
    UNSEEN_GROUP,
)
from fairautoml.data.prepare import NO_FEATURES
from fairautoml.data.splits import TOO_FEW_ROWS
from fairautoml.estimators.base import NOT_FITTED
from fairautoml.estimators.params import PARAMETER_VALUE
from fairautoml.exceptions import (
    ConfigurationError,
    ConstraintError,
    InfeasibleWarning,
    InputError,
    NotFittedError,
    UnknownNameError,
)
from fairautoml.measures.messages import (
    CONSTRAINT_BOUND,
    CONSTRAINT_DIRECTION,
    CONSTRAINT_DUPLICATE,
    CONSTRAINT_METRIC,
    CONSTRAINT_OPERATOR,
    CONSTRAINT_SYNTAX,
    CONSTRAINT_TYPE,
)
from fairautoml.model.fair_model import PREDICT_NEEDS_SENSITIVE
from fairautoml.study.pick import INFEASIBLE_MESSAGE
from fairautoml.testing import make_biased

FAST = dict(n_trials=1, time_budget=None, random_state=0, learners=["logistic_regression"])
DP = "demographic_parity_difference"


def template_regex(template: str) -> re.Pattern[str]:
    """A pattern matching exactly the messages a template can produce."""
    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


def assert_unchanged(before: Any, after: Any, where: str = "inputs") -> None:
    """Deep equality (values, dtypes, index) of what the user passed, before and after."""
    assert type(before) is type(after), where
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after, check_exact=True, obj=where)
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(before, after, check_exact=True, obj=where)
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype and before.shape == after.shape, where
        same = (before == after) | (pd.isna(before) & pd.isna(after))  # NaN equals NaN
        assert np.all(same), where
    elif isinstance(before, (dict, Inputs)):
        before, after = (
            dict(vars(before)) if isinstance(before, Inputs) else before,
            (dict(vars(after)) if isinstance(after, Inputs) else after),
        )
        assert before.keys() == after.keys(), where
        for key in before:
            assert_unchanged(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), where
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_unchanged(b, a, f"{where}[{i}]")
    elif isinstance(before, float) and np.isnan(before):
        assert np.isnan(after), where
    else:
        assert before == after, where


@dataclass
class Inputs:
    X: Any
    y: Any = None
    s: Any = None
    params: dict[str, Any] | None = None


Maker = Callable[[pd.DataFrame, pd.Series, pd.Series], Inputs]


def _with(frame: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    return frame.assign(**columns)


def _set(series: pd.Series, rows: slice, value: Any) -> pd.Series:
    out = series.astype(object)
    out.iloc[rows] = value
    return out


def _tiny_group(X, y, s):
    s = s.copy()
    s.iloc[:5] = "tiny"
    return Inputs(X, y, s)


def _one_class_group(X, y, s):
    s = s.copy()
    s[(y == 1).to_numpy() & (np.arange(len(y)) < 200)] = "only_positive"
    return Inputs(X, y, s)


def _too_few_rows(X, y, s):
    y8 = pd.Series([0, 0, 1, 1] * 2)
    s8 = pd.Series(["a"] * 4 + ["b"] * 4)
    return Inputs(X.iloc[:8].reset_index(drop=True), y8, s8, {"min_group_size": 4})


# (id, call, make inputs, error class, template)
FIT_CASES: list[tuple[str, str, Maker, type, str]] = [
    # --- the table itself ---
    ("X empty (0 rows)", "fit", lambda X, y, s: Inputs(X.iloc[:0], y.iloc[:0], s.iloc[:0]),
     InputError, E.EMPTY_INPUT),
    ("X without columns", "fit", lambda X, y, s: Inputs(X[[]], y, s), InputError, E.EMPTY_INPUT),
    ("X is None", "fit", lambda X, y, s: Inputs(None, y, s), InputError, X_NOT_2D),
    ("X as rows of different lengths", "fit",
     lambda X, y, s: Inputs([[1.0, 2.0]] * (len(y) - 1) + [[1.0]], y, s), InputError, X_NOT_2D),
    ("X is 3-D", "fit", lambda X, y, s: Inputs(np.zeros((len(y), 2, 2)), y, s),
     InputError, X_NOT_2D),
    ("duplicate column names", "fit",
     lambda X, y, s: Inputs(pd.concat([X, X[["x1"]]], axis=1), y, s),
     InputError, E.DUPLICATE_COLUMNS),
    ("columns 1 and '1'", "fit", lambda X, y, s: Inputs(X.set_axis([1, "1", "c"], axis=1), y, s),
     InputError, E.DUPLICATE_COLUMNS),
    ("object column mixing str and int", "fit",
     lambda X, y, s: Inputs(_with(X, colour=["a", 1] * (len(y) // 2)), y, s),
     InputError, MIXED_TYPE_COLUMN),
    ("inf in a numeric feature", "fit",
     lambda X, y, s: Inputs(_with(X, x1=X["x1"].where(X.index != 3, np.inf)), y, s),
     InputError, NON_FINITE_FEATURES),
    ("-inf in an object column of numbers", "fit",
     lambda X, y, s: Inputs(_with(X, z=pd.Series([1.0, -np.inf] * (len(y) // 2), dtype=object)),
                            y, s),
     InputError, NON_FINITE_FEATURES),
    ("list values in a column", "fit",
     lambda X, y, s: Inputs(_with(X, z=pd.Series([[1], [2]] * (len(y) // 2), dtype=object)), y, s),
     InputError, UNSUPPORTED_COLUMN),
    ("complex column", "fit", lambda X, y, s: Inputs(_with(X, z=np.arange(len(y)) * 1j), y, s),
     InputError, UNSUPPORTED_COLUMN),
    ("datetime column", "fit",
     lambda X, y, s: Inputs(_with(X, z=pd.date_range("2020-01-01", periods=len(y))), y, s),
     InputError, DATETIME_COLUMN),
    # --- the target ---
    ("y shorter than X", "fit", lambda X, y, s: Inputs(X, y.iloc[:-1], s),
     InputError, E.LENGTH_MISMATCH),
    ("y is None", "fit", lambda X, y, s: Inputs(X, None, s), InputError, Y_NONE),
    ("y continuous", "fit", lambda X, y, s: Inputs(X, pd.Series(np.linspace(0, 1, len(y))), s),
     InputError, TARGET_CONTINUOUS),
    ("y has two columns", "fit", lambda X, y, s: Inputs(X, pd.concat([y, y], axis=1), s),
     InputError, Y_NOT_1D),
    ("NaN in y", "fit", lambda X, y, s: Inputs(X, _set(y.astype(float), slice(3, 5), np.nan), s),
     InputError, TARGET_HAS_NAN),
    ("inf in y", "fit", lambda X, y, s: Inputs(X, _set(y.astype(float), slice(0, 1), np.inf), s),
     InputError, TARGET_HAS_NAN),
    ("y with one class", "fit", lambda X, y, s: Inputs(X, np.zeros(len(y)), s),
     InputError, TARGET_NOT_BINARY),
    # 3 to 20 classes are a multiclass target (tests/test_multiclass_search.py); more are not
    ("y with 25 classes", "fit", lambda X, y, s: Inputs(X, np.arange(len(y)) % 25, s),
     InputError, TARGET_CLASSES_OVER_LIMIT),
    ("y mixing 1 and '1'", "fit",
     lambda X, y, s: Inputs(X, pd.Series([1, "1"] * (len(y) // 2), dtype=object), s),
     InputError, TARGET_MIXED_TYPES),
    ("y index differs from X's", "fit",
     lambda X, y, s: Inputs(X, y.sample(frac=1.0, random_state=0), s),
     InputError, INDEX_MISMATCH),
    # --- the sensitive attribute ---
    ("sensitive_features missing", "fit", lambda X, y, s: Inputs(X, y, None),
     InputError, SENSITIVE_MISSING),
    ("sensitive_features longer than X", "fit",
     lambda X, y, s: Inputs(X, y, pd.concat([s, s.iloc[:3]], ignore_index=True).to_numpy()),
     InputError, E.LENGTH_MISMATCH),
    ("sensitive_features is a scalar", "fit", lambda X, y, s: Inputs(X, y, 3),
     InputError, SENSITIVE_NOT_ROWS),
    ("NaN in sensitive_features", "fit", lambda X, y, s: Inputs(X, y, _set(s, slice(0, 2), None)),
     InputError, SENSITIVE_HAS_NAN),
    ("inf in sensitive_features", "fit",
     lambda X, y, s: Inputs(X, y, np.where(s == "a", 1.0, np.inf)),
     InputError, SENSITIVE_HAS_NAN),
    ("a single group", "fit", lambda X, y, s: Inputs(X, y, ["a"] * len(y)),
     InputError, E.SINGLE_GROUP),
    ("a group with too few rows", "fit", _tiny_group, InputError, E.GROUP_TOO_SMALL),
    ("a group with one class only", "fit", _one_class_group, InputError, E.GROUP_TOO_SMALL),
    ("sensitive column name not in X", "fit", lambda X, y, s: Inputs(X, y, "sex"),
     InputError, SENSITIVE_COLUMN_MISSING),
    ("sensitive column is the only column", "fit",
     lambda X, y, s: Inputs(pd.DataFrame({"g": s}), y, "g"), InputError, NO_FEATURES),
    ("sensitive index differs from X's", "fit",
     lambda X, y, s: Inputs(X, y, s.set_axis(s.index + 1000)), InputError, INDEX_MISMATCH),
    ("too few rows for a validation split", "fit", _too_few_rows, InputError, TOO_FEW_ROWS),
    # --- the parameters ---
    ("unknown learner", "fit", lambda X, y, s: Inputs(X, y, s, {"learners": ["lgbm"]}),
     UnknownNameError, E.UNKNOWN_NAME),
    ("unknown mitigator", "fit", lambda X, y, s: Inputs(X, y, s, {"mitigators": ["magic"]}),
     UnknownNameError, E.UNKNOWN_NAME),
    ("unknown metric", "fit", lambda X, y, s: Inputs(X, y, s, {"metric": "precision"}),
     UnknownNameError, E.UNKNOWN_NAME),
    ("unknown controller", "fit", lambda X, y, s: Inputs(X, y, s, {"controller": "bayes"}),
     UnknownNameError, E.UNKNOWN_NAME),
    ("malformed constraint", "fit",
     lambda X, y, s: Inputs(X, y, s, {"constraints": [f"{DP} =< 0.05"]}),
     ConstraintError, CONSTRAINT_SYNTAX),
    ("unknown fairness metric", "fit",
     lambda X, y, s: Inputs(X, y, s, {"constraints": "statistical_parity <= 0.05"}),
     ConstraintError, CONSTRAINT_METRIC),
    ("strict inequality", "fit", lambda X, y, s: Inputs(X, y, s, {"constraints": f"{DP} < 0.05"}),
     ConstraintError, CONSTRAINT_OPERATOR),
    ("difference bounded below", "fit",
     lambda X, y, s: Inputs(X, y, s, {"constraints": f"{DP} >= 0.05"}),
     ConstraintError, CONSTRAINT_DIRECTION),
    ("bound above 1", "fit", lambda X, y, s: Inputs(X, y, s, {"constraints": f"{DP} <= 1.5"}),
     ConstraintError, CONSTRAINT_BOUND),
    ("bound of 0", "fit", lambda X, y, s: Inputs(X, y, s, {"constraints": f"{DP} <= 0"}),
     ConstraintError, CONSTRAINT_BOUND),
    ("bound nan", "fit", lambda X, y, s: Inputs(X, y, s, {"constraints": f"{DP} <= nan"}),
     ConstraintError, CONSTRAINT_BOUND),
    ("constraint is a number", "fit", lambda X, y, s: Inputs(X, y, s, {"constraints": 0.05}),
     ConstraintError, CONSTRAINT_TYPE),
    ("constraint given twice", "fit",
     lambda X, y, s: Inputs(X, y, s, {"constraints": [f"{DP} <= 0.1", f"{DP}<=0.1"]}),
     ConstraintError, CONSTRAINT_DUPLICATE),
    ("negative time_budget", "fit", lambda X, y, s: Inputs(X, y, s, {"time_budget": -1}),
     ConfigurationError, PARAMETER_VALUE),
    ("n_trials as a string", "fit", lambda X, y, s: Inputs(X, y, s, {"n_trials": "3"}),
     ConfigurationError, PARAMETER_VALUE),
    ("validation_fraction out of range", "fit",
     lambda X, y, s: Inputs(X, y, s, {"validation_fraction": 0.9}),
     ConfigurationError, PARAMETER_VALUE),
    ("random_state as a string", "fit", lambda X, y, s: Inputs(X, y, s, {"random_state": "0"}),
     ConfigurationError, PARAMETER_VALUE),
    # --- no model meets the constraint: a warning and feasible=False, never a silent pass ---
    ("constraint no model can meet", "fit",
     lambda X, y, s: Inputs(X, y, s, {"constraints": [f"{DP} <= 0.0001"], "mitigators": []}),
     InfeasibleWarning, INFEASIBLE_MESSAGE),
]  # fmt: skip

PREDICT_CASES: list[tuple[str, str, Maker, type, str]] = [
    ("predict before fit", "unfitted", lambda X, y, s: Inputs(X, s=s),
     NotFittedError, NOT_FITTED),
    ("predict with a column missing", "predict",
     lambda X, y, s: Inputs(X.drop(columns="x2"), s=s), InputError, PREDICT_COLUMNS),
    ("predict with an extra column", "predict", lambda X, y, s: Inputs(_with(X, z=1.0), s=s),
     InputError, PREDICT_COLUMNS),
    ("predict from a bare array", "predict", lambda X, y, s: Inputs(X.to_numpy(), s=s),
     InputError, PREDICT_COLUMNS),
    ("predict without the sensitive attribute", "predict", lambda X, y, s: Inputs(X),
     InputError, PREDICT_NEEDS_SENSITIVE),
    ("predict_proba without the sensitive attribute", "predict_proba", lambda X, y, s: Inputs(X),
     InputError, PREDICT_NEEDS_SENSITIVE),
    ("predict with an unseen group", "predict",
     lambda X, y, s: Inputs(X, s=s.replace("a", "z")), InputError, UNSEEN_GROUP),
    ("predict with a short sensitive attribute", "predict",
     lambda X, y, s: Inputs(X, s=s.iloc[:-1].to_numpy()), InputError, E.LENGTH_MISMATCH),
    ("predict with text in a numeric column", "predict",
     lambda X, y, s: Inputs(_with(X, x1="n/a"), s=s), InputError, NON_NUMERIC_VALUES),
    ("predict with True/False where numbers were fitted", "predict",
     lambda X, y, s: Inputs(_with(X, x1=X["x1"] > 0), s=s), InputError, BOOLS_FOR_NUMBERS),
    ("predict with True/False among numbers", "predict",
     lambda X, y, s: Inputs(_with(X, x1=X["x1"].astype(object).where(X.index != 0, True)), s=s),
     InputError, BOOLS_FOR_NUMBERS),
    ("predict with inf", "predict",
     lambda X, y, s: Inputs(_with(X, x2=X["x2"].where(X.index != 0, -np.inf)), s=s),
     InputError, NON_FINITE_FEATURES),
    ("predict on zero rows", "predict", lambda X, y, s: Inputs(X.iloc[:0], s=s.iloc[:0]),
     InputError, E.EMPTY_INPUT),
    ("predict with a misaligned sensitive index", "predict",
     lambda X, y, s: Inputs(X, s=s.iloc[::-1]), InputError, INDEX_MISMATCH),
    ("score with a label not seen in fit", "score",
     lambda X, y, s: Inputs(X, y.replace(1, 2), s), InputError, E.UNKNOWN_LABELS),
]  # fmt: skip

CASES = FIT_CASES + PREDICT_CASES


def test_catalogue_is_complete():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def fitted() -> FairAutoML:
    """A model that reads the group at predict time (per-group thresholds)."""
    X, y, s = make_biased()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfeasibleWarning)
        est = FairAutoML(**FAST, mitigators=["group_thresholds"], sensitive_at_predict=True).fit(
            X, y, sensitive_features=s
        )
    assert est.best_estimator_.needs_group
    return est


@pytest.mark.parametrize("name, call, make, error, template", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_clear_error_and_nothing_changes(name, call, make, error, template, fitted):
    inputs = make(*make_biased())
    before = copy.deepcopy(inputs)
    if call == "fit":
        est = FairAutoML(**{**FAST, **(inputs.params or {})})
        params_before = copy.deepcopy(est.get_params())
        if issubclass(error, Warning):
            with pytest.warns(error) as record:
                est.fit(inputs.X, inputs.y, sensitive_features=inputs.s)
            message = str(next(w.message for w in record if issubclass(w.category, error)))
            assert est.best_config_["feasible"] is False
            assert not est.leaderboard_["feasible"].any()
            assert est.leaderboard_.loc[est.leaderboard_["chosen"], "violation"].iloc[0] > 0
        else:
            with pytest.raises(error) as info:
                est.fit(inputs.X, inputs.y, sensitive_features=inputs.s)
            message = str(info.value)
        assert_unchanged(params_before, est.get_params(), "FairAutoML parameters")
    else:
        est = FairAutoML(**FAST) if call == "unfitted" else fitted
        with pytest.raises(error) as info:
            if call == "score":
                est.score(inputs.X, inputs.y, sensitive_features=inputs.s)
            else:
                method = "predict" if call == "unfitted" else call
                getattr(est, method)(inputs.X, sensitive_features=inputs.s)
        message = str(info.value)
    assert issubclass(error, (E.FairAutoMLError, E.FairAutoMLWarning))
    assert template_regex(template).fullmatch(message), f"{name}: {message!r}"
    assert_unchanged(before, inputs)
