"""Successive halving over training rows (search.row_rungs): the schedule, the samples a
rung trains on, and a search that promotes the configurations leading their rung."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest

from fairautoml import FairAutoML
from fairautoml.bench.rows import make_synthetic
from fairautoml.estimators.build import build_search
from fairautoml.estimators.context import AUTO_RUNG_ROWS
from fairautoml.exceptions import ConfigurationError
from fairautoml.search.evaluate import evaluate_candidate
from fairautoml.search.row_rungs import RowRungs
from fairautoml.study import record

SETTINGS = dict(
    constraints="demographic_parity_difference <= 0.1",
    time_budget=None,
    n_trials=16,
    cv_folds=None,  # rungs sample the holdout's training rows
    learners=["logistic_regression", "lightgbm"],
    mitigators=["none", "relaxed_thresholds"],
    sensitive_at_predict=True,
    min_rung_rows=400,
    random_state=0,
)


def test_rungs_go_down_by_eta_while_a_rung_keeps_min_rows():
    assert RowRungs.for_rows(100_000, 10_000).sizes == (11_111, 33_333, 100_000)
    assert RowRungs.for_rows(100_000, 11_112).sizes == (33_333, 100_000)
    assert RowRungs.for_rows(20_000, 10_000) is None  # one rung: nothing to halve
    assert RowRungs.for_rows(100_000, None) is None


def test_a_model_goes_up_only_while_it_is_in_its_rungs_top_third():
    rungs = RowRungs.for_rows(9_000, 1_000)
    assert rungs.sizes == (1_000, 3_000, 9_000)
    assert rungs.promote(1_000, 0.70)  # first of its rung
    assert not rungs.promote(1_000, 0.60)  # 2nd of 2: top ceil(2/3) = 1
    assert not rungs.promote(1_000, 0.65)  # 2nd of 3
    assert rungs.promote(1_000, 0.72)  # 1st of 4
    assert rungs.promote(1_000, 0.70)  # tied 2nd of 5: top 2
    assert not rungs.promote(1_000, None)  # no pickable point: last
    assert rungs.rows_above(1_000) == 3_000
    assert rungs.rows_above(3_000) is None  # the top rung: every search row
    assert rungs.promote(3_000, 0.5)  # rungs keep their own scores
    assert not rungs.promote(None, 0.99)  # nothing above the top


@pytest.fixture(scope="module")
def table():
    return make_synthetic(8_000, n_features=8, seed=3)


@pytest.fixture(scope="module")
def searched(table):
    X, y, s = table
    search = build_search(FairAutoML(**SETTINGS).get_params(), X, y, s, started=time.monotonic())
    search.run()
    return search


def test_a_rung_trains_on_a_stratified_sample_that_rebuilds_alike(searched):
    ctx = searched.ctx
    first = RowRungs.for_rows(len(ctx.train_idx), SETTINGS["min_rung_rows"]).first
    sample = ctx.sampled(first)
    assert len(sample.train_idx) == first and set(sample.train_idx) <= set(ctx.train_idx)
    assert sample is ctx.sampled(first)  # cached: every trial of the rung trains on it
    np.testing.assert_array_equal(sample.val_idx, ctx.val_idx)
    _, y, g = ctx.data.subset(ctx.train_idx)
    _, y_s, g_s = sample.train
    full = np.bincount(g * 2 + y) / len(y)
    np.testing.assert_allclose(np.bincount(g_s * 2 + y_s) / len(y_s), full, atol=0.01)
    assert ctx.sampled(None) is ctx and ctx.sampled(len(ctx.train_idx)) is ctx
    # a low-rung model rebuilt from its record trains on the same rows: the same point
    # (the search kept no low-rung model in memory: each is rebuilt twice)
    number = next(
        n for n, e in searched.evaluations.items() if e.result.candidate.train_rows == first
    )
    recorded = searched.evaluations[number].result
    once, twice = (evaluate_candidate(recorded.candidate, ctx.sampled(first)) for _ in "12")
    rebuilt = searched.evaluation(number)
    for again in (once, twice, rebuilt):
        assert again.result.metric == recorded.metric
        assert again.result.constraint_values == recorded.constraint_values
    X = ctx.data.X.iloc[:500]
    g = ctx.data.groups[:500]
    np.testing.assert_allclose(
        once.model.scoring.predict_proba(X, g), rebuilt.model.scoring.predict_proba(X, g)
    )


def test_the_search_promotes_the_configurations_that_lead_their_rung(searched):
    """Replayed from the record: a configuration trained on a rung's rows was trained on
    the rung below first, and went up exactly when its score (best pickable validation
    metric) was in the top third of the scores its rung had by then."""
    trials = searched.study.trials
    models = sorted(record.trained_models(trials), key=lambda t: t.number)
    rungs = RowRungs.for_rows(len(searched.ctx.train_idx), SETTINGS["min_rung_rows"])
    assert rungs is not None and len(rungs.sizes) == 3

    def config(t):
        return replace(record.candidate(t), train_rows=None)

    def score(t):
        points = [
            t,
            *(p for p in trials if record.is_derived(p) and record.derived_from(p) == t.number),
        ]
        results = [
            record.decode(p, searched.constraints) for p in points if not record.confirmed(p)
        ]
        best = searched.ctx.pick.best_pickable_metric(results)
        return -math.inf if best is None else best

    by_rung = {}
    for t in models:
        by_rung.setdefault(rungs.rung(record.candidate(t).train_rows), []).append(t)
    assert len(by_rung.get(0, ())) >= 4, "the search should have judged several configurations"
    assert len(by_rung.get(1, ())) < len(by_rung[0])  # not every one goes up
    for k in (1, 2):
        for t in by_rung.get(k, ()):
            below = [m for m in by_rung[k - 1] if m.number < t.number and config(m) == config(t)]
            assert below, f"trial {t.number} skipped rung {k - 1}"
    last = models[-1].number
    for k in (0, 1):
        seen = []
        for t in by_rung.get(k, ()):
            seen.append(score(t))
            leads = sum(s > seen[-1] for s in seen) < math.ceil(len(seen) / rungs.eta)
            went_up = any(
                config(m) == config(t) and m.number > t.number for m in by_rung.get(k + 1, ())
            )
            if leads and t.number != last:  # the last one ends the search first
                assert went_up, f"trial {t.number} led rung {k} but was not trained on more rows"
            if not leads:
                assert not went_up, f"trial {t.number} went up without leading rung {k}"


def test_a_lower_rung_screens_on_default_post_settings(table, monkeypatch):
    """Below the top rung a model is judged on its raw point and each cheap
    post-processor's default setting, as every model of its rung; every setting and the
    costly ones (here ThresholdOptimizer) are for the top rung's models, gated there as
    in any search."""
    from fairautoml.search import _points

    asked = []  # (training rows, the metric from which costly settings run)
    asked_posts = []  # (training rows, the post-processing settings asked for)

    def evaluate(candidate, ctx, posts=(), costly_from=None):
        asked.append((candidate.train_rows, costly_from))
        asked_posts.append((candidate.train_rows, list(posts)))
        return _points.evaluate_with_posts.__wrapped__(candidate, ctx, posts, costly_from)

    evaluate.__wrapped__ = _points.evaluate_with_posts
    monkeypatch.setattr(_points, "evaluate_with_posts", evaluate)
    X, y, s = table
    settings = {**SETTINGS, "mitigators": ["none", "relaxed_thresholds", "threshold_optimizer"]}
    search = build_search(FairAutoML(**settings).get_params(), X, y, s, started=time.monotonic())
    search.run()
    rungs = RowRungs.for_rows(len(search.ctx.train_idx), SETTINGS["min_rung_rows"])
    below = [c for rows, c in asked if rungs.below_top(rows)]
    top = [c for rows, c in asked if not rungs.below_top(rows)]
    assert below and top, "the search should train models on every rung"
    assert all(c == math.inf for c in below)
    assert all(c is None or math.isfinite(c) for c in top)  # the usual gate, not closed
    every = search.controller.variants
    for rows, posts in asked_posts:  # below: one (the default) setting per post-processor
        names = [name for name, _ in posts]
        if rungs.below_top(rows):
            assert sorted(names) == sorted(set(n for n, _ in every))
            assert all(posts.count(p) == 1 and p in every for p in posts)
        else:
            assert posts == list(every)
    posts = {record.candidate(t).post for t in search.study.trials}
    assert "relaxed_thresholds" in posts


def test_auto_halves_only_where_the_search_trains_on_a_sample(table):
    X, y, s = table
    params = FairAutoML(**{**SETTINGS, "min_rung_rows": "auto"}).get_params()
    whole = build_search({**params, "max_search_rows": None}, X, y, s, started=time.monotonic())
    assert not whole.ctx.trains_on_sample and whole.controller.min_rung_rows is None
    sampled = build_search({**params, "max_search_rows": 2_000}, X, y, s, started=time.monotonic())
    assert sampled.ctx.trains_on_sample
    assert sampled.controller.min_rung_rows == AUTO_RUNG_ROWS


@pytest.mark.parametrize("bad", [50, "half", 1.5])
def test_a_bad_min_rung_rows_names_what_it_must_be(table, bad):
    X, y, s = table
    with pytest.raises(ConfigurationError, match=r"min_rung_rows.*'auto' or None"):
        FairAutoML(**{**SETTINGS, "min_rung_rows": bad}).fit(X, y, s)
