"""Property: any small table either fits -- and then predicts sensibly -- or raises one of the
documented errors (a ``FairAutoMLError``); never an unexplained exception, never a change to
the user's objects, never an infeasible model without a warning."""

from __future__ import annotations

import copy
import os
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fairautoml import FairAutoML
from fairautoml.exceptions import FairAutoMLError, InfeasibleWarning

from .test_bad_inputs import assert_unchanged

# a few seconds by default; FAIRAUTOML_PROPERTY_EXAMPLES=1000 for a longer hunt
MAX_EXAMPLES = int(os.environ.get("FAIRAUTOML_PROPERTY_EXAMPLES", "50"))

COLUMN_KINDS = [
    "float", "float_nan", "int", "bool", "str", "str_none", "category", "mixed_object",
    "all_nan", "constant", "float_inf", "nullable_int", "object_numbers", "long_str",
]  # fmt: skip


@st.composite
def columns(draw: st.DrawFn, n: int, kind: str, rng: np.random.Generator) -> Any:
    if kind == "float":
        return rng.normal(size=n)
    if kind == "float_nan":
        values = rng.normal(size=n)
        values[draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n)) if n else []] = np.nan
        return values
    if kind == "int":
        return rng.integers(-3, 4, size=n)
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind in ("str", "str_none", "category", "long_str"):
        values = rng.choice(["a", "b", "c"], size=n).astype(object)
        if kind == "long_str":
            values = np.array([v * 5000 for v in values], dtype=object)
        if kind == "str_none":
            values[rng.random(n) < 0.3] = None
        return pd.Categorical(values) if kind == "category" else values
    if kind == "mixed_object":
        return np.array([("x" if i % 2 else i) for i in range(n)], dtype=object)
    if kind == "all_nan":
        return np.full(n, np.nan)
    if kind == "constant":
        return np.ones(n)
    if kind == "float_inf":
        values = rng.normal(size=n)
        if n:
            values[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.inf, -np.inf]))
        return values
    if kind == "nullable_int":
        return pd.array([None if v < 0 else int(v) for v in rng.integers(-1, 5, size=n)], "Int64")
    if kind == "object_numbers":
        return np.array([None if v < 0.2 else float(v) for v in rng.random(n)], dtype=object)
    raise AssertionError(kind)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_groups = draw(st.sampled_from([2, 3, 4])) if rng.random() < 0.9 else 1
    # mostly enough rows per group, sometimes too few
    sizes = [int(rng.integers(20, 60) if rng.random() < 0.85 else rng.integers(0, 10)) for _ in
             range(n_groups)]  # fmt: skip
    n = sum(sizes)
    groups = np.repeat(np.array(["g0", "g1", "g2", "g3"][:n_groups], dtype=object), sizes)
    rng.shuffle(groups)
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=4))
    if rng.random() < 0.05:
        kinds = []  # now and then no feature at all
    X = pd.DataFrame({f"c{i}": draw(columns(n, kind, rng)) for i, kind in enumerate(kinds)})
    if len(X) != n:  # no columns: pandas gives 0 rows
        X = pd.DataFrame(index=range(n))
    # a target that depends on the group (so fairness has something to do) and on a feature
    signal = (groups == "g0").astype(float) + rng.normal(size=n)
    y_kind = draw(st.sampled_from(["int", "str", "bool", "one", "three", "nan"]))
    if rng.random() < 0.5:
        y_kind = "int"
    y: Any = (signal > np.median(signal) if n else signal > 0).astype(int)
    if y_kind == "str":
        y = np.where(y == 1, "yes", "no").astype(object)
    elif y_kind == "bool":
        y = y.astype(bool)
    elif y_kind == "one":
        y = np.zeros(n, dtype=int)
    elif y_kind == "three":
        y = rng.integers(0, 3, size=n)
    elif y_kind == "nan" and n:
        y = y.astype(float)
        y[draw(st.integers(0, n - 1))] = np.nan
    s: Any = groups.copy()
    if rng.random() < 0.1 and n:  # a missing group now and then
        s[draw(st.integers(0, n - 1))] = None
    s_form = draw(st.sampled_from(["series", "array", "list", "column"]))
    if s_form == "series":
        s = pd.Series(s, name="group")
    elif s_form == "list":
        s = list(s)
    elif s_form == "column":
        X = X.assign(group=s)
        s = "group"
    y_form = draw(st.sampled_from(["series", "array"]))
    return {
        "X": X,
        "y": pd.Series(y, name="label") if y_form == "series" else y,
        "s": s,
        "params": {
            "min_group_size": draw(st.sampled_from([1, 4, 20])),
            "validation_fraction": draw(st.sampled_from([0.25, 0.5])),
            "learners": ["logistic_regression"],
            "n_trials": draw(st.integers(1, 2)),
            "time_budget": None,
            "random_state": 0,
        },
    }


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(table=tables())
def test_fit_succeeds_or_raises_a_documented_error(table):
    before = copy.deepcopy(table)
    est = FairAutoML(**table["params"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(table["X"], table["y"], sensitive_features=table["s"])
        except FairAutoMLError as exc:
            event(f"{type(exc).__name__}: {re.sub(r'[0-9]+', 'N', str(exc))[:30]}")
            assert str(exc)  # a message, from the templates
            assert_unchanged(before, table)
            return
    event("fitted")
    assert_unchanged(before, table)
    infeasible = any(issubclass(w.category, InfeasibleWarning) for w in caught)
    assert infeasible == (not est.best_config_["feasible"])  # never a silent pass
    proba = est.predict_proba(table["X"], sensitive_features=table["s"])
    assert proba.shape == (len(table["X"]), len(est.classes_))  # 2, or 3+ classes
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    pred = est.predict(table["X"], sensitive_features=table["s"])
    assert set(pd.unique(pred)) <= set(est.classes_)
    assert_unchanged(before, table)
