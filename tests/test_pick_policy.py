"""One pick policy: the search's notion of a point the pick could take, the leaderboard's
order and the final pick agree; the pick is never a near-constant model while a useful
one meets the constraints."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairautoml import FairAutoML
from fairautoml.measures.claims import assurance, robust_violation, worst_violation
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.search.allocator import Outcome
from fairautoml.search.optuna_controller import model_value
from fairautoml.study import record
from fairautoml.study.leaderboard import leaderboard_frame
from fairautoml.study.pick import (
    CONSTANT,
    FEASIBLE,
    INFEASIBLE,
    ROBUST,
    TIER_NAMES,
    WEAK,
    PickPolicy,
    select_trial,
    usefulness_floor,
)
from fairautoml.study.trial import Candidate, TrialResult

CONSTRAINTS = parse_constraints(
    ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.1"]
)
ACCURACY = get_metric("accuracy")


def random_point(rng: np.random.Generator, number: int) -> TrialResult:
    """A validated point with a random mix of the properties the policy reads."""
    cand = Candidate("lightgbm", {"n": number})
    if rng.random() < 0.1:
        return TrialResult(cand, "failed", error="boom")
    values = {c.metric: float(rng.uniform(0.0, 2 * c.bound)) for c in CONSTRAINTS}
    intervals = {}
    if rng.random() > 0.1:  # some records have no interval (NaN robust violation)
        intervals = {
            m: (v - rng.uniform(0, 0.05), v + rng.uniform(0, 0.05)) for m, v in values.items()
        }
    rate = float(rng.choice([0.0, 1.0, rng.uniform(0.01, 0.99)], p=[0.1, 0.05, 0.85]))
    balanced = 0.5 if rate in (0.0, 1.0) else float(rng.uniform(0.48, 0.8))
    if rng.random() < 0.05:
        balanced = math.nan  # a record from before balanced accuracy was kept
    confirmed = bool(rng.random() < 0.2)  # measured again on every row: first in its tier
    return TrialResult(
        cand,
        "ok",
        metric=float(np.round(rng.uniform(0.6, 0.9), 3)),  # ties happen
        constraint_values=values,
        violation=worst_violation(CONSTRAINTS, values),
        constraint_intervals=intervals,
        robust_violation=robust_violation(CONSTRAINTS, intervals),
        diagnostics={"selection_rate": rate, "balanced_accuracy": balanced},
        assurance=assurance(CONSTRAINTS, values, intervals, 0.8),
        confirmed=confirmed,
    )


def recorded_board(results: list[TrialResult], policy: PickPolicy):
    """The leaderboard of a study holding ``results`` as their trial records."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    for r in results:
        attrs, constraints = record.encode(r, CONSTRAINTS, 0.8)
        ok = r.status == "ok"
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL,
                values=[r.metric, r.violation] if ok else None,
                user_attrs=attrs,
                system_attrs={"constraints": list(constraints.values())} if ok else {},
            )
        )
    return study, leaderboard_frame(study, CONSTRAINTS, ACCURACY, policy)


@pytest.mark.parametrize("robust", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_search_and_pick_agree_on_random_leaderboards(seed, robust):
    rng = np.random.default_rng(seed)
    results = [random_point(rng, i) for i in range(int(rng.integers(1, 40)))]
    study, board = recorded_board(results, PickPolicy(robust=robust))
    policy = PickPolicy(robust=robust).raised(results)  # the floor the board's ranking used
    # the record read back (as the sampler rebuilds its study on resume) is the same point
    read_back = [record.decode(t, CONSTRAINTS) for t in study.trials]
    for r, back in zip(results, read_back, strict=True):
        assert policy.tier(r) == policy.tier(back)
    # the leaderboard's pickable column is the search's notion, row by row
    by_trial = board.set_index("trial")
    for number, r in enumerate(results):
        assert by_trial.loc[number, "pickable"] == policy.pickable(r)
        assert by_trial.loc[number, "tier"] == TIER_NAMES[policy.tier(r)]
    # the final pick is the point the search values a model by, and the allocator's best
    number, tier = select_trial(board, "accuracy", policy)
    best = policy.best(results)
    assert results[number].metric == best.metric and policy.tier(best) == policy.tier(
        results[number]
    )
    assert Outcome(results[0].candidate, results, policy=policy).best().metric == best.metric
    value = model_value(results, policy)
    pickable = [r.metric for r in results if policy.pickable(r)]
    if pickable:
        assert tier == "robust" and value == (max(pickable), 0.0)
        # a confirmed point ranks first in its tier
        confirmed = [r.metric for r in results if policy.pickable(r) and r.confirmed]
        assert results[number].metric == max(confirmed or pickable)
    elif value is not None:
        assert tier != "robust" and value[1] > 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30))
