"""Preparation of fit inputs; the catalogue of bad inputs is in tests/reliability/."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairautoml.data import FeatureSchema, prepare_fit_data
from fairautoml.splits import split_train_validation
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
