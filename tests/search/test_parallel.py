"""n_jobs > 1: under a time budget every controller trains several models at once; a run
by n_trials alone trains one at a time on every core and gives the same leaderboard."""

from __future__ import annotations

import json
import os
import time

import pytest
from sklearn.linear_model import LogisticRegression

import fairautoml
from fairautoml.learners import LEARNERS

SPACE = {"params": {"C": {"type": "float", "low": 0.1, "high": 1.0, "log": True}}}
LOG = "FAIRAUTOML_TEST_FIT_LOG"


class LoggingLearner(LogisticRegression):
    """Logistic regression whose fit takes at least 0.5 s and writes when it ran, and where."""

    def fit(self, X, y, sample_weight=None):
        start = time.time()
        time.sleep(0.5)
        out = super().fit(X, y, sample_weight=sample_weight)
        with open(os.environ[LOG], "a") as f:
            f.write(json.dumps({"pid": os.getpid(), "start": start, "end": time.time()}) + "\n")
        return out


@pytest.fixture
def logging_learner(tmp_path, monkeypatch):
    monkeypatch.setenv(LOG, str(tmp_path / "fits.jsonl"))  # worker processes inherit it
    fairautoml.register_learner("logging_lr", LoggingLearner, SPACE, scale=True, threads_param=None)
    yield tmp_path / "fits.jsonl"
    LEARNERS.remove("logging_lr")


@pytest.mark.parametrize("controller", ["optuna", "admm", "flaml"])
def test_n_jobs_trains_models_at_once(german, logging_learner, controller):
    X, y, s = german
    automl = fairautoml.FairAutoML(
        controller=controller, n_jobs=2, n_trials=6, time_budget=60, random_state=0,
        learners=["logging_lr"], mitigators=["group_thresholds"], sensitive_at_predict=True,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    fits = [json.loads(line) for line in logging_learner.read_text().splitlines()]
    trained = [t for t in automl.study_.trials if "derived_from" not in t.user_attrs]
    assert len(trained) == 6 and all(t.user_attrs["status"] == "ok" for t in trained)
    assert len({f["pid"] for f in fits}) >= 2  # worker processes (and the refit, if any)
    overlapping = sum(
        a["start"] < b["end"] and b["start"] < a["end"]
        for i, a in enumerate(fits)
        for b in fits[i + 1 :]
    )
    assert overlapping >= 2  # not one after another
    assert len({t.params["logging_lr__C"] for t in trained}) >= 5  # a batch is spread out


def test_a_run_by_n_trials_gives_the_same_leaderboard_on_any_number_of_cores(german):
    """Without a time budget trials run one at a time (their learners on every core), so
    the sampler sees the same results in the same order whatever n_jobs says."""
    X, y, s = german
    boards = []
    for n_jobs in (1, 2):
        automl = fairautoml.FairAutoML(
            n_jobs=n_jobs, n_trials=5, time_budget=None, random_state=0,
            learners=["lightgbm", "xgboost"], confirm=False, ensemble=False,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
        board = automl.leaderboard_.sort_values("trial")
        boards.append(board[["trial", "learner", "post", "accuracy"]].reset_index(drop=True))
    assert boards[0].equals(boards[1])
