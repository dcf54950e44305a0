"""Constraints on some sensitive attributes: ``metric[race] <= bound`` compares the groups of
one attribute (each pooled over the others) next to constraints on the intersection."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_ratio,
    selection_rate,
)

import fairautoml
from fairautoml import cli
from fairautoml.audit.verdicts import on_groups
from fairautoml.data.groups import GroupEncoder
from fairautoml.exceptions import ConstraintError
from fairautoml.measures.claims import assurance, pessimistic_violation, worst_violation
from fairautoml.measures.constraints import (
    Constraint,
    bind_constraints,
    evaluate_constraints,
    evaluate_intervals,
    parse_constraint,
    parse_constraints,
)
from fairautoml.measures.messages import CONSTRAINT_ATTRIBUTES, CONSTRAINT_SYNTAX
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.testing import make_biased

DP = "demographic_parity_difference"


def _table(n: int = 3000, seed: int = 0):
    """Two attributes; the decisions depend on race strongly and on sex a little."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    sens = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "race": race})
    y = rng.integers(0, 2, n)
    base = 0.3 + 0.25 * (sens["race"] == "a") + 0.05 * (sens["sex"] == "M") + 0.2 * y
    pred = (rng.random(n) < base).astype(int)
    encoder = GroupEncoder.fit(sens)
    return sens, y, pred, encoder, encoder.encode(sens)


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, attributes",
    [
        (f"{DP}[race] <= 0.05", ("race",)),
        (f"{DP} [ race ]<=0.05", ("race",)),
        (f"{DP}[sex, race] <= 0.05", ("sex", "race")),
        (f"{DP}[sex,race]<=0.05", ("sex", "race")),
        (f"{DP} <= 0.05", ()),
    ],
)
def test_parse_reads_the_attributes_and_round_trips(text, attributes):
    c = parse_constraint(text)
    assert (c.metric, c.op, c.bound, c.attributes) == (DP, "<=", 0.05, attributes)
    assert parse_constraint(str(c)) == c
    assert c.key == (DP if not attributes else f"{DP}[{','.join(attributes)}]")
    assert str(c) == f"{c.key} <= 0.05"


def test_a_constraint_without_brackets_keeps_its_old_key_and_text():
    c = parse_constraint(f"{DP} <= 0.05")
    assert c == Constraint(DP, "<=", 0.05)
    assert (c.key, str(c)) == (DP, f"{DP} <= 0.05")


@pytest.mark.parametrize(
    "text, template",
    [
        (f"{DP}[] <= 0.05", CONSTRAINT_ATTRIBUTES),
        (f"{DP}[sex,] <= 0.05", CONSTRAINT_ATTRIBUTES),
        (f"{DP}[sex, sex] <= 0.05", CONSTRAINT_ATTRIBUTES),
        (f"{DP}[sex <= 0.05", CONSTRAINT_SYNTAX),
        (f"{DP}[sex][race] <= 0.05", CONSTRAINT_SYNTAX),
    ],
)
def test_bad_brackets_are_clear_errors(text, template):
    with pytest.raises(ConstraintError, match=template.split("{")[0].strip()[:30]):
        parse_constraint(text)


def test_duplicates_are_by_metric_and_attributes():
    both = parse_constraints([f"{DP}[sex] <= 0.05", f"{DP}[race] <= 0.1", f"{DP} <= 0.2"])
    assert [c.key for c in both] == [f"{DP}[sex]", f"{DP}[race]", DP]
    for pair in (
        [f"{DP}[race] <= 0.05", f"{DP}[race] <= 0.1"],
        [f"{DP}[sex, race] <= 0.05", f"{DP}[race,sex] <= 0.1"],
        [f"{DP} <= 0.05", f"{DP} <= 0.1"],  # one key, two bounds: each value would be lost
    ):
        with pytest.raises(ConstraintError, match="Duplicate constraints") as err:
            parse_constraints(pair)
        assert "once per set of attributes" in str(err.value)


# --- values and intervals -------------------------------------------------------------------


