from __future__ import annotations

import pytest

import benchmarks
from benchmarks.anchors import envs


@pytest.fixture(autouse=True)
def registered():
    """The repository's anchors and report section, as ``python -m benchmarks`` runs them."""
    benchmarks.register()


@pytest.fixture
def no_envs(tmp_path, monkeypatch):
    """An environment cache that cannot be created: a path under a regular file."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv(envs.ENVS_VARIABLE, str(blocker / "envs"))
    return blocker / "envs"
