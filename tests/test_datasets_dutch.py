"""The bundled Dutch census 2001 dataset: what ``load("dutch")`` returns, and that it fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import fairautoml
from fairautoml.bench.config import parse_config

CODED = (
    "household_position", "household_size", "prev_residence_place", "citizenship",
    "country_birth", "edu_level", "economic_status", "cur_eco_activity", "Marital_status",
)  # fmt: skip


@pytest.fixture(scope="module")
def dutch() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return fairautoml.datasets.load("dutch")


def test_raw_file_is_the_published_table():
    raw = fairautoml.datasets.read_raw("dutch")
    assert raw.shape == (60_420, 12)
    assert set(raw["sex"]) == {1, 2}
    assert set(raw["occupation"]) == {"2_1", "5_4_9"}
    assert not raw.isna().any().any()


def test_load_dutch_target_sensitive_and_types(dutch):
    X, y, s = dutch
    raw = fairautoml.datasets.read_raw("dutch")
    assert X.shape == (60_420, 10) and len(y) == len(s) == 60_420
    assert "sex" not in X.columns and "occupation" not in X.columns
    assert y.name == "occupation" and y.dtype == np.int64
    assert int(y.sum()) == 28_763  # 1 = "2_1" (high-level occupation)
    assert (y == (raw["occupation"] == "2_1")).all()
    assert s.name == "sex" and s.value_counts().to_dict() == {"female": 30_273, "male": 30_147}
    assert ((s == "female") == (raw["sex"] == 2)).all()
    assert X["age"].dtype == np.int64  # ordered 5-year age-group code, kept numeric
    for name in CODED:
        assert isinstance(X[name].dtype, pd.CategoricalDtype), name
        assert list(X[name].cat.categories) == sorted(raw[name].unique())  # codes kept
        assert (X[name].astype(np.int64) == raw[name]).all()


def test_dutch_is_listed_and_accepted_by_the_bench_config():
    assert "dutch" in [d.name for d in fairautoml.datasets.available()]
    raw = {
        "datasets": ["dutch", {"bundled": "dutch", "sensitive": "sex", "max_rows": 3000}],
        "constraints": ["demographic_parity_difference <= 0.05"],
        "budgets": [10],
        "seeds": [0],
        "methods": ["fairautoml"],
    }
    cfg = parse_config(raw, "sweep.yaml")
    assert [(d.name, d.bundled) for d in cfg.datasets] == [
        ("dutch", "dutch"),
        ("dutch_sex", "dutch"),
    ]


def test_fairautoml_fits_a_dutch_sample(dutch):
    X, y, s = dutch
    rows, _ = train_test_split(
        np.arange(len(y)), train_size=3000, random_state=0, stratify=y.astype(str) + s
    )
    X, y, s = X.iloc[rows], y.iloc[rows], s.iloc[rows]
    automl = fairautoml.FairAutoML(
        "demographic_parity_difference <= 0.1",
        n_trials=2,
        time_budget=None,
        random_state=0,
        decision_rule="proxy",
    ).fit(X, y, sensitive_features=s)
    assert (automl.leaderboard_["status"] == "ok").any()
    pred = automl.predict(X.head(50), sensitive_features=s.head(50))
    assert pred.shape == (50,) and set(np.unique(pred)) <= {0, 1}
