from __future__ import annotations

import pytest

import benchmarks


@pytest.fixture(autouse=True)
def registered():
    """The repository's anchors and report section, as ``python -m benchmarks`` runs them."""
    benchmarks.register()
