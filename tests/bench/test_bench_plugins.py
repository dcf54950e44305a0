"""The one extension seam: a method and a report section registered from outside."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairautoml.bench import plugins
from fairautoml.bench.config import parse_config
from fairautoml.bench.methods import Fitted
from fairautoml.bench.report import write_report
from fairautoml.bench.runner import run_sweep
from fairautoml.exceptions import ConfigurationError

PREPARED = []


def _prepare(task):
    PREPARED.append(task.seed)


def _all_ones(task):
    return Fitted(predict=lambda X, s: np.ones(len(X), dtype=int), trials=1)


def _section(frame):
    return ["## From a plug-in", "", f"{len(frame)} cells of {', '.join(set(frame['method']))}"]


def _plot(frame, out):
    (out / "plots" / "from_a_plugin.png").write_bytes(b"png")
    return ["plots/from_a_plugin.png"]


def _sweep(methods):
    return parse_config(
        {
            "name": "p",
            "datasets": [{"name": "syn", "synthetic": {"n_rows": 400, "n_features": 6}}],
            "constraints": ["demographic_parity_difference <= 0.1"],
            "budgets": [1],
            "seeds": [0],
            "methods": methods,
        }
    )


def test_a_registered_method_and_section_run_in_a_sweep(tmp_path):
    with pytest.raises(ConfigurationError, match="unknown method 'ones'"):
        _sweep(["ones"])
    plugins.register_method("ones", _all_ones, prepare=_prepare)
    plugins.register_section(_section)
    plugins.register_section(_section)  # once
    plugins.register_plot(_plot)
    plugins.register_plot(_plot)  # once
    PREPARED.clear()
    (record,) = run_sweep(_sweep(["ones"]), tmp_path)
    assert record["status"] == "ok" and record["family"] == "ones" and PREPARED == [0]
    environment = json.loads((tmp_path / "environment.json").read_text())
    assert environment["plugin_methods"] == {"ones": f"{__name__}._all_ones"}
    report = write_report(tmp_path).read_text()
    assert report.count("## From a plug-in") == 1 and "1 cells of ones" in report
    assert report.index("## From a plug-in") < report.index("## syn: ")  # before the tables
    assert report.count("![plots/from_a_plugin.png](plots/from_a_plugin.png)") == 1
    assert (tmp_path / "plots" / "from_a_plugin.png").read_bytes() == b"png"


def test_without_plugins_the_report_has_no_targets(tmp_path):
    run_sweep(_sweep(["fairautoml"]), tmp_path)
    report = write_report(tmp_path).read_text()
    assert "## syn: " in report and "## Targets" not in report


def test_a_plugin_cannot_take_a_built_in_name():
    with pytest.raises(ConfigurationError, match="'oxonfair' is built in"):
        plugins.register_method("oxonfair", _all_ones)
