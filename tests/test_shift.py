"""``fit(..., target_X=...)``: importance weights for the population the model will serve
(:mod:`fairautoml.data.shift`) recover a known shift; the bad inputs are clear errors; a
fit aimed at target rows records what its weights are worth and says so."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML, FairAutoMLRegressor
from fairautoml.cli import main
from fairautoml.data.shift import (
    NO_OVERLAP,
    TARGET_COLUMNS,
    TARGET_EMPTY,
    domain_columns,
    effective_sample_size,
    importance_weights,
)
from fairautoml.exceptions import InputError, ShiftOverlapWarning
from fairautoml.report.card import compute_verdict, verdict_lines
from fairautoml.report.page import pick_summary


def _gaussian(n: int, mean: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(mean, 1.0, n), "noise": rng.normal(0, 1, n)})


def test_effective_sample_size_by_hand():
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    # (1 + 1 + 2)^2 / (1 + 1 + 4) = 16 / 6
    assert effective_sample_size(np.array([1.0, 1.0, 2.0])) == pytest.approx(16 / 6)
    assert effective_sample_size(np.array([0.0, 0.0, 5.0])) == pytest.approx(1)


def test_weights_recover_a_known_gaussian_shift():
    """Training x ~ N(0, 1), target x ~ N(0.5, 1): the true density ratio is
    exp(0.5 x - 0.125). Weighted means over the training rows match the target's."""
    train, target = _gaussian(4000, 0.0, seed=1), _gaussian(2000, 0.5, seed=2)
    shift = importance_weights(train, target, random_state=0)
    x, w = train["x"].to_numpy(), shift.weights
    assert w.mean() == pytest.approx(1.0)
    true = np.exp(0.5 * x - 0.125)
    assert np.corrcoef(w, true)[0, 1] > 0.8
    xt = target["x"].to_numpy()
    for f in (lambda v: v, lambda v: v**2, lambda v: v > 1):
        assert np.average(f(x), weights=w) == pytest.approx(np.mean(f(xt)), abs=0.05)
    # and the population's: E[x] = 0.5, E[x^2] = 1.25, P(x > 1) = P(N(0.5, 1) > 1) = 0.3085
    assert np.average(x, weights=w) == pytest.approx(0.5, abs=0.1)
    assert np.average(x**2, weights=w) == pytest.approx(1.25, abs=0.1)
    assert np.average(x > 1, weights=w) == pytest.approx(0.3085, abs=0.03)
    assert np.mean(x > 1) < 0.2  # unweighted, the training rows say otherwise
    assert 0.5 * len(x) < shift.ess < len(x)  # a mild shift keeps most of the evidence
    assert 0.55 < shift.auc < 0.75


def test_no_shift_gives_weights_near_one():
    train, target = _gaussian(1500, 0.0, seed=3), _gaussian(750, 0.0, seed=4)
    shift = importance_weights(train, target, random_state=0)
    assert shift.ess > 0.9 * len(train)
    assert shift.auc < 0.56
    assert shift.capped_rows == 0


def test_user_weights_multiply_and_keep_their_total():
    train, target = _gaussian(1200, 0.0, seed=5), _gaussian(600, 0.0, seed=6)
    base = np.random.default_rng(0).uniform(0.5, 2.0, len(train))
    base[:50] = 0.0  # rows the user left out stay out
    shift = importance_weights(train, target, base_weight=base, random_state=0)
    assert shift.weights.sum() == pytest.approx(base.sum())
    assert np.all(shift.weights[:50] == 0) and np.all(shift.weights[50:] > 0)
    ratio = shift.weights[50:] / base[50:]  # the importance weights alone: near 1 here
    assert 0.8 < np.median(ratio) < 1.2


def test_no_overlap_is_an_error_naming_the_fix():
    train, target = _gaussian(600, 0.0, seed=7), _gaussian(300, 50.0, seed=8)
    with pytest.raises(InputError, match="barely overlap") as caught:
        importance_weights(train, target, random_state=0)
    assert "leave target_X out" in str(caught.value)
    assert NO_OVERLAP.split("{")[0] in str(caught.value)


