"""A multiclass target through the whole search: read off the target, constraints bound to
the multiclass family and keyed like the others, the LP post-processor (group-aware and
blind) and reweighing, predict_proba of shape (n, k), the model file, the report, the
command line (the task said, a worker, several favourable labels) and the audit. The
binary path is the rest of the suite."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML, cli, datasets, load
from fairautoml.exceptions import ConfigurationError, InputError
from fairautoml.measures import multiclass as mf
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraint,
    parse_constraints,
)
from fairautoml.mitigators import get_mitigator
from fairautoml.search.ensemble import combine
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.tasks import get_task

TASK = get_task("multiclass")
LABELS = np.array(["high", "low", "mid"])  # sorted: classes_ order


def three_classes(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Three classes whose base rates differ by group (an unfair model is the easy one)."""
    rng = np.random.default_rng(seed)
    s = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    x1 = rng.normal(size=n) + 0.8 * (s == "a")
    x2 = rng.normal(size=n)
    logits = np.column_stack([x1, x2, -x1 - x2 + 0.5 * (s == "b")])
    y = LABELS[np.argmax(logits + rng.gumbel(size=(n, 3)), axis=1)]
    return pd.DataFrame({"x1": x1, "x2": x2, "region": rng.choice(["n", "s"], n)}), y, s


@pytest.fixture(scope="module")
def fitted():
    X, y, s = three_classes()
    model = FairAutoML(
        constraints="demographic_parity_difference <= 0.1", n_trials=4, time_budget=None,
        learners=["logistic_regression"], mitigators=["none", "multiclass_lp"],
        sensitive_at_predict=True, random_state=0, cv_folds=None, ensemble=False,
    )  # fmt: skip
    return model.fit(X, y, sensitive_features=s), (X, y, s)


def test_fit_picks_a_fair_model_with_class_probabilities(fitted):
    model, (X, y, s) = fitted
    cfg = model.best_config_
    assert cfg["task"] == "multiclass" and cfg["positive_label"] is None
    assert list(model.classes_) == list(LABELS)
    assert set(cfg["constraint_values"]) == {"demographic_parity_difference"}
    assert set(cfg["constraint_intervals"]) == {"demographic_parity_difference"}
    assert {"adjusted_balanced_accuracy", "top_class_share"} <= set(cfg)
    assert cfg["feasible"] and cfg["post"] == "multiclass_lp"
    assert model.confidence == "auto" and cfg["interval_level"] == TASK.claim_confidence == 0.98
    proba = model.predict_proba(X, s)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1.0)
    pred = model.predict(X, s)
    assert set(pred) <= set(LABELS)
    assert np.array_equal(pred, model.classes_[np.argmax(proba, axis=1)])
    assert np.array_equal(pred, model.predict(X, s))  # randomized, repeatable per row
    assert 0.0 < model.score(X, y, sensitive_features=s) <= 1.0
    board = model.leaderboard_
    assert {"accuracy", "demographic_parity_difference", "randomized"} <= set(board.columns)
    assert board.loc[board["post"] == "multiclass_lp", "randomized"].all()


def test_fairness_report_per_group_and_class(fitted):
    model, (X, y, s) = fitted
    table = model.fairness_report(X, y, s)
    assert table.index.names == ["group", "class"]
    assert set(table.index.get_level_values("class")) == set(LABELS)
    assert {"a", "b", "largest gap"} == set(table.index.get_level_values("group"))
    selection = table.loc["a", "selection_rate"]
    assert selection.sum() == pytest.approx(1.0)


def test_model_file_round_trip(fitted, tmp_path):
    model, (X, _, s) = fitted
    path = model.save(tmp_path / "model.skops")
    again = load(path)
    assert np.array_equal(again.predict(X, s), model.predict(X, s))
    assert np.allclose(again.predict_proba(X, s), model.predict_proba(X, s))
    assert list(again.classes_) == list(model.classes_)


def test_the_audit_reads_several_classes(fitted):
    model, _ = fitted
    X, y, s = three_classes(600, seed=5)
    result = model.audit(X, y, s)
    (record,) = result.constraints
    t = np.searchsorted(LABELS, y)
    p = np.searchsorted(LABELS, model.predict(X, s))
    by_hand = mf.measure_value("demographic_parity_difference", t, p, s, n_classes=3)
    assert record["value"] == pytest.approx(by_hand)
    assert list(result.groups.index) == [(g, c) for g in ("a", "b") for c in LABELS]


