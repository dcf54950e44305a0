"""Audits of a fitted model on new rows: verdicts, impact ratios, drift, files, CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML, cli
from fairautoml import exceptions as E
from fairautoml.audit.constraint_verdicts import (
    CANNOT_TELL,
    HOLDS,
    VIOLATED,
    constraint_verdicts,
    rows_to_tell,
    verdict,
)
from fairautoml.audit.page import write_audit
from fairautoml.audit.verdicts import group_table
from fairautoml.measures.constraints import parse_constraint
from fairautoml.measures.drift import (
    audit_reference,
    bin_codes,
    feature_drift,
    feature_reference,
)
from fairautoml.tasks.binary import AUDIT_NO_LABELS
from fairautoml.testing import make_biased

DP, EO = "demographic_parity_difference <= 0.15", "equalized_odds_difference <= 0.2"


@pytest.fixture(scope="module")
def automl():
    X, y, s = make_biased(n=2000, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairAutoML(
            constraints=[DP, EO], n_trials=3, time_budget=None, learners=["logistic_regression"],
            mitigators=["group_thresholds"], sensitive_at_predict=True, confirm=False,
            random_state=0, trial_time_limit=None,
        ).fit(X, y, s)  # fmt: skip


def fresh(n: int = 3000, seed: int = 2):
    return make_biased(n=n, seed=seed)


def shifted(n: int = 3000, seed: int = 2):
    """Group b's x1 moves up: the model selects far more of b."""
    X, y, s = make_biased(n=n, seed=seed)
    X.loc[s == "b", "x1"] += 2.0
    return X, y, s


def by_constraint(result) -> dict[str, dict]:
    return {c["constraint"]: c for c in result.constraints}


def test_verdicts_read_the_interval_against_the_bound():
    dp, ratio = (
        parse_constraint("demographic_parity_difference <= 0.1"),
        parse_constraint("demographic_parity_ratio >= 0.8"),
    )
    assert verdict(dp, (0.02, 0.08)) == HOLDS
    assert verdict(dp, (0.12, 0.2)) == VIOLATED
    assert verdict(dp, (0.05, 0.15)) == CANNOT_TELL
    assert verdict(ratio, (0.85, 0.95)) == HOLDS
    assert verdict(ratio, (0.5, 0.7)) == VIOLATED
    assert verdict(ratio, (0.7, 0.9)) == CANNOT_TELL
    assert rows_to_tell(dp, 0.09, (0.05, 0.13), 100) == 1600  # half-width 0.04 -> 0.01


def test_intervals_cover_the_true_rates_about_as_often_as_they_say():
    """A 90% interval covers the truth in about 90% of simulated samples: the Wilson
    interval of a group's rate, and the bootstrap interval of a parity gap."""
    rng = np.random.default_rng(0)
    dp = parse_constraint("demographic_parity_difference <= 0.1")
    names = np.array(["a"] * 300 + ["b"] * 300, dtype=object)
    true_rate = np.where(names == "a", 0.3, 0.45)
    rate_hits = gap_hits = 0
    draws = 200
    for draw in range(draws):
        y_pred = (rng.random(600) < true_rate).astype(int)
        table = group_table(None, y_pred, names, 0.9, 20, [])
        rate_hits += (
            table.loc["a", "selection_rate_low"] <= 0.3 <= table.loc["a", "selection_rate_high"]
        )
        record = constraint_verdicts([dp], {}, None, y_pred, names, 0.9, draw)[0]
        gap_hits += record["interval"][0] <= 0.15 <= record["interval"][1]
    assert 0.84 <= rate_hits / draws <= 0.96
    assert 0.82 <= gap_hits / draws <= 0.96


def test_impact_ratios_against_hand_computation():
    names = np.array(["a"] * 10 + ["b"] * 10, dtype=object)
    y_pred = np.array([1] * 3 + [0] * 7 + [1] * 6 + [0] * 4)
    notes: list[str] = []
    table = group_table(None, y_pred, names, 0.9, 20, notes)
    assert table.loc["a", "impact_ratio"] == pytest.approx(0.3 / 0.6)
    assert table.loc["b", "impact_ratio"] == 1.0
    assert table["below_four_fifths"].tolist() == [True, False]
    assert "too few to measure" in notes[0]  # groups under min_group_size are said


