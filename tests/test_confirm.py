"""Confirmation: the leading post-processed models measured again on every row."""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml.estimators.build import build_search
from fairautoml.estimators.running import FINAL_SLACK
from fairautoml.estimators.summary import FitSummary
from fairautoml.mitigators import FoldModels
from fairautoml.report.page import pick_summary, pipeline_table
from fairautoml.report.study_table import read_study
from fairautoml.search import confirm
from fairautoml.search.confirm import (
    ALL_TRAINING_ROWS,
    CONFIRM_LEADERS,
    CROSS_VALIDATED,
    base_of,
    confirm_leaders,
    confirmation_context,
    confirmation_kind,
    confirmation_plan,
    confirmation_seconds,
    leaders,
    model_points,
)
from fairautoml.search.post_settings import is_costly_post
from fairautoml.study import record
from fairautoml.study.leaderboard import leaderboard_frame
from fairautoml.study.pick import FEASIBLE, ROBUST, PickPolicy
from fairautoml.study.storage import CONFIRMED_FIRST_ATTR
from fairautoml.study.trial import Candidate

SETTINGS = dict(
    constraints="demographic_parity_difference <= 0.1",
    time_budget=None,
    n_trials=4,
    ensemble=False,  # confirms single models (an ensemble's: tests/test_ensemble.py)
    cv_folds=None,  # a holdout search: the German table would be cross-validated by default
    learners=["logistic_regression", "lightgbm"],
    mitigators=["none", "group_thresholds", "relaxed_thresholds"],
    sensitive_at_predict=True,
    random_state=0,
)


@pytest.fixture(scope="module")
def searched(german):
    X, y, s = german
    automl = FairAutoML(**SETTINGS)
    search = build_search(automl.get_params(), X, y, s, started=time.monotonic())
    search.run()
    numbers = search.confirm()
    return search, numbers


def _width(row, metric="demographic_parity_difference"):
    return row[f"{metric}_high"] - row[f"{metric}_low"]


def test_confirmed_points_are_measured_on_every_row(searched):
    search, numbers = searched
    board = search.leaderboard()
    confirmed = board[board["confirmed"]]
    assert sorted(confirmed["trial"]) == sorted(numbers) and len(numbers) > 0
    assert not any(is_costly_post(p) for p in confirmed["post"] if p != "none")
    # at most CONFIRM_LEADERS trained models, each with its raw point confirmed too
    trials = {n: search.study.trials[n] for n in numbers}
    trained = {t.user_attrs["derived_from"] for t in trials.values()}
    assert 1 <= len(trained) <= CONFIRM_LEADERS
    assert all(not search.study.trials[n].user_attrs.get("confirmed") for n in trained)
    assert (confirmed["post"] == "none").sum() == len(trained)
    # measured on four times the rows: the same setting's interval is clearly narrower
    ratios = []
    for row in confirmed[confirmed["post"] != "none"].itertuples(index=False):
        twin = board[
            ~board["confirmed"]
            & (board["learner"] == row.learner)
            & (board["params"] == row.params)
            & (board["post"] == row.post)
        ]
        if len(twin):
            ratios.append(_width(row._asdict()) / _width(twin.iloc[0]))
    assert ratios and np.median(ratios) < 0.8


def test_confirmed_model_is_fold_models_and_rebuilds_the_same(searched, german):
    search, numbers = searched
    X, _, s = german
    number = next(n for n in numbers if search.candidate(n).post != "none")
    kept = search.evaluations[number].model
    assert (
        isinstance(kept.scoring, FoldModels) and len(kept.scoring.models) == confirm.CONFIRM_FOLDS
    )
    search.evaluations[number].model = None
    rebuilt = search.evaluation(number).model
    search.evaluations[number].model = kept
    np.testing.assert_array_equal(
        kept.predict(X.iloc[:300], s.iloc[:300]), rebuilt.predict(X.iloc[:300], s.iloc[:300])
    )


