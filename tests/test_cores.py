"""How a fit uses the cores (fairautoml.search.cores): read off its settings, not timed."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
import xgboost

from fairautoml import FairAutoML
from fairautoml.estimators.build import build_search
from fairautoml.search import cores
from fairautoml.search.cores import CorePlan, plan_cores
from fairautoml.search.runner import ProcessRunner
from fairautoml.testing import make_biased

GiB = 2**30


def pretend_cores(monkeypatch, n: int) -> None:
    """This machine seen as ``n`` cores (joblib's reading of -1, -2, ...)."""
    monkeypatch.setattr(cores, "effective_n_jobs", lambda k: n + 1 + k if k < 0 else k)


def test_a_plan_never_oversubscribes_and_bounds_workers_by_memory(monkeypatch):
    pretend_cores(monkeypatch, 16)
    small = plan_cores(-1, side_by_side=True, trial_bytes=10**6, memory=64 * GiB)
    assert small == CorePlan(16, 16, 1)  # small models: one trial per core
    big = plan_cores(-1, side_by_side=True, trial_bytes=2 * GiB, memory=32 * GiB)
    assert big.trials == 2 and big.threads == 8  # 16 GiB for workers of ~6.4 GiB each
    assert plan_cores(-1, side_by_side=False, trial_bytes=1, memory=GiB) == CorePlan(16, 1, 16)
    assert plan_cores(1, side_by_side=True, trial_bytes=1, memory=GiB) == CorePlan(1, 1, 1)
    assert plan_cores(-2, side_by_side=True, trial_bytes=1, memory=None).cores == 15
    for plan in (small, big):
        assert plan.trials * plan.threads <= plan.cores and plan.final_threads == plan.cores


def test_a_60_s_fit_on_every_core_of_a_two_core_machine_uses_both(monkeypatch):
    """The README's fit (a 60 s budget) with n_jobs=-1 on two cores: two trials at once
    in worker processes, a thread each; the steps after the search (the final refit) on
    both. (-1 is not yet the default: docs/decisions.md.)"""
    pretend_cores(monkeypatch, 2)
    X, y, s = make_biased(n=600, seed=0)
    params = {**FairAutoML(time_budget=60, n_jobs=-1).search_params()}
    search = build_search(params, X, y, s, started=0.0)
    try:
        runner = search.controller.runner
        assert isinstance(runner, ProcessRunner) and runner.capacity == 2
        assert search.ctx.n_jobs == 1  # each trial's learner: one thread
        assert search.cores == CorePlan(2, 2, 1) and search.cores.final_threads == 2
        # the group classifier every worker calls: a trial's threads, not every core
        group = search.ctx.group_estimator()
        assert group.get_params()["n_jobs"] == 1
    finally:
        search.controller.runner.close()


def test_a_short_budget_trains_in_process_on_every_core(monkeypatch):
    pretend_cores(monkeypatch, 2)
    X, y, s = make_biased(n=600, seed=0)
    params = FairAutoML(time_budget=5, n_jobs=-1).search_params()
    search = build_search(params, X, y, s, started=0.0)
    assert search.cores == CorePlan(2, 1, 2) and search.ctx.n_jobs == 2
    assert not isinstance(search.controller.runner, ProcessRunner)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: lightgbm.LGBMClassifier(
            n_estimators=60,
            num_threads=t,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=0,
            verbose=-1,
        ),
        lambda t: xgboost.XGBClassifier(
            n_estimators=60, n_jobs=t, subsample=0.8, tree_method="hist", random_state=0
        ),
    ],
    ids=["lightgbm", "xgboost"],
)
def test_the_learners_give_the_same_model_on_any_number_of_threads(make):
    """What makes a run by n_trials repeatable across machines (the module docstring)."""
    X, y, _ = make_biased(n=20_000, seed=4)
    X = X.select_dtypes("number")
    one, four = (make(t).fit(X, y).predict_proba(X)[:, 1] for t in (1, 4))
    assert np.array_equal(one, four)
