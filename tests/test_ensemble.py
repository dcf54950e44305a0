"""Ensembles of the search's models (fairautoml.search.ensemble): selection, rebuild, blind, fit."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

import fairautoml
from fairautoml import FairAutoML
from fairautoml.estimators.build import build_search
from fairautoml.mitigators import search_deadline
from fairautoml.search import ensemble as ensemble_module
from fairautoml.search.ensemble import (
    ENSEMBLE,
    EnsembleBuilder,
    EnsembleScoring,
    combine,
    ensemble_candidate,
    fit_ensemble,
    greedy_selection,
)
from fairautoml.search.evaluate import evaluate_candidate, evaluate_with_posts, fit_and_score, refit
from fairautoml.study.trial import Candidate
from fairautoml.testing import make_biased

CONSTRAINT = "demographic_parity_difference <= 0.1"
MEMBERS = [
    Candidate("logistic_regression", {}),
    Candidate("lightgbm", {"n_estimators": 20, "num_leaves": 4}),
    Candidate("random_forest", {"n_estimators": 10}),
]
POSTS = (("inferred_thresholds", {"tolerance": 0.8}),)


def _ctx(cv_folds="auto", **params):
    X, y, s = make_biased(n=800, seed=3)
    options = dict(constraints=CONSTRAINT, random_state=0, cv_folds=cv_folds, **params)
    search = build_search(FairAutoML(**options).search_params(), X, y, s, started=time.monotonic())
    search.ctx.deadline = None
    return search.ctx, X, s


def _library(ctx, posts=POSTS):
    builder = EnsembleBuilder(ctx, posts)
    number = 0
    for candidate in MEMBERS:
        for evaluation in evaluate_with_posts(candidate, ctx, posts):
            builder.observe(number, evaluation)
            number += 1
    return builder


def test_greedy_selection_finds_the_brute_force_optimum_on_a_tiny_library():
    # a concave objective: how close the mix of three models is to (1/2, 1/3, 1/6)
    target = np.array([3, 2, 1]) / 6

    def objective(counts):
        return -float(np.sum((counts / counts.sum() - target) ** 2))

    counts = greedy_selection(3, objective, start=0, rounds=10)
    brute = max(
        (np.array(c) for c in itertools.product(range(7), repeat=3) if 0 < sum(c) <= 11),
        key=objective,
    )
    assert objective(counts) == pytest.approx(objective(brute))
    assert list(counts / counts.sum()) == pytest.approx(list(target))


def test_greedy_selection_on_the_fair_objective_against_brute_force():
    ctx, _, _ = _ctx()
    builder = _library(ctx)
    ranked = builder._ranked()
    posts = builder.proxy_posts(ranked)
    scores = np.stack([m.scores for m in ranked])

    def objective(counts):
        used = np.flatnonzero(counts)
        return builder.proxy_key(combine(scores[used], counts[used]), posts)

    # one round from the best model is a brute force over the pairs that contain it
    one_round = greedy_selection(3, objective, 0, rounds=1)
    pairs = [np.eye(3, dtype=int)[0] + np.eye(3, dtype=int)[k] for k in range(3)]
    single = np.eye(3, dtype=int)[0]
    assert objective(one_round) == max(objective(c) for c in [single, *pairs])
    # the full selection is never worse than its start and never better than every mix
    counts = greedy_selection(3, objective, 0, rounds=4)
    every = [np.array(c) for c in itertools.product(range(6), repeat=3) if 0 < sum(c) <= 5]
    assert objective(single) <= objective(counts) <= max(objective(c) for c in every)


@pytest.mark.parametrize("cv_folds", ["auto", None])
def test_an_ensemble_rebuilt_from_its_record_reproduces_its_scores(cv_folds):
    ctx, _, _ = _ctx(cv_folds)
    builder = _library(ctx)
    members, weights = builder.library[:2], [2, 1]
    builder.select = lambda deadline=None: (members, weights)
    evaluations = builder.build()
    assert len(evaluations) == 1 + len(POSTS)
    candidate = evaluations[0].result.candidate
    assert candidate.learner == ENSEMBLE
    recorded = Candidate.from_json(candidate.to_json())  # what the study keeps
    assert recorded == candidate
    _, rebuilt_scores = fit_and_score(recorded, ctx)
    expected = combine([m.scores for m in members], weights)
    np.testing.assert_allclose(rebuilt_scores, expected, rtol=0, atol=1e-12)
    for evaluation in evaluations:
        point = Candidate.from_json(evaluation.result.candidate.to_json())
        rebuilt = evaluate_candidate(point, ctx)
        assert rebuilt.result.metric == pytest.approx(evaluation.result.metric)
        assert rebuilt.result.constraint_values == pytest.approx(
            evaluation.result.constraint_values
        )


def test_the_blind_ensemble_needs_no_group_at_predict_time():
    ctx, X, s = _ctx(None)
    builder = _library(ctx)
    builder.select = lambda deadline=None: (builder.library[:2], [1, 1])
    post_point = builder.build()[1]
    assert post_point.result.candidate.post == "inferred_thresholds"
    model = post_point.model
    assert not model.needs_group
    with_group = model.predict_proba(X, s)
    np.testing.assert_array_equal(model.predict_proba(X), with_group)
    rebuilt = evaluate_candidate(post_point.result.candidate, ctx).model
    assert not rebuilt.needs_group
    assert rebuilt.predict(X).shape == (len(X),)


def test_refit_trains_every_member_on_every_row():
    ctx, X, _ = _ctx(None)
    candidate = ensemble_candidate(MEMBERS[:2], [1, 3])
    chosen = evaluate_candidate(candidate, ctx)
    refitted = refit(candidate, ctx, chosen.model)
    assert isinstance(refitted.scoring, EnsembleScoring)
    assert refitted.scoring.weights == [1.0, 3.0]
    assert refitted.scoring.members[0] is not chosen.model.scoring.members[0]
    assert refitted.predict(X).shape == (len(X),)


def test_fit_offers_ensembles_and_the_flag_turns_them_off(tmp_path):
    X, y, s = make_biased(n=800, seed=3)
    options = dict(
        constraints=CONSTRAINT, time_budget=None, n_trials=8, random_state=0, decision_rule="proxy"
    )
    on = FairAutoML(**options).fit(X, y, sensitive_features=s)
    off = FairAutoML(**options, ensemble=False).fit(X, y, sensitive_features=s)
    assert (off.leaderboard_["learner"] != ENSEMBLE).all()
    ensembles = on.leaderboard_[on.leaderboard_["learner"] == ENSEMBLE]
    assert len(ensembles) > 0
    assert '"weights"' in ensembles["params"].iloc[0]
    # an ensemble pick is saved and read back like any model
    number = int(ensembles["trial"].iloc[0])
    ctx, _, _ = _ctx()
    candidate = fairautoml.study.record.candidate(on.study_.trials[number])
    on.best_estimator_ = evaluate_candidate(candidate, ctx).model
    path = on.save(tmp_path / "ensemble.skops")
    loaded = fairautoml.load(path)
    np.testing.assert_array_equal(loaded.predict(X, s), on.predict(X, s))


def test_an_ensemble_with_a_mitigated_member_is_shipped_as_measured():
    """Its fairness is the mix of its members' scores as measured; each member trained
    again would drift on its own, so the pick is not refitted (a plain one is)."""
    from fairautoml.estimators.running import will_not_refit

    ctx, _, _ = _ctx(None)
    plain = evaluate_candidate(ensemble_candidate(MEMBERS[:2], [1, 1]), ctx)
    reweighed = Candidate("logistic_regression", {}, mitigator="reweighing")
    mixed = evaluate_candidate(ensemble_candidate([MEMBERS[1], reweighed], [1, 1]), ctx)
    assert plain.model.rule is None and mixed.model.rule is None  # no post-processing
    assert not will_not_refit(plain, ctx)
    assert will_not_refit(mixed, ctx)


def test_an_ensemble_built_during_the_search_ends_with_it(monkeypatch):
    """A build during a timed search (the library changed) is given the search's end as
    its deadline, as the final one is given the fit's: no setting of it starts later (on
    a big table a build measured one ensemble's settings for seconds past the budget)."""
    from fairautoml.estimators.running import Search

    given = []
    build = EnsembleBuilder.build
    monkeypatch.setattr(
        EnsembleBuilder, "build", lambda self, deadline=None: given.append(deadline)
        or build(self, deadline)
    )  # fmt: skip
    ends = []
    run = Search.run

    def timed_run(self, *args, **kwargs):
        ends.append(self.budget.deadline)
        return run(self, *args, **kwargs)

    monkeypatch.setattr(Search, "run", timed_run)
    X, y, s = make_biased(n=800, seed=3)
    FairAutoML(constraints=CONSTRAINT, time_budget=8, random_state=0).fit(
        X, y, sensitive_features=s
    )
    assert len(given) >= 2  # during the search, and the final one
    assert all(d is not None for d in given)
    assert all(d <= ends[0] for d in given[:-1])  # the search's own end, less its reserve