def test_fit_picks_a_confirmed_point_and_says_so(german):
    X, y, s = german
    # a bound the raw models miss, so the pick is post-processed (a raw pick is refitted)
    automl = FairAutoML(**{**SETTINGS, "constraints": "demographic_parity_difference <= 0.03"})
    automl.fit(X, y, sensitive_features=s)
    first = automl.leaderboard_.iloc[0]
    assert bool(first["chosen"]) and bool(first["confirmed"]) and first["post"] != "none"
    cfg = automl.best_config_
    assert cfg["confirmed"] and not cfg["refitted"] and cfg["trial"] == int(first["trial"])
    assert isinstance(automl.best_estimator_.scoring, FoldModels)
    summary = [line for line in pick_summary(automl) if "confirmed after the search" in line]
    assert len(summary) == 1 and "cross-validation" in summary[0]
    assert cfg["confirmation"] == "cross_validated"
    assert "fold models" in pipeline_table(cfg)
    assert len(automl.predict(X.iloc[:50], sensitive_features=s.iloc[:50])) == 50


def test_pick_prefers_a_confirmed_point_within_its_tier_only():
    def point(metric, confirmed, robust=True):
        return SimpleNamespace(
            status="ok", violation=0.0, robust_violation=-0.01 if robust else 0.01,
            diagnostics={"selection_rate": 0.3, "balanced_accuracy": 0.7},
            assurance=2.0 if robust else 0.5,
            metric=metric, confirmed=confirmed,
        )  # fmt: skip

    policy = PickPolicy()
    better_measured, luckier = point(0.80, True), point(0.81, False)
    assert policy.tier(better_measured) == policy.tier(luckier) == ROBUST
    assert policy.best([luckier, better_measured]) is better_measured
    weaker_tier = point(0.82, True, robust=False)
    assert policy.tier(weaker_tier) == FEASIBLE
    assert policy.best([weaker_tier, luckier]) is luckier


def test_a_big_tables_confirmed_point_ranks_by_its_metric(german, monkeypatch):
    """Confirmed on more training rows, a point is measured on the search's validation
    rows as the others are: the metric ranks it among them (a weak leader confirmed where
    the strong ones did not fit must not displace a more accurate pick)."""

    def point(metric, confirmed):
        return SimpleNamespace(
            status="ok", violation=0.0, robust_violation=-0.01, assurance=2.0,
            diagnostics={"selection_rate": 0.5, "balanced_accuracy": metric},
            metric=metric, confirmed=confirmed,
        )  # fmt: skip

    weak_confirmed, strong = point(0.79, True), point(0.86, False)
    X, y, s = german
    params = FairAutoML(**{**SETTINGS, "cv_folds": None}).get_params()
    small = build_search(params, X, y, s, started=time.monotonic())
    assert confirmation_kind(small.ctx) == CROSS_VALIDATED
    assert small.ctx.pick.best([strong, weak_confirmed]) is weak_confirmed  # on every row
    big = _big_table_search(german, monkeypatch)
    assert confirmation_kind(big.ctx) == ALL_TRAINING_ROWS
    assert big.ctx.pick.best([strong, weak_confirmed]) is strong
    assert big.ctx.pick.best([weak_confirmed, point(0.78, False)]) is weak_confirmed


def test_confirmation_starts_with_the_challenger_then_the_picks_model():
    """A model whose point meets the constraints on validation, not with confidence, and is
    more accurate there than the pick is confirmed first (measured on every row it may turn
    robust); then the pick's own model, the other challengers and the runners-up."""
    rows = [  # trial, post, tier, accuracy: in the pick's order
        (0, "inferred_thresholds", "robust", 0.850),  # the pick
        (1, "inferred_thresholds", "robust", 0.840),  # a runner-up
        (2, "inferred_thresholds", "feasible", 0.870),  # the best challenger
        (3, "inferred_thresholds", "feasible", 0.860),  # another challenger
        (4, "inferred_thresholds", "feasible", 0.845),  # less accurate than the pick
        (5, "none", "feasible", 0.880),  # not post-processed: nothing to confirm
        (6, "inferred_thresholds", "weak", 0.900),  # not useful: no challenger
        (7, "inferred_thresholds", "feasible", 0.875),  # confirmed already
    ]
    board = pd.DataFrame(rows, columns=["trial", "post", "tier", "accuracy"])
    board["status"], board["confirmed"] = "ok", board["trial"] == 7
    trials = [
        SimpleNamespace(
            user_attrs={record.CANDIDATE: Candidate("lightgbm", {"m": n}, post=post).to_json()}
        )
        for n, post, *_ in rows
    ]
    study = SimpleNamespace(get_trials=lambda deepcopy=False: trials)

    assert [t for t, _ in leaders(board, study, 3, "accuracy")] == [2, 0, 3]
    assert [t for t, _ in leaders(board, study, 9, "accuracy")] == [2, 0, 3, 1, 4, 6]
    no_challenger = board[board["tier"] != "feasible"].reset_index(drop=True)
    assert [t for t, _ in leaders(no_challenger, study, 3, "accuracy")] == [0, 1, 6]
    base = leaders(board, study, 1, "accuracy")[0][1]
    assert base.post == "none" and base.learner_params == {"m": 2}


