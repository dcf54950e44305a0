"""Every learner x every mitigator that supports the constraint fits and predicts on German
credit with mixed column types and injected missing values.

The fast grid uses the spaces' low-cost starts under demographic parity, which every
mitigator supports; ``-m slow`` adds equalized odds and the spaces' defaults.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairautoml
from fairautoml.data.prepare import prepare_fit_data
from fairautoml.data.splits import split_train_validation
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.dependence import DEPENDENCE_METRICS
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import get_mitigator
from fairautoml.search.evaluate import evaluate_candidate
from fairautoml.study.trial import Candidate, SearchContext
from fairautoml.tasks import get_task

CONSTRAINTS = ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.05"]
GRID = [
    (learner, mitigator, constraint)
    for constraint in CONSTRAINTS
    for learner in fairautoml.available_learners("binary")
    for mitigator in fairautoml.available_mitigators()
    if get_mitigator(mitigator).supports(parse_constraints(constraint))
    and get_mitigator(mitigator).works_with(learner)
]


@pytest.fixture(scope="module")
def german_with_missing():
    X, y, s = fairautoml.datasets.load("german")
    rng = np.random.default_rng(0)
    X = X.copy()
    for column in ["duration", "credit_amount", "purpose", "savings_status", "job"]:
        X[column] = X[column].mask(rng.random(len(X)) < 0.1)  # numeric and string columns
    assert X.isna().sum().sum() > 400
    assert {"str", "float64", "int64"} <= {str(t) for t in X.dtypes}
    data = prepare_fit_data(X, y, s, task=get_task("binary"))
    train, val = split_train_validation(data.y, data.groups, 0.3, 0)
    return data, train, val, X, s


def _check(german_with_missing, learner, mitigator, constraint, params: str):
    data, train, val, X, s = german_with_missing
    ctx = SearchContext(
        data, train, val, parse_constraints(constraint), get_metric("accuracy"), random_state=0
    )
    m, lspace = get_mitigator(mitigator), get_learner(learner).space
    lp = lspace.low_cost() if params == "low_cost" else lspace.defaults()
    mp = m.space.low_cost() if params == "low_cost" else m.space.defaults()
    if m.stage == "post":
        candidate = Candidate(learner, lp, "none", {}, mitigator, mp)
    else:
        candidate = Candidate(learner, lp, mitigator, mp)
    evaluation = evaluate_candidate(candidate, ctx)
    assert evaluation.result.status == "ok", evaluation.result.error
    model = evaluation.model
    rows = X.iloc[val]  # raw rows, strings and missing values as the user has them
    proba = model.predict_proba(rows, s.iloc[val])
    pred = model.predict(rows, s.iloc[val] if model.needs_group else None)
    assert proba.shape == (len(val), 2) and np.all(np.isfinite(proba))
    assert np.array_equal(pred, model.classes_[(proba[:, 1] >= 0.5).astype(int)])
    if m.stage != "post":  # the model the point measured (posts are measured cross-fitted)
        decided = (pred == model.classes_[1]).astype(int)
        assert np.mean(decided == data.y[val]) == pytest.approx(evaluation.result.metric)
    assert np.mean(pred == data.y[val]) > 0.5  # better than always predicting bad credit
    assert isinstance(pd.Series(pred).iloc[0], (int, np.integer))


@pytest.mark.parametrize(
    ("learner", "mitigator", "constraint"),
    [
        case if case[2] == CONSTRAINTS[0] else pytest.param(*case, marks=pytest.mark.slow)
        for case in GRID
    ],
)
def test_grid_low_cost(german_with_missing, learner, mitigator, constraint):
    _check(german_with_missing, learner, mitigator, constraint, "low_cost")


@pytest.mark.slow
@pytest.mark.parametrize(("learner", "mitigator", "constraint"), GRID)
def test_grid_defaults(german_with_missing, learner, mitigator, constraint):
    _check(german_with_missing, learner, mitigator, constraint, "defaults")


def _numeric_only(name: str) -> bool:
    """A rule for a numeric attribute only (trend_removal): no group constraint of this
    grid is its; tests/test_continuous_attributes.py fits and checks it."""
    allowed = get_mitigator(name).supported_constraints
    return allowed is not None and set(allowed) <= set(DEPENDENCE_METRICS)


def test_grid_covers_every_registered_pair():
    names = {(lr, m) for lr, m, _ in GRID}
    pairs = {
        (lr, m)
        for lr in fairautoml.available_learners("binary")
        for m in fairautoml.available_mitigators()
        if get_mitigator(m).works_with(lr) and "binary" in get_mitigator(m).tasks
        and not _numeric_only(m)
    }  # fmt: skip
    assert any(_numeric_only(m) for m in fairautoml.available_mitigators())
    assert names == pairs
    assert ("lightgbm", "constrained_boosting") in names


def test_incompatible_pair_fails_fast_as_a_recorded_trial(german_with_missing):
    data, train, val, _, _ = german_with_missing
    ctx = SearchContext(
        data, train, val, parse_constraints(CONSTRAINTS[0]), get_metric("accuracy"), random_state=0
    )
    result = evaluate_candidate(Candidate("xgboost", {}, "constrained_boosting"), ctx).result
    assert result.status == "failed" and "works only with the learner(s) lightgbm" in result.error