@pytest.mark.filterwarnings("ignore::fairautoml.exceptions.InfeasibleWarning")
def test_blind_lp_reweighing_and_favourable_classes():
    X, y, s = three_classes(700, seed=1)
    model = FairAutoML(
        constraints=["equal_opportunity_difference <= 0.15"], n_trials=3, time_budget=None,
        learners=["lightgbm"], random_state=0, pos_label=["mid", "high"], ensemble=False,
        decision_rule="proxy",
    )  # fmt: skip
    model.fit(X, y, sensitive_features=s)
    board = model.leaderboard_
    assert "multiclass_lp_blind" in set(board["post"])  # the group is not at predict time
    aware = board[board["post"] == "multiclass_lp"]  # measured for the comparison only
    assert (aware["tier"] == "not deployable").all()
    assert model.best_config_["positive_label"] == ["high", "mid"]
    (c,) = model.constraints_
    assert c.task == "multiclass" and c.family.favourable == (0, 2)
    assert not model.best_estimator_.needs_group
    assert model.predict_proba(X).shape == (len(X), 3)
    reweighed = FairAutoML(
        constraints="demographic_parity_difference <= 0.2", n_trials=2, time_budget=None,
        learners=["random_forest"], mitigators=["reweighing"], random_state=0, ensemble=False,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    assert set(reweighed.leaderboard_["mitigator"]) <= {"none", "reweighing"}
    assert reweighed.predict_proba(X).shape == (len(X), 3)


def test_per_attribute_constraints_keyed_and_the_binary_only_mitigators_left_out():
    X, y, s = three_classes(900, seed=2)
    sens = pd.DataFrame({"sex": s, "region": X.pop("region")})
    model = FairAutoML(
        constraints=["demographic_parity_difference[sex] <= 0.15",
                     "equalized_odds_difference <= 0.4"],
        n_trials=3, time_budget=None, learners=["logistic_regression"], random_state=0,
        ensemble=False, decision_rule="proxy",
    )  # fmt: skip
    model.fit(X, y, sensitive_features=sens)
    keys = {"demographic_parity_difference[sex]", "equalized_odds_difference"}
    assert set(model.best_config_["constraint_values"]) == keys
    assert keys <= set(model.leaderboard_.columns)
    posts = set(model.leaderboard_["post"]) | set(model.leaderboard_["mitigator"])
    assert posts <= {"none", "reweighing", "multiclass_lp", "multiclass_lp_blind"}
    with pytest.raises(ConfigurationError, match="multiclass"):
        FairAutoML(mitigators=["group_thresholds"], n_trials=1).fit(X, y, sens)


@pytest.mark.parametrize("attribute", ["minority", "gender"])
def test_bankwages_with_demographic_parity(attribute):
    """Demographic parity compares predictions: a group with 4 managers ('yes') or without
    a custodian ('female') is measured; equalized odds on the same rows is refused."""
    X, y, s = datasets.load("bankwages", attribute)
    settings = dict(
        n_trials=4, time_budget=None, learners=["logistic_regression", "random_forest"],
        random_state=0, decision_rule="proxy",
    )  # fmt: skip
    model = FairAutoML(constraints="demographic_parity_difference <= 0.1", **settings)
    model.fit(X, y, sensitive_features=s)
    assert list(model.classes_) == ["admin", "custodial", "manage"]
    assert set(model.best_config_["constraint_values"]) == {"demographic_parity_difference"}
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(InputError, match=r"'custodial'|'manage'"):
        FairAutoML(constraints="equalized_odds_difference <= 0.1", **settings).fit(X, y, s)


def test_constraint_values_and_intervals_by_the_family():
    rng = np.random.default_rng(0)
    n = 600
    y, pred = rng.integers(0, 3, n), rng.integers(0, 3, n)
    cells = rng.integers(0, 4, n)  # intersection cells of two attributes

    class Groups:
        names = ("sex", "race")

        def projection(self, attributes):
            return np.array([0, 0, 1, 1]), ["f", "m"]  # sex: cells 0, 1 -> f

    names = ["demographic_parity_difference", "equalized_odds_ratio"]
    bound = TASK.bind_target(
        TASK.check_constraints(parse_constraints(
            ["demographic_parity_difference <= 0.1", "equalized_odds_ratio[sex] >= 0.8"]
        )), np.array(["a", "b", "c"]), None,
    )  # fmt: skip
    bound = [c.bind(Groups()) for c in bound]
    values = evaluate_constraints(bound, y, pred, cells)
    assert values["demographic_parity_difference"] == pytest.approx(
        mf.measure_value(names[0], y, pred, cells)
    )
    assert values["equalized_odds_ratio[sex]"] == pytest.approx(
        mf.measure_value(names[1], y, pred, np.array([0, 0, 1, 1])[cells])
    )
    w = rng.uniform(0.5, 2.0, n)
    weighted = evaluate_constraints(bound, y, pred, cells, w)
    assert weighted["demographic_parity_difference"] == pytest.approx(
        mf.measure_value(names[0], y, pred, cells, sample_weight=w)
    )
    for weights in (None, w):
        intervals = evaluate_intervals(bound, y, pred, cells, random_state=0, sample_weight=weights)
        for c in bound:
            low, high = intervals[c.key]
            assert low <= evaluate_constraints([c], y, pred, cells, weights)[c.key] + 0.05
            assert low < high
    # the same name unbound is the binary measure
    assert parse_constraint("demographic_parity_difference <= 0.1").task == "binary"


def test_ensembles_average_class_probabilities():
    a, b = np.array([[0.2, 0.8], [0.5, 0.5]]), np.array([[0.6, 0.4], [0.1, 0.9]])
    assert np.allclose(combine([a, b], [1, 3]), (a + 3 * b) / 4)


def test_the_lp_post_processors_serve_multiclass_only():
    for name in ("multiclass_lp", "multiclass_lp_blind"):
        m = get_mitigator(name)
        assert m.tasks == frozenset({"multiclass"}) and m.stage == "post"
        assert m.space.params[0].name == "tolerance"
    assert get_mitigator("multiclass_lp_blind").needs_group_proba


@pytest.fixture(scope="module")
def classes_csv(tmp_path_factory):
    X, y, s = three_classes(600, seed=3)
    frame = X.assign(sex=s, outcome=y)
    path = tmp_path_factory.mktemp("data") / "classes.csv"
    frame.to_csv(path, index=False)
    return path


def test_cli_fit_says_the_task_and_writes_the_run(classes_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main([
        "fit", str(classes_csv), "--target", "outcome", "--sensitive", "sex",
        "--learners", "logistic_regression", "--n-trials", "2", "--positive-label", "mid", "high",
        "--constraint", "demographic_parity_difference<=0.15", "--out", str(out), "-q",
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    printed = capsys.readouterr().out
    assert "task: several classes: multiclass (read off the target" in printed
    for name in ("report.html", "leaderboard.csv", "model.skops", "best_config.json"):
        assert (out / name).is_file()
    page = (out / "report.html").read_text()
    assert "largest gap" in page and "favourable classes" in page
    url = f"sqlite:///{out / 'study.db'}"
    assert cli.main(["worker", "--storage", url, "--data", str(classes_csv), "-q"]) == 0
    audit = ["audit", str(out), str(classes_csv), "--target", "outcome", "--out", str(tmp_path)]
    assert cli.main(audit) in (0, 1)  # 2: an error
    drift = json.loads((tmp_path / "audit.json").read_text())["drift"]
    assert {r["class"] for r in drift["rates"]} == {"mid", "high"}  # the favourable classes


def test_weighted_fit_weighs_the_lp_and_the_constraints():
    X, y, s = three_classes(700, seed=4)
    weight = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    model = FairAutoML(
        constraints="demographic_parity_difference <= 0.12", n_trials=2, time_budget=None,
        learners=["logistic_regression"], mitigators=["none", "multiclass_lp"],
        sensitive_at_predict=True, random_state=0, ensemble=False,
    )  # fmt: skip
    model.fit(X, y, sensitive_features=s, sample_weight=weight)
    assert model.best_config_["sample_weight"]["rows"] == len(y)
    assert "multiclass_lp" in set(model.leaderboard_["post"])
    assert model.predict_proba(X, s).shape == (len(y), 3)