def test_no_confirmation_when_cross_validated_switched_off_or_out_of_time(german):
    X, y, s = german
    cross_validated = FairAutoML(**{**SETTINGS, "cv_folds": 3}).fit(X, y, sensitive_features=s)
    assert not cross_validated.leaderboard_["confirmed"].any()
    off = FairAutoML(**{**SETTINGS, "confirm": False}).fit(X, y, sensitive_features=s)
    assert not off.leaderboard_["confirmed"].any()

    search = build_search(FairAutoML(**SETTINGS).get_params(), X, y, s, started=time.monotonic())
    search.run()
    board = leaderboard_frame(search.study, search.constraints, search.ctx.metric)
    assert confirmation_context(search.ctx) is not None

    def never(evaluation, derived_from):  # pragma: no cover - must not be reached
        raise AssertionError("confirmed past the deadline")

    late = time.monotonic()  # no time left at all
    assert confirm_leaders(board, search.study, search.ctx, search.evaluations, never, late) == []


@pytest.mark.parametrize(("flags", "expected"), [([], True), (["--no-confirm"], False)])
def test_cli_fit_passes_confirm(monkeypatch, flags, expected):
    from fairautoml import cli
    from fairautoml.cli import commands as cli_commands

    seen = {}

    class Stop(Exception):
        pass

    class Capturing(FairAutoML):
        def fit(self, X, y, sensitive_features=None):
            seen.update(self.get_params())
            raise Stop

    monkeypatch.setattr(cli_commands, "estimator_for", lambda task: Capturing)
    with pytest.raises(Stop):
        cli.main(["fit", "--dataset", "german", "--n-trials", "1", "-q", *flags])
    assert seen["confirm"] is expected


def test_big_data_confirms_by_training_on_every_training_row(german, monkeypatch):
    """Above CONFIRM_MAX_ROWS a search that trained on a sample of its training rows
    confirms its leaders by training them on every training row, their rules fitted and
    measured on the search's validation rows; the pick takes such a point and says so."""
    X, y, s = german
    monkeypatch.setattr(confirm, "CONFIRM_MAX_ROWS", 500)  # German's 1,000 rows are "big"
    settings = {**SETTINGS, "constraints": "demographic_parity_difference <= 0.03"}
    settings["max_search_rows"] = 300
    search = build_search(FairAutoML(**settings).get_params(), X, y, s, started=time.monotonic())
    assert confirmation_kind(search.ctx) == ALL_TRAINING_ROWS
    every = confirmation_context(search.ctx)
    assert len(search.ctx.train_idx) == 300
    np.testing.assert_array_equal(every.val_idx, search.ctx.val_idx)
    assert sorted([*every.train_idx, *every.val_idx]) == list(range(len(y)))
    search.run()
    leader = next(e for e in search.evaluations.values() if e.result.candidate.post == "none")
    points = model_points(search.evaluations, leader.result.candidate)
    post = sum(max(e.result.fit_time - points[0].result.fit_time, 0) for e in points[1:])
    expected = points[0].result.fit_time * len(every.train_idx) / 300 + post
    assert confirmation_seconds(points, search.ctx) == pytest.approx(expected)
    numbers = search.confirm()
    assert numbers
    number = next(n for n in numbers if search.candidate(n).post != "none")
    kept = search.evaluations[number].model
    assert not isinstance(kept.scoring, FoldModels)  # one model, trained on every training row
    search.evaluations[number].model = None
    rebuilt = search.evaluation(number).model
    search.evaluations[number].model = kept
    np.testing.assert_array_equal(
        kept.predict(X.iloc[:300], s.iloc[:300]), rebuilt.predict(X.iloc[:300], s.iloc[:300])
    )

    automl = FairAutoML(**settings).fit(X, y, sensitive_features=s)
    cfg = automl.best_config_
    assert cfg["confirmed"] and cfg["confirmation"] == ALL_TRAINING_ROWS
    summary = [line for line in pick_summary(automl) if "confirmed after the search" in line]
    assert len(summary) == 1 and "more training rows than the search's sample" in summary[0]
    assert "trained on every training row" in pipeline_table(cfg)


