"""A search in one process keeps back from its budget what the final refit of its current
leader needs, not a fixed share: nothing for a post-processed leader (it is not refitted)."""

from __future__ import annotations

import time

import pytest

from fairautoml import FairAutoML
from fairautoml.estimators.build import build_search
from fairautoml.estimators.running import BOOKKEEPING, FINAL_SLACK, REFIT_RESERVE, will_not_refit
from fairautoml.search import Budget


def test_the_budget_keeps_back_what_its_reserve_asks_for_at_each_call():
    now = time.monotonic()
    need = [0.0]
    budget = Budget(deadline=now + 100, hard_deadline=now + 110, reserve=lambda: need[0])
    assert budget.remaining() == pytest.approx(100, abs=0.5)
    assert budget.trial_limit() == pytest.approx(110, abs=0.5)
    need[0] = 30.0
    assert budget.remaining() == pytest.approx(70, abs=0.5)
    assert budget.trial_limit() == pytest.approx(80, abs=0.5)
    assert budget.exhausted(0, next_cost=71) and not budget.exhausted(0, next_cost=69)


def _run(german, **params):
    X, y, s = german
    defaults = {
        "time_budget": 600, "n_trials": 4, "random_state": 0, "sensitive_at_predict": True
    }  # fmt: skip
    search = build_search(
        FairAutoML(**{**defaults, **params}).get_params(), X, y, s, started=time.monotonic()
    )
    search.run()
    return search


def test_the_reserve_is_the_refit_of_the_leader_and_nothing_for_post_processing(german):
    search = _run(german, learners=["logistic_regression"], mitigators=["group_thresholds"])
    kept = [e for e in search.evaluations.values() if e.model is not None]
    post = [e for e in kept if e.result.candidate.post != "none"]
    plain = [e for e in kept if e.result.candidate.post == "none"]
    assert post and plain
    for e in post:
        assert will_not_refit(e, search.ctx) and search.refit_seconds(e) == 0.0
    n_all, n_train = len(search.ctx.data.y), len(search.ctx.train_idx)
    for e in plain:
        assert search.refit_seconds(e) == pytest.approx(e.result.fit_time * n_all / n_train * 1.2)
    leader = max(kept, key=lambda e: search.ctx.pick.key(e.result, e.result.metric))
    assert search.refit_reserve == search.refit_seconds(leader)


def test_the_reserve_counts_against_the_deadline_up_to_its_cap(german):
    search = _run(german, learners=["logistic_regression"], mitigators=[])
    assert search.refit_reserve > 0  # nothing is post-processed: the leader is refitted
    budget = search.budget
    search.refit_reserve = 0.0
    free = budget.remaining()
    search.refit_reserve = 5.0
    assert free - budget.remaining() == pytest.approx(5.0, abs=0.5)
    cap = 600 * (REFIT_RESERVE - BOOKKEEPING)
    search.refit_reserve = cap + 10  # never more than the fixed share
    assert free - budget.remaining() == pytest.approx(cap, abs=0.5)
    search.refit_reserve = 600 * (REFIT_RESERVE + FINAL_SLACK - 1) + 1  # could never run
    assert free - budget.remaining() == pytest.approx(0.0, abs=0.5)


def test_no_reserve_without_refit(german):
    search = _run(german, learners=["logistic_regression"], mitigators=[], refit=False)
    assert search.refit_reserve == 0.0