def test_pick_is_never_weak_or_constant_while_a_useful_point_is_feasible(seed, n):
    rng = np.random.default_rng(seed)
    results = [random_point(rng, i) for i in range(n)]
    _, board = recorded_board(results, PickPolicy())
    policy = PickPolicy().raised(results)
    number, _ = select_trial(board, "accuracy", policy)
    tiers = [policy.tier(r) for r in results]
    picked = results[number]
    if any(t >= FEASIBLE for t in tiers):
        assert policy.tier(picked) >= FEASIBLE
        assert picked.diagnostics["selection_rate"] not in (0.0, 1.0)
        assert not picked.diagnostics["balanced_accuracy"] < policy.min_usefulness
        # and the most accurate point of the best tier (confirmed first, then ladder step)
        levels = [
            (t, r.confirmed, policy.step(r) if t == FEASIBLE else 0)
            for r, t in zip(results, tiers, strict=True)
        ]
        top = max(levels)
        top_metrics = [r.metric for r, lv in zip(results, levels, strict=True) if lv == top]
        assert picked.metric == max(top_metrics)
    elif any(t > INFEASIBLE for t in tiers):
        assert policy.tier(picked) in (WEAK, CONSTANT)
        if WEAK in tiers:
            assert policy.tier(picked) == WEAK


def test_tiers_of_single_points():
    policy, point_only = PickPolicy(), PickPolicy(robust=False)

    def p(**kw):
        diagnostics = {"selection_rate": 0.3, "balanced_accuracy": 0.7}
        diagnostics.update({k: kw.pop(k) for k in list(kw) if k in diagnostics})
        base = dict(metric=0.8, violation=0.0, robust_violation=-0.01, diagnostics=diagnostics)
        base.update(kw)
        return TrialResult(Candidate("lightgbm"), "ok", **base)

    assert policy.tier(p()) == ROBUST and policy.pickable(p())
    assert policy.tier(p(robust_violation=0.01)) == FEASIBLE
    assert policy.tier(p(robust_violation=math.nan)) == FEASIBLE  # no interval: not robust
    assert point_only.tier(p(robust_violation=0.01)) == ROBUST
    assert policy.tier(p(balanced_accuracy=0.52)) == WEAK
    assert policy.tier(p(balanced_accuracy=math.nan)) == ROBUST  # an old record: usefulness unknown
    assert policy.tier(p(selection_rate=1.0)) == CONSTANT
    assert policy.tier(p(violation=0.01)) == INFEASIBLE
    # not robust: the ladder of lower confidence, in standard errors of each point's noise
    assert [policy.step(p(assurance=a)) for a in (1.0, 0.6, 0.3, 0.0, -0.1, math.nan)] == [
        4,
        3,
        2,
        1,
        0,
        0,
    ]
    safer, luckier = (
        p(robust_violation=0.01, assurance=0.9),
        p(metric=0.85, robust_violation=0.02, assurance=0.1),
    )
    assert policy.best([luckier, safer]) is safer
    assert not policy.pickable(TrialResult(Candidate("lightgbm"), "failed"))


