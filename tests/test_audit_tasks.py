"""The audit of amounts (a regressor) and of several classes: values against the measures
computed by hand, verdicts, the per-group tables, no-label mode, drift, files and CLI."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML, FairAutoMLRegressor, cli, datasets
from fairautoml import exceptions as E
from fairautoml.audit.constraint_verdicts import (
    AUDIT_NEEDS_LABELS,
    AUDIT_UNDEFINED,
    CANNOT_TELL,
    HOLDS,
    VIOLATED,
)
from fairautoml.audit.page import write_audit
from fairautoml.audit.verdicts import AUDIT_NO_RATE_DRIFT
from fairautoml.measures import multiclass as mf
from fairautoml.measures import regression as rf
from fairautoml.measures.constraints import evaluate_constraints, parse_constraint
from fairautoml.measures.drift import class_cells, class_trials, rate_drift
from fairautoml.tasks.multiclass import AUDIT_NO_LABELS_CLASSES
from fairautoml.tasks.regression import AUDIT_NO_LABELS_AMOUNTS

KS, MAE = "demographic_parity_ks <= 0.3", "mean_absolute_error_ratio >= 0.7"
DP, EO = "demographic_parity_difference <= 0.2", "equalized_odds_difference <= 0.3"
FAST = {"n_trials": 2, "time_budget": None, "cv_folds": None, "confirm": False, "random_state": 0}


def split(name: str, n_fit: int, sensitive: str | None = None):
    """A bundled dataset shuffled once, cut into fit rows and new rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SLID's rows without a wage are dropped, and said
        X, y, s = datasets.load(name, sensitive)
    order = np.random.default_rng(0).permutation(len(y))
    X, y, s = (v.iloc[order].reset_index(drop=True) for v in (X, y, s))
    fit = (X.iloc[:n_fit], y.iloc[:n_fit], s.iloc[:n_fit])
    new = tuple(v.iloc[n_fit:].reset_index(drop=True) for v in (X, y, s))
    return fit, new


