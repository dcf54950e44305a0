"""Disparities measured with group membership probabilities (BISG) instead of known groups:
the regression estimator against the truth in simulations of known calibration, the plain
weighted estimator's pull toward zero, the hand computation, each bad input's fix, and the
audit that reports both."""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import fairautoml
from fairautoml import FairAutoML, cli
from fairautoml.audit.constraint_verdicts import CANNOT_TELL, HOLDS, VIOLATED
from fairautoml.exceptions import InputError
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.membership import (
    ASSUMPTIONS,
    membership_measures,
    mixing_matrix,
    outcome_columns,
    regression_means,
    regression_values,
    weighted_means,
)
from fairautoml.measures.membership_simulation import compare_with_true_groups, tempered
from fairautoml.testing import make_biased

DP = "demographic_parity_difference <= 0.05"
TPR = "true_positive_rate_difference <= 0.05"
RATES = np.array([0.55, 0.35])  # the two groups' selection rates: a true gap of 0.2
PRIOR = (0.7, 0.7)  # Beta prior of a row's probability of group 0: BISG-like, mostly sure


def calibrated_draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of group 0 from a Beta prior and each row's true group drawn from its
    own probability: calibrated by construction."""
    p = rng.beta(*PRIOR, size=n)
    return np.column_stack([p, 1 - p]), (rng.random(n) >= p).astype(int)


def decisions_of(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """Decisions that depend on the true group and on a draw independent of the proxy."""
    return (rng.random(len(group)) < RATES[group]).astype(int)


def dp_estimates(draws: int, n: int, seed: int, temperature: float = 1.0, n_boot: int = 10):
    """Each draw's regression and weighted DP difference (the probabilities given to the
    estimator tempered by ``temperature``), and the regression interval's coverage of the
    true gap."""
    rng = np.random.default_rng(seed)
    reg, wtd, covered = [], [], []
    for i in range(draws):
        P, group = calibrated_draw(rng, n)
        d = decisions_of(rng, group)
        e = membership_measures(
            None, d, tempered(P, temperature), DP, n_boot=n_boot, level=0.9, random_state=i
        ).estimate("demographic_parity_difference")
        reg.append(e.regression)
        wtd.append(e.weighted)
        low, high = e.regression_interval
        covered.append(low <= RATES[0] - RATES[1] <= high)
    return np.array(reg), np.array(wtd), np.array(covered)


def test_regression_estimator_is_unbiased_and_the_weighted_one_understates():
    """Calibrated probabilities, decisions independent of the proxy given the group: the
    regression estimate's mean sits on the true gap within its standard error; the plain
    weighted one sits far below it, on every draw below the regression's."""
    reg, wtd, covered = dp_estimates(draws=300, n=2000, seed=0, n_boot=200)
    truth = RATES[0] - RATES[1]
    se = reg.std(ddof=1) / np.sqrt(len(reg))
    assert abs(reg.mean() - truth) < 3 * se
    weighted_bias = wtd.mean() - truth
    assert weighted_bias < -5 * wtd.std(ddof=1) / np.sqrt(len(wtd))
    assert np.all(wtd <= reg + 1e-12)
    assert 0.85 <= covered.mean() <= 0.97  # the 90% intervals


def test_miscalibrated_probabilities_bias_the_regression_estimate():
    """The estimator is only as right as the calibration: over-confident probabilities
    (sharpened) make it understate the gap, under-confident ones (flattened) overstate it,
    and both biases exceed the calibrated one's."""
    truth = RATES[0] - RATES[1]
    bias, se = {}, {}
    for temperature in (0.5, 1.0, 2.0):
        reg, _, _ = dp_estimates(draws=150, n=2000, seed=1, temperature=temperature)
        bias[temperature] = reg.mean() - truth
        se[temperature] = reg.std(ddof=1) / np.sqrt(len(reg))
    assert abs(bias[1.0]) < 3 * se[1.0]
    assert bias[0.5] < -3 * se[0.5] and bias[2.0] > 3 * se[2.0]
    assert min(abs(bias[0.5]), abs(bias[2.0])) > abs(bias[1.0])


