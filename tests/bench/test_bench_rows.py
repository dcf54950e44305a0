from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairautoml.bench.rows import load_dataset, make_synthetic, split_rows, subsample_fit_rows
from fairautoml.bench.specs import DatasetSpec


def test_split_is_disjoint_complete_and_60_20_20():
    _X, y, s = make_synthetic(5000, seed=1)
    split = split_rows(y, s, seed=3)
    parts = [split.train, split.val, split.test]
    joined = np.concatenate(parts)
    assert len(joined) == len(y) == len(np.unique(joined))
    assert [len(p) for p in parts] == [3000, 1000, 1000]


def test_split_is_stratified_on_target_and_group():
    _X, y, s = make_synthetic(4000, bias=2.0, seed=0)
    split = split_rows(y, s, seed=0)
    strata = pd.Series(np.asarray(y)).astype(str) + "|" + pd.Series(np.asarray(s))
    overall = strata.value_counts(normalize=True)
    for part in (split.train, split.val, split.test):
        share = strata.iloc[part].value_counts(normalize=True)
        # exact up to rounding: a stratum of n rows puts n * fraction (+-1) in each part
        assert np.allclose(share[overall.index], overall, atol=2 / len(part))


def test_split_depends_on_seed_only():
    _, y, s = make_synthetic(1000)
    a, b, c = split_rows(y, s, 0), split_rows(y, s, 0), split_rows(y, s, 1)
    assert np.array_equal(a.test, b.test)
    assert not np.array_equal(a.test, c.test)


def test_synthetic_bias_is_known_and_grows():
    gaps = []
    for bias in (0.0, 2.0):
        X, y, s = make_synthetic(20000, n_features=30, bias=bias, seed=0)
        assert X.shape == (20000, 30)
        assert set(s) == {"a", "b"}
        rates = pd.Series(np.asarray(y)).groupby(np.asarray(s)).mean()
        gaps.append(rates["b"] - rates["a"])
    assert 0.0 < gaps[0] < gaps[1]  # proxies alone give some gap; bias widens it


def test_csv_dataset_and_max_rows(tmp_path):
    X, y, s = make_synthetic(1000, n_features=6)
    frame = X.assign(label=np.where(y == 1, "yes", "no"), sex=s.to_numpy())
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    spec = DatasetSpec("d", csv=str(path), target="label", sensitive=("sex",), max_rows=500)
    Xd, yd, sd = load_dataset(spec)
    assert set(sd) == {"a", "b"}
    assert len(Xd) == 500 and "label" not in Xd and "sex" not in Xd
    assert set(yd) == {"yes", "no"}
    bad = DatasetSpec("d", csv=str(path), target="nope", sensitive=("sex",))
    with pytest.raises(ValueError, match=r"column\(s\) \['nope'\] not in"):
        load_dataset(bad)


def test_drop_leaves_out_feature_columns():
    from fairautoml.bench.config import parse_config
    from fairautoml.exceptions import ConfigurationError

    raw = {
        "datasets": [{"name": "adult_noproxy", "bundled": "adult", "drop": ["relationship"]}],
        "constraints": ["demographic_parity_difference <= 0.05"],
        "budgets": [1],
        "methods": ["fairautoml"],
    }
    (spec,) = parse_config(raw, "s.yaml").datasets
    assert spec.drop == ("relationship",) and spec.bundled == "adult"
    X, _, _ = load_dataset(spec)
    full, _, _ = load_dataset(DatasetSpec("adult", bundled="adult"))
    assert list(X.columns) == [c for c in full.columns if c != "relationship"]
    with pytest.raises(ConfigurationError, match=r"drop names column\(s\) \['nope'\]"):
        load_dataset(DatasetSpec("x", bundled="german", drop=("nope",)))
    synthetic = {"synthetic": {"n_rows": 500}, "drop": ["x0"]}
    with pytest.raises(ConfigurationError, match="drop applies to bundled and CSV"):
        parse_config({**raw, "datasets": [synthetic]}, "s.yaml")


def test_subsample_fit_rows_keeps_test_and_ratio():
    _X, y, s = make_synthetic(4000)
    y, s = np.asarray(y), np.asarray(s)
    split = split_rows(y, s, seed=0)
    small = subsample_fit_rows(split, y, s, 1000, seed=0)
    assert np.array_equal(small.test, split.test)
    assert (len(small.train), len(small.val)) == (750, 250)
    assert set(small.train) <= set(split.train) and set(small.val) <= set(split.val)
    assert subsample_fit_rows(split, y, s, 10**6, seed=0) is split


def test_synthetic_tables_of_every_size_share_one_label_model():
    """A larger table is more rows of the same problem (the scale sweep compares sizes)."""
    from sklearn.linear_model import LogisticRegression

    def coefficients(n_rows: int) -> np.ndarray:
        X, y, _ = make_synthetic(n_rows=n_rows, seed=3)
        return LogisticRegression(max_iter=500).fit(X, y).coef_[0]

    small, large = coefficients(5_000), coefficients(40_000)
    assert np.corrcoef(small, large)[0, 1] > 0.95
    other_seed = LogisticRegression(max_iter=500).fit(*make_synthetic(40_000, seed=4)[:2]).coef_[0]
    assert np.corrcoef(large, other_seed)[0, 1] < 0.8  # the seed chooses the problem
