"""Trials run in worker processes under a time limit; faults are recorded, never fatal."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import fairautoml
from fairautoml.learners import LEARNERS

SPACE = {"params": {"C": {"type": "float", "low": 0.1, "high": 1.0, "log": True}}}


class HangingLearner(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        time.sleep(600)


class RaisingLearner(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("boom: this learner always fails")


class NaNLearner(LogisticRegression):
    def predict_proba(self, X):
        return np.full((len(X), 2), np.nan)


@pytest.fixture
def faulty_learners():
    names = {"hanging": HangingLearner, "raising": RaisingLearner, "nan_proba": NaNLearner}
    for name, cls in names.items():
        fairautoml.register_learner(name, cls, SPACE, scale=True, threads_param=None)
    yield list(names)
    for name in names:
        LEARNERS.remove(name)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_faulty_trials_are_recorded_and_search_goes_on(german, faulty_learners, n_jobs):
    X, y, s = german
    start = time.monotonic()
    automl = fairautoml.FairAutoML(
        time_budget=16,
        trial_time_limit=4,  # a worker process starting on a busy machine takes seconds
        cv_folds=None,  # a holdout: a sound trial stays far below the limit
        n_jobs=n_jobs,
        random_state=0,
        learners=[*faulty_learners, "logistic_regression"],
    ).fit(X, y, sensitive_features=s)
    elapsed = time.monotonic() - start
    board = automl.leaderboard_
    errors = {row.learner: row.error for row in board.itertuples() if row.status == "failed"}
    assert "TrialTimeout" in errors["hanging"]
    assert "boom: this learner always fails" in errors["raising"]
    assert "non-finite" in errors["nan_proba"]
    assert automl.best_config_["learner"] == "logistic_regression"
    assert automl.best_config_["feasible"]
    assert elapsed < 16 * 1.1 + 2


def test_in_process_without_budget_and_worker_results_match(german):
    """The same seed gives the same leaderboard in process and in a worker process."""
    X, y, s = german
    opts = dict(n_trials=3, time_budget=None, random_state=0, learners=["logistic_regression"])
    local = fairautoml.FairAutoML(**opts).fit(X, y, sensitive_features=s)
    isolated = fairautoml.FairAutoML(**opts, trial_time_limit=60).fit(X, y, sensitive_features=s)
    cols = ["trial", "learner", "post", "params", "accuracy", "demographic_parity_difference"]
    assert local.leaderboard_[cols].equals(isolated.leaderboard_[cols])


def test_a_worker_gets_only_the_rows_trials_read_and_measures_alike():
    """Above ``max_search_rows`` a worker is sent the searched training rows and the
    validation rows only; its trials (row rungs included) measure what they measure in
    process."""
    from fairautoml.bench.rows import make_synthetic

    X, y, s = make_synthetic(6_000, n_features=6, seed=2)
    opts = dict(
        n_trials=4, time_budget=None, random_state=0, cv_folds=None, max_search_rows=1_500,
        min_rung_rows=500, learners=["logistic_regression", "lightgbm"], confirm=False,
    )  # fmt: skip
    search = fairautoml.estimators.build.build_search(
        fairautoml.FairAutoML(**opts).get_params(), X, y, s, started=time.monotonic()
    )
    ctx, sent = search.ctx, search.ctx.for_trials()
    assert len(sent.data.y) == len(ctx.train_idx) + len(ctx.val_idx) < len(y)
    pairs = [(ctx.train, sent.train), (ctx.val, sent.val)]
    pairs.append((ctx.sampled(500).train, sent.sampled(500).train))  # a rung: the same rows
    for mine, theirs in pairs:
        np.testing.assert_array_equal(mine[0].to_numpy(), theirs[0].to_numpy())
        np.testing.assert_array_equal(mine[1], theirs[1])
        np.testing.assert_array_equal(mine[2], theirs[2])
    local = fairautoml.FairAutoML(**opts).fit(X, y, sensitive_features=s)
    isolated = fairautoml.FairAutoML(**opts, trial_time_limit=60).fit(X, y, sensitive_features=s)
    cols = ["trial", "learner", "post", "train_rows", "accuracy", "demographic_parity_difference"]
    assert local.leaderboard_[cols].equals(isolated.leaderboard_[cols])


def test_group_classifier_is_fitted_before_the_trials(german):
    """Blind post-processors read P(group | x): the search fits that classifier once before
    its trials, so worker processes receive it and no trial pays for it under its limit."""
    from fairautoml.estimators.build import prefit_group_classifier
    from fairautoml.estimators.context import search_context

    X, y, s = german
    params = fairautoml.FairAutoML(
        cv_folds=None, random_state=0, decision_rule="proxy"
    ).get_params()
    ctx, domain = search_context(params, X, y, s)
    assert "inferred_thresholds" in domain.posts
    prefit_group_classifier(ctx, domain)
    assert set(ctx._group_estimators) == {-1}
    assert ctx.for_trials()._group_estimators is ctx._group_estimators
    blind_free = replace(domain, posts=("none",))
    ctx2, _ = search_context(params, X, y, s)
    prefit_group_classifier(ctx2, blind_free)
    assert ctx2._group_estimators == {}


AUTO_LIMIT_BUDGET = 24  # "auto" limits a trial to a third of it


class SlowLearner(LogisticRegression):
    """Sound, but slower than a third of the budget on every fit. The budget leaves a slow
    machine seconds of room to start a second trial after the first (worker start-up,
    the refit's reserve, half a typical training)."""

    def fit(self, X, y, sample_weight=None):
        time.sleep(AUTO_LIMIT_BUDGET / 3 + 1)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.slow
@pytest.mark.exclusive
def test_the_auto_limit_waits_for_a_first_model(german):
    """Under "auto" the first, slow trials are not stopped, so the search has a model; once
    one has succeeded, the limit holds for the others."""
    fairautoml.register_learner("slow", SlowLearner, SPACE, scale=True, threads_param=None)
    try:
        X, y, s = german
        automl = fairautoml.FairAutoML(
            time_budget=AUTO_LIMIT_BUDGET, cv_folds=None, random_state=0, learners=["slow"],
            mitigators=[], confirm=False, ensemble=False,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
    finally:
        LEARNERS.remove("slow")
    board = automl.leaderboard_
    first = board.sort_values("trial").iloc[0]
    assert first["status"] == "ok" and first["fit_time"] > AUTO_LIMIT_BUDGET / 3  # past it
    assert automl.best_config_["learner"] == "slow"
    later = board[(board["status"] == "failed") & board["error"].str.contains("TrialTimeout")]
    assert len(later) >= 1  # the next slow trial was stopped at the limit
    assert len(later) == len(board[board["status"] == "failed"])  # stopped, nothing else