def _big_table_search(german, monkeypatch, **extra):
    """A search of German whose 1,000 rows count as big: trials train on 300 of its
    training rows, confirmation trains on more of them (samples in steps of 100)."""
    X, y, s = german
    monkeypatch.setattr(confirm, "CONFIRM_MAX_ROWS", 500)
    monkeypatch.setattr(confirm, "SAMPLE_STEP", 100)
    settings = {**SETTINGS, "max_search_rows": 300, **extra}
    return build_search(FairAutoML(**settings).get_params(), X, y, s, started=time.monotonic())


def _points(trained_seconds, post_seconds=(), rows=None):
    """A model's points as confirmation reads them: the raw model's fit seconds first."""
    raw = Candidate("lightgbm", train_rows=rows)
    trained = trained_seconds
    results = [SimpleNamespace(candidate=raw, fit_time=trained)]
    results += [
        SimpleNamespace(candidate=replace(raw, post="group_thresholds"), fit_time=trained + p)
        for p in post_seconds
    ]
    return [SimpleNamespace(result=r) for r in results]


def test_confirmation_plan_trains_on_the_largest_sample_the_time_allows(german, monkeypatch):
    """Where training on every training row would not end in the time left, a big table's
    leader is confirmed on the largest multiple of SAMPLE_STEP rows that would (sized on
    the time over SPARE), if at least MIN_GROWTH times the search's rows; else not at all."""
    search = _big_table_search(german, monkeypatch)
    ctx = search.ctx
    n_training = len(confirmation_context(ctx).train_idx)  # 750: every non-validation row
    points = _points(3.0, post_seconds=[1.0])  # 3 s on 300 rows: 0.01 s a row, 1 s of rules
    every = 3.0 * n_training / 300 + 1.0
    assert confirmation_seconds(points, ctx) == pytest.approx(every)
    assert confirmation_plan(points, ctx, None) == (None, pytest.approx(every))
    assert confirmation_plan(points, ctx, every + 0.1) == (None, pytest.approx(every))
    # 8.2 s left: sized on 8.2 / 1.2 = 6.83 s, 1 s of rules, 5.83 s of training: 583 rows
    monkeypatch.setattr(confirm, "MIN_GROWTH", 1.5)
    rows, expected = confirmation_plan(points, ctx, 8.2)
    assert rows == 500 and expected == pytest.approx(3.0 * 500 / 300 + 1.0)
    assert expected <= 8.2 / confirm.SPARE
    # the same time, but 500 rows are less than twice the 300 the search trained it on
    monkeypatch.setattr(confirm, "MIN_GROWTH", 2.0)
    assert confirmation_plan(points, ctx, 8.2) is None
    assert confirmation_plan(points, ctx, 0.5) is None  # not even the rules fit
    monkeypatch.setattr(confirm, "MIN_GROWTH", 1.5)
    ensemble = _points(3.0, post_seconds=[1.0])
    for p in ensemble:  # the same seconds, but its members trained in trials of their own
        p.result.candidate = replace(p.result.candidate, learner="ensemble")
    assert confirmation_plan(ensemble, ctx, 8.2) is None
    assert confirmation_plan(ensemble, ctx, every + 0.1) == (None, pytest.approx(every))
    assert confirmation_plan(_points(3.0)[1:], ctx, 100.0) is None  # no raw model's point


def test_small_table_confirmation_is_on_every_row_or_not_at_all(german):
    """Cross-validated confirmation has no sample to shrink: it fits or it does not run."""
    X, y, s = german
    search = build_search(FairAutoML(**SETTINGS).get_params(), X, y, s, started=time.monotonic())
    points = _points(1.0)
    every = confirmation_seconds(points, search.ctx)
    assert confirmation_plan(points, search.ctx, every * 2) == (None, pytest.approx(every))
    assert confirmation_plan(points, search.ctx, every / 2) is None


