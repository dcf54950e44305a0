"""The rule's fitting noise: a post-processing rule fitted on a sample of the validation
rows moves with that sample; the grouped jackknife over the cross-fitting folds measures
by how much (constraints.rule_noise), recorded beside each point's interval (and added to
it by the pick replay's rule that counts it)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import optuna
import pytest

from benchmarks.scripts.pick_replay import widened
from fairautoml.data.prepare import prepare_fit_data
from fairautoml.data.splits import cv_folds, split_train_validation
from fairautoml.measures.claims import assurance, rule_noise
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.search.evaluate import evaluate_with_posts
from fairautoml.study import record
from fairautoml.study.leaderboard import leaderboard_frame
from fairautoml.study.trial import Candidate, SearchContext
from fairautoml.tasks import get_task

KEY = "demographic_parity_difference"


def test_rule_noise_is_the_grouped_jackknife_of_the_fold_rules_values():
    folds = [{KEY: v} for v in (0.01, 0.03, 0.02, 0.06, 0.03)]
    v = np.array([0.01, 0.03, 0.02, 0.06, 0.03])
    expected = np.sqrt(4 / 5 * np.sum((v - v.mean()) ** 2))
    assert rule_noise(folds)[KEY] == pytest.approx(expected)
    assert rule_noise([{KEY: 0.02}] * 5) == {KEY: 0.0}
    assert rule_noise([{KEY: 0.02}]) == {}  # one rule: nothing to compare


def test_widened_adds_the_noise_in_quadrature_on_each_side():
    z = NormalDist().inv_cdf(0.9)
    intervals = {KEY: (0.01, 0.05)}
    values = {KEY: 0.03}
    out = widened(intervals, values, {KEY: 0.02 / z}, 0.8)
    low, high = out[KEY]
    assert high - 0.03 == pytest.approx(np.hypot(0.02, 0.02))
    assert 0.03 - low == pytest.approx(np.hypot(0.02, 0.02))
    assert widened(intervals, values, {KEY: 0.0}, 0.8) == intervals
    assert widened(intervals, values, {}, 0.8) == intervals
    constraints = parse_constraints(f"{KEY} <= 0.06")
    sure = assurance(constraints, values, intervals, 0.8)
    assert assurance(constraints, values, out, 0.8) == pytest.approx(sure / np.sqrt(2))


def _selection_rule(scores, groups, target):
    """Per group, the score threshold selecting a ``target`` share (a quantile)."""
    return {g: np.quantile(scores[groups == g], 1 - target) for g in np.unique(groups)}


def _dp(rule, scores, groups):
    rates = [np.mean(scores[groups == g] >= t) for g, t in rule.items()]
    return max(rates) - min(rates)


def test_the_jackknife_tracks_how_much_a_fitted_rule_moves_between_samples():
    """A per-group quantile rule fitted on n rows: the spread of its disparity on the
    population across samples, against the jackknife measured inside one sample."""
    rng = np.random.default_rng(0)
    n_pop, n = 200_000, 600
    pop_groups = rng.integers(0, 2, n_pop)
    pop_scores = rng.normal(pop_groups * 0.5, 1.0)
    truth, jackknifed = [], []
    for _ in range(200):
        rows = rng.choice(n_pop, n, replace=False)
        s, g = pop_scores[rows], pop_groups[rows]
        truth.append(_dp(_selection_rule(s, g, 0.3), pop_scores, pop_groups))
        folds = cv_folds(g, g, 5, int(rng.integers(1 << 30)))
        fold_values = [{KEY: _dp(_selection_rule(s[fit], g[fit], 0.3), s, g)} for fit, _ in folds]
        jackknifed.append(rule_noise(fold_values)[KEY])
    ratio = np.mean(jackknifed) / np.std(truth)
    assert 0.6 < ratio < 1.5, ratio


@pytest.fixture(scope="module")
def ctx(german):
    X, y, s = german
    data = prepare_fit_data(X, y, s, task=get_task("binary"))
    train, val = split_train_validation(data.y, data.groups, 0.25, 0)
    constraints = parse_constraints(f"{KEY} <= 0.1")
    return SearchContext(data, train, val, constraints, get_metric("accuracy"), 0)


def test_a_post_processed_point_records_its_rule_noise(ctx):
    candidate = Candidate("logistic_regression", {})
    posts = [("group_thresholds", {"slack": 0.0})]
    raw, post = evaluate_with_posts(candidate, ctx, posts)
    assert raw.result.rule_noise == {}  # no rule fitted: nothing to add
    assert post.result.rule_noise[KEY] > 0
    # the record keeps it, and the leaderboard shows it
    study = optuna.create_study()
    trial = study.ask()
    attrs, _ = record.encode(post.result, ctx.constraints, ctx.interval_level)
    for k, v in attrs.items():
        trial.set_user_attr(k, v)
    study.tell(trial, 0.0)
    back = record.decode(study.trials[0], ctx.constraints)
    assert back.rule_noise == pytest.approx(post.result.rule_noise)
    assert back.assurance == pytest.approx(post.result.assurance)
    board = leaderboard_frame(study, ctx.constraints, ctx.metric, ctx.pick)
    assert board.loc[0, f"{KEY}_rule_se"] == pytest.approx(post.result.rule_noise[KEY])
