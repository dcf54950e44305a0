"""The portfolio (fairautoml.search.portfolio): how it is chosen, and how a search tries it."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from fairautoml import FairAutoML, build_search
from fairautoml.estimators.params import check_params
from fairautoml.learners import available_learners, get_learner
from fairautoml.search import portfolio
from fairautoml.search.portfolio import (
    PortfolioEntry,
    big_table_key,
    fits_in,
    greedy_portfolio,
    is_big_table,
    normalized_values,
    params_in_space,
    portfolio_for,
    portfolio_score,
    usable_entries,
)

# configurations x tasks, normalized: no single row is best everywhere
VALUES = np.array(
    [
        [1.0, 0.0, 0.2, 0.5],
        [0.6, 0.6, 0.6, 0.6],
        [0.0, 1.0, 0.0, 0.4],
        [0.2, 0.1, 1.0, 0.0],
        [0.9, 0.9, 0.0, 0.0],
    ]
)


def brute_force_best(scores, size, baseline):
    return max(
        portfolio_score(scores, list(subset), baseline)
        for subset in itertools.combinations(range(len(scores)), size)
    )


def test_each_greedy_step_adds_the_configuration_brute_force_finds_best():
    baseline = np.array([0.1, 0.0, 0.3, 0.0])
    order = greedy_portfolio(VALUES, size=len(VALUES), baseline=baseline)
    for k in range(1, len(order) + 1):
        before = order[: k - 1]
        gains = {
            i: portfolio_score(VALUES, [*before, i], baseline) for i in range(5) if i not in before
        }
        assert portfolio_score(VALUES, order[:k], baseline) == pytest.approx(max(gains.values()))
    # the first pick is the best single configuration over every ordering's first
    assert order[0] == max(range(5), key=lambda i: portfolio_score(VALUES, [i], baseline))


@pytest.mark.parametrize("size", [1, 2, 3])
def test_greedy_is_within_the_submodular_bound_of_the_best_subset(size):
    rng = np.random.default_rng(size)
    for _ in range(20):
        scores = rng.random((6, 4))
        chosen = greedy_portfolio(scores, size)
        best = brute_force_best(scores, size, np.zeros(4))
        assert portfolio_score(scores, chosen, np.zeros(4)) >= (1 - 1 / math.e) * best - 1e-12
    # on the hand-made matrix greedy finds the best single row and pair (the all-round
    # row 1, then row 4: 0.9, 0.9, 0.6, 0.6), but not the best three (0, 2, 3 beat its
    # 1, 4, 3): it commits to its first choice, within the bound
    chosen = greedy_portfolio(VALUES, size)
    greedy, best = portfolio_score(VALUES, chosen, np.zeros(4)), brute_force_best(VALUES, size, 0)
    assert chosen == [[1], [1, 4], [1, 4, 3]][size - 1]
    assert greedy == best if size < 3 else (1 - 1 / math.e) * best <= greedy < best


def test_greedy_stops_when_nothing_gains_and_breaks_ties_by_cost():
    scores = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert greedy_portfolio(scores, size=10, cost=[2.0, 1.0, 1.0]) == [1, 2]
    # what the cheap starts already reach adds nothing
    assert greedy_portfolio(scores, size=10, baseline=np.array([1.0, 0.0])) == [2]


def test_values_normalized_per_task_between_its_worst_and_best():
    values = np.array([[0.80, np.nan], [0.85, 0.70], [0.90, 0.70]])
    assert normalized_values(values) == pytest.approx(np.array([[0, 0], [0.5, 1], [1, 1]]))


def test_an_entry_outside_the_learners_space_is_ruled_out():
    space = get_learner("lightgbm").space
    assert params_in_space({"num_leaves": 8}, space) == {**space.defaults(), "num_leaves": 8}
    assert params_in_space({"num_leaves": 100_000}, space) is None  # above its range
    assert params_in_space({"max_depth": 3}, space) is None  # not one of its parameters
    assert params_in_space({"num_leaves": 8.5}, space) is None  # not an integer


def test_time_estimate_must_fit_the_time_left_and_the_trial_limit():
    entry = PortfolioEntry("lightgbm", {}, seconds_per_1k_rows=1.0)  # 10 s on 10,000 rows
    assert fits_in(entry, 10_000, remaining=math.inf)
    assert fits_in(entry, 10_000, remaining=25.0)
    assert not fits_in(entry, 10_000, remaining=15.0)  # with the safety factor: 20 s
    assert not fits_in(entry, 10_000, remaining=60.0, trial_limit=15.0)


def test_the_bundled_portfolio_fits_the_default_binary_search():
    entries = portfolio_for("binary")
    assert len(entries) >= 4
    params = FairAutoML().get_params()
    _, domain = check_params(params)
    assert len(usable_entries(entries, domain)) == len(entries)
    assert all(e.seconds_per_1k_rows > 0 for e in entries)
    assert {e.learner for e in entries} <= set(available_learners("binary"))
    assert portfolio_for("no such task") == ()


BIG = (PortfolioEntry("lightgbm", {"num_leaves": 5, "learning_rate": 0.3}, 0.05),)
SMALL = (PortfolioEntry("lightgbm", {"num_leaves": 64}, 0.01),)


def test_a_big_tables_search_tries_the_portfolio_learned_on_big_tables(german, monkeypatch):
    """Where the file has a task's big-table portfolio, a search that trains on a sample
    (a table above ``max_search_rows``) takes it and any other search the task's own; a
    task without one takes its own either way."""
    bundled = {"binary": SMALL, big_table_key("binary"): BIG, "regression": SMALL}
    monkeypatch.setattr(portfolio, "_bundled", lambda: bundled)
    assert portfolio_for("binary", big_table=True) == BIG
    assert portfolio_for("binary") == SMALL
    assert portfolio_for("regression", big_table=True) == SMALL
    X, y, s = german
    settings = {**SEARCH, "time_budget": 30, "cv_folds": None}
    big, usual = (
        build_search(FairAutoML(**settings, **more).get_params(), X, y, s, started=time.monotonic())
        for more in ({"max_search_rows": 300}, {})
    )
    assert big.ctx.trains_on_sample and not usual.ctx.trains_on_sample
    assert big.controller.portfolio == BIG and usual.controller.portfolio == SMALL


def test_a_search_training_on_many_rows_tries_the_big_tables_portfolio(german, monkeypatch):
    """At least ``BIG_TABLE_TRAINING_ROWS`` training rows make a big table too, sample or
    not (the 100k scale table trains on 60,000 rows of its own); fewer do not, and under
    cross-validation a fold's training rows count."""
    bundled = {"binary": SMALL, big_table_key("binary"): BIG}
    monkeypatch.setattr(portfolio, "_bundled", lambda: bundled)
    X, y, s = german
    settings = {**SEARCH, "time_budget": 30, "cv_folds": None}
    ctx = build_search(FairAutoML(**settings).get_params(), X, y, s, started=0.0).ctx
    n_train = len(ctx.train_idx)
    assert not ctx.trains_on_sample
    for threshold, big in ((n_train, True), (n_train + 1, False)):
        monkeypatch.setattr(portfolio, "BIG_TABLE_TRAINING_ROWS", threshold)
        assert is_big_table(ctx) is big
        built = build_search(FairAutoML(**settings).get_params(), X, y, s, started=time.monotonic())
        assert built.controller.portfolio == (BIG if big else SMALL)
    folded = build_search(
        FairAutoML(**{**settings, "cv_folds": 3}).get_params(), X, y, s, started=time.monotonic()
    ).ctx
    fold_rows = len(folded.cv_folds[0][0])
    assert fold_rows < len(folded.train_idx)  # every row, under cross-validation
    monkeypatch.setattr(portfolio, "BIG_TABLE_TRAINING_ROWS", fold_rows + 1)
    assert not is_big_table(folded)
    monkeypatch.setattr(portfolio, "BIG_TABLE_TRAINING_ROWS", fold_rows)
    assert is_big_table(folded)


