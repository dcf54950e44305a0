from __future__ import annotations

import json

import pytest

from fairautoml import cli

SWEEP = """
name: clitest
datasets:
  - {name: syn, synthetic: {n_rows: 600, n_features: 6}}
  - {name: other, synthetic: {n_rows: 600, n_features: 6, seed: 1}}
constraints: ["demographic_parity_difference <= 0.1"]
budgets: [1]
methods: ["fairautoml:no_such_controller", "fairautoml:other_missing"]
"""


def test_bench_command_runs_filters_resumes_and_reports(tmp_path, capsys):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    out = tmp_path / "out"
    argv = ["bench", str(sweep), "--out", str(out), "--datasets", "syn"]
    assert cli.main([*argv, "--methods", "fairautoml:no_such_controller"]) == 0
    printed = capsys.readouterr().out
    assert "sweep clitest: 1 cells" in printed
    assert "[1/1" in printed and "FAILED: UnknownNameError: Unknown controller" in printed
    assert (out / "report.md").exists()
    assert cli.main(argv) == 0  # the finished cell is skipped, the other method runs
    lines = (out / "cells.jsonl").read_text().splitlines()
    assert [json.loads(x)["method"] for x in lines] == [
        "fairautoml:no_such_controller",
        "fairautoml:other_missing",
    ]
    assert cli.main(["bench", str(sweep), "--out", str(out), "--report-only"]) == 0
    assert "Failed or skipped cells" in (out / "report.md").read_text()


def test_bench_command_rejects_unknown_filter(tmp_path, capsys):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    assert cli.main(["bench", str(sweep), "--datasets", "nope"]) == 2
    err = capsys.readouterr().err
    assert "Unknown dataset of" in err and "Available: other, syn" in err
    assert cli.main(["bench", str(sweep), "--seeds", "7"]) == 2
    assert "Unknown seed of" in capsys.readouterr().err


def test_seed_filter_keeps_only_those_seeds(tmp_path):
    from fairautoml.bench.cli import _only
    from fairautoml.bench.config import load_config

    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP + "seeds: [0, 1, 2]\n")
    config = load_config(sweep)
    assert config.seeds == (0, 1, 2)
    assert _only(config, None, None, [2, 0]).seeds == (0, 2)


def test_budget_filter_keeps_only_those_budgets(tmp_path, capsys):
    from fairautoml.bench.cli import _only
    from fairautoml.bench.config import load_config
    from fairautoml.bench.runner import make_cells

    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP.replace("budgets: [1]", "budgets: [1, 30, 120]"))
    config = load_config(sweep)
    assert config.budgets == (1.0, 30.0, 120.0)
    narrowed = _only(config, None, None, None, [120, 1])
    assert narrowed.budgets == (1.0, 120.0)
    assert {c.budget for c in make_cells(narrowed)} == {1.0, 120.0}
    assert cli.main(["bench", str(sweep), "--budgets", "60"]) == 2
    err = capsys.readouterr().err
    assert "Unknown budget of" in err and "Available: 1, 120, 30" in err


@pytest.mark.slow
def test_smoke_sweep_runs(tmp_path):
    """experiments/smoke.yaml end to end (about a minute on two cores)."""
    from pathlib import Path

    smoke = Path(__file__).parents[2] / "experiments" / "smoke.yaml"
    assert cli.main(["bench", str(smoke), "--out", str(tmp_path)]) == 0
    records = [json.loads(x) for x in (tmp_path / "cells.jsonl").read_text().splitlines()]
    by_method = {r["method"]: r for r in records}
    assert set(by_method) == {
        "fairautoml", "unconstrained", "flaml_threshold", "eg_lightgbm", "optuna_hpo", "oxonfair",
    }  # fmt: skip
    for r in records:
        assert r["status"] in ("ok", "skipped"), r.get("error")
        if r["status"] == "ok":
            assert r["wall_time"] < 10 * 1.5 + 5
    assert by_method["fairautoml"]["status"] == "ok"
    report = (tmp_path / "report.md").read_text()
    assert "## german: " in report
    assert "## Targets" not in report  # the repository's targets: python -m benchmarks
