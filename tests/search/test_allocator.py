"""The allocator's rule on synthetic outcomes (no training)."""

from __future__ import annotations

import math

import pytest

from fairautoml.search.allocator import Allocator, Outcome
from fairautoml.study.trial import Candidate, TrialResult


@pytest.fixture(autouse=True)
def _registered(in_mitigator):  # the allocator reads the mitigator's declared cost (3.0)
    return in_mitigator


def outcome(
    raw_metric, raw_violation, post_metric=None, seconds=1.0, mitigated_from=None,
    learner="lightgbm",
):  # fmt: skip
    """A trained model: its raw point and, optionally, a feasible post-processed point."""
    mitigator = "test_cell_reweighing" if mitigated_from is not None else "none"
    cand = Candidate(learner, {}, mitigator)
    results = [
        TrialResult(
            cand,
            "ok",
            metric=raw_metric,
            violation=raw_violation,
            fit_time=seconds,
            robust_violation=raw_violation,
        )
    ]
    if post_metric is not None:
        results.append(
            TrialResult(cand, "ok", metric=post_metric, violation=0.0, robust_violation=-0.01)
        )
    return Outcome(cand, results, seconds=seconds, mitigated_from=mitigated_from)


def test_fair_metric_is_the_best_point_the_pick_could_take():
    cand = Candidate("lightgbm")
    a = TrialResult(cand, "ok", metric=0.70, violation=0.0, robust_violation=-0.01)
    b = TrialResult(cand, "ok", metric=0.90, violation=0.01)
    c = TrialResult(cand, "ok", metric=0.95, violation=0.20)
    d = TrialResult(cand, "failed")
    assert Outcome(cand, [d, c, b, a]).best() is a
    assert Outcome(cand, [d, c, b]).best() is b  # none feasible: the least violating
    assert outcome(0.9, 0.1, post_metric=0.8).fair_metric == 0.8
    assert outcome(0.9, 0.1).fair_metric is None


def test_a_first_run_goes_to_the_most_accurate_config_once_tuning_stalls_for_its_cost():
    alloc = Allocator(["test_cell_reweighing"])
    alloc.observe(outcome(0.80, 0.0, seconds=1.0))  # feasible: incumbent 0.80
    fast = outcome(0.84, 0.08, post_metric=0.79, seconds=0.5)
    accurate = outcome(0.86, 0.08, post_metric=0.79, seconds=1.0)
    alloc.observe(fast)
    alloc.observe(accurate)
    # ECI_tune = 2.5 s (one improvement in 2.5 s); the first run costs 3 x 1 s: not yet,
    # though its step-2 ECI (3 s / P) would never pass: P = 1/2 Phi(-0.5) = 0.15
    assert alloc.eci_tune() == pytest.approx(2.5)
    assert alloc.pick(math.inf) is None
    alloc.observe(outcome(0.70, 0.2, seconds=1.0))  # 3.5 s without improvement
    base, m = alloc.pick(math.inf)
    assert base is accurate and m == "test_cell_reweighing"  # the most accurate, not the cheapest
    assert alloc.pick(math.inf) is None  # running: the next run waits for its measurement


def test_no_run_starts_that_the_trial_time_limit_would_stop():
    """A run stopped at the per-trial limit costs its seconds and yields nothing: the most
    accurate configuration waits for a limit its run fits in, however much budget is left."""

    def stalled() -> tuple[Allocator, Outcome, Outcome]:
        alloc = Allocator(["test_cell_reweighing"])
        alloc.observe(outcome(0.80, 0.0, seconds=1.0))
        slow = outcome(0.86, 0.08, post_metric=0.79, seconds=2.0)  # pessimistic: 3 x 2 s
        cheap = outcome(0.85, 0.08, post_metric=0.79, seconds=1.0)  # 3 x 1 s
        alloc.observe(slow)
        alloc.observe(cheap)
        for _ in range(10):  # tuning stalls long enough for the first run's cost
            alloc.observe(outcome(0.70, 0.2, seconds=1.0))
        return alloc, slow, cheap

    alloc, slow, cheap = stalled()
    assert alloc.pick(1e9, limit=2.9) is None  # every run would cost at least 3 s
    alloc, slow, cheap = stalled()
    assert alloc.pick(1e9, limit=5.0) == (cheap, "test_cell_reweighing")
    alloc, slow, cheap = stalled()
    assert alloc.pick(1e9, limit=6.5) == (slow, "test_cell_reweighing")