def test_projection_pools_the_cells_of_each_group():
    sens, *_, encoder, codes = _table()
    to_race, races = encoder.projection(["race"])
    assert races == ["a", "b", "c"]
    assert np.array_equal(np.asarray(races)[to_race[codes]], sens["race"].to_numpy())
    to_sex, sexes = encoder.projection(["sex"])
    assert np.array_equal(np.asarray(sexes)[to_sex[codes]], sens["sex"].to_numpy())
    identity, labels = encoder.projection(["race", "sex"])  # every attribute: the cells
    assert np.array_equal(identity, np.arange(len(encoder.labels))) and labels == encoder.labels


def test_marginal_values_are_fairlearn_on_the_attribute_column():
    sens, y, pred, encoder, codes = _table()
    cs = bind_constraints(
        parse_constraints(
            [f"{DP}[sex] <= 0.05", f"{DP}[race] <= 0.1", f"{DP} <= 0.3",
             "equalized_odds_ratio[race] >= 0.8"]
        ),
        encoder,
    )  # fmt: skip
    values = evaluate_constraints(cs, y, pred, codes)
    assert list(values) == [c.key for c in cs]
    assert values[f"{DP}[sex]"] == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=sens["sex"])
    )
    by_race = MetricFrame(
        metrics=selection_rate, y_true=y, y_pred=pred, sensitive_features=sens["race"]
    )
    assert values[f"{DP}[race]"] == pytest.approx(by_race.difference())
    assert values[DP] == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=sens[["sex", "race"]])
    )
    assert values["equalized_odds_ratio[race]"] == pytest.approx(
        equalized_odds_ratio(y, pred, sensitive_features=sens["race"])
    )
    assert cs[0].value(y, pred, codes) == pytest.approx(values[f"{DP}[sex]"])
    # the race gap is large and the sex gap small, as the table was made
    assert values[f"{DP}[race]"] > 0.15 > values[f"{DP}[sex]"]
    by_hand = [values[f"{DP}[sex]"] - 0.05, values[f"{DP}[race]"] - 0.1, values[DP] - 0.3,
               0.8 - values["equalized_odds_ratio[race]"]]  # fmt: skip
    assert worst_violation(cs, values) == pytest.approx(max(by_hand))


def test_intervals_are_per_key_and_bracket_their_values():
    sens, y, pred, encoder, codes = _table()
    cs = bind_constraints(
        parse_constraints([f"{DP}[sex] <= 0.05", f"{DP}[race] <= 0.1", f"{DP} <= 0.3"]), encoder
    )
    values = evaluate_constraints(cs, y, pred, codes)
    intervals = evaluate_intervals(cs, y, pred, codes, level=0.9, random_state=0)
    assert list(intervals) == [c.key for c in cs]
    for c in cs:
        low, high = intervals[c.key]
        assert low < high
        assert low <= values[c.key] + 0.02 and values[c.key] - 0.1 <= high
    # the race constraint alone on race's own codes: the same interval width, give or take
    race = parse_constraints([f"{DP} <= 0.1"])
    alone = evaluate_intervals(race, y, pred, sens["race"].to_numpy(), level=0.9, random_state=0)
    width = alone[DP][1] - alone[DP][0]
    ours = intervals[f"{DP}[race]"][1] - intervals[f"{DP}[race]"][0]
    assert ours == pytest.approx(width, rel=0.3)
    # the intersection keeps the numbers it had before any constraint named attributes
    whole = evaluate_intervals(cs[2:], y, pred, codes, level=0.9, random_state=0)
    assert whole[DP] == intervals[DP]
    assert np.isfinite(pessimistic_violation(cs, intervals))
    assert np.isfinite(assurance(cs, values, intervals, 0.9))


def test_regression_constraints_project_too():
    sens, y, _, encoder, codes = _table()
    rng = np.random.default_rng(1)
    amount = rng.normal(size=len(y)) + 0.8 * (sens["race"] == "a").to_numpy()
    truth = amount + rng.normal(size=len(y))
    cs = bind_constraints(
        parse_constraints(["demographic_parity_ks[race] <= 0.1", "demographic_parity_ks <= 0.2"]),
        encoder,
    )
    values = evaluate_constraints(cs, truth, amount, codes)
    alone = evaluate_constraints(
        parse_constraints(["demographic_parity_ks <= 0.1"]), truth, amount,
        np.unique(sens["race"], return_inverse=True)[1],
    )  # fmt: skip
    assert values["demographic_parity_ks[race]"] == pytest.approx(alone["demographic_parity_ks"])
    intervals = evaluate_intervals(cs, truth, amount, codes, random_state=0)
    assert set(intervals) == {"demographic_parity_ks[race]", "demographic_parity_ks"}


