"""Calibration within groups (issue 61): the measure against a hand computation, the
multicalibration post-processor on scores miscalibrated by group, and decide()."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fairautoml.exceptions import ConstraintError, InputError
from fairautoml.measures.calibration import calibration_errors, group_calibration
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import get_mitigator
from fairautoml.mitigators._multicalibration_core import Multicalibration


def test_calibration_error_by_hand():
    # group 0: bin 1 (scores 0.1, 0.1; labels 0, 1): |1 - 0.2| = 0.8 over 4 rows; bin 7
    # (0.7, 0.7; 1, 1): |2 - 1.4| = 0.6 -> (0.8 + 0.6) / 4 = 0.35.
    # group 1: bin 5 (0.5, 0.5, 0.5; 1, 0, 0): |1 - 1.5| = 0.5 over 3 rows -> 1/6.
    y = np.array([0, 1, 1, 1, 1, 0, 0])
    s = np.array([0.1, 0.1, 0.7, 0.7, 0.5, 0.5, 0.5])
    g = np.array([0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(calibration_errors(y, s, g), [0.35, 1 / 6])
    table = group_calibration(y, s, g, ["a", "b"], n_boot=50).table
    np.testing.assert_allclose(table["error"], [0.35, 1 / 6, 0.35])
    assert table.loc["largest", "error"] == pytest.approx(0.35)
    # weights act as repeated rows; a row without a group (-1) is left out
    w = np.array([2, 1, 1, 1, 1, 1, 1])
    rep = np.repeat(np.arange(7), w)
    np.testing.assert_allclose(
        calibration_errors(y, s, g, sample_weight=w), calibration_errors(y[rep], s[rep], g[rep])
    )
    np.testing.assert_allclose(
        calibration_errors(np.r_[y, 1], np.r_[s, 0.0], np.r_[g, -1]), [0.35, 1 / 6]
    )


def test_calibration_reads_probabilities_only():
    with pytest.raises(ValueError, match="probabilities in"):
        calibration_errors(np.array([0, 1]), np.array([-2.0, 3.0]), np.array([0, 1]))


def _miscalibrated(n: int, seed: int = 0):
    """True probabilities p; scores shifted up for group 1 and down for group 2."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    p = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < p).astype(np.int64)
    return y, np.clip(p + np.array([0.0, 0.15, -0.12])[g], 0, 1), g


def test_multicalibration_lowers_every_groups_error_on_new_rows():
    y, s, g = _miscalibrated(20000)
    fit, new = slice(0, 10000), slice(10000, None)
    rule = get_mitigator("multicalibration").fit(
        s[fit], y[fit], g[fit], [], get_metric("accuracy"), {"alpha": 0.02, "n_bins": 10}, 0
    )
    before = calibration_errors(y[new], s[new], g[new])
    after = calibration_errors(y[new], rule.predict_proba(s[new], g[new]), g[new])
    assert before.max() > 0.1
    assert after.max() < 0.05 and after.max() < before.max() / 3
    assert rule.calibrates and rule.needs_group


def test_blind_multicalibration_reads_group_probabilities():
    y, s, g = _miscalibrated(20000, seed=1)
    sharp = np.eye(3)[g] * 0.9 + 0.1 / 3
    rule = get_mitigator("multicalibration_blind").fit(
        s, y, g, [], get_metric("accuracy"), {"alpha": 0.02, "n_bins": 10}, 0, group_proba=sharp
    )
    assert rule.needs_group_proba and not rule.needs_group
    after = calibration_errors(y, rule.predict_proba(s, None, group_proba=sharp), g)
    assert after.max() < calibration_errors(y, s, g).max() / 2


def test_patching_stops_within_alpha_and_keeps_probabilities():
    y, s, g = _miscalibrated(5000, seed=2)
    m = Multicalibration.fit(y, s, np.eye(3)[g], alpha=0.05, z=0.0, min_rows=1)
    patched = m.apply(s, g)
    assert patched.min() >= 0 and patched.max() <= 1
    # on the fitting rows every cell is within alpha (or the last round did not move)
    assert m.rounds.shape[0] < 50
    # a code the fitting rows lacked gets no patch
    assert np.array_equal(m.apply(s[:5], np.full(5, 3)), s[:5])
    with pytest.raises(ValueError, match="alpha"):
        Multicalibration.fit(y, s, np.eye(3)[g], alpha=0.0)