def test_a_leader_confirmed_on_a_sample_records_and_rebuilds_its_rows(german, monkeypatch):
    """Out of time for every training row, a leader is trained on the sample the time
    allows; the point records the rows (``train_rows``), a rebuild trains on the same
    sample, and the report says how many rows the saved model saw."""
    X, _, s = german
    search = _big_table_search(german, monkeypatch, max_search_rows=150)
    search.run()
    board = leaderboard_frame(search.study, search.constraints, search.ctx.metric, search.ctx.pick)
    _, base = leaders(board, search.study, 1, search.ctx.metric.name)[0]
    points = model_points(search.evaluations, base)
    for e in points:  # as if its 150 rows took 10 s: every one of the 750 takes 50 s
        e.result = replace(e.result, fit_time=e.result.fit_time + 10.0)
    post = confirmation_seconds(points, search.ctx, 0)
    unit = confirmation_seconds(points, search.ctx, 100) - post
    left = confirm.SPARE * (post + 3.5 * unit)  # time for 300 rows, not 400 nor 750
    assert confirmation_seconds(points, search.ctx) > left
    search.params = {**search.params, "time_budget": 1000.0}
    search.started = time.monotonic() + left - 1000.0 * FINAL_SLACK
    numbers = search.confirm()
    of_leader = [
        n for n in numbers if base_of(search.candidate(n)) == replace(base, train_rows=300)
    ]
    assert of_leader and all(search.candidate(n).train_rows == 300 for n in of_leader)
    others = set(numbers) - set(of_leader)  # the others' seconds are real: every row fits
    assert all(search.candidate(n).train_rows is None for n in others)
    number = next(n for n in of_leader if search.candidate(n).post != "none")
    kept = search.evaluations[number].model
    search.evaluations[number].model = None
    rebuilt = search.evaluation(number).model
    search.evaluations[number].model = kept
    np.testing.assert_array_equal(
        kept.predict_proba(X.iloc[:300], s.iloc[:300]),
        rebuilt.predict_proba(X.iloc[:300], s.iloc[:300]),
    )
    board = leaderboard_frame(search.study, search.constraints, search.ctx.metric, search.ctx.pick)
    assert set(board.loc[board["trial"].isin(of_leader), "train_rows"]) == {300}
    summary = FitSummary(
        candidate=search.candidate(number), confirmed=True, confirmation=ALL_TRAINING_ROWS
    )
    assert "a stratified sample of 300 training rows" in pipeline_table(summary)


def test_confirmation_above_its_row_cap_trains_on_a_stratified_sample(german, monkeypatch):
    """Above CONFIRM_MAX_TRAINING_ROWS training rows a leader is confirmed on a stratified
    sample of that many (memory and time), the same sample for every rebuild."""
    X, y, s = german
    monkeypatch.setattr(confirm, "CONFIRM_MAX_ROWS", 500)
    monkeypatch.setattr(confirm, "CONFIRM_MAX_TRAINING_ROWS", 400)
    settings = {**SETTINGS, "max_search_rows": 300}
    search = build_search(FairAutoML(**settings).get_params(), X, y, s, started=time.monotonic())
    ctx = search.ctx
    capped = confirmation_context(ctx)
    assert len(capped.train_idx) == 400
    assert not set(capped.train_idx) & set(ctx.val_idx)
    np.testing.assert_array_equal(capped.train_idx, confirmation_context(ctx).train_idx)
    _, y_all, g_all = ctx.data.subset(np.setdiff1d(np.arange(len(y)), ctx.val_idx))
    _, y_cap, g_cap = ctx.data.subset(capped.train_idx)
    np.testing.assert_allclose(
        np.bincount(g_cap * 2 + y_cap) / 400,
        np.bincount(g_all * 2 + y_all) / len(y_all),
        atol=0.01,
    )