def test_poor_overlap_warns_with_the_effective_sample_size():
    train, target = _gaussian(1500, 0.0, seed=9), _gaussian(500, 2.2, seed=10)
    with pytest.warns(ShiftOverlapWarning, match="effective sample size"):
        shift = importance_weights(train, target, random_state=0)
    assert shift.poor_overlap
    # the rows at the cap share the largest weight (clipped, then all scaled alike)
    assert np.isclose(shift.weights, shift.weights.max()).sum() == shift.capped_rows > 0


def test_target_columns_must_be_the_features():
    X = pd.DataFrame({"a": [1.0], "b": [2.0], "sex": ["f"]})
    with pytest.raises(InputError, match="missing: \\['b'\\]"):
        domain_columns(X, X[["a", "sex"]], ["a", "b"], ["sex"])
    with pytest.raises(InputError, match="not in X: \\['zip'\\]"):
        domain_columns(X, X.assign(zip=1), ["a", "b"], ["sex"])
    # the sensitive column of X may be given (it then counts) or left out
    assert domain_columns(X, X, ["a", "b"], ["sex"]) == ["a", "b", "sex"]
    assert domain_columns(X, X[["a", "b"]], ["a", "b"], ["sex"]) == ["a", "b"]


def _table(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    X = pd.DataFrame({"x1": rng.normal(size=n) + 0.5 * (sex == "m"), "x2": rng.normal(size=n)})
    X["sex"] = sex
    logits = 1.5 * X["x1"] + X["x2"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(int)
    return X, y


FAST = dict(
    n_trials=2, time_budget=None, random_state=0, learners=["logistic_regression"],
    mitigators=[], cv_folds=None, confirm=False,
    constraints="demographic_parity_difference <= 0.2",
)  # fmt: skip


@pytest.mark.parametrize(
    "target, fragment",
    [
        (lambda X: X.iloc[:0], TARGET_EMPTY[:30]),
        (lambda X: X.drop(columns=["x2"]), TARGET_COLUMNS.split("{")[0]),
        (lambda X: X.assign(income=1.0), "not in X: ['income']"),
        (lambda X: X.iloc[:3], "at least 10 are needed"),
    ],
    ids=["empty", "missing-column", "extra-column", "too-few"],
)
def test_bad_target_rows_are_errors_before_the_search(target, fragment):
    X, y = _table()
    with pytest.raises(InputError) as caught:
        FairAutoML(**FAST).fit(X, y, "sex", target_X=target(X))
    assert fragment in str(caught.value)


def test_fit_with_target_rows_records_the_claims_population():
    X, y = _table(800, seed=1)
    target = X[X["x1"] > -0.2].reset_index(drop=True)  # the model will serve higher x1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = FairAutoML(**FAST).fit(X, y, "sex")
        aimed = FairAutoML(**FAST).fit(X, y, "sex", target_X=target)
    shift = aimed.best_config_["shift"]
    assert shift["target_rows"] == len(target) and shift["rows"] == len(X)
    assert 0 < shift["effective_rows"] < len(X)
    assert shift["with_sample_weight"] is False and shift["seconds"] > 0
    assert aimed.best_config_["sample_weight"] is None  # only importance weights
    assert aimed.fit_summary_.shift == shift
    assert plain.best_config_["shift"] is None
    # the claim is measured on the reweighted rows: not the plain fit's numbers
    key = "demographic_parity_difference"
    assert aimed.best_config_["constraint_values"][key] != pytest.approx(
        plain.best_config_["constraint_values"][key]
    )
    json.dumps(aimed.best_config_)  # the record is plain data
    said = " ".join(pick_summary(aimed))
    assert "the claim is for the target population" in said
    assert "effective sample size" in said
    card = " ".join(verdict_lines(compute_verdict(aimed, (X, y, "sex"))))
    assert "target rows" in card


def test_regressor_takes_target_rows():
    X, _ = _table(500, seed=2)
    amount = X["x1"].to_numpy() * 2 + np.random.default_rng(0).normal(size=len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = FairAutoMLRegressor(
            n_trials=1, time_budget=None, random_state=0, learners=["ridge"], mitigators=[],
            cv_folds=None, confirm=False,
        ).fit(X, amount, "sex", target_X=X[X["x2"] > 0])  # fmt: skip
    assert est.best_config_["shift"]["target_rows"] == int((X["x2"] > 0).sum())


def test_cli_target_rows(tmp_path, capsys):
    X, y = _table(600, seed=3)
    table = X.assign(approved=y)
    table.to_csv(tmp_path / "fit.csv", index=False)
    table[table["x1"] > 0].to_csv(tmp_path / "target.csv", index=False)  # labels ignored
    out = tmp_path / "run"
    main([
        "fit", str(tmp_path / "fit.csv"), "--target", "approved", "--sensitive", "sex",
        "--target-rows", str(tmp_path / "target.csv"), "--n-trials", "1",
        "--learners", "logistic_regression", "--mitigators", "none",
        "--constraint", "demographic_parity_difference<=0.3", "--no-confirm", "-q",
        "--out", str(out),
    ])  # fmt: skip
    said = capsys.readouterr().out
    assert "the claim is for the target population" in said
    config = json.loads((out / "best_config.json").read_text())
    assert config["shift"]["target_rows"] == int((table["x1"] > 0).sum())


def test_a_worker_reads_the_target_rows_the_fit_was_given(tmp_path):
    """``fit --target-rows`` records the file in the study's source, and the weights do not
    depend on the run (random_state=None included), so a worker's data match the fit's."""
    import argparse

    from fairautoml.cli.inputs import _source
    from fairautoml.estimators.context import search_context
    from fairautoml.estimators.worker import read_target_rows

    X, y = _table(400, seed=4)
    table = X.assign(approved=y, w=1.0)
    table.to_csv(tmp_path / "target.csv", index=False)
    args = argparse.Namespace(
        dataset=None, data=str(tmp_path / "fit.csv"), target="approved", sensitive=["sex"],
        weight="w", target_rows=str(tmp_path / "target.csv"), group_probabilities=None,
    )  # fmt: skip
    source = _source(args)
    assert source["target_rows"] == str((tmp_path / "target.csv").resolve())
    rows = read_target_rows(source["target_rows"], pd.Series(y, name="approved"), "w")
    assert list(rows.columns) == list(X.columns)
    params = {**FairAutoML(**{**FAST, "random_state": None}).search_params()}
    first, _ = search_context(params, X, y, "sex", target_X=rows)
    again, _ = search_context(params, X, y, "sex", target_X=rows)
    np.testing.assert_array_equal(first.data.weight, again.data.weight)


def test_a_worker_joins_a_study_fitted_with_target_rows(tmp_path, capsys):
    """The worker rebuilds the fit's importance weights: its data match the study's."""
    import fairautoml

    X, y, s = fairautoml.datasets.load("german")
    table = X.assign(sex=s, good=y)
    csv, target = tmp_path / "data.csv", tmp_path / "target.csv"
    table.to_csv(csv, index=False)
    table[table["age"] > 30].to_csv(target, index=False)
    url = f"journal:{tmp_path / 'study.log'}"
    from fairautoml.study.pick import VERDICT_EXITS

    assert main([
        "fit", str(csv), "--target", "good", "--sensitive", "sex", "--target-rows", str(target),
        "--n-trials", "1", "--learners", "logistic_regression", "--storage", url, "-q",
    ]) in VERDICT_EXITS  # fmt: skip
    capsys.readouterr()
    assert main(["worker", "--storage", url, "--data", str(csv), "-q"]) == 0
    assert ": 0 trials on study 'fairautoml'" in capsys.readouterr().out
