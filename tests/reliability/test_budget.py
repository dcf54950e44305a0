"""``fit(time_budget=T)`` ends within T + 10% (+ 2 s), refit included, with every controller.

T = 5 runs trials in process; T = 20 runs them in worker processes under the per-trial
time limit (see ``FairAutoML(trial_time_limit=...)``).
"""

from __future__ import annotations

import time
import warnings

import pytest

import fairautoml
from fairautoml.exceptions import InfeasibleWarning


@pytest.mark.slow
@pytest.mark.exclusive
@pytest.mark.parametrize("budget", [5, 20])
@pytest.mark.parametrize("controller", ["optuna", "admm", "flaml"])
def test_fit_ends_within_its_time_budget(german, controller, budget):
    X, y, s = german
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfeasibleWarning)
        automl = fairautoml.FairAutoML(
            time_budget=budget, controller=controller, random_state=0
        ).fit(X, y, sensitive_features=s)
    elapsed = time.monotonic() - start
    assert elapsed <= budget * 1.1 + 2, f"{controller}: {elapsed:.1f} s for a {budget} s budget"
    assert (automl.leaderboard_["status"] == "ok").sum() >= 2  # it did search
