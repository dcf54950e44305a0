"""Continuous sensitive attributes without bins (issue 60, item 4): generalized disparate
impact (GeDI) measured, bootstrapped, parsed as a constraint, read by the data layer as
numbers, and reduced by a search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML, datasets
from fairautoml.data.groups import GroupEncoder
from fairautoml.exceptions import ConstraintError, InputError
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraint,
)
from fairautoml.measures.dependence import (
    bootstrap_coefficients,
    generalized_disparate_impact,
    interval_of,
    scaled,
)

GEDI = "generalized_disparate_impact"


def _bound(text: str, ages: np.ndarray) -> tuple[object, np.ndarray]:
    """A constraint bound to an encoder of ``ages`` read as numbers, and the rows' codes."""
    frame = pd.DataFrame({"age": ages})
    c = parse_constraint(text)
    encoder = GroupEncoder.fit(frame, continuous={"age": text})
    return c.bind(encoder), encoder.encode(frame)


def test_degree_one_is_the_least_squares_slope_on_the_scaled_attribute():
    """By hand: numpy's lstsq of the decisions on [1, u], u the age on [0, 1]."""
    ages = np.array([20.0, 30, 30, 45, 50, 60, 70, 80])
    decisions = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    u = (ages - 20) / 60
    slope = np.linalg.lstsq(np.column_stack([np.ones(8), u]), decisions, rcond=None)[0][1]
    c, codes = _bound(f"{GEDI}[age] <= 0.1", ages)
    value = evaluate_constraints([c], decisions, decisions, codes)[c.key]
    assert value == pytest.approx(abs(slope))


def test_degree_two_is_the_l1_norm_of_both_coefficients():
    """By hand: the L1 norm of lstsq's coefficients of u and u^2."""
    ages = np.array([18.0, 22, 30, 35, 41, 50, 58, 66, 75])
    decisions = np.array([0, 1, 1, 1, 0, 1, 0, 0, 1])
    u = (ages - 18) / (75 - 18)
    beta = np.linalg.lstsq(np.column_stack([np.ones(9), u, u**2]), decisions, rcond=None)[0]
    c, codes = _bound(f"{GEDI}_2[age] <= 0.1", ages)
    assert c.value(decisions, decisions, codes) == pytest.approx(np.abs(beta[1:]).sum())


def test_a_binary_attribute_gives_the_difference_of_rates():
    """GeDI of degree 1 on a 0/1 attribute is the demographic parity difference."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 500).astype(float)
    d = (rng.random(500) < np.where(a == 1, 0.6, 0.4)).astype(int)
    gap = d[a == 1].mean() - d[a == 0].mean()
    assert generalized_disparate_impact(a, d) == pytest.approx(abs(gap))


def test_independent_decisions_read_near_zero_and_dependence_reads_larger():
    """Sampling noise only where decisions ignore the age; the value grows with the trend."""
    rng = np.random.default_rng(1)
    u = rng.random(20_000)
    flat = (rng.random(20_000) < 0.5).astype(int)
    weak = (rng.random(20_000) < 0.4 + 0.1 * u).astype(int)
    strong = (rng.random(20_000) < 0.3 + 0.4 * u).astype(int)
    values = [generalized_disparate_impact(u, d) for d in (flat, weak, strong)]
    assert values[0] < 0.03
    assert values[0] < values[1] < values[2]
    assert values[2] == pytest.approx(0.4, abs=0.05)


def test_the_interval_covers_the_population_slope_often_enough():
    """A light coverage check: an 80 % interval covers the true slope in most samples."""
    rng = np.random.default_rng(2)
    covered = 0
    for seed in range(40):
        u = rng.random(400)
        d = (rng.random(400) < 0.35 + 0.2 * u).astype(int)
        beta = bootstrap_coefficients(u, d, 1, 200, seed)
        low, high = interval_of(beta, 0.8)
        covered += low <= 0.2 <= high
    assert covered >= 26  # 80 % of 40 is 32; binomial noise leaves room


def test_the_interval_of_a_null_trend_starts_at_zero():
    """The lower end does not sit above zero as an absolute value's bootstrap would."""
    rng = np.random.default_rng(3)
    ages = rng.integers(18, 80, 600).astype(float)
    d = (rng.random(600) < 0.5).astype(int)
    c, codes = _bound(f"{GEDI}[age] <= 0.1", ages)
    low, high = evaluate_intervals([c], d, d, codes, random_state=0)[c.key]
    assert low == 0.0 and high > 0.0


def test_new_values_take_the_nearest_level_and_the_fitted_scale():
    """Rows after the fit (an age beyond the fitted ones) are coded, not refused."""
    frame = pd.DataFrame({"age": [20.0, 30, 40, 50]})
    encoder = GroupEncoder.fit(frame, continuous={"age": "c"})
    codes = encoder.encode(pd.DataFrame({"age": [19.0, 34.0, 90.0]}))
    assert codes.tolist() == [0, 1, 3]
    assert scaled(np.array([20.0, 50.0]), (20.0, 50.0)).tolist() == [0.0, 1.0]


