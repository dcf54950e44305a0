"""The registration example of docs/learners_and_mitigators.md runs, and what it registers
is searched like a built-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fairautoml
from fairautoml import learners, mitigators
from fairautoml.testing.conformance import check_learner, check_mitigator

DOC = Path(__file__).resolve().parents[1] / "docs" / "learners_and_mitigators.md"


@pytest.fixture
def restore_registries():
    saved = learners.LEARNERS.snapshot(), mitigators.MITIGATORS.snapshot()
    yield
    learners.LEARNERS.restore(saved[0])
    mitigators.MITIGATORS.restore(saved[1])


def _example() -> str:
    return re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)


def test_readme_registration_example_runs(restore_registries):
    namespace: dict = {}
    exec(compile(_example(), str(DOC), "exec"), namespace)
    automl = namespace["automl"]
    board = automl.leaderboard_
    assert "naive_bayes" in fairautoml.available_learners()
    assert set(board["learner"]) - {"ensemble"} == {"naive_bayes"}  # ensembles of its models
    assert "group_balance" in set(board["mitigator"])
    assert (board["status"] == "ok").all()
    check_learner("naive_bayes")
    check_mitigator(
        "group_balance", "demographic_parity_difference <= 0.1", "naive_bayes", check_effect=False
    )