def test_a_fresh_sample_holds_and_nothing_drifted(automl):
    X, y, s = fresh()
    result = automl.audit(X, y, s)
    assert by_constraint(result)[DP]["verdict"] == HOLDS
    assert result.verdict == HOLDS
    assert result.drift["fairness_changed"] is False
    assert result.drift["features_moved"] == []
    assert not any("target_X" in n for n in result.notes)  # nothing drifted: no pointer
    claimed = automl.best_config_["constraint_values"]["demographic_parity_difference"]
    assert by_constraint(result)[DP]["claimed"] == claimed
    assert {"true_positive_rate", "false_positive_rate", "accuracy"} <= set(result.groups)


def test_a_shifted_population_is_violated_and_its_drift_found(automl):
    X, y, s = shifted()
    result = automl.audit(X, y, s)
    assert by_constraint(result)[DP]["verdict"] == VIOLATED
    assert result.verdict == VIOLATED
    assert result.drift["fairness_changed"] is True
    moved = {(f["feature"], f["group"]) for f in result.drift["features"] if f["changed"]}
    assert ("x1", "b") in moved and ("x1", "all") in moved
    assert not any(feature in ("x2", "colour") for feature, _ in moved)
    pointer = [n for n in result.notes if "target_X" in n]  # the way to aim the claim here
    assert len(pointer) == 1 and "group rates changed" in pointer[0] and "x1" in pointer[0]


def test_a_tiny_sample_cannot_tell_and_says_how_many_rows_would(automl):
    X, y, s = fresh(n=60, seed=4)
    record = by_constraint(automl.audit(X, y, s))[DP]
    assert record["verdict"] == CANNOT_TELL
    assert record["rows_to_tell"] > 60


def test_a_move_behind_a_point_mass_is_seen():
    """Most gains are 0; the others double: every decile is 0, the move is still found."""
    rng = np.random.default_rng(0)

    def gains(scale: float) -> pd.DataFrame:
        nonzero = rng.random(4000) < 0.15
        return pd.DataFrame({"gain": np.where(nonzero, rng.exponential(scale, 4000), 0.0)})

    groups = np.zeros(4000, dtype=int)
    reference = audit_reference(["a"], {}, feature_reference(gains(1000.0), groups, ["a"]))
    names = np.array(["a"] * 4000, dtype=object)
    same = feature_drift(reference, gains(1000.0), names)[0]
    moved = feature_drift(reference, gains(2000.0), names)[0]
    assert moved["p_value"] < 1e-6 < same["p_value"]


def test_rows_without_a_group_count_only_in_the_overall_bins():
    X = pd.DataFrame({"x": ["u", "u", "v", "v", "v"]})
    groups = np.array([0, 1, -1, -1, 1])  # -1: group unknown (missing_groups)
    reference = feature_reference(X, groups, ["a", "b"])["x"]
    assert reference["categories"] == ["v", "u"]  # the most frequent first
    assert reference["all"] == [3, 2, 0]
    assert reference["by_group"] == {"a": [0, 1, 0], "b": [1, 1, 0]}


def test_a_big_tables_bins_come_from_a_sample_and_count_every_row(monkeypatch):
    """Above BIN_ROWS rows the bin edges are set on a sample; the counts, in all and per
    group, are still of every row (as counted one group at a time)."""
    from fairautoml.measures import drift

    monkeypatch.setattr(drift, "BIN_ROWS", 500)
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.normal(size=4000).round(1), "c": rng.choice(list("uvw"), 4000)})
    binned = []
    bins = drift._bins
    monkeypatch.setattr(drift, "_bins", lambda col: binned.append(len(col)) or bins(col))
    groups = rng.choice([-1, 0, 1, 2], 4000, p=[0.1, 0.5, 0.3, 0.1])
    reference = feature_reference(X, groups, ["a", "b", "c"])
    for name, spec in reference.items():
        codes = bin_codes(X[name], spec)
        size = drift.n_bins(spec)
        assert spec["all"] == np.bincount(codes, minlength=size).tolist()
        for g, label in enumerate(["a", "b", "c"]):
            expected = np.bincount(codes[groups == g], minlength=size).tolist()
            assert spec["by_group"][label] == expected
    assert binned == [500, 500]  # edges of a sample ...
    whole = bins(X["x"])["edges"]  # (every row's, for comparison)
    nearest = np.abs(np.subtract.outer(reference["x"]["edges"], whole)).min(axis=1)
    assert nearest.max() < 0.15  # ... close to them