def test_true_positive_rates_stay_unbiased_when_base_rates_differ():
    """TPR is a ratio of two regressions over all rows: the groups' different base rates
    do not bias it (rows of one label alone are not calibrated to the probabilities)."""
    rng = np.random.default_rng(2)
    truth, reg = 0.7 - 0.5, []
    for i in range(150):
        P, group = calibrated_draw(rng, 3000)
        y = (rng.random(len(group)) < np.array([0.7, 0.3])[group]).astype(int)
        tpr, fpr = np.array([0.7, 0.5])[group], np.array([0.3, 0.2])[group]
        d = (rng.random(len(group)) < np.where(y == 1, tpr, fpr)).astype(int)
        e = membership_measures(y, d, P, TPR, n_boot=10, random_state=i)
        reg.append(e.estimate("true_positive_rate_difference").regression)
    reg = np.array(reg)
    assert abs(reg.mean() - truth) < 3 * reg.std(ddof=1) / np.sqrt(len(reg))


def test_regression_estimate_is_least_squares_by_hand():
    """On a tiny table the rates are numpy's least squares of the decisions on the
    probabilities (weighted: on rows scaled by the square root of the weights), and the
    weighted estimate is the mixing matrix times them."""
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9], [0.5, 0.5], [0.6, 0.4]])
    d = np.array([0, 1, 0, 0, 1, 1])  # least squares inside [0, 1]: nothing clipped
    expected = np.linalg.lstsq(P, d, rcond=None)[0]
    assert np.allclose(regression_means(P, d[:, None])[:, 0], expected)
    w = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 0.5])
    root = np.sqrt(w)
    expected_w = np.linalg.lstsq(P * root[:, None], d * root, rcond=None)[0]
    assert np.allclose(regression_means(P, d[:, None], w)[:, 0], expected_w)
    assert np.allclose(weighted_means(P, d[:, None])[:, 0], (P * d[:, None]).sum(0) / P.sum(0))
    assert np.allclose(mixing_matrix(P) @ expected, weighted_means(P, d[:, None])[:, 0])
    result = membership_measures(None, d, P, DP, n_boot=10, min_effective_rows=1)
    assert np.allclose(result.rates.xs("selection", level="rate")["regression"], expected)
    gap = result.estimate("demographic_parity_difference").regression
    assert gap == pytest.approx(abs(expected[0] - expected[1]))


def test_values_without_intervals_are_the_measures_point_estimates():
    """The per-trial shortcut reads what the full measure reads."""
    rng = np.random.default_rng(10)
    P, group = calibrated_draw(rng, 1000)
    y = (rng.random(len(group)) < 0.5).astype(int)
    d = decisions_of(rng, group)
    constraints = parse_constraints([DP, "equalized_odds_ratio >= 0.8"])
    full = membership_measures(y, d, P, constraints, n_boot=10)
    quick = regression_values(constraints, y, d, P)
    assert quick == {e.key: pytest.approx(e.regression) for e in full.estimates}


def test_outcome_columns_give_tpr_as_a_ratio():
    """The columns whose group means make a TPR: D*Y over Y."""
    columns = outcome_columns(np.array([1, 0, 1]), np.array([1, 1, 0]))
    assert columns.tolist() == [[1, 1, 1, 0, 0], [0, 0, 1, 0, 0], [1, 0, 0, 1, 1]]


def test_rates_outside_zero_one_are_clipped_and_said():
    """Rows sure of group 0 all selected and rows half-and-half never: least squares puts
    group 1's rate at -1, which is clipped to 0, and the result says so."""
    P = np.array([[1.0, 0.0]] * 100 + [[0.5, 0.5]] * 100)
    d = np.array([1] * 100 + [0] * 100)
    assert np.allclose(regression_means(P, d[:, None].astype(float))[:, 0], [1.0, -1.0])
    result = membership_measures(None, d, P, DP, n_boot=20, min_effective_rows=1)
    assert result.clipped == ("selection of '1': -1.000 clipped to 0",)
    rates = result.rates.xs("selection", level="rate")["regression"]
    assert rates.tolist() == pytest.approx([1.0, 0.0])
    assert result.estimate("demographic_parity_difference").regression == pytest.approx(1.0)