# --- a search tries it ------------------------------------------------------------------

LEARNERS = ["lightgbm", "logistic_regression"]
SEARCH = dict(
    learners=LEARNERS, mitigators=["group_thresholds"], sensitive_at_predict=True,
    random_state=0, ensemble=False, confirm=False,
)  # fmt: skip
PORTFOLIO = (
    PortfolioEntry("logistic_regression", {"C": 3.0}, 0.01),
    PortfolioEntry("xgboost", {"max_depth": 3}, 0.01),  # a learner the search leaves out
    PortfolioEntry("lightgbm", {"num_leaves": 8, "n_estimators": 50}, 1e6),  # far too slow
    PortfolioEntry("lightgbm", {"num_leaves": 64}, 0.01),
    PortfolioEntry("lightgbm", {"num_leaves": 1000}, 0.01),  # outside lightgbm's space
)


def trained_params(est):
    """Each trained model's (learner, its parameters), in the order trained."""
    out = []
    for t in est.study_.trials:
        if "derived_from" in t.user_attrs:
            continue
        learner = t.params["learner"]
        prefix = f"{learner}__"
        params = {k[len(prefix) :]: v for k, v in t.params.items() if k.startswith(prefix)}
        out.append((learner, params))
    return out


def search(german, monkeypatch, entries=PORTFOLIO, **params):
    monkeypatch.setattr("fairautoml.estimators.build.portfolio_for", lambda *_, **__: entries)
    X, y, s = german
    return FairAutoML(**{**SEARCH, **params}).fit(X, y, sensitive_features=s)


def cheap_starts():
    return [(name, get_learner(name).space.low_cost()) for name in LEARNERS]


def entry(name, **params):
    return (name, {**get_learner(name).space.defaults(), **params})


def test_after_the_cheap_starts_the_portfolio_in_order_then_the_sampler(german, monkeypatch):
    est = search(german, monkeypatch, time_budget=None, n_trials=6)
    trained = trained_params(est)
    assert trained[:2] == cheap_starts()
    # xgboost is not searched, num_leaves=1000 is outside the space; no time budget:
    # the slow entry is tried
    assert trained[2:5] == [
        entry("logistic_regression", C=3.0),
        entry("lightgbm", num_leaves=8, n_estimators=50),
        entry("lightgbm", num_leaves=64),
    ]
    assert len(trained) == 6  # then the sampler


def test_an_entry_whose_time_estimate_exceeds_the_time_left_is_skipped(german, monkeypatch):
    est = search(german, monkeypatch, time_budget=6, n_trials=4)
    trained = trained_params(est)
    assert trained[:4] == [
        *cheap_starts(),
        entry("logistic_regression", C=3.0),
        entry("lightgbm", num_leaves=64),
    ]


def test_without_the_portfolio_the_search_starts_as_before(german, monkeypatch):
    off = search(german, monkeypatch, time_budget=None, n_trials=4, portfolio=False)
    empty = search(german, monkeypatch, entries=(), time_budget=None, n_trials=4)
    assert trained_params(off) == trained_params(empty)
    assert trained_params(off)[:2] == cheap_starts()
    # then the defaults of the better half of the learners (here one of the two)
    assert trained_params(off)[2] in [entry(name) for name in LEARNERS]
