"""Leaderboard columns, intervals, Pareto front, hypervolume and the robust pick."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml.exceptions import InfeasibleWarning, UnconfirmedFairnessWarning, WeakModelWarning
from fairautoml.measures.constraints import parse_constraint, parse_constraints
from fairautoml.measures.decisions import bootstrap_rates, group_rates
from fairautoml.measures.metrics import get_metric
from fairautoml.study.leaderboard import hypervolume, leaderboard_frame, pareto_front
from fairautoml.study.pick import PickPolicy, select_trial, warn_about_pick
from fairautoml.testing import make_biased

DP = "demographic_parity_difference"


@pytest.fixture(scope="module")
def fitted():
    X, y, s = make_biased(n=800, seed=1)
    return FairAutoML(
        f"{DP} <= 0.3", n_trials=6, time_budget=None, random_state=0,
        learners=["logistic_regression"], mitigators=[],  # one point per trial
    ).fit(X, y, sensitive_features=s)  # fmt: skip


def test_leaderboard_has_one_row_per_trial_with_intervals(fitted):
    board = fitted.leaderboard_
    assert len(board) == 6 == len(fitted.study_.trials)
    for col in ("learner", "mitigator", "post", "params", "accuracy", DP, f"{DP}_low",
                f"{DP}_high", "violation", "robust_violation", "feasible", "robust",
                "fair_score", "fit_time", "worker", "status", "error", "chosen"):  # fmt: skip
        assert col in board.columns, col
    ok = board[board["status"] == "ok"]
    # the interval brackets the point value (computed on the same validation predictions)
    assert (ok[f"{DP}_low"] <= ok[DP] + 1e-12).all() and (ok[DP] <= ok[f"{DP}_high"] + 1e-12).all()
    assert (ok[f"{DP}_high"] > ok[f"{DP}_low"]).all()
    # robust: the upper end meets the bound; robust implies feasible
    np.testing.assert_allclose(ok["robust_violation"], ok[f"{DP}_high"] - 0.3)
    assert (~ok["robust"] | ok["feasible"]).all()
    assert ((ok["robust_violation"] <= 0) & ok["feasible"] == ok["robust"]).all()
    # fair score: feasible trials first, by metric; infeasible ones below, by violation
    assert board["fair_score"].is_monotonic_decreasing
    feasible = board[board["feasible"]]
    np.testing.assert_allclose(feasible["fair_score"], feasible["accuracy"])
    assert all(isinstance(json.loads(p), dict) for p in board["params"])


def test_recorded_trial_carries_what_the_leaderboard_needs(fitted):
    trial = fitted.study_.trials[0]
    for key in ("candidate", "constraint_values", "constraint_intervals", "interval_level",
                "worker", "status", "fit_time"):  # fmt: skip
        assert key in trial.user_attrs, key
    assert trial.user_attrs["interval_level"] == 0.8


def test_pareto_front_is_non_dominated_and_has_hypervolume(fitted):
    front, board = fitted.pareto_front_, fitted.leaderboard_
    ok = board[board["status"] == "ok"]
    for _, f in front.iterrows():
        dominated = (ok["accuracy"] >= f["accuracy"]) & (ok[DP] <= f[DP])
        dominated &= (ok["accuracy"] > f["accuracy"]) | (ok[DP] < f[DP])
        assert not dominated.any()
    assert 0 < fitted.hypervolume_ <= 1
    assert fitted.pareto_front_["chosen"].sum() <= 1


def _board(
    rows: list[tuple], rates: list[float] | None = None, balanced: list[float] | None = None
) -> pd.DataFrame:
    """Leaderboard rows (trial, accuracy, dp value, dp upper end) for a bound of 0.05."""
    frame = pd.DataFrame(rows, columns=["trial", "accuracy", DP, f"{DP}_high"])
    frame["status"] = "ok"
    frame["violation"] = np.maximum(frame[DP] - 0.05, 0)
    frame["robust_violation"] = frame[f"{DP}_high"] - 0.05
    frame["feasible"] = frame["violation"] <= 0
    frame["robust"] = frame["feasible"] & (frame["robust_violation"] <= 0)
    frame["selection_rate"] = rates if rates is not None else 0.3
    frame["balanced_accuracy"] = balanced if balanced is not None else 0.7
    return frame


def test_hypervolume_matches_hand_computation():
    constraints, metric = parse_constraints(f"{DP} <= 0.05"), get_metric("accuracy")
    board = _board([(0, 0.80, 0.10, 0.2), (1, 0.70, 0.02, 0.03), (2, 0.60, 0.05, 0.06)])
    front = pareto_front(board, constraints, metric)
    assert sorted(front["trial"]) == [0, 1]  # trial 2 is dominated by trial 1
    # minimise (-accuracy, dp - 0.05) with reference (0, 0.95): two boxes
    # trial 1: accuracy 0.70 over dp in [0.02, 1]; trial 0 adds 0.10 over dp in [0.10, 1]
    expected = 0.70 * (1 - 0.02) + (0.80 - 0.70) * (1 - 0.10)
    assert hypervolume(front, constraints, metric) == pytest.approx(expected)


def test_pick_prefers_robust_then_the_most_accurate_feasible_never_a_weak_model():
    robust, point = PickPolicy(), PickPolicy(robust=False)
    board = _board([(0, 0.80, 0.049, 0.09), (1, 0.78, 0.01, 0.04), (2, 0.90, 0.2, 0.3)])
    assert select_trial(board, "accuracy", robust) == (1, "robust")
    assert select_trial(board, "accuracy", point) == (0, "robust")  # no interval asked for
    # none robust: the most accurate feasible one, not the one least likely to fail
    no_robust = _board([(0, 0.80, 0.049, 0.09), (1, 0.78, 0.03, 0.08), (2, 0.7, 0.04, 0.1)])
    assert select_trial(no_robust, "accuracy", robust) == (0, "feasible")
    # a near-constant model is robust, but set aside while a useful feasible model exists
    weak = _board([(0, 0.80, 0.04, 0.09), (1, 0.82, 0.01, 0.02)], balanced=[0.7, 0.52])
    assert select_trial(weak, "accuracy", robust) == (0, "feasible")
    constant = _board([(0, 0.80, 0.04, 0.09), (1, 0.70, 0.0, 0.0)], rates=[0.4, 1.0])
    assert select_trial(constant, "accuracy", robust) == (0, "feasible")
    only_constant = _board([(0, 0.80, 0.09, 0.12), (1, 0.70, 0.0, 0.0)], rates=[0.4, 0.0])
    assert select_trial(only_constant, "accuracy", robust) == (1, "constant")
    infeasible = _board([(0, 0.80, 0.09, 0.12), (1, 0.85, 0.07, 0.1)])
    assert select_trial(infeasible, "accuracy", robust) == (1, "infeasible")  # least violating


def test_pick_warns_unless_it_holds_with_confidence():
    constraints = parse_constraints(f"{DP} <= 0.05")
    robust = PickPolicy()
    cases = {
        "robust": (_board([(0, 0.8, 0.01, 0.04)]), None),
        "feasible": (_board([(0, 0.8, 0.04, 0.09)]), UnconfirmedFairnessWarning),
        "weak": (_board([(0, 0.8, 0.01, 0.02)], balanced=[0.51]), WeakModelWarning),
        "infeasible": (_board([(0, 0.8, 0.09, 0.12)]), InfeasibleWarning),
    }
    for tier, (board, warning) in cases.items():
        row = robust.rank(board, "accuracy").iloc[0]
        assert row["tier"] == tier
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_about_pick(row, constraints)
        kinds = [w.category for w in caught]
        assert kinds == ([] if warning is None else [warning])
    row = robust.rank(cases["feasible"][0], "accuracy").iloc[0]
    with pytest.warns(UnconfirmedFairnessWarning, match=r"0\.0400 \[nan, 0\.0900\]"):
        warn_about_pick(row, constraints)


def test_cell_bootstrap_matches_row_bootstrap():
    """Drawing Poisson cell counts is the same bootstrap as Poisson row weights."""
    rng = np.random.default_rng(0)
    n = 600
    y, g = rng.integers(0, 2, n), rng.integers(0, 3, n)
    pred = (rng.random(n) < 0.3 + 0.15 * g).astype(int)
    c = parse_constraint("equalized_odds_difference <= 0.1")
    rows = c.from_rates(group_rates(y, pred, g, rng.poisson(1.0, (4000, n)).astype(float)))
    cells = c.from_rates(bootstrap_rates(y, pred, g, n_boot=4000, random_state=1))
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(cells, q) == pytest.approx(np.quantile(rows, q), abs=0.01)


def test_failed_trial_is_listed_with_its_error():
    import optuna

    from fairautoml.study.trial import Candidate

    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    trial.set_user_attr("candidate", Candidate("lightgbm").to_json())
    trial.set_user_attr("status", "failed")
    trial.set_user_attr("error", "ValueError: boom\ntraceback")
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    board = leaderboard_frame(study, parse_constraints(f"{DP} <= 0.05"), get_metric("accuracy"))
    row = board.iloc[0]
    assert row["status"] == "failed" and row["error"] == "ValueError: boom"
    assert row["fair_score"] == -np.inf and not row["feasible"]
