"""``fit(..., target_X=..., shift_robust=True)``: the fairness claim is the worst case over
a set of reweightings (the importance weights' density ratio tempered,
:data:`fairautoml.data.shift.ROBUST_POWERS`), measured in the one place the search
measures constraints (:mod:`fairautoml.search.measure`)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml.cli import main
from fairautoml.data.shift import ROBUST_POWERS, WEIGHT_CAP, importance_weights
from fairautoml.estimators.context import ROBUST_WITHOUT_TARGET, search_context
from fairautoml.exceptions import ConfigurationError, InputError
from fairautoml.measures.claims import worst_case
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraints,
)
from fairautoml.report.card import compute_verdict, verdict_lines
from fairautoml.report.page import pick_summary
from fairautoml.search.measure import measured
from fairautoml.study.trial import Candidate

DP = "demographic_parity_difference"


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
    mitigators=[], cv_folds=None, confirm=False, constraints=f"{DP} <= 0.2",
)  # fmt: skip


def _gaussian(n: int, mean: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(mean, 1.0, n), "noise": rng.normal(0, 1, n)})


def test_tempered_weights_run_from_the_users_weights_to_the_target_and_beyond():
    train, target = _gaussian(1500, 0.0, seed=1), _gaussian(800, 1.0, seed=2)
    base = np.random.default_rng(0).uniform(0.5, 2.0, len(train))
    shift = importance_weights(train, target, base_weight=base, random_state=0)
    np.testing.assert_allclose(shift.tempered(1.0), shift.weights)  # the central weights
    np.testing.assert_allclose(shift.tempered(0.0), base)  # the fit's own population
    unweighted = importance_weights(train, target, random_state=0)
    np.testing.assert_allclose(unweighted.tempered(0.0), np.ones(len(train)))
    weights = shift.reweightings(ROBUST_POWERS)
    assert weights.shape == (len(ROBUST_POWERS), len(train))
    for w in weights:  # each normalised as the central weights are: the users' total
        assert w.sum() == pytest.approx(base.sum())
    # capped as they are: at the furthest power the rows far into the target share the top
    top = weights[-1] / base
    assert np.sum(np.isclose(top, top.max())) > 1 and top.max() < 2 * WEIGHT_CAP
    # the further along the path, the further the weighted mean of x moves toward (and
    # past) the target's, and the fewer rows the evidence is worth
    means = [np.average(train["x"], weights=w) for w in weights]
    assert means == sorted(means) and means[0] < 0.1 < means[-1]
    record = shift.robust_record(ROBUST_POWERS)
    assert record["powers"] == list(ROBUST_POWERS)
    worth = record["effective_rows"]
    assert worth == sorted(worth, reverse=True) and worth[2] == pytest.approx(shift.ess)
    json.dumps(record)


def test_the_worst_case_by_hand():
    constraints = parse_constraints([f"{DP} <= 0.1", "demographic_parity_ratio >= 0.8"])
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    pred = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    reweightings = [
        np.ones(8),
        np.array([1, 1, 1, 1, 1, 3, 3, 3.0]),
        np.array([3, 1, 1, 3, 3, 1, 1, 3.0]),
    ]
    # selection rates by hand: uniform 3/4 vs 1/4; the second 3/4 vs 1/10; the third 5/8
    # vs 3/8
    hand_dp = [0.5, 0.65, 0.25]
    hand_ratio = [1 / 3, 0.1 / 0.75, 0.6]
    points = [
        (
            evaluate_constraints(constraints, y, pred, groups, w),
            evaluate_intervals(constraints, y, pred, groups, random_state=0, sample_weight=w),
        )
        for w in reweightings
    ]
    for (values, _), dp, ratio in zip(points, hand_dp, hand_ratio, strict=True):
        assert values[DP] == pytest.approx(dp)
        assert values["demographic_parity_ratio"] == pytest.approx(ratio)
    values, intervals = worst_case(constraints, points)
    assert values[DP] == pytest.approx(max(hand_dp))  # a difference: its largest
    assert values["demographic_parity_ratio"] == pytest.approx(min(hand_ratio))  # a ratio
    for k, pick in ((DP, max), ("demographic_parity_ratio", min)):
        assert intervals[k] == (pick(i[k][0] for _, i in points), pick(i[k][1] for _, i in points))
    nan = ({DP: float("nan"), "demographic_parity_ratio": 1.0}, points[0][1])
    assert np.isnan(worst_case(constraints, [points[0], nan])[0][DP])  # cannot tell stays


def test_the_search_measures_the_worst_case_over_the_set():
    """A point measured in the search (measured) reads the worst value over the
    reweightings, each computed as the search computes one value: never below the value
    under the central target weights."""
    X, y = _table(800, seed=1)
    target = X[X["x1"] > -0.2].reset_index(drop=True)
    params = FairAutoML(**FAST).search_params()
    robust, _ = search_context(params, X, y, "sex", target_X=target, shift_robust=True)
    central, _ = search_context(params, X, y, "sex", target_X=target)
    np.testing.assert_array_equal(robust.val_idx, central.val_idx)
    np.testing.assert_allclose(robust.val_weight, central.val_weight)
    weights = robust.val_weight_set
    assert weights.shape == (len(ROBUST_POWERS), len(robust.val_idx))
    assert central.val_weight_set is None
    X_val, y_val, g_val = robust.val
    proba = 1 / (1 + np.exp(-X_val["x1"].to_numpy()))
    pred = (proba >= 0.5).astype(int)
    point = measured(Candidate("logistic_regression"), robust, proba)
    plain = measured(Candidate("logistic_regression"), central, proba)
    by_hand = [evaluate_constraints(robust.constraints, y_val, pred, g_val, w)[DP] for w in weights]
    assert point.constraint_values[DP] == pytest.approx(max(by_hand))
    assert point.constraint_values[DP] >= plain.constraint_values[DP]
    assert plain.constraint_values[DP] == pytest.approx(by_hand[ROBUST_POWERS.index(1.0)])
    assert point.constraint_intervals[DP][1] >= plain.constraint_intervals[DP][1]
    assert point.metric == pytest.approx(plain.metric)  # the metric: the target as estimated


def test_the_option_without_target_rows_is_an_error_naming_the_fix():
    X, y = _table(200)
    with pytest.raises(InputError) as caught:
        FairAutoML(**FAST).fit(X, y, "sex", shift_robust=True)
    assert str(caught.value) == ROBUST_WITHOUT_TARGET
    assert "target_X=rows" in str(caught.value) and "--shift-robust" in str(caught.value)


def test_a_robust_fit_records_the_set_says_so_and_audits():
    X, y = _table(800, seed=2)
    target = X[X["x1"] > -0.2].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = FairAutoML(**FAST).fit(X, y, "sex", target_X=target, shift_robust=True)
    robust = fitted.best_config_["shift"]["robust"]
    assert robust["powers"] == list(ROBUST_POWERS)
    assert len(robust["effective_rows"]) == len(ROBUST_POWERS)
    assert fitted.fit_summary_.shift["robust"] == robust
    json.dumps(fitted.best_config_)
    said = " ".join(pick_summary(fitted))
    assert "worst case over 4 reweightings" in said and "0, 0.5, 1, 1.5" in said
    card = " ".join(verdict_lines(compute_verdict(fitted, (X, y, "sex"))))
    assert "worst case over 4 reweightings" in card
    new, y_new = _table(400, seed=3)  # the audit measures what it sees: nothing special
    result = fitted.audit(new, y_new, "sex")
    assert DP in {c["constraint"].split(" ")[0] for c in result.constraints}


def test_cli_shift_robust(tmp_path, capsys):
    X, y = _table(600, seed=3)
    table = X.assign(approved=y)
    table.to_csv(tmp_path / "fit.csv", index=False)
    table[table["x1"] > 0].to_csv(tmp_path / "target.csv", index=False)
    out = tmp_path / "run"
    main([
        "fit", str(tmp_path / "fit.csv"), "--target", "approved", "--sensitive", "sex",
        "--target-rows", str(tmp_path / "target.csv"), "--shift-robust", "--n-trials", "1",
        "--learners", "logistic_regression", "--mitigators", "none",
        "--constraint", "demographic_parity_difference<=0.3", "--no-confirm", "-q",
        "--out", str(out),
    ])  # fmt: skip
    assert "worst case over 4 reweightings" in capsys.readouterr().out
    config = json.loads((out / "best_config.json").read_text())
    assert config["shift"]["robust"]["powers"] == list(ROBUST_POWERS)
    source = json.loads((out / "source.json").read_text())
    assert source["shift_robust"] is True  # a worker measures as the fit did


def test_an_update_aimed_at_a_target_keeps_the_robust_claim():
    from fairautoml.estimators.update import update

    X, y = _table(800, seed=4)
    target = X[X["x1"] > -0.2].reset_index(drop=True)
    X_new, y_new = _table(400, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = FairAutoML(**FAST).fit(X, y, "sex", target_X=target, shift_robust=True)
        result = update(fitted, X_new, y_new, target_X=target, search_again=False, random_state=0)
    robust = result.model.best_config_["shift"]["robust"]
    assert robust["powers"] == list(ROBUST_POWERS)


def test_resuming_a_study_with_the_robust_set_switched_says_so(tmp_path):
    X, y = _table(600, seed=4)
    target = X[X["x1"] > -0.2].reset_index(drop=True)
    stored = dict(FAST, storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="shifted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        FairAutoML(**stored).fit(X, y, "sex", target_X=target)
        switched = "shift_robust.s reweightings differ"
        with pytest.raises(ConfigurationError, match=switched) as caught:
            FairAutoML(**stored).fit(X, y, "sex", target_X=target, shift_robust=True)
    assert "another study name" in str(caught.value)


def test_decide_keeps_the_worst_case_over_the_set():
    """Re-deciding a robust fit without refitting: the new claim is the worst case over the
    kept reweightings of the evidence rows, checked by hand under each."""
    X, y = _table(900, seed=5)
    target = X[X["x1"] > -0.2].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = FairAutoML(**dict(FAST, refit=False)).fit(
            X, y, "sex", target_X=target, shift_robust=True
        )
        evidence = fitted.evidence_
        assert evidence["weight_set"].shape == (len(ROBUST_POWERS), len(evidence["scores"]))
        decided = fitted.decide(constraints=f"{DP} <= 0.1")
    known = np.asarray(evidence["groups"]) >= 0
    decisions = np.asarray(decided.evidence_["predictions"])[known]
    labels, codes = np.asarray(evidence["labels"])[known], np.asarray(evidence["groups"])[known]
    (c,) = decided.constraints_
    by_hand = [
        evaluate_constraints([c], labels, decisions, codes, w[known])[c.key]
        for w in evidence["weight_set"]
    ]
    claimed = decided.best_config_["constraint_values"][c.key]
    assert claimed == pytest.approx(max(by_hand))
    central = evaluate_constraints([c], labels, decisions, codes, evidence["weight"][known])
    assert claimed >= central[c.key] - 1e-12
