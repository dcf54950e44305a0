"""One trained model, several points: evaluate_with_posts and post_variants."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from fairautoml.data.prepare import prepare_fit_data
from fairautoml.data.splits import split_train_validation
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.search.evaluate import evaluate_candidate, evaluate_with_posts
from fairautoml.search.post_settings import post_variants
from fairautoml.study.trial import Candidate, SearchContext
from fairautoml.tasks import get_task


@pytest.fixture(scope="module")
def ctx(german):
    X, y, s = german
    data = prepare_fit_data(X, y, s, task=get_task("binary"))
    train, val = split_train_validation(data.y, data.groups, 0.25, 0)
    constraints = parse_constraints("equalized_odds_difference <= 0.05")
    return SearchContext(data, train, val, constraints, get_metric("accuracy"), 0)


def test_post_variants_defaults_then_each_parameter_at_its_ends_and_middle():
    variants = post_variants(["none", "group_thresholds"])
    assert variants == (
        ("group_thresholds", {"slack": 0.2}),
        ("group_thresholds", {"slack": 0.0}),
        ("group_thresholds", {"slack": 0.3}),
        ("group_thresholds", {"slack": 0.6}),
    )
    assert post_variants(["none"]) == ()


def test_one_training_gives_the_same_points_as_separate_evaluations(ctx):
    variants = post_variants(["group_thresholds"])
    candidate = Candidate("lightgbm", {"n_estimators": 30}, post="group_thresholds")
    points = evaluate_with_posts(candidate, ctx, variants)
    assert [p.result.candidate.post for p in points] == ["none"] + ["group_thresholds"] * 4
    assert points[0].result.candidate.post_params == {}
    for point, (_, params) in zip(points[1:], variants, strict=True):
        assert point.result.candidate.post_params == params
        alone = evaluate_candidate(point.result.candidate, ctx)
        assert alone.result.metric == point.result.metric
        assert alone.result.constraint_values == point.result.constraint_values
        assert alone.result.diagnostics == point.result.diagnostics
    # the points share one trained scoring model; each fit_time includes the training
    assert all(p.model.scoring is points[0].model.scoring for p in points)
    assert min(p.result.fit_time for p in points[1:]) >= points[0].result.fit_time * 0.5


def test_a_failing_post_fails_its_point_only_and_failed_training_gives_one_point(ctx):
    points = evaluate_with_posts(
        Candidate("lightgbm", {"n_estimators": 20}),
        ctx,
        [("group_thresholds", {"slack": "x"}), ("nope", {})],
    )
    assert [p.result.status for p in points] == ["ok", "failed", "failed"]
    assert "ValueError" in points[1].result.error  # slack "x" is not a number
    assert "Unknown mitigator 'nope'" in points[2].result.error
    bad = evaluate_with_posts(Candidate("lightgbm", {"n_estimators": -3}), ctx, [("x", {})])
    assert len(bad) == 1 and bad[0].result.status == "failed"


def test_costly_posts_run_only_on_models_reaching_the_gate(ctx):
    ctx = replace(ctx, constraints=parse_constraints("demographic_parity_difference <= 0.1"))
    variants = post_variants(["group_thresholds", "bias_score_blind", "threshold_optimizer"])
    # every round, no early stopping: on this data its raw model then beats the cheap points
    candidate = Candidate("lightgbm", {"n_estimators": 30, "early_stopping_rounds": 0})
    every = evaluate_with_posts(candidate, ctx, variants)
    # cheap settings first, costly ones after; all of them without a gate
    assert [p.result.candidate.post for p in every] == (
        ["none"] + ["group_thresholds"] * 4 + ["bias_score_blind"] * 4
        + ["threshold_optimizer"] * 4
    )  # fmt: skip
    # the gate reads the points the final pick could take (robust ones, by default)
    cheap_best = max(p.result.metric for p in every[:5] if ctx.pick.pickable(p.result))
    assert cheap_best < max(p.result.metric for p in every[:5])  # the raw model is not one
    # a gate above what the cheap points reached skips the costly settings
    gated = evaluate_with_posts(candidate, ctx, variants, costly_from=cheap_best + 1e-9)
    assert [p.result.candidate.post for p in gated] == ["none"] + ["group_thresholds"] * 4
    assert not any(hasattr(p.model.scoring, "group_estimator") for p in gated)
    # a gate the cheap points reach lets them run, with the same numbers as ungated
    passed = evaluate_with_posts(candidate, ctx, variants, costly_from=cheap_best)
    assert [p.result.metric for p in passed] == [p.result.metric for p in every]
    assert all(hasattr(p.model.scoring, "group_estimator") for p in passed[5:9])


def test_a_training_fits_while_half_a_typical_one_is_left():
    """One slow outlier (an in-processing run) does not end the search: the next training
    starts while half the median training time is left."""
    import time

    from fairautoml.search._base import Budget, TrainingTimes

    times = TrainingTimes()
    budget = Budget(deadline=time.monotonic() + 3.0)
    assert times.next_cost() == 0.0 and not times.spent(budget, 0)
    for seconds in (1.0, 1.2, 0.8, 12.0):
        times.add(seconds)
    assert times.next_cost() == pytest.approx(0.55)  # half of 1.1, not half of 12
    assert not times.spent(budget, 4)
    assert times.spent(Budget(deadline=time.monotonic() + 0.5), 4)
    assert times.spent(Budget(deadline=time.monotonic() + 60, n_trials=4), 4)


def test_score_order_holds_each_folds_rows_by_descending_score_and_changes_no_rule(ctx):
    """Rules are fitted on the validation rows by descending score (one sort per model,
    not per setting and fold): the same rows, and the same rule as in any other order."""
    from fairautoml.mitigators import get_mitigator
    from fairautoml.search.post_rows import ScoreOrder

    rng = np.random.default_rng(0)
    _, y, g = ctx.val
    scores = np.round(rng.random(len(y)), 2)  # ties too
    order = ScoreOrder.of(scores, ctx)
    assert sorted(order.every) == list(range(len(y)))
    assert np.all(np.diff(scores[order.every]) <= 0)
    for rows, (fit_rows, _) in zip(order.fits, ctx.val_folds, strict=True):
        assert sorted(rows) == sorted(fit_rows)
        assert np.all(np.diff(scores[rows]) <= 0)
    for name in ("group_thresholds", "relaxed_thresholds", "threshold_optimizer"):
        post = get_mitigator(name)
        params = post.space.defaults()

        def fitted(rows, post=post, params=params):
            return post.fit(scores[rows], y[rows], g[rows], ctx.constraints, ctx.metric, params, 0)

        as_given, by_score = fitted(np.arange(len(y))), fitted(order.every)
        np.testing.assert_array_equal(
            as_given.predict_proba(scores, g), by_score.predict_proba(scores, g)
        )


def test_a_kept_model_gives_the_same_points_without_training_again(ctx, monkeypatch):
    """What the report's policy comparison reads after the pick: a model the search kept
    is scored again, not trained again, and its points are those a new training gives
    (a group-reading post-processor included: the group classifier is added)."""
    from fairautoml.search import evaluate

    variants = post_variants(["group_thresholds", "bias_score_blind"])
    candidate = Candidate("lightgbm", {"n_estimators": 30})
    trained = evaluate_with_posts(candidate, ctx, variants)
    kept = replace(trained[0], scores=None)  # scores read again from the kept model

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(evaluate, "fit_scoring_model", no_training)
    again = evaluate.evaluate_trained(kept, ctx, variants)
    assert again is not None and len(again) == len(trained)
    for new, old in zip(again, trained, strict=True):
        assert new.result.candidate == old.result.candidate
        assert new.result.metric == old.result.metric
        assert new.result.constraint_values == old.result.constraint_values
    assert evaluate.evaluate_trained(replace(kept, model=None), ctx, variants) is None


def test_a_models_settings_read_its_group_probabilities_once(ctx, monkeypatch):
    """P(group | x) on the validation rows is one prediction per model, shared by its
    settings that read it (on a big table each reading costs seconds); the points are
    those of separate evaluations, which read it afresh."""
    from fairautoml.search import post_rows

    variants = post_variants(["bias_score_blind"])
    assert len(variants) > 1
    candidate = Candidate("lightgbm", {"n_estimators": 30})
    readings = []
    read = post_rows.held_out_group_proba

    def counted(scoring, c):
        readings.append(scoring)
        return read(scoring, c)

    monkeypatch.setattr(post_rows, "held_out_group_proba", counted)
    points = evaluate_with_posts(candidate, ctx, variants)
    assert len(readings) == 1
    for point in points[1:]:
        assert point.result.status == "ok"
        alone = evaluate_candidate(point.result.candidate, ctx)
        assert alone.result.constraint_values == point.result.constraint_values
    assert len(readings) == 1 + len(variants)  # each separate evaluation read its own


def test_no_setting_of_a_kept_model_starts_after_until(ctx):
    """The report's policy comparison runs after the pick, within the time budget: a kept
    model's settings stop at the deadline it is given."""
    from fairautoml.search import evaluate

    variants = post_variants(["group_thresholds"])
    trained = evaluate_with_posts(Candidate("lightgbm", {"n_estimators": 30}), ctx, variants)
    past = evaluate.evaluate_trained(trained[0], ctx, variants, until=time.monotonic() - 1)
    assert past is not None and [p.result.candidate.post for p in past] == ["none"]
    ahead = evaluate.evaluate_trained(trained[0], ctx, variants, until=time.monotonic() + 600)
    assert ahead is not None and len(ahead) == 1 + len(variants)


def test_the_policy_comparison_counts_a_group_classifier_it_would_fit(ctx):
    """A kept model costs nothing to train again, but a setting that reads P(group | x)
    fits the search's group classifier if no trial did: that is counted (as the model's
    own training) before the comparison starts."""
    from fairautoml.estimators.running import policy_cost

    fresh = replace(ctx)  # its own, empty, group classifier cache
    reading, plain = post_variants(["bias_score_blind"]), post_variants(["group_thresholds"])
    assert policy_cost(4.0, True, fresh, plain) == 8.0  # trained again: twice
    assert policy_cost(4.0, False, fresh, plain) == 0.0
    assert policy_cost(4.0, False, fresh, reading) == 4.0
    fresh.group_estimator()
    assert fresh.has_group_estimator()
    assert policy_cost(4.0, False, fresh, reading) == 0.0