def fitted(estimator, rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(*rows)


@pytest.fixture(scope="module")
def amounts():
    fit, new = split("slid", 2000)
    model = FairAutoMLRegressor(constraints=[KS, MAE], learners=["ridge"], **FAST)
    return fitted(model, fit), new


@pytest.fixture(scope="module")
def classes():
    fit, new = split("compas_tiers", 3500)
    model = FairAutoML(constraints=[DP, EO], learners=["logistic_regression"], **FAST)
    return fitted(model, fit), new


def records(result) -> dict[str, dict]:
    return {c["constraint"]: c for c in result.constraints}


def codes_of(model, labels) -> np.ndarray:
    return np.searchsorted(model.classes_, np.asarray(labels))


def sorted_by_prediction(model, X: pd.DataFrame, groups: list[str]) -> np.ndarray:
    """Group labels that split the rows by their prediction: the first group gets the
    rows predicted highest (the most favourable class for several classes)."""
    pred = model.predict(X)
    if model.best_estimator_.task.name == "multiclass":
        return np.where(pred == "High", groups[0], groups[1])
    return np.where(pred > np.median(pred), groups[0], groups[1])


# --- amounts ---------------------------------------------------------------------------------


def test_amounts_values_and_table_equal_the_measures_by_hand(amounts):
    model, (X, y, s) = amounts
    result = model.audit(X, y, s)
    pred = model.predict(X)
    by_hand = evaluate_constraints(model.constraints_, y.to_numpy(), pred, s.to_numpy())
    assert records(result)[KS]["value"] == pytest.approx(rf.ks_distance(pred, s))
    assert records(result)[KS]["value"] == pytest.approx(by_hand["demographic_parity_ks"])
    mae = rf.regression_measure("mean_absolute_error_ratio").value(y, pred, s, None)
    assert records(result)[MAE]["value"] == pytest.approx(mae)
    for group in ("Female", "Male"):
        rows = (s == group).to_numpy()
        row = result.groups.loc[group]
        assert row["count"] == rows.sum()
        assert row["mean_prediction"] == pytest.approx(pred[rows].mean())
        assert row["mean_target"] == pytest.approx(y[rows].mean())
        assert row["mae"] == pytest.approx(np.abs(y[rows] - pred[rows]).mean())
        assert row["rmse"] == pytest.approx(np.sqrt(((y[rows] - pred[rows]) ** 2).mean()))
        assert row["mae_low"] < row["mae"] < row["mae_high"]
    assert "impact_ratio" not in result.groups
    with pytest.raises(E.ConfigurationError, match="a model of amounts has none"):
        _ = result.impact_table


def test_amounts_split_by_prediction_violate_the_ks_bound(amounts):
    model, (X, y, _) = amounts
    s = sorted_by_prediction(model, X, ["Male", "Female"])
    record = records(model.audit(X, y, s))[KS]
    assert record["value"] > 0.9  # a threshold separates the two groups' predictions
    assert record["verdict"] == VIOLATED


def test_amounts_without_labels_measure_the_ks_distance_only(amounts):
    model, (X, _, s) = amounts
    result = model.audit(X, None, s)
    assert records(result)[KS]["value"] == pytest.approx(rf.ks_distance(model.predict(X), s))
    assert records(result)[KS]["verdict"] in (HOLDS, VIOLATED, CANNOT_TELL)
    mae = records(result)[MAE]
    assert mae["value"] is None and mae["verdict"] == CANNOT_TELL
    assert mae["reason"] == AUDIT_NEEDS_LABELS
    assert AUDIT_NO_LABELS_AMOUNTS in result.notes
    assert list(result.groups.columns) == [
        "count", "mean_prediction", "mean_prediction_low", "mean_prediction_high",
    ]  # fmt: skip


def test_amounts_drift_is_read_off_the_features(amounts):
    model, (X, y, s) = amounts
    fresh = model.audit(X, y, s).drift
    assert fresh["fairness_changed"] is None and fresh["features_moved"] == []
    assert {f["group"] for f in fresh["features"]} == {"all", "Female", "Male"}
    moved = model.audit(X.assign(education=X["education"] + 4.0), y, s)
    assert moved.drift["features_moved"] == ["education"]
    assert AUDIT_NO_RATE_DRIFT in moved.notes


def test_amounts_labels_that_are_not_numbers_are_refused(amounts):
    model, (X, y, s) = amounts
    bad = y.astype(object).copy()
    bad.iloc[3] = "n/a"
    with pytest.raises(E.InputError, match=re.escape("1 value(s) are missing or not numbers")):
        model.audit(X, bad, s)
    with pytest.raises(E.ConfigurationError, match="regression target has no favourable"):
        model.audit(X, y, s, pos_label=1)


def test_amounts_page_json_and_command_line(amounts, tmp_path, capsys):
    model, (X, y, s) = amounts
    page, data = write_audit(model.audit(X, y, s), tmp_path / "py")
    doc = json.loads(data.read_text())
    assert {"mae", "rmse_high", "mean_target"} <= set(doc["groups"][0])
    assert doc["drift"]["fairness_changed"] is None and doc["drift"]["features"]
    text = page.read_text()
    assert "<th>mean absolute error</th>" in text and "impact ratio</th>" not in text
    assert "were not compared with validation" in text and "Feature distributions" in text

    run = tmp_path / "run"
    model.save(run / "model.skops")
    split_rows = sorted_by_prediction(model, X, ["Male", "Female"])
    for name, groups, code in [("fresh", s, 0), ("split", split_rows, 1)]:
        csv = tmp_path / f"{name}.csv"
        X.assign(sex=np.asarray(groups), wages=y).to_csv(csv, index=False)
        args = ["audit", str(run), str(csv), "--target", "wages", "--sensitive", "sex"]
        assert cli.main([*args, "--out", str(tmp_path / name)]) == code
        assert (tmp_path / name / "audit.html").is_file()
    printed = capsys.readouterr().out
    assert "verdict: violated" in printed and "features moved: " in printed


# --- several classes ---------------------------------------------------------------------------


def test_classes_values_and_table_equal_the_measures_by_hand(classes):
    model, (X, y, s) = classes
    result = model.audit(X, y, s)
    t, p = codes_of(model, y), codes_of(model, model.predict(X))
    for text in (DP, EO):
        metric = parse_constraint(text).metric
        by_hand = mf.measure_value(metric, t, p, s, n_classes=3)
        assert records(result)[text]["value"] == pytest.approx(by_hand)
    table = result.groups
    assert table.index.names == ["group", "class"]
    assert set(table.index.get_level_values("class")) == {"High", "Low", "Medium"}
    for (group, label), row in table.iterrows():
        rows, c = (s == group).to_numpy(), list(model.classes_).index(label)
        assert row["count"] == rows.sum()
        assert row["selection_rate"] == pytest.approx(np.mean(p[rows] == c))
        assert row["true_positive_rate"] == pytest.approx(np.mean(p[rows & (t == c)] == c))
        assert row["false_positive_rate"] == pytest.approx(np.mean(p[rows & (t != c)] == c))
        top = max(np.mean(p[(s == g).to_numpy()] == c) for g in s.unique())
        assert row["impact_ratio"] == pytest.approx(np.mean(p[rows] == c) / top)
        assert row["below_four_fifths"] == (row["impact_ratio"] < 0.8)
    assert list(result.impact_table.columns) == ["category", "class", "selection_rate",
                                                 "impact_ratio"]  # fmt: skip


def test_classes_split_by_prediction_violate_parity(classes):
    model, (X, y, _) = classes
    s = sorted_by_prediction(model, X, ["African-American", "Caucasian"])
    result = model.audit(X, y, s)
    assert records(result)[DP]["value"] == pytest.approx(1.0)
    assert records(result)[DP]["verdict"] == VIOLATED and result.verdict == VIOLATED
    assert result.drift["fairness_changed"] is True  # the groups' rates moved too


def test_classes_without_labels_measure_parity_only(classes):
    model, (X, _, s) = classes
    result = model.audit(X, None, s)
    p = codes_of(model, model.predict(X))
    by_hand = mf.measure_value("demographic_parity_difference", p, p, s, n_classes=3)
    assert records(result)[DP]["value"] == pytest.approx(by_hand)
    eo = records(result)[EO]
    assert eo["value"] is None and eo["verdict"] == CANNOT_TELL
    assert eo["reason"] == AUDIT_NEEDS_LABELS
    assert AUDIT_NO_LABELS_CLASSES in result.notes
    assert "true_positive_rate" not in result.groups and "impact_ratio" in result.groups
    assert {r["rate"] for r in result.drift["rates"]} == {"selection"}


def test_a_rate_without_rows_is_undefined_and_said(classes):
    model, (X, y, _) = classes
    s = np.where(y == "Low", "Caucasian", "African-American")  # one group has Low rows only
    eo = records(model.audit(X, y, s))[EO]
    assert np.isnan(eo["value"]) and eo["verdict"] == CANNOT_TELL
    assert eo["reason"] == AUDIT_UNDEFINED


def test_classes_drift_of_rates_and_features(classes):
    model, (X, y, s) = classes
    fresh = model.audit(X, y, s).drift
    assert fresh["fairness_changed"] is False and fresh["features_moved"] == []
    assert {r["class"] for r in fresh["rates"]} == {"High", "Low", "Medium"}
    assert {r["rate"] for r in fresh["rates"]} == {"selection", "tpr", "fpr"}
    moved = model.audit(X.assign(priors_count=X["priors_count"] + 5), y, s).drift
    assert "priors_count" in moved["features_moved"]


def test_classes_favourable_ones_given_at_the_audit(classes):
    model, (X, y, s) = classes
    result = model.audit(X, y, s, pos_label="High")
    t, p = codes_of(model, y), codes_of(model, model.predict(X))
    high = list(model.classes_).index("High")
    by_hand = mf.measure_value("demographic_parity_difference", t, p, s, n_classes=3,
                               favourable=[high])  # fmt: skip
    every = mf.measure_value("demographic_parity_difference", t, p, s, n_classes=3)
    assert records(result)[DP]["value"] == pytest.approx(by_hand)
    assert abs(by_hand - every) > 1e-3  # the favourable class changes what is compared
    assert {r["class"] for r in result.drift["rates"]} == {"High"}
    with pytest.raises(E.InputError, match="Extreme"):
        model.audit(X, y.replace({"High": "Extreme"}), s)


def test_classes_page_json_and_command_line(classes, tmp_path, capsys):
    model, (X, y, s) = classes
    page, data = write_audit(model.audit(X, y, s), tmp_path / "py")
    doc = json.loads(data.read_text())
    assert {"group", "class", "selection_rate", "true_positive_rate", "impact_ratio"} <= set(
        doc["groups"][0]
    )
    assert len(doc["groups"]) == 4 * 3 and isinstance(doc["drift"]["fairness_changed"], bool)
    text = page.read_text()
    assert "<th>category</th><th>class</th>" in text and "<td>Medium</td>" in text

    run = tmp_path / "run"
    model.save(run / "model.skops")
    split_rows = sorted_by_prediction(model, X, ["African-American", "Caucasian"])
    for name, groups, code in [("fresh", s, 0), ("split", split_rows, 1)]:
        csv = tmp_path / f"{name}.csv"
        X.assign(race=np.asarray(groups), score_text=y).to_csv(csv, index=False)
        args = ["audit", str(run), str(csv), "--target", "score_text", "--sensitive", "race"]
        assert cli.main([*args, "--out", str(tmp_path / name)]) == code
        assert (tmp_path / name / "audit.json").is_file()
    printed = capsys.readouterr().out
    assert "fairness changed since the fit: True" in printed


# --- the rate counts of several classes ----------------------------------------------------------


def test_class_counts_give_each_class_rates():
    y = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    pred = np.array([0, 1, 1, 1, 2, 0, 0, 2])
    groups = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    cells = class_cells(y, pred, groups, ["a", "b"], 3)
    assert cells["b"] == [1, 0, 0, 0, 0, 1, 0, 0, 0]
    trials = {rate: class_trials(cells["a"], rate) for rate in ("selection", "tpr", "fpr")}
    assert trials["selection"] == [(0, 2, 6), (1, 3, 6), (2, 1, 6)]
    assert trials["tpr"] == [(0, 1, 2), (1, 2, 2), (2, 1, 2)]
    assert trials["fpr"] == [(0, 1, 4), (1, 1, 4), (2, 0, 4)]


def test_rate_drift_tests_the_favourable_classes_only():
    dp = parse_constraint("demographic_parity_difference <= 0.1").for_target("multiclass", 3, [2])
    reference = {"a": [10, 0, 0, 0, 10, 0, 0, 0, 10]}
    new = {"a": [0, 0, 10, 0, 0, 10, 0, 0, 10]}
    rows = rate_drift([dp], reference, new, has_labels=True, trials=class_trials,
                      classes=np.array(["x", "y", "z"]))  # fmt: skip
    assert [(r["rate"], r["class"]) for r in rows] == [("selection", "z")]
    assert rows[0]["fit"] == pytest.approx(1 / 3) and rows[0]["new"] == pytest.approx(1.0)
