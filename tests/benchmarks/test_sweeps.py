"""The repository's sweeps and the plug-in seam that lets them name its own anchors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairautoml.bench.config import load_config, parse_config
from fairautoml.bench.runner import resolve_method
from fairautoml.bench.specs import ANCHORS

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_committed_sweep_file_parses(path):
    config = load_config(path)
    assert config.datasets and config.methods and config.budgets and config.seeds


def test_the_pinned_environment_anchors_are_registered_methods():
    from benchmarks.anchors.env_anchors import fit_error_parity, fit_fairgbm

    assert not {"error_parity", "fairgbm"} & set(ANCHORS)  # not in the installed bench
    raw = {"name": "s", "datasets": ["german"], "budgets": [1], "seeds": [0],
           "constraints": ["equalized_odds_difference <= 0.05"],
           "methods": ["fairautoml", "error_parity", "fairgbm"]}  # fmt: skip
    methods = {m.label: m for m in parse_config(raw).methods}
    assert resolve_method(methods["error_parity"]) is fit_error_parity
    assert resolve_method(methods["fairgbm"]) is fit_fairgbm