def test_a_pick_trained_on_a_sample_retrained_on_every_row_holds_on_new_rows(monkeypatch):
    """Big-data path end to end: trials train on a sample (and on smaller rungs of it),
    the post-processed leader is trained again on every training row with its rule fitted
    again on held-out scores, and that model meets the bound on rows no step saw."""
    from fairlearn.metrics import demographic_parity_difference

    from fairautoml.bench.rows import make_synthetic

    X, y, s = make_synthetic(40_000, n_features=8, seed=5)
    fit_rows, new_rows = slice(0, 20_000), slice(20_000, None)
    monkeypatch.setattr(confirm, "CONFIRM_MAX_ROWS", 10_000)
    settings = {
        **SETTINGS,
        "constraints": "demographic_parity_difference <= 0.05",
        "n_trials": 8,
        "max_search_rows": 3_000,
        "min_rung_rows": 1_000,
    }
    params = FairAutoML(**settings).get_params()
    search = build_search(
        params, X[fit_rows], y[fit_rows], s[fit_rows], started=time.monotonic()
    )  # fmt: skip
    search.run()
    numbers = search.confirm()
    board = leaderboard_frame(search.study, search.constraints, search.ctx.metric, search.ctx.pick)
    assert board.iloc[0]["post"] != "none", "the plain model is unfair: the pick post-processes"
    pickable = board[board["pickable"]]
    assert board.iloc[0]["accuracy"] == pickable["accuracy"].max()  # confirmed or not
    confirmed = pickable[pickable["trial"].isin(numbers) & (pickable["post"] != "none")]
    assert not confirmed.empty, "the leader's confirmed rules meet the bound on validation"
    number = int(confirmed.iloc[0]["trial"])
    assert search.candidate(number).train_rows is None  # trained on every training row
    model = search.evaluation(number).model
    pred = model.predict(X[new_rows], s[new_rows])
    dpd = demographic_parity_difference(y[new_rows], pred, sensitive_features=s[new_rows])
    assert dpd <= 0.05 + 0.015  # 20,000 new rows: the disparity's standard error is ~0.007


def test_confirmed_points_record_parameters_as_the_search_did(german, tmp_path):
    """A confirmed point goes into the study with the same distribution per parameter as
    the search's own trials (an RDB storage refuses a categorical whose choices change:
    with in-processing in the search, `mitigator` lists the cheap ones only)."""
    settings = {
        **SETTINGS,
        "mitigators": ["none", "reweighing", "exponentiated_gradient", "relaxed_thresholds"],
        "storage": f"sqlite:///{tmp_path / 'study.db'}",
    }
    automl = FairAutoML(**settings).fit(*german[:2], sensitive_features=german[2])
    trials = automl.study_.trials
    confirmed = [t for t in trials if record.confirmed(t)]
    assert confirmed, "the holdout search confirms its leaders"
    searched = next(t for t in trials if not record.is_derived(t))
    for t in confirmed:
        for name, dist in t.distributions.items():
            if name in searched.distributions:
                assert dist == searched.distributions[name], name


def test_a_view_of_a_big_tables_stored_study_ranks_as_its_search_did(german, monkeypatch, tmp_path):
    """The report and the dashboard rebuild the pick's policy from the stored settings; the
    table's size decides whether confirmed points rank first, so the study records it and
    a view of a big table's study ranks its confirmed points by the metric, as the search."""
    X, y, s = german
    monkeypatch.setattr(confirm, "CONFIRM_MAX_ROWS", 500)
    monkeypatch.setattr(confirm, "SAMPLE_STEP", 100)
    url = f"sqlite:///{tmp_path / 'big.db'}"
    settings = {**SETTINGS, "max_search_rows": 300, "n_trials": 6, "storage": url}
    est = FairAutoML(**settings, study_name="big").fit(X, y, sensitive_features=s)
    assert est.study_.user_attrs[CONFIRMED_FIRST_ATTR] is False
    board = est.leaderboard_
    assert board["confirmed"].any() and not bool(board["confirmed"].iloc[0])
    view = read_study(url, "big")
    assert list(view.board["trial"]) == list(board["trial"])
    assert view.chosen == est.best_config_["trial"]
    small = FairAutoML(**{**SETTINGS, "storage": url}, study_name="small").fit(
        X, y, sensitive_features=s
    )
    assert small.study_.user_attrs[CONFIRMED_FIRST_ATTR] is True