def test_unknown_attribute_lists_the_known_ones():
    *_, encoder, _ = _table()
    c = parse_constraint(f"{DP}[ethnicity] <= 0.05")
    with pytest.raises(ConstraintError, match="not sensitive attributes") as err:
        c.bind(encoder)
    assert "'sex', 'race'" in str(err.value) and "'ethnicity'" in str(err.value)
    assert f"{DP}[ethnicity] <= 0.05" in str(err.value)


def test_an_unbound_constraint_on_some_attributes_says_how_to_bind_it():
    _, y, pred, _, codes = _table()
    c = parse_constraint(f"{DP}[race] <= 0.05")
    with pytest.raises(ConstraintError, match="bind it first"):
        evaluate_constraints([c], y, pred, codes)


def test_audit_reads_the_attributes_off_the_new_rows():
    sens, y, pred, _, _ = _table()
    names = sens["sex"].to_numpy(dtype=object) + " & " + sens["race"].to_numpy(dtype=object)
    cs = on_groups(parse_constraints([f"{DP}[race] <= 0.1", f"{DP} <= 0.3"]), names, sens)
    cells = np.unique(names, return_inverse=True)[1]
    values = evaluate_constraints(cs, y, pred, cells)
    assert values[f"{DP}[race]"] == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=sens["race"])
    )


# --- a fit ----------------------------------------------------------------------------------


def _two_attributes(n: int = 900):
    X, y, s = make_biased(n=n, n_groups=3, seed=4, bias=1.5)
    both = pd.DataFrame({"g": s, "h": np.where(X["x2"].fillna(0) > 0, "p", "q")})
    return X, y, both


@pytest.fixture(scope="module")
def fitted():
    X, y, both = _two_attributes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = fairautoml.FairAutoML(
            [f"{DP}[g] <= 0.15", f"{DP}[h] <= 0.1"],
            n_trials=3,
            time_budget=None,
            learners=["logistic_regression"],
            confirm=False,
            cv_folds=None,
            random_state=0,
            min_group_size=10,
        ).fit(X, y, sensitive_features=both)
    return automl, X, y, both


def test_fit_reports_each_attribute_by_its_key(fitted):
    automl, X, y, both = fitted
    keys = [f"{DP}[g]", f"{DP}[h]"]
    assert [c.key for c in automl.constraints_] == keys
    cfg = automl.best_config_
    assert list(cfg["constraint_values"]) == keys and list(cfg["constraint_intervals"]) == keys
    board = automl.leaderboard_
    for key in keys:
        assert {key, f"{key}_low", f"{key}_high"} <= set(board.columns)
    row = board.loc[board["chosen"]].iloc[0]
    for key in keys:
        assert row[key] == pytest.approx(cfg["constraint_values"][key])
        low, high = cfg["constraint_intervals"][key]
        assert (row[f"{key}_low"], row[f"{key}_high"]) == pytest.approx((low, high))
    assert board[keys[0]].to_numpy() != pytest.approx(board[keys[1]].to_numpy())
    # on new rows, the audit measures each attribute's own groups
    result = automl.audit(X, y, both)
    measured = {r["constraint"]: r["value"] for r in result.constraints}
    pred = automl.predict(X, both)
    for column, c in zip(["g", "h"], automl.constraints_, strict=True):
        assert measured[str(c)] == pytest.approx(
            demographic_parity_difference(y, pred, sensitive_features=both[column])
        )


def test_saved_fit_keeps_its_per_attribute_constraints(fitted, tmp_path):
    automl, X, y, both = fitted
    path = automl.save(tmp_path / "model.skops")
    loaded = fairautoml.load(path)
    assert loaded.constraints_ == automl.constraints_
    assert [c.projection for c in loaded.constraints_] == [
        c.projection for c in automl.constraints_
    ]
    assert loaded.best_config_["constraint_values"] == automl.best_config_["constraint_values"]
    assert loaded.audit(X, y, both).constraints == automl.audit(X, y, both).constraints


