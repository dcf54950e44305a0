"""Preparation of fit inputs; the catalogue of bad inputs is in tests/reliability/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairautoml.data.features import BOOLS_FOR_NUMBERS, FeatureSchema
from fairautoml.data.prepare import prepare_fit_data
from fairautoml.data.splits import split_train_validation
from fairautoml.exceptions import InputError
from fairautoml.tasks import get_task


def test_prepare_presents_numeric_and_categories(biased):
    X, y, s = biased
    data = prepare_fit_data(X, y, s, task=get_task("binary"))
    assert data.X["x1"].dtype == np.float64
    assert isinstance(data.X["colour"].dtype, pd.CategoricalDtype)
    assert data.y.tolist() == y.tolist()
    assert sorted(set(data.groups)) == [0, 1]


def test_float32_features_stay_float32_and_others_become_float64():
    """A big table given as float32 is not doubled in memory by preparation."""
    X = pd.DataFrame(
        {
            "f32": np.arange(120, dtype=np.float32),
            "nullable": pd.array([1.5, None] * 60, dtype="Float32"),
            "i": np.arange(120),
        }
    )
    out = FeatureSchema.infer(X).transform(X)
    assert out["f32"].dtype == np.float32 and out["nullable"].dtype == np.float32
    assert out["nullable"].isna().sum() == 60
    assert out["i"].dtype == np.float64


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
    data = prepare_fit_data(X, y, "group", task=get_task("binary"))
    assert "group" not in data.X.columns and data.sensitive_columns == ["group"]
    kept = prepare_fit_data(X, y, "group", keep_sensitive_as_feature=True, task=get_task("binary"))
    assert "group" in kept.X.columns


def test_intersection_of_two_attributes(biased):
    X, y, s = biased
    other = pd.Series(np.where(X["x2"].fillna(0) > 0, "hi", "lo"))
    data = prepare_fit_data(X, y, pd.DataFrame({"g": s, "h": other}), task=get_task("binary"))
    assert len(data.group_encoder.labels) == 4
    assert all(" & " in label for label in data.group_encoder.labels)


def test_split_is_stratified_on_target_and_group(biased):
    X, y, s = biased
    data = prepare_fit_data(X, y, s, task=get_task("binary"))
    train, val = split_train_validation(data.y, data.groups, 0.25, 0)
    assert len(set(train) & set(val)) == 0 and len(train) + len(val) == len(y)
    for g in (0, 1):
        share = np.mean(data.groups[val] == g)
        assert abs(share - np.mean(data.groups == g)) < 0.02


def test_true_false_where_numbers_were_fitted_is_refused():
    """A numeric column fitted on numbers and given True/False at predict (a bool column,
    a nullable boolean one, or booleans among an object column's values): an error that
    names the column and both dtypes, since 1/0 would stand for numbers never given. A
    column fitted on booleans takes booleans; a schema saved before dtypes were kept
    checks nothing (as before)."""
    fit = pd.DataFrame({"n": [1, 2] * 30, "f": np.linspace(0, 1, 60), "b": [True, False] * 30})
    schema = FeatureSchema.infer(fit)
    assert schema.dtypes == {"n": "int64", "f": "float64", "b": "bool"}
    given = {
        "n": (fit["n"] == 2, "dtype int64", "dtype bool"),
        "f": (pd.array([True, None] * 30, dtype="boolean"), "dtype float64", "dtype boolean"),
    }
    for name, (values, fitted, here) in given.items():
        with pytest.raises(InputError) as info:
            schema.transform(fit.assign(**{name: values}))
        message = str(info.value)
        assert message.startswith(BOOLS_FOR_NUMBERS.split("{")[0])
        assert f"Column {name!r} held numbers in fit ({fitted})" in message
        assert f"holds True/False here ({here})" in message
    mixed = fit.assign(n=pd.Series([True, *range(59)], dtype=object))
    with pytest.raises(InputError, match=r"'n' held numbers in fit .* here \(dtype object\)"):
        schema.transform(mixed)
    out = schema.transform(fit.assign(b=pd.Series([True, None] * 30, dtype=object)))
    assert out["b"].iloc[0] == 1.0 and np.isnan(out["b"].iloc[1])  # fitted on booleans
    assert out["n"].tolist() == [1.0, 2.0] * 30  # numbers as fitted: unchanged
    old = FeatureSchema(schema.columns, schema.numeric, schema.categories)
    del old.dtypes  # as a model file written before this version reads back
    assert old.transform(fit.assign(n=fit["n"] == 2))["n"].tolist() == [0.0, 1.0] * 30