def _compas(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y, _ = datasets.load("compas")
    X = X.drop(columns=["age_cat"])
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[:n], order[n : 2 * n]
    return (
        X.iloc[train].reset_index(drop=True), y.iloc[train].reset_index(drop=True),
        X.iloc[test].reset_index(drop=True), y.iloc[test].reset_index(drop=True),
    )  # fmt: skip


def test_a_numeric_attribute_without_bins_fits_and_binned_still_works():
    """The constraint reads age as numbers; a group constraint on binned age is as before."""
    X, y, _, _ = _compas(1200)
    kwargs = {"n_trials": 2, "learners": ["logistic_regression"], "random_state": 0}
    numeric = FairAutoML(constraints=f"{GEDI}[age] <= 0.5", **kwargs)
    numeric.fit(X, y, sensitive_features="age")
    assert f"{GEDI}[age]" in numeric.leaderboard_.columns
    binned = FairAutoML(
        constraints="demographic_parity_difference <= 0.5",
        sensitive_bins={"age": [25, 45]},
        **kwargs,
    )
    binned.fit(X, y, sensitive_features="age")
    assert "demographic_parity_difference" in binned.leaderboard_.columns
    with pytest.raises(InputError, match="Bin it"):  # without bins nor GeDI: refused as before
        FairAutoML(constraints="demographic_parity_difference <= 0.5", **kwargs).fit(
            X, y, sensitive_features="age"
        )


def test_missing_values_and_bad_forms_are_refused_with_their_fix():
    """A missing age cannot be set apart without groups: the error names the fixes."""
    X, y, _, _ = _compas(400)
    X.loc[3, "age"] = np.nan
    with pytest.raises(InputError, match="Drop those rows or fill in the values"):
        FairAutoML(constraints=f"{GEDI}[age] <= 0.1", n_trials=1).fit(
            X, y, sensitive_features="age"
        )
    with pytest.raises(ConstraintError, match="name it in brackets"):
        parse_constraint(f"{GEDI} <= 0.1")
    X, y, _, _ = _compas(400)
    with pytest.raises(InputError, match="Drop 'age' from sensitive_bins"):
        FairAutoML(constraints=f"{GEDI}[age] <= 0.1", sensitive_bins={"age": [30]}, n_trials=1).fit(
            X, y, sensitive_features="age"
        )


def test_the_constrained_search_measures_it_per_trial_and_lowers_it_on_held_out_rows():
    """COMPAS by age: each trial's validation value is recorded, and the pick's held-out
    dependence is lower than a plain fit's on the same split."""
    X, y, X_test, _ = _compas(2500)
    kwargs = {
        "n_trials": 4, "learners": ["lightgbm"], "decision_rule": "group_aware",
        "keep_sensitive_as_feature": True, "random_state": 0,
    }  # fmt: skip
    plain = FairAutoML(constraints=f"{GEDI}[age] <= 1", mitigators=["none"], **kwargs)
    plain.fit(X, y, sensitive_features="age")
    fair = FairAutoML(constraints=f"{GEDI}[age] <= 0.05", **kwargs)
    fair.fit(X, y, sensitive_features="age")
    board = fair.leaderboard_
    assert board[f"{GEDI}[age]"].notna().all()
    assert (board[f"{GEDI}[age]_low"] <= board[f"{GEDI}[age]"] + 1e-12).all()
    span = (float(X["age"].min()), float(X["age"].max()))
    u = scaled(X_test["age"].to_numpy(float), span)

    def held_out(model: FairAutoML) -> float:
        return generalized_disparate_impact(
            u, model.predict(X_test, sensitive_features=X_test["age"])
        )

    assert held_out(fair) < held_out(plain) / 2


def test_trend_removal_follows_a_curve_under_a_degree_two_bound():
    """A rate that rises then falls with age: the degree-2 rule meets the degree-2 bound on
    the rows it is fitted on; a line (the degree-1 rule) cannot remove the hump."""
    from fairautoml.measures.metrics import get_metric
    from fairautoml.mitigators.trend_removal import TrendRemoval

    rng = np.random.default_rng(3)
    ages = rng.integers(18, 80, 6000).astype(float)
    u = (ages - 18) / 62
    scores = np.clip(0.25 + 1.2 * u * (1 - u) + rng.normal(0, 0.15, len(u)), 0, 1)
    y = (rng.random(len(u)) < scores).astype(np.int64)
    c2, codes = _bound(f"{GEDI}_2[age] <= 0.05", ages)
    c1, _ = _bound(f"{GEDI}[age] <= 0.05", ages)
    accuracy = get_metric("accuracy")

    def decided(constraint):
        rule = TrendRemoval().fit(scores, y, codes, [constraint], accuracy, {}, 0)
        return (rule.predict_proba(scores, codes) >= 0.5).astype(np.int64)

    raw = (scores >= 0.5).astype(np.int64)
    assert c2.value(y, raw, codes) > 0.3  # the hump, before the rule
    assert c2.value(y, decided(c2), codes) <= 0.05
    assert c2.value(y, decided(c1), codes) > 0.1  # a line leaves the hump


def test_an_audit_measures_it_on_new_rows_with_ages_the_fit_never_saw():
    """New rows carry their own ages (some outside the fit's), read on the fit's scale: the
    audit's value is the hand computation on those rows, not an index error."""
    X, y, X_new, y_new = _compas(1200)
    automl = FairAutoML(
        constraints=f"{GEDI}[age] <= 0.5", n_trials=2, learners=["logistic_regression"],
        mitigators=["none"], random_state=0,
    ).fit(X, y, sensitive_features="age")  # fmt: skip
    X_new = X_new.copy()
    X_new.loc[:9, "age"] = float(X["age"].max()) + 5  # older than any applicant of the fit
    result = automl.audit(X_new, y_new, "age")
    record = next(c for c in result.constraints if c["constraint"].startswith(GEDI))
    decisions = (automl.predict(X_new, "age") == automl.fit_summary_.positive_label).astype(float)
    low, high = float(X["age"].min()), float(X["age"].max())
    u = (X_new["age"].to_numpy(dtype=float) - low) / (high - low)
    assert record["value"] == pytest.approx(abs(np.polyfit(u, decisions, 1)[0]), abs=1e-9)
