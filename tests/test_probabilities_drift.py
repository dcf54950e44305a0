"""Drift since a fit given membership probabilities: the fit keeps each group's regression
rates on its validation rows with their standard errors (no counts by group: none is
known) and its feature bins overall; an audit with probabilities on new rows tests each
rate a constraint compares against them and each feature overall. A fresh sample of the
fit's population raises no alarm; rows whose decisions and features moved do; a model
with no such reference says so."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from fairautoml import FairAutoML, cli
from fairautoml.audit.probabilities import PROBABILITIES_NO_DRIFT_REFERENCE
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.drift import estimate_drift
from fairautoml.measures.membership import regression_rates, regression_values
from fairautoml.testing import make_biased

DP = "demographic_parity_difference <= 0.1"


def _rows(n: int, seed: int):
    """A table whose true group shifts a feature, and calibrated probabilities of the group
    drawn given it, independent of the features given the group."""
    X, y, s = make_biased(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    p = np.where(s == "a", rng.beta(1.7, 0.7, n), rng.beta(0.7, 1.7, n))
    P = pd.DataFrame({"a": p, "b": 1 - p})
    P.columns.name = "group"
    return X, y, s, P


def _fit(X, y, **given):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairAutoML(
            constraints=DP, n_trials=2, time_budget=None, learners=["logistic_regression"],
            mitigators=["none"], confirm=False, random_state=0, trial_time_limit=None,
        ).fit(X, y, **given)  # fmt: skip


@pytest.fixture(scope="module")
def fitted():
    X, y, _, P = _rows(2000, 10)
    return _fit(X, y, group_probabilities=P)


def test_regression_rates_are_the_regression_estimates_with_their_spread():
    """Each group's rate is the regression's (the DP from them is regression_values'), and
    its standard error is the bootstrap's: positive, and smaller on more rows."""
    X, y, _, P = _rows(4000, 3)
    d = (X["x1"] > 0).to_numpy().astype(int)
    (c,) = parse_constraints(DP)
    rates = regression_rates(y.to_numpy(), d, P.to_numpy(), ("a", "b"), random_state=0)
    (a, se_a), (b, se_b) = rates["selection"]["a"], rates["selection"]["b"]
    assert abs(a - b) == pytest.approx(regression_values([c], y, d, P.to_numpy())[c.key])
    half = regression_rates(y[:1000].to_numpy(), d[:1000], P.to_numpy()[:1000], ("a", "b"))
    assert 0 < se_a < half["selection"]["a"][1] and 0 < se_b < half["selection"]["b"][1]
    assert set(rates) == {"selection", "tpr", "fpr", "fnr"}


def test_estimate_drift_is_a_z_test_of_two_independent_estimates():
    constraints = parse_constraints(["equalized_odds_difference <= 0.1"])
    before = {"selection": {"a": [0.5, 0.02]}, "tpr": {"a": [0.6, 0.03], "b": [0.7, 0.04]},
              "fpr": {"a": [0.2, 0.02], "b": [0.3, float("nan")]}}  # fmt: skip
    after = {"selection": {"a": [0.1, 0.02]}, "tpr": {"a": [0.5, 0.04], "b": [0.7, 0.03]},
             "fpr": {"a": [0.2, 0.02], "b": [0.3, 0.02]}}  # fmt: skip
    rows = estimate_drift(constraints, before, after, has_labels=True)
    found = {(r["rate"], r["group"]): r["p_value"] for r in rows}
    assert set(found) == {("tpr", "a"), ("tpr", "b"), ("fpr", "a")}  # no se: not tested
    assert found[("tpr", "a")] == pytest.approx(2 * norm.sf(0.1 / math.hypot(0.03, 0.04)))
    assert found[("tpr", "b")] == pytest.approx(1.0)
    without_labels = estimate_drift(constraints, before, after, has_labels=False)
    assert without_labels == []  # equalized odds compares no selection rate


def test_the_fit_keeps_rates_and_overall_bins(fitted):
    reference = fitted.audit_reference_
    rates = reference["membership_rates"]
    assert set(rates["selection"]) == {"a", "b"}
    for estimate, se in rates["selection"].values():
        assert 0 <= estimate <= 1 and se > 0
    assert reference["validation_counts"] is None
    for feature in reference["features"].values():  # overall only: no group is known
        assert feature["by_group"] == {} and sum(feature["all"]) == 2000


def test_a_fresh_sample_raises_no_alarm_and_moved_rows_do(fitted):
    X, y, _, P = _rows(2000, 11)
    fresh = fitted.audit(X, y, group_probabilities=P, n_boot=100)
    assert fresh.drift["fairness_changed"] is False and fresh.drift["features_moved"] == []
    assert [r["rate"] for r in fresh.drift["rates"]] == ["selection", "selection"]
    moved = fitted.audit(X.assign(x1=X["x1"] + 1.5), y, group_probabilities=P, n_boot=100)
    assert moved.drift["fairness_changed"] is True and "x1" in moved.drift["features_moved"]
    assert "These rows differ from the fit's" in moved.summary()
    json.dumps(moved.to_dict())


def test_a_model_without_rates_from_probabilities_says_so():
    X, y, s, P = _rows(1500, 12)
    known = _fit(X, y, sensitive_features=s)
    result = known.audit(X, y, group_probabilities=P, n_boot=100)
    assert result.drift == {} and PROBABILITIES_NO_DRIFT_REFERENCE in result.notes


def test_the_saved_model_keeps_its_reference_for_the_command_line(fitted, tmp_path, capsys):
    fitted.save(tmp_path / "model.skops")
    X, y, _, P = _rows(2000, 13)
    X.assign(label=y.to_numpy(), x1=X["x1"] + 1.5, **P).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "audit"
    args = ["audit", str(tmp_path / "model.skops"), str(tmp_path / "new.csv"), "--target",
            "label", "--group-probabilities", "a,b", "--out", str(out)]  # fmt: skip
    cli.main(args)
    assert "Drift since the fit" in capsys.readouterr().out
    doc = json.loads((out / "audit_probabilities.json").read_text())
    assert "x1" in doc["drift"]["features_moved"]
    assert cli.main([*args[:-2], "--sensitive", "colour"]) == 2  # the fit's rule: not both
    assert cli.main([*args[:5], "--group-probabilities", "a,c"]) == 2  # no column c
