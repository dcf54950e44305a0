"""Every input error names the problem and the fix; user objects are never changed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml import exceptions as E
from fairautoml.data import FeatureSchema, prepare_fit_data, split_train_validation
from fairautoml.exceptions import InputError


def _lead(template: str) -> str:
    """The fixed words a message template starts with (before its first field)."""
    return template.split("{")[0].strip()


def test_prepare_presents_numeric_and_categories(biased):
    X, y, s = biased
    data = prepare_fit_data(X, y, s)
    assert data.X["x1"].dtype == np.float64
    assert isinstance(data.X["colour"].dtype, pd.CategoricalDtype)
    assert data.y.tolist() == y.tolist()
    assert sorted(set(data.groups)) == [0, 1]


def test_string_dtype_column_becomes_category():
    X = pd.DataFrame({"a": pd.array(["x", "y", None, "x"] * 30, dtype="str"), "b": range(120)})
    schema = FeatureSchema.infer(X)
    out = schema.transform(X)
    assert isinstance(out["a"].dtype, pd.CategoricalDtype)
    unseen = schema.transform(pd.DataFrame({"b": [1], "a": ["zzz"]}))  # reordered, unseen value
    assert unseen["a"].isna().all()


def test_sensitive_column_names_are_removed_from_features(biased):
    X, y, s = biased
    X = X.assign(group=s.to_numpy())
    data = prepare_fit_data(X, y, "group")
    assert "group" not in data.X.columns and data.sensitive_columns == ["group"]
    kept = prepare_fit_data(X, y, "group", keep_sensitive_as_feature=True)
    assert "group" in kept.X.columns


def test_intersection_of_two_attributes(biased):
    X, y, s = biased
    other = pd.Series(np.where(X["x2"].fillna(0) > 0, "hi", "lo"))
    data = prepare_fit_data(X, y, pd.DataFrame({"g": s, "h": other}))
    assert len(data.group_encoder.labels) == 4
    assert all(" & " in label for label in data.group_encoder.labels)


def _bad_inputs(X, y, s):
    n = len(y)
    two_nan = s.copy().astype(object)
    two_nan.iloc[:2] = None
    y_nan = y.astype(float).copy()
    y_nan.iloc[3] = np.nan
    mixed = X.copy()
    mixed["colour"] = ["a", 1] * (n // 2)
    dup = pd.concat([X, X[["x1"]]], axis=1)
    inf = X.copy()
    inf.loc[0, "x1"] = np.inf
    tiny = s.copy()
    tiny.iloc[:5] = "tiny"
    return [
        ("empty X", X.iloc[:0], y.iloc[:0], s.iloc[:0], E.EMPTY_INPUT),
        ("y too short", X, y.iloc[:-1], s, "Inconsistent lengths"),
        ("s too short", X, y, s.iloc[:-1], "Inconsistent lengths"),
        ("y three classes", X, np.arange(n) % 3, s, E.TARGET_NOT_BINARY),
        ("y one class", X, np.zeros(n), s, E.TARGET_NOT_BINARY),
        ("y with NaN", X, y_nan, s, E.TARGET_HAS_NAN),
        ("s with NaN", X, y, two_nan, E.SENSITIVE_HAS_NAN),
        ("single group", X, y, pd.Series(["a"] * n), E.SINGLE_GROUP),
        ("tiny group", X, y, tiny, E.GROUP_TOO_SMALL),
        ("missing column", X, y, "nope", E.SENSITIVE_COLUMN_MISSING),
        ("duplicate columns", dup, y, s, E.DUPLICATE_COLUMNS),
        ("mixed types", mixed, y, s, E.MIXED_TYPE_COLUMN),
        ("infinite feature", inf, y, s, E.NON_FINITE_FEATURES),
        ("no sensitive", X, y, None, "sensitive_features is required"),
    ]


@pytest.mark.parametrize("case", range(14))
def test_bad_input_clear_error_and_nothing_changed(biased, case):
    X, y, s = biased
    name, Xb, yb, sb, template = _bad_inputs(X, y, s)[case]
    before = [obj.copy() if hasattr(obj, "copy") else obj for obj in (Xb, yb, sb)]
    with pytest.raises(InputError) as info:
        FairAutoML(n_trials=1, time_budget=None).fit(Xb, yb, sensitive_features=sb)
    assert _lead(template) in str(info.value), name
    for original, after in zip(before, (Xb, yb, sb), strict=True):
        if isinstance(after, pd.DataFrame):
            pd.testing.assert_frame_equal(original, after)
        elif isinstance(after, pd.Series):
            pd.testing.assert_series_equal(original, after)
        elif isinstance(after, np.ndarray):
            np.testing.assert_array_equal(original, after)


def test_split_is_stratified_on_target_and_group(biased):
    X, y, s = biased
    data = prepare_fit_data(X, y, s)
    train, val = split_train_validation(data.y, data.groups, 0.25, 0)
    assert len(set(train) & set(val)) == 0 and len(train) + len(val) == len(y)
    for g in (0, 1):
        share = np.mean(data.groups[val] == g)
        assert abs(share - np.mean(data.groups == g)) < 0.02