def test_an_unknown_attribute_fails_the_fit_naming_the_known_ones():
    X, y, both = _two_attributes()
    with pytest.raises(ConstraintError) as err:
        fairautoml.FairAutoML(f"{DP}[sex] <= 0.1", n_trials=1, time_budget=None).fit(
            X, y, sensitive_features=both
        )
    assert "'sex'" in str(err.value) and "'g', 'h'" in str(err.value)


def test_cli_fit_leaderboard_and_report_name_the_attributes(tmp_path, capsys):
    X, y, both = _two_attributes()
    csv = tmp_path / "data.csv"
    X.assign(g=both["g"], h=both["h"], label=y).to_csv(csv, index=False)
    out = tmp_path / "run"
    code = cli.main([
        "fit", str(csv), "--target", "label", "--sensitive", "g", "--sensitive", "h",
        "--constraint", f"{DP}[g]<=0.15", "--constraint", f"{DP}[g, h] <= 0.3",
        "--n-trials", "1", "--learners", "logistic_regression", "--time-budget", "60",
        "--min-group-size", "10", "--cv-folds", "none", "--no-confirm",
        "--trial-time-limit", "none", "-q", "--out", str(out),
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    printed = capsys.readouterr().out
    assert f"validation {DP}[g]:" in printed and f"validation {DP}[g,h]:" in printed
    assert "demographic parity difference [g] <= 0.15" in printed  # the verdict card
    config = json.loads((out / "best_config.json").read_text())
    assert set(config["constraint_values"]) == {f"{DP}[g]", f"{DP}[g,h]"}
    board = pd.read_csv(out / "leaderboard.csv")
    assert {f"{DP}[g]", f"{DP}[g,h]_high"} <= set(board.columns)
    assert cli.main(["leaderboard", str(out), "--top", "2"]) == 0
    assert f"{DP}[g]" in capsys.readouterr().out
    assert cli.main(["report", str(out)]) == 0
    assert f"{DP}[g]: " in (out / "report.html").read_text()


# --- mitigators -----------------------------------------------------------------------------


def test_relaxed_thresholds_bands_the_pooled_rates_of_an_attribute():
    from fairautoml.measures.metrics import get_metric
    from fairautoml.mitigators.inferred_thresholds import fit_inferred_thresholds
    from fairautoml.mitigators.relaxed_thresholds import fit_relaxed_thresholds

    sens, y, _, encoder, codes = _table()
    rng = np.random.default_rng(2)
    scores = 1 / (1 + np.exp(-(1.5 * y - 0.75 + (sens["race"] == "a") + rng.normal(size=len(y)))))
    race = np.unique(sens["race"], return_inverse=True)[1]
    per_race = bind_constraints(parse_constraints([f"{DP}[race] <= 0.05"]), encoder)
    cells = parse_constraints([f"{DP} <= 0.05"])
    accuracy = get_metric("accuracy")
    rule = fit_relaxed_thresholds(scores, y, codes, per_race, accuracy)
    p = rule.accept_probability(scores, codes)
    selection = np.bincount(race, weights=p) / np.bincount(race)
    assert rule.feasible and selection.max() - selection.min() <= 0.05 + 1e-6
    # the races' gap alone asks less than every cell's: at least as accurate a rule
    assert rule.objective >= fit_relaxed_thresholds(scores, y, codes, cells, accuracy).objective
    proba = np.eye(len(encoder.labels))[codes] * 0.7 + 0.3 / len(encoder.labels)
    inferred = fit_inferred_thresholds(scores, y, codes, proba, per_race, accuracy)
    size = np.bincount(codes).astype(float)
    by_race = np.bincount(encoder.projection(["race"])[0], weights=size)
    pooled = np.bincount(
        encoder.projection(["race"])[0], weights=inferred.cells.rates["selection"] * size
    )
    assert np.ptp(pooled / by_race) <= 0.05 + 1e-6
