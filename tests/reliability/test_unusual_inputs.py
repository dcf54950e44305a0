"""Unusual but valid inputs fit and predict, leave the user's objects unchanged, and -- when
they only re-encode the same data -- give exactly the leaderboard of the plain form.

Rows are matched by position (as in scikit-learn): a Series or DataFrame must share X's
index when X is a DataFrame (see test_bad_inputs for the error otherwise); arrays and lists
are taken as they are.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier

import fairautoml
from fairautoml import FairAutoML
from fairautoml.exceptions import InfeasibleWarning
from fairautoml.learners import LEARNERS
from fairautoml.testing import make_biased

from .test_bad_inputs import assert_unchanged

# the group-aware search: its per-group rules read s at predict time too, an input path
# these tests cover
FAST = dict(
    n_trials=1, time_budget=None, random_state=0, learners=["logistic_regression"],
    sensitive_at_predict=True,
)  # fmt: skip


def _fit(X: Any, y: Any, s: Any, **params: Any) -> FairAutoML:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfeasibleWarning)
        return FairAutoML(**{**FAST, **params}).fit(X, y, sensitive_features=s)


def _board(est: FairAutoML) -> pd.DataFrame:
    return est.leaderboard_.drop(columns=["fit_time"])


def _numeric(X, y, s):
    return X[["x1", "x2"]], y, s


# id -> build (X, y, s, params) from the plain table; the plain form of equivalent cases
EQUIVALENT = {
    "y as strings": lambda X, y, s: (X, y.map({0: "no", 1: "yes"}), s, {}),
    "y as pandas str dtype": lambda X, y, s: (X, y.map({0: "no", 1: "yes"}).astype("str"), s, {}),
    "y as bools": lambda X, y, s: (X, y.astype(bool), s, {}),
    "y as categorical": lambda X, y, s: (X, y.astype("category"), s, {}),
    "y as a list": lambda X, y, s: (X, y.tolist(), s, {}),
    "y as a column vector": lambda X, y, s: (X, y.to_numpy().reshape(-1, 1), s, {}),
    "s as a list": lambda X, y, s: (X, y, s.tolist(), {}),
    "s as a numpy array": lambda X, y, s: (X, y, s.to_numpy(), {}),
    "s as categorical": lambda X, y, s: (X, y, s.astype("category"), {}),
    "s as a one-column DataFrame": lambda X, y, s: (X, y, s.to_frame(), {}),
    "s as a dict": lambda X, y, s: (X, y, {"group": s.to_numpy()}, {}),
    "s as a column name": lambda X, y, s: (X.assign(g=s.to_numpy()), y, "g", {}),
    "X, y, s sharing a non-default index": lambda X, y, s: (
        X.set_axis(X.index * 7 + 1000),
        y.set_axis(y.index * 7 + 1000),
        s.set_axis(s.index * 7 + 1000),
        {},
    ),
}
EQUIVALENT_NUMERIC = {  # compared with the numeric columns only
    "X as a numpy array": lambda X, y, s: (X.to_numpy(), y, s, {}),
    "X as a list of lists": lambda X, y, s: (X.to_numpy().tolist(), y, s, {}),
    "X as a dict of columns": lambda X, y, s: ({k: X[k].to_numpy() for k in X}, y, s, {}),
}
VALID = {
    "s as column name, kept as a feature": lambda X, y, s: (
        X.assign(g=s.to_numpy()),
        y,
        "g",
        {"keep_sensitive_as_feature": True},
    ),
    "s as two columns (intersection)": lambda X, y, s: (
        X,
        y,
        pd.DataFrame({"g": s, "h": np.where(np.arange(len(s)) % 2, "odd", "even")}),
        {"min_group_size": 10},
    ),
    "an all-NaN column": lambda X, y, s: (X.assign(z=np.nan), y, s, {}),
    "an all-None object column": lambda X, y, s: (X.assign(z=[None] * len(X)), y, s, {}),
    "a constant column": lambda X, y, s: (X.assign(z=1.0, w="same"), y, s, {}),
    "very long strings": lambda X, y, s: (
        X.assign(z=["x" * 100_000 + str(i % 3) for i in range(len(X))]),
        y,
        s,
        {},
    ),
    "nullable Int64, Float64 and boolean columns with NA": lambda X, y, s: (
        X.assign(
            a=pd.array([1, None, 3] * (len(X) // 3), dtype="Int64"),
            b=pd.array([0.5, None, 1.5] * (len(X) // 3), dtype="Float64"),
            c=pd.array([True, None, False] * (len(X) // 3), dtype="boolean"),
        ),
        y,
        s,
        {},
    ),
    "an object column of numbers and None": lambda X, y, s: (
        X.assign(z=pd.Series([1, None, 2.5] * (len(X) // 3), dtype=object)),
        y,
        s,
        {},
    ),
    "integer column names": lambda X, y, s: (X.set_axis([10, 11, 12], axis=1), y, s, {}),
    "y as -1/+1": lambda X, y, s: (X, y * 2 - 1, s, {}),
    "numeric group labels": lambda X, y, s: (X, y, (s == "a").astype(int), {}),
}


@pytest.fixture(scope="module")
def plain() -> dict[str, pd.DataFrame]:
    X, y, s = make_biased()
    return {
        "all": _board(_fit(X, y, s)),
        "numeric": _board(_fit(*_numeric(X, y, s))),
    }


def _check(make, plain_board: pd.DataFrame | None, numeric: bool = False) -> FairAutoML:
    X, y, s = make_biased()
    if numeric:
        X, y, s = _numeric(X, y, s)
    X, y, s, params = make(X, y, s)
    before = copy.deepcopy((X, y, s, params))
    est = _fit(X, y, s, **params)
    pred = est.predict(X, sensitive_features=s)
    assert len(pred) == len(est.predict_proba(X, sensitive_features=s)) == len(y)
    assert set(np.unique(pred)) <= set(est.classes_)
    failed = est.leaderboard_[est.leaderboard_["status"] != "ok"]
    # only the two-group bias-score rules may refuse (e.g. an intersection of 4 groups)
    assert failed["post"].isin(["bias_score", "bias_score_blind"]).all(), failed["error"]
    assert failed["error"].str.contains("exactly 2 groups").all()
    if plain_board is not None:
        pd.testing.assert_frame_equal(_board(est), plain_board)
    assert_unchanged(before, (X, y, s, params))
    return est


@pytest.mark.parametrize("name", list(EQUIVALENT))
def test_equivalent_encodings_give_the_same_leaderboard(name, plain):
    _check(EQUIVALENT[name], plain["all"])


@pytest.mark.parametrize("name", list(EQUIVALENT_NUMERIC))
def test_arrays_give_the_same_leaderboard_as_frames(name, plain):
    _check(EQUIVALENT_NUMERIC[name], plain["numeric"], numeric=True)


@pytest.mark.parametrize("name", list(VALID))
def test_unusual_valid_inputs_fit_and_predict(name):
    _check(VALID[name], None)


def test_classes_keep_the_users_labels():
    est = _check(EQUIVALENT["y as strings"], None)
    assert list(est.classes_) == ["no", "yes"]


def test_reordered_columns_predict_the_same():
    X, y, s = make_biased()
    est = _fit(X, y, s)
    reordered = X[list(reversed(X.columns))]
    np.testing.assert_array_equal(
        est.predict_proba(reordered, sensitive_features=s),
        est.predict_proba(X, sensitive_features=s),
    )


def test_learner_without_sample_weight():
    """A learner whose fit takes no sample_weight works with the built-in mitigators."""
    fairautoml.register_learner("knn_no_weights", KNeighborsClassifier, replace=True)
    try:
        _check(lambda X, y, s: (X, y, s, {"learners": ["knn_no_weights"]}), None)
    finally:
        LEARNERS.remove("knn_no_weights")