def test_an_ensemble_trained_within_a_deadline_starts_no_member_that_would_end_past_it(
    monkeypatch,
):
    """Trained again on more rows (a big table's confirmation), an ensemble's members can
    take several times their trials' seconds: a member whose expected seconds (the members'
    so far, on average) would end past the deadline is not started, and the training
    fails instead; with time for them, or outside a search, every member trains."""
    ctx, _, _ = _ctx(cv_folds=None)
    X_tr, y_tr, g_tr = ctx.sampled(None).train
    clock = {"now": 0.0}
    monkeypatch.setattr(ensemble_module.time, "monotonic", lambda: clock["now"])
    trained = []

    def fake_fit(member, *args, **kwargs):  # each member takes 10 s on the fake clock
        clock["now"] += 10.0
        trained.append(member.learner)
        return EnsembleScoring([], [])

    monkeypatch.setattr(ensemble_module, "fit_scoring_model", fake_fit)
    candidate = ensemble_candidate(MEMBERS, [1, 1, 1])
    args = (candidate, ctx, X_tr, y_tr, g_tr)
    monkeypatch.setattr(ensemble_module, "time_left", lambda: 15.0 - clock["now"])
    with pytest.raises(TimeoutError, match="member 2 of 3"):
        fit_ensemble(*args)
    assert trained == ["logistic_regression"]  # 5 s left after it, a member takes 10
    trained.clear()
    clock["now"] = 0.0
    monkeypatch.setattr(ensemble_module, "time_left", lambda: 35.0 - clock["now"])
    assert len(fit_ensemble(*args).members) == 3
    trained.clear()
    monkeypatch.undo()
    with search_deadline(None):  # outside a search: no deadline, the real members train
        assert len(fit_ensemble(*args).members) == 3