@pytest.fixture(scope="module")
def fitted():
    """A small group-aware fit whose pick keeps its probabilities (no decision rule)."""
    from fairautoml import FairAutoML
    from fairautoml.testing.conformance import make_unfair

    X, y, s = make_unfair(3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = FairAutoML(
            constraints="demographic_parity_difference <= 0.1", time_budget=None, n_trials=2,
            learners=["logistic_regression"], mitigators=["multicalibration"],
            sensitive_at_predict=True, refit=False, random_state=0,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
    return automl, X, y, s


def test_the_fit_keeps_what_decide_recuts(fitted):
    automl = fitted[0]
    evidence = automl.evidence_
    assert {"scores", "labels", "groups"} <= set(evidence)
    assert len(evidence["scores"]) == len(evidence["rows"]) == len(evidence["labels"])


def test_decide_meets_a_second_constraint_without_refitting(fitted):
    from fairautoml.measures.constraints import evaluate_constraints, parse_constraint

    automl, X, y, s = fitted
    before = dict(automl.best_config_)
    second = "equal_opportunity_difference <= 0.1"
    decided = automl.decide(constraints=second)
    assert automl.best_config_ == before  # the original is not changed
    assert decided.best_estimator_.scoring is automl.best_estimator_.scoring  # not refitted
    cfg = decided.best_config_
    assert cfg["decided"]["constraints"] == [second]
    assert list(cfg["constraint_values"]) == ["equal_opportunity_difference"]
    low, high = cfg["constraint_intervals"]["equal_opportunity_difference"]
    assert low <= cfg["constraint_values"]["equal_opportunity_difference"] <= high
    assert cfg["verdict"] in ("FAIR", "LIKELY FAIR", "CANNOT TELL", "NOT FAIR")
    # the margin: the first tightening whose claim holds at the interval's end, if any
    assert cfg["decided"]["slack"] in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
    assert cfg["robust"] == (cfg["verdict"] == "FAIR")
    # its decisions on the fit's rows meet the constraint (fitted there, so up to noise)
    c = parse_constraint(second)
    pred = decided.predict(X, s)
    value = evaluate_constraints([c], y.to_numpy(), pred, s.astype("category").cat.codes.to_numpy())
    assert value[c.key] <= 0.1 + 0.03
    plain = evaluate_constraints(
        [c], y.to_numpy(), automl.predict(X, s), s.astype("category").cat.codes.to_numpy()
    )
    assert value[c.key] < plain[c.key] or plain[c.key] <= 0.1


def test_decide_with_a_cost_cuts_calibrated_scores_at_its_bayes_threshold(fitted):
    decided = fitted[0].decide(cost=3.0)
    assert decided.best_config_["decided"]["thresholds"] == [0.75]
    assert decided.best_config_["verdict"] == "NO RULE"
    automl, X, _, s = fitted
    assert decided.predict(X, s).mean() < automl.predict(X, s).mean()


def test_decide_says_the_new_cut_offs_balanced_accuracy_and_selection_rate(fitted):
    """The card reads the decided model's own diagnostics, not the pick's."""
    from fairautoml.exceptions import WeakModelWarning

    automl = fitted[0]
    with pytest.warns(WeakModelWarning, match="costing 9 false negatives"):
        strict = automl.decide(cost=9.0)  # a cut-off at 0.9: few are selected
    cfg = strict.best_config_
    rows = np.asarray(automl.evidence_["groups"]) >= 0
    expected = (np.asarray(automl.evidence_["scores"])[rows] >= 0.9).mean()
    assert cfg["selection_rate"] == pytest.approx(expected, abs=1e-9)
    assert cfg["selection_rate"] < automl.best_config_["selection_rate"]


def test_decide_warns_below_the_fits_usefulness_floor():
    """decide's warning and the fit's pick share one floor: a cut-off just under
    ``usefulness_floor`` of the pick's balanced accuracy warns, one at it does not."""
    from fairautoml.estimators.decide import _warn_if_weak
    from fairautoml.exceptions import WeakModelWarning
    from fairautoml.study.pick import usefulness_floor

    floor = usefulness_floor(0.8, 0.5)
    with pytest.warns(WeakModelWarning):
        _warn_if_weak("x", {"balanced_accuracy": floor - 1e-9, "selection_rate": 0.1}, 0.8, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakModelWarning)
        _warn_if_weak("x", {"balanced_accuracy": floor, "selection_rate": 0.1}, 0.8, 0.5)


def test_decide_warns_when_the_cut_off_leaves_a_near_constant_model(fitted):
    """A cut-off that barely tells the classes apart is said, as the fit says of a weak
    pick; one that keeps the pick's discrimination is not."""
    from fairautoml.exceptions import WeakModelWarning

    automl = fitted[0]
    with pytest.warns(WeakModelWarning, match="near-constant"):
        automl.decide(cost=1000.0)  # a cut-off at 0.999: nobody, or almost, selected
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakModelWarning)
        automl.decide(cost=1.0)


def test_decide_warns_that_a_refitted_pick_scores_differently(fitted):
    from fairautoml.exceptions import UnconfirmedFairnessWarning

    automl = fitted[0]
    kept = automl.best_config_
    try:
        automl.best_config_ = {**kept, "refitted": True}
        with pytest.warns(UnconfirmedFairnessWarning, match="refit=False"):
            automl.decide(cost=2.0)
    finally:
        automl.best_config_ = kept


def test_decide_refuses_bad_inputs(fitted):
    automl = fitted[0]
    with pytest.raises(ConstraintError, match="no_such_metric"):
        automl.decide(constraints="no_such_metric <= 0.1")
    with pytest.raises(InputError, match="constraint or a cost"):
        automl.decide()
    with pytest.raises(InputError, match="cost must be"):
        automl.decide(cost=-1)
    with pytest.raises(InputError, match="does not change their calibration"):
        automl.decide(constraints="calibration_within_groups <= 0.05")
    kept = automl.evidence_
    try:
        automl.evidence_ = {k: v for k, v in kept.items() if k != "scores"}
        with pytest.raises(InputError, match="multicalibration"):
            automl.decide(cost=2.0)
    finally:
        automl.evidence_ = kept


def test_report_and_audit_show_calibration_by_group(fitted, tmp_path):
    from fairautoml.audit.page import audit_html
    from fairautoml.report.page import write_fit_report

    automl, X, y, s = fitted
    page = write_fit_report(automl, tmp_path / "report.html", data=(X, y, s)).read_text()
    assert "Calibration within groups" in page and "reliability curves" in page
    result = automl.audit(X, y, s)
    assert result.calibration is not None
    assert set(result.calibration.table.index) == {*map(str, sorted(s.unique())), "largest"}
    assert result.to_dict()["calibration"]["groups"][0]["error"] >= 0
    assert "Calibration within groups" in audit_html(result)


# --- calibration_within_groups as a constraint -----------------------------------------------


def test_the_constraint_reads_scores_and_says_so_when_given_decisions():
    from fairautoml.measures.constraints import (
        evaluate_constraints,
        evaluate_intervals,
        parse_constraint,
    )

    c = parse_constraint("calibration_within_groups <= 0.05")
    assert c.reads_scores and c.task == "binary" and not c.rates
    y, s, g = _miscalibrated(4000)
    largest = float(np.max(calibration_errors(y, s, g)))
    d = (s >= 0.5).astype(int)
    assert evaluate_constraints([c], y, d, g, scores=s)[c.key] == pytest.approx(largest)
    assert c.value(y, s, g) == pytest.approx(largest)
    low, high = evaluate_intervals([c], y, d, g, scores=s, n_boot=50)[c.key]
    assert low <= largest <= high + 1e-9
    with pytest.raises(ConstraintError, match="scores="):
        evaluate_constraints([c], y, d, g)
    with pytest.raises(ConstraintError, match="must be constrained with '<='"):
        parse_constraint("calibration_within_groups >= 0.05")


def test_only_rules_that_keep_scores_serve_a_calibration_constraint():
    from fairautoml.measures.constraints import parse_constraints

    both = parse_constraints(
        ["calibration_within_groups <= 0.05", "demographic_parity_difference <= 0.1"]
    )
    for name in ("none", "multicalibration", "multicalibration_blind"):
        assert get_mitigator(name).supports(both)
    for name in ("group_thresholds", "relaxed_thresholds", "reweighing"):
        assert not get_mitigator(name).supports(both[:1])
        assert get_mitigator(name).supports(both[1:])


def test_a_calibration_constraint_on_amounts_or_classes_is_refused():
    from fairautoml import FairAutoMLRegressor
    from fairautoml.testing.conformance import make_unfair_amounts

    X, y, s = make_unfair_amounts(300)
    with pytest.raises(ConstraintError, match="calibration_within_groups"):
        FairAutoMLRegressor(constraints="calibration_within_groups <= 0.05", n_trials=1).fit(
            X, y, sensitive_features=s
        )


def test_a_search_under_a_calibration_constraint(tmp_path):
    from fairautoml import FairAutoML
    from fairautoml.testing.conformance import make_unfair

    X, y, s = make_unfair(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = FairAutoML(
            constraints="calibration_within_groups[group] <= 0.08", time_budget=None,
            n_trials=2, learners=["logistic_regression"], decision_rule="group_aware",
            random_state=0,
        ).fit(X, y, sensitive_features=s.rename("group"))  # fmt: skip
    board = automl.leaderboard_
    # the search's rules keep scores (the blind one is measured for the policies' comparison)
    assert set(board["post"]) <= {"none", "multicalibration", "multicalibration_blind"}
    assert "multicalibration" in set(board["post"])
    assert automl.fit_summary_.candidate.post in ("none", "multicalibration")
    cfg, evidence = automl.best_config_, automl.evidence_
    key = "calibration_within_groups[group]"
    known = evidence["groups"] >= 0
    largest = np.nanmax(
        calibration_errors(evidence["labels"][known], evidence["scores"][known],
                           evidence["groups"][known])
    )  # fmt: skip
    assert cfg["constraint_values"][key] == pytest.approx(largest, abs=1e-6)
    low, high = cfg["constraint_intervals"][key]
    assert low <= high
    result = automl.audit(X, y, s.rename("group"))
    (record,) = result.constraints
    assert record["value"] is not None and record["interval"] is not None
    (unlabelled,) = automl.audit(X, None, s.rename("group")).constraints
    assert unlabelled["value"] is None and unlabelled["verdict"] == "cannot tell"