def test_the_usefulness_floor_rises_with_what_is_within_reach():
    def p(metric, ba, robust_violation, violation=0.0):
        values = {c.metric: c.bound + violation for c in CONSTRAINTS}
        intervals = {m: (v - 0.01, v + robust_violation + 0.001) for m, v in values.items()}
        return TrialResult(
            Candidate("lightgbm"), "ok", metric=metric, violation=violation,
            constraint_values=values, constraint_intervals=intervals,
            robust_violation=robust_violation,
            diagnostics={"selection_rate": 0.3, "balanced_accuracy": ba},
            assurance=-robust_violation * 100,
        )  # fmt: skip

    confident_but_weak = p(0.71, 0.59, -0.01)  # rates that hardly move: robust
    useful = p(0.80, 0.81, 0.01)  # feasible on validation, not robust
    out_of_reach = p(0.90, 0.95, 0.2, violation=0.1)  # infeasible: does not raise the floor
    points = [confident_but_weak, useful, out_of_reach]
    assert PickPolicy().best(points) is confident_but_weak
    raised = PickPolicy().raised(points)
    assert raised.min_usefulness == pytest.approx(0.5 + 0.5 * 0.31)
    assert raised.tier(confident_but_weak) == WEAK and raised.best(points) is useful
    assert PickPolicy().raised([confident_but_weak]) == PickPolicy()  # never lowered
    _, board = recorded_board(points, PickPolicy())
    assert select_trial(board, "accuracy", PickPolicy())[1] == "feasible"
    assert board.iloc[0]["accuracy"] == 0.80


def test_usefulness_floor_by_hand():
    """Half the best model's discrimination above chance: balanced accuracy 0.80 over
    chance 0.5 keeps 0.15 above it; a chance-adjusted score of 0.6 over 0 keeps 0.3."""
    assert usefulness_floor(0.80, 0.5) == pytest.approx(0.65)
    assert usefulness_floor(0.60, 0.0) == pytest.approx(0.30)
    assert usefulness_floor(0.5, 0.5) == pytest.approx(0.5)  # at chance, the floor is chance


def test_raised_floor_is_the_usefulness_floor_at_the_policys_chance():
    """The policy raises its floor by the one formula, at its own chance (0 for a
    chance-adjusted score)."""
    point = TrialResult(
        Candidate("lightgbm"), "ok", metric=0.8, violation=0.0, constraint_values={},
        diagnostics={"selection_rate": 0.3, "balanced_accuracy": 0.9},
    )  # fmt: skip
    assert PickPolicy().raised([point]).min_usefulness == usefulness_floor(0.9, 0.5)
    adjusted = PickPolicy(chance=0.0, min_usefulness=0.05)
    assert adjusted.raised([point]).min_usefulness == usefulness_floor(0.9, 0.0)
    assert usefulness_floor(0.9, 0.0) == pytest.approx(0.45)


def test_a_tight_bound_does_not_hand_back_a_constant_model(german):
    """German credit at demographic parity <= 0.02: the pick tells the classes apart and
    says how sure it is."""
    X, y, s = german
    est = FairAutoML(
        constraints="demographic_parity_difference <= 0.02", n_trials=8, time_budget=None,
        random_state=0, learners=["logistic_regression", "lightgbm"],
        mitigators=["group_thresholds", "relaxed_thresholds"], sensitive_at_predict=True,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    cfg, board = est.best_config_, est.leaderboard_
    chosen = board[board["chosen"]].iloc[0]
    assert cfg["tier"] == chosen["tier"] == board.iloc[0]["tier"]
    useful = board[board["tier"].isin(["robust", "feasible"])]
    assert not useful.empty
    assert cfg["balanced_accuracy"] >= 0.55 and 0 < cfg["selection_rate"] < 1
    assert cfg["tier"] == "robust" or not (board["tier"] == "robust").any()
    # the most accurate at the highest confidence any useful model reaches
    same = useful[useful["tier"] == cfg["tier"]]
    if cfg["tier"] == "feasible":
        steps = same.apply(PickPolicy().step, axis=1)
        same = same[steps == steps.max()]
    assert cfg["accuracy"] == same["accuracy"].max()
    assert set(cfg["constraint_intervals"]) == {"demographic_parity_difference"}