def test_compare_with_true_groups_reads_the_truth_on_the_sample():
    """The helper's true value is the gap by the true groups on these very rows."""
    rng = np.random.default_rng(4)
    P, group = calibrated_draw(rng, 2000)
    d = decisions_of(rng, group)
    frame = pd.DataFrame(P, columns=["a", "b"])
    result = membership_measures(None, d, frame, DP, n_boot=50, random_state=0)
    table = compare_with_true_groups(result, None, d, np.array(["a", "b"])[group], DP)
    row = table.loc["demographic_parity_difference"]
    assert row["true"] == pytest.approx(abs(d[group == 0].mean() - d[group == 1].mean()))
    assert row["regression_error"] == pytest.approx(row["regression"] - row["true"])


# --- bad inputs: each raises, naming its fix ----------------------------------------------------


def _good(n: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    P, _ = calibrated_draw(rng, n)
    return pd.DataFrame(P, columns=["a", "b"]), (rng.random(n) < 0.5).astype(int)


def _bad(change):
    P, d = _good()
    return change(P.copy()), d


@pytest.mark.parametrize(
    ("bad", "fix"),
    [
        (lambda P: P * 1.1, r"rows 0, 1, 2, 3, 4 and 195 more.*Normalise"),
        (lambda P: P.assign(a=P["a"] - 2 * P["a"].where(P.index == 3, 0)), "row.*3.*drop"),
        (lambda P: P.assign(a=P["a"].mask(P.index == 7)), r"rows 7\b.*drop those rows"),
        (lambda P: P[["a"]], "at least two groups"),
        (lambda P: P.set_axis(["a", "a"], axis=1), "distinct names"),
        (lambda P: P["a"].to_numpy(), r"np\.column_stack"),
        (lambda P: P.astype(str), "not labels"),
        (lambda P: P.assign(c=0.0), r"'c'.*Merge groups"),
    ],
    ids=["sum", "negative", "missing", "one group", "duplicate", "1-D", "text", "no mass"],
)
def test_each_bad_probability_table_is_refused_with_its_fix(bad, fix):
    """What was wrong, where, and what to do, for each way a table can be wrong."""
    P, d = _bad(bad)
    with pytest.raises(InputError, match=fix):
        membership_measures(None, d, P, DP)


def test_collinear_groups_are_refused_with_the_effective_sizes():
    """Two groups whose probabilities always move together cannot be told apart."""
    P, d = _good()
    three = pd.DataFrame({"a": P["a"], "b": P["b"] / 2, "c": P["b"] / 2})
    with pytest.raises(InputError, match=r"\['b', 'c'\].*effective size.*Merge groups"):
        membership_measures(None, d, three, DP)


@pytest.mark.parametrize(
    ("y", "pred", "constraint", "fix"),
    [
        (None, None, TPR, "pass y"),
        (None, None, "mean_absolute_error_difference <= 1", "yes/no decisions"),
        (None, None, "demographic_parity_difference[sex, race] <= 0.1", "one probability table"),
        (None, "text", DP, "coded 0/1"),
        (None, "short", DP, "X has 200 rows"),
    ],
)
def test_each_bad_measure_request_is_refused_with_its_fix(y, pred, constraint, fix):
    """Labels a rate needs, measures probabilities cannot give, decisions not 0/1."""
    P, d = _good()
    decisions = {None: d, "text": np.where(d == 1, "yes", "no"), "short": d[:-1]}[pred]
    with pytest.raises(InputError, match=fix):
        membership_measures(y, decisions, P, constraint)


# --- the audit ---------------------------------------------------------------------------------


def _audit_rows(n: int, seed: int):
    """A table whose true group shifts a feature, and calibrated probabilities of the
    group drawn given it (p | a ~ Beta(1.7, 0.7), p | b ~ Beta(0.7, 1.7): the posterior of
    a Beta(0.7, 0.7) prior), independent of the features given the group."""
    X, y, s = make_biased(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    p = np.where(s == "a", rng.beta(1.7, 0.7, n), rng.beta(0.7, 1.7, n))
    P = pd.DataFrame({"a": p, "b": 1 - p})
    P.columns.name = "group"
    return X, y, s, P


def test_audit_with_probabilities_reports_both_estimators_and_the_assumptions():
    """Any fitted classifier: both estimates with intervals, a verdict read off the
    regression's, the assumptions in words, a JSON-ready record."""
    X, y, _, P = _audit_rows(3000, 6)
    features = X[["x1"]]
    model = LogisticRegression().fit(features, y)
    result = fairautoml.audit_with_probabilities(
        model, features, y, P, constraints=[DP, "equalized_odds_difference <= 0.05"], n_boot=200
    )
    (dp, eo) = result.constraints
    assert dp["verdict"] in (HOLDS, VIOLATED, CANNOT_TELL)
    assert dp["weighted"] < dp["value"]  # the weighted value understates the gap
    assert dp["interval"][0] <= dp["value"] <= dp["interval"][1]
    assert {"value", "weighted", "weighted_interval"} <= set(eo)
    text = result.summary()
    assert all(a in text for a in ASSUMPTIONS) and "plain weighted" in text
    json.dumps(result.to_dict())


def test_audit_refuses_a_model_that_reads_the_group():
    """With probabilities there is no group to give a group-aware model."""
    X, y, _, P = _audit_rows(300, 7)
    fitted = SimpleNamespace(
        task=SimpleNamespace(name="binary"), needs_group=True, rule=None,
        description="thresholds per group",
    )  # fmt: skip
    automl = SimpleNamespace(best_estimator_=fitted, best_config_={}, classes_=np.array([0, 1]))
    with pytest.raises(InputError, match="decision_rule='group_free'"):
        fairautoml.audit_with_probabilities(automl, X, y, P, constraints=DP)


def test_fairautoml_audit_takes_group_probabilities(tmp_path, capsys):
    """``automl.audit(X, y, group_probabilities=P)`` measures the fit's own constraints
    with the probabilities, and so does ``fairautoml audit --group-probabilities``; giving
    the groups as well is refused."""
    X, y, s, _ = _audit_rows(1500, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = FairAutoML(
            constraints=DP, n_trials=2, time_budget=None, learners=["logistic_regression"],
            mitigators=["none"], confirm=False, random_state=0, trial_time_limit=None,
        ).fit(X, y, s)  # fmt: skip
    X_new, y_new, s_new, P_new = _audit_rows(2000, 9)
    result = automl.audit(X_new, y_new, group_probabilities=P_new, n_boot=100)
    assert [c["key"] for c in result.constraints] == ["demographic_parity_difference"]
    assert result.groups == ("a", "b")
    with pytest.raises(InputError, match="not both"):
        automl.audit(X_new, y_new, s_new, group_probabilities=P_new)
    automl.save(tmp_path / "model.skops")
    csv = tmp_path / "new.csv"
    X_new.assign(label=y_new.to_numpy(), **P_new).to_csv(csv, index=False)
    out = tmp_path / "audit"
    args = ["audit", str(tmp_path / "model.skops"), str(csv), "--target", "label"]
    code = cli.main([*args, "--group-probabilities", "a,b", "--out", str(out)])
    assert "plain weighted" in capsys.readouterr().out
    doc = json.loads((out / "audit_probabilities.json").read_text())
    assert code == (1 if doc["verdict"] == VIOLATED else 0)
    assert doc["groups"] == ["a", "b"] and doc["assumptions"] == list(ASSUMPTIONS)