def test_unseen_and_missing_categories_share_the_last_bin():
    spec = {"kind": "category", "categories": ["a", "b"]}
    codes = bin_codes(pd.Series(["b", "c", None, "a"], dtype=object), spec)
    assert codes.tolist() == [1, 2, 2, 0]


def test_false_alarms_on_fresh_draws_are_rare(automl):
    alarms = 0
    for seed in range(100, 120):
        drift = automl.audit(*fresh(n=1500, seed=seed)).drift
        alarms += drift["fairness_changed"] or bool(drift["features_moved"])
    assert alarms <= 4  # at most alpha = 5% per kind of test


def test_without_labels_measures_what_it_can_and_says_what_not(automl):
    X, _, s = shifted()
    result = automl.audit(X, None, s)
    assert AUDIT_NO_LABELS in result.notes
    assert "true_positive_rate" not in result.groups
    records = by_constraint(result)
    assert records[DP]["verdict"] == VIOLATED  # selection rates need no labels
    assert records[EO]["verdict"] == CANNOT_TELL and records[EO]["value"] is None
    assert result.drift["features_moved"] == ["x1"]


def test_labels_of_another_length_are_refused(automl):
    X, y, s = fresh(n=100, seed=7)
    with pytest.raises(E.InputError, match="X has 100 rows but y has 50"):
        automl.audit(X, y.head(50), s)


def test_unseen_groups_are_said(automl):
    X, y, s = fresh(n=400, seed=6)
    s = s.where(np.arange(len(s)) % 10 != 0, "new")
    result = automl.audit(X, y, s)
    assert any("'new'" in n for n in result.notes)


def test_the_json_and_the_page(automl, tmp_path):
    page, data = write_audit(automl.audit(*shifted()), tmp_path)
    doc = json.loads(data.read_text())
    assert {"constraints", "groups", "drift"} <= set(doc)
    for c in doc["constraints"]:
        assert {"constraint", "value", "interval", "claimed", "verdict"} <= set(c)
        assert c["verdict"] in (HOLDS, VIOLATED, CANNOT_TELL)
    assert {g["group"] for g in doc["groups"]} == {"a", "b"}
    assert {"count", "selection_rate", "impact_ratio"} <= set(doc["groups"][0])
    assert isinstance(doc["drift"]["fairness_changed"], bool)
    for f in doc["drift"]["features"]:
        assert {"feature", "group", "statistic", "p_value"} <= set(f)
    text = page.read_text()
    assert text.index(VIOLATED) < text.index("<h2>Constraints")  # the verdict first


def test_audit_command_end_to_end(automl, tmp_path, capsys):
    run = tmp_path / "run"
    automl.save(run / "model.skops")
    for name, (X, y, s), code in [("fresh", fresh(), 0), ("shifted", shifted(), 1)]:
        csv = tmp_path / f"{name}.csv"
        X.assign(group=s.to_numpy(), label=y.to_numpy()).to_csv(csv, index=False)
        out = tmp_path / name
        args = ["audit", str(run), str(csv), "--target", "label", "--sensitive", "group"]
        assert cli.main([*args, "--out", str(out)]) == code
        assert (out / "audit.html").is_file() and (out / "audit.json").is_file()
    assert "verdict: violated" in capsys.readouterr().out
    assert cli.main(["audit", str(run), str(csv), "--target", "nope"]) == 2
    assert "The CSV has no column ['nope']" in capsys.readouterr().err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_the_page_renders_offline_in_headless_chromium(automl, tmp_path):
    page, _ = write_audit(automl.audit(*shifted()), tmp_path)
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
             "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
    assert "<b>violated</b>" in dom and "Drift since the fit" in dom