def test_auto_waits_while_tuning_improves_then_mitigates_the_promising_config():
    alloc = Allocator(["test_cell_reweighing"])
    alloc.tried.add((0, "test_cell_reweighing"))  # its first run (step 5) is in flight
    alloc.observe(outcome(0.80, 0.0, seconds=1.0))  # feasible: incumbent 0.80
    promising = outcome(0.86, 0.08, post_metric=0.79, seconds=1.0)
    alloc.observe(promising)
    # tuning improved 1 s ago and once per second: ECI_tune = 2 s; mitigation costs 3 s
    assert alloc.eci_tune() == pytest.approx(2.0)
    assert alloc.cost(promising, "test_cell_reweighing") == pytest.approx(3.0)
    assert alloc.pick(math.inf) is None
    for _ in range(6):  # tuning stalls: six more seconds without improvement
        alloc.observe(outcome(0.70, 0.2, seconds=1.0))
    assert alloc.eci_tune() == pytest.approx(8.0)  # max(7 s since, 8 s per improvement)
    # P(improve) = 1/2 * Phi((0.86 - 0.07 - 0.80) / 0.02) = 0.15, ECI_m = 3 / 0.15 > 8: no
    assert alloc.pick(math.inf) is None
    better = outcome(0.90, 0.05, post_metric=0.89, seconds=1.0)  # drop prior 0.01
    alloc.observe(better)  # improves the incumbent to 0.89 (plain tuning improved again)
    # P(improve) = 1/2 * Phi(0) = 1/4 for `better`: ECI_m = 12 s, so after 12 s of stall
    for _ in range(11):
        alloc.observe(outcome(0.70, 0.2, seconds=1.0))
    assert alloc.eci_tune() == pytest.approx(11.0) and alloc.pick(math.inf) is None
    alloc.observe(outcome(0.70, 0.2, seconds=1.5))
    base, m = alloc.pick(math.inf)
    assert base is better and m == "test_cell_reweighing"
    assert alloc.pick(math.inf) is None  # `promising` still costs more per improvement


def test_auto_never_mitigates_raw_feasible_configs_or_beyond_the_budget():
    alloc = Allocator(["test_cell_reweighing"])
    assert alloc.pick(math.inf) is None  # nothing trained yet
    alloc.observe(outcome(0.80, 0.0, seconds=1.0))
    for _ in range(20):
        alloc.observe(outcome(0.60, 0.0, seconds=1.0))  # stalled, but nothing is over the bound
    assert alloc.pick(math.inf) is None
    alloc.observe(outcome(0.95, 0.1, seconds=1.0))  # no feasible post point: prior drop 0.03
    assert alloc.pick(5.0) is None  # 3 s expected cost, 5 s left: no margin
    assert alloc.pick(math.inf) is not None


def test_measured_runs_update_cost_and_price_estimates():
    alloc = Allocator(["test_cell_reweighing"])
    base = outcome(0.90, 0.1, post_metric=0.85, seconds=1.0)
    alloc.observe(base)
    p_before = alloc.p_improve(base, "test_cell_reweighing")
    # a measured run: 12 s (ratio 12, prior 3 -> geometric mean 6) and a large price
    alloc.observe(outcome(0.70, 0.0, seconds=12.0, mitigated_from=base))
    assert alloc.cost(base, "test_cell_reweighing") == pytest.approx(6.0)
    assert alloc.cost(base, "test_cell_reweighing", pessimistic=True) == pytest.approx(12.0)
    assert alloc.p_improve(base, "test_cell_reweighing") < p_before


def test_feasibility_is_learned_per_learner():
    alloc = Allocator(["test_cell_reweighing"])
    trees = outcome(0.70, 0.2, seconds=1.0)
    linear = outcome(0.66, 0.2, seconds=1.0, learner="logistic_regression")
    for o in (trees, linear):
        alloc.observe(o)
    assert alloc.p_improve(trees, "test_cell_reweighing") == pytest.approx(0.5)  # no feasible
    for _ in range(3):  # the reduction never reaches the bound on the tree learner
        alloc.observe(outcome(0.65, 0.1, seconds=3.0, mitigated_from=trees))
    p_m = 1 / 5  # (1 + 0 feasible) / (2 + 3 runs)
    assert alloc.p_improve(trees, "test_cell_reweighing") == pytest.approx(2 * p_m / 5)
    assert alloc.p_improve(linear, "test_cell_reweighing") == pytest.approx(p_m)
    for _ in range(14):  # plain tuning finds nothing feasible for 16 s: ECI_tune = 16 s
        alloc.observe(outcome(0.50, 0.3, seconds=1.0))
    # ECI: 3 s / 0.2 = 15 s on the linear learner, 3 s / 0.08 = 37.5 s on the trees
    assert alloc.pick(math.inf)[0] is linear  # the pool holds each learner's best


def test_a_mitigator_is_only_proposed_for_learners_it_works_with():
    """constrained_boosting is a LightGBM objective: never proposed for other learners."""
    alloc = Allocator(["constrained_boosting"])
    alloc.observe(outcome(0.90, 0.2, seconds=1.0, learner="xgboost"))
    assert alloc.pick(math.inf) is None
    alloc.observe(outcome(0.90, 0.2, seconds=1.0, learner="lightgbm"))
    _, base, m = alloc._cheapest(alloc.plain, 1e9, math.inf)
    assert m == "constrained_boosting" and base.candidate.learner == "lightgbm"


def test_without_a_time_budget_costs_are_counted_in_trained_models():
    """Seconds differ from run to run; trained models do not (repeatable searches)."""
    alloc = Allocator(["test_cell_reweighing"])
    alloc.timed = False
    alloc.observe(outcome(0.80, 0.1, seconds=123.0))
    alloc.observe(outcome(0.79, 0.1, seconds=0.5))
    assert alloc.plain_seconds == 2.0
    base = alloc.plain[0]
    assert alloc.cost(base, "test_cell_reweighing") == 1.0
    assert alloc.cost(base, "test_cell_reweighing", pessimistic=True) == 1.0
