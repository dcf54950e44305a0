"""A learner that raises or returns NaN probabilities is a failed trial, recorded with its
error; the search goes on and returns a valid model. (A learner that hangs needs a per-trial
time limit: covered with that work.)"""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import fairautoml
from fairautoml import FairAutoML
from fairautoml.exceptions import InfeasibleWarning, SearchError
from fairautoml.learners import LEARNERS
from fairautoml.testing import make_biased


class RaisingClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("deliberate failure in fit")


class NaNClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), np.nan)


@pytest.fixture
def faulty_learners():
    fairautoml.register_learner("raising", RaisingClassifier, replace=True)
    fairautoml.register_learner("nan_proba", NaNClassifier, replace=True)
    yield ["raising", "nan_proba"]
    for name in ("raising", "nan_proba"):
        LEARNERS.remove(name)


def _fit(learners: list[str]) -> FairAutoML:
    X, y, s = make_biased()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfeasibleWarning)
        return FairAutoML(  # no in-processing runs: one default trial per learner
            n_trials=len(learners), time_budget=None, random_state=0, learners=learners,
            mitigators=[],
        ).fit(X, y, sensitive_features=s)  # fmt: skip


def test_failed_trials_are_recorded_and_search_goes_on(faulty_learners):
    est = _fit(["raising", "logistic_regression", "nan_proba"])  # one default trial each
    raw = est.leaderboard_[est.leaderboard_["post"] == "none"]  # one trained model each
    board = raw.set_index("learner")
    assert board.loc["raising", "status"] == "failed"
    assert board.loc["raising", "error"].startswith("RuntimeError: deliberate failure in fit")
    assert board.loc["nan_proba", "status"] == "failed"
    assert "invalid scores" in board.loc["nan_proba", "error"]
    assert np.isneginf(board.loc[["raising", "nan_proba"], "fair_score"]).all()
    assert board.loc["logistic_regression", "status"] == "ok"
    assert est.best_config_["learner"] == "logistic_regression"
    states = {t.user_attrs["status"]: t.state for t in est.study_.trials}
    assert states["failed"] == optuna.trial.TrialState.FAIL
    X, _, s = make_biased()
    proba = est.predict_proba(X, sensitive_features=s)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)


def test_search_where_every_trial_fails_says_why(faulty_learners):
    with pytest.raises(SearchError, match="No trial succeeded") as info:
        _fit(["raising", "nan_proba"])
    assert "deliberate failure in fit" in str(info.value)
