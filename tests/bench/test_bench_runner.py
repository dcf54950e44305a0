"""Runner logic with stand-in methods (fast), plus one real failing cell."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from fairautoml.bench import runner
from fairautoml.bench.cells_file import RESULTS_FILE
from fairautoml.bench.config import parse_config
from fairautoml.bench.methods import Fitted, time_to_first_feasible
from fairautoml.bench.report import write_report
from fairautoml.bench.runner import run_sweep


def _majority(task):
    label = int(np.mean(task.y_train) >= 0.5)
    return Fitted(
        predict=lambda X, s: np.full(len(X), label),
        trials=1,
        trial_log=[(0.01, True)],
        front=[lambda: lambda X, s: np.full(len(X), label), lambda: lambda X, s: np.zeros(len(X))],
    )


def _broken(task):
    raise RuntimeError("this method always breaks")


@pytest.fixture
def fake_methods(monkeypatch):
    monkeypatch.setitem(runner.ANCHOR_FITS, "unconstrained", _majority)
    monkeypatch.setitem(runner.ANCHOR_FITS, "eg_lightgbm", _broken)


def sweep(methods, seeds=(0, 1), **extra):
    return parse_config(
        {
            **extra,
            "name": "t",
            "datasets": [{"name": "syn", "synthetic": {"n_rows": 600, "n_features": 6}}],
            "constraints": ["demographic_parity_difference <= 0.1"],
            "budgets": [1],
            "seeds": list(seeds),
            "methods": methods,
        }
    )


def test_failing_cell_is_recorded_and_the_sweep_goes_on(tmp_path, fake_methods):
    seen = []
    records = run_sweep(
        sweep(["eg_lightgbm", "unconstrained"]), tmp_path, on_record=lambda *a: seen.append(a)
    )
    assert [(i, n) for i, n, _ in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    by_status = {}
    for r in records:
        by_status.setdefault(r["status"], []).append(r)
    assert len(by_status["failed"]) == 2 and len(by_status["ok"]) == 2
    failed = by_status["failed"][0]
    assert failed["error"] == "RuntimeError: this method always breaks"
    assert "_broken" in failed["traceback"]
    ok = by_status["ok"][0]
    assert ok["n_train"] + ok["n_val"] + ok["n_test"] == 600
    assert 0.0 <= ok["test_accuracy"] <= 1.0
    assert ok["test_values"]["demographic_parity_difference"] == 0.0  # constant predictions
    assert ok["satisfied"] is True and ok["time_to_first_feasible"] == 0.01
    # the front: the majority model and all-zero; the all-zero point can only add volume
    assert ok["front_size"] == 2 and ok["hypervolume"] >= ok["test_accuracy"] - 1e-12
    assert ok["peak_memory_mb"] > 10
    # which code made the cell: this checkout's commit (CI runs in a git clone)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert ok["commit"].split("+")[0] == head.stdout.strip()
        env = json.loads((tmp_path / "environment.json").read_text())
        assert env["commit"] == ok["commit"]


def test_resume_skips_finished_cells_and_retry_reruns_failed(tmp_path, fake_methods):
    config = sweep(["eg_lightgbm", "unconstrained"])
    run_sweep(config, tmp_path)
    path = tmp_path / RESULTS_FILE
    first = path.read_text().splitlines()
    calls = []
    records = run_sweep(config, tmp_path, on_record=lambda *a: calls.append(a))
    assert calls == [] and path.read_text().splitlines() == first
    assert len(records) == 4
    # an interrupted run: one cell lost, and a torn last line
    path.write_text("\n".join(first[:3]) + '\n{"key": "torn')
    run_sweep(config, tmp_path, on_record=lambda *a: calls.append(a))
    assert len(calls) == 1 and calls[0][2]["key"] == json.loads(first[3])["key"]
    calls.clear()
    run_sweep(config, tmp_path, retry_failed=True, on_record=lambda *a: calls.append(a))
    assert sorted(c[2]["method"] for c in calls) == ["eg_lightgbm", "eg_lightgbm"]
    # a changed option is a different cell
    changed = sweep([{"method": "unconstrained", "options": {"x": 1}}])
    calls.clear()
    run_sweep(changed, tmp_path, on_record=lambda *a: calls.append(a))
    assert len(calls) == 2


def test_unknown_controller_is_a_failed_cell(tmp_path):
    records = run_sweep(sweep(["fairautoml:no_such_controller"], seeds=[0]), tmp_path)
    (r,) = records
    assert r["status"] == "failed"
    assert "Unknown controller 'no_such_controller'. Available: " in r["error"]
    assert "optuna" in r["error"]


def test_report_from_records(tmp_path, fake_methods):
    run_sweep(sweep(["eg_lightgbm", "unconstrained"]), tmp_path)
    report = write_report(tmp_path, "t").read_text()
    assert "## syn: demographic_parity_difference <= 0.1" in report
    row = next(line for line in report.splitlines() if line.startswith("| unconstrained"))
    assert "| 2/2 |" in row and "| 1.00 |" in row
    assert "## Failed or skipped cells" in report
    assert report.count("RuntimeError: this method always breaks") == 2
    assert (tmp_path / "plots" / "accuracy_vs_violation_syn.png").stat().st_size > 1000


def _record(method, family, seed, acc, value, status="ok"):
    return {
        "key": f"d|c|10|{seed}|{method}", "dataset": "d", "budget": 10.0, "seed": seed,
        "constraints": ["demographic_parity_difference <= 0.05"],
        "constraint_label": "demographic_parity_difference <= 0.05",
        "method": method, "family": family, "status": status, "test_accuracy": acc,
        "test_balanced_accuracy": acc, "test_values": {"demographic_parity_difference": value},
        "test_violation": value - 0.05, "satisfied": value - 0.05 <= 0.01, "trials": 5,
        "wall_time": 10.0, "time_to_first_feasible": 1.0, "hypervolume": math.nan,
        "peak_memory_mb": 100.0, "n_train": 60, "n_val": 20,
    }  # fmt: skip


def test_time_to_first_feasible_rules():
    f = Fitted(predict=None, trial_log=[(3.0, False), (5.0, True), (4.0, True)])
    assert time_to_first_feasible(f, 9.0) == (4.0, "first trial feasible on validation")
    assert math.isnan(time_to_first_feasible(Fitted(None, trial_log=[(1, False)]), 9.0)[0])
    assert time_to_first_feasible(Fitted(None, selection_feasible=True), 9.0)[0] == 9.0
    assert math.isnan(time_to_first_feasible(Fitted(None), 9.0)[0])


def _dies_on_seed_0(task):
    if task.seed == 0:
        os._exit(3)  # as a worker killed for memory would
    return _majority(task)


@pytest.mark.slow
def test_parallel_sweep_survives_a_dying_worker(tmp_path, monkeypatch):
    """Two worker processes; one cell kills its worker, the sweep records it and goes on."""
    monkeypatch.setitem(runner.ANCHOR_FITS, "unconstrained", _majority)
    monkeypatch.setitem(runner.ANCHOR_FITS, "oxonfair", _dies_on_seed_0)
    config = sweep(["oxonfair", "unconstrained"], seeds=[0, 1, 2, 3, 4])
    records = run_sweep(config, tmp_path, n_jobs=2)
    assert len(records) == 10
    failed = [r for r in records if r["status"] == "failed"]
    assert all("worker process died" in r["error"] for r in failed)
    # (that pytest is still alive shows the dying cell ran in a worker process)
    assert any(r["method"] == "oxonfair" and r["seed"] == 0 for r in failed)
    assert sum(r["status"] == "ok" for r in records) >= 4  # the sweep went on
    # cells stopped beside the dying one are failed too; --retry-failed re-runs them
    monkeypatch.setitem(runner.ANCHOR_FITS, "oxonfair", _majority)
    records = run_sweep(config, tmp_path, n_jobs=2, retry_failed=True)
    assert {r["status"] for r in records} == {"ok"}
    assert not (tmp_path / runner.STARTED_FILE).exists()


def test_oxonfair_missing_is_a_skipped_cell_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "oxonfair", None)  # import oxonfair -> ImportError
    (r,) = run_sweep(sweep(["oxonfair"], seeds=[0]), tmp_path)
    assert r["status"] == "skipped"
    assert "oxonfair is not installed" in r["error"] and "fairautoml[bench]" in r["error"]
    report = write_report(tmp_path).read_text()
    assert "(skipped): ImportError: oxonfair is not installed" in report


def test_front_points_zero_skips_the_front(tmp_path, fake_methods):
    (r,) = run_sweep(sweep(["unconstrained"], seeds=[0], front_points=0), tmp_path)
    assert r["status"] == "ok" and r["front_size"] == 0 and math.isnan(r["hypervolume"])


def test_a_blind_method_is_scored_without_the_group(tmp_path, monkeypatch):
    """options: {blind: true}: the method is told (task.blind), never sees the bench option,
    and its model is scored on test with sensitive_features=None, the front too; a method
    that decides with the group is not applicable."""
    seen = {}

    def blind_only(task):
        seen["blind"], seen["options"] = task.blind, dict(task.options)

        def predict(X, s):
            assert s is None, "a blind model was given the group"
            return np.zeros(len(X), dtype=int)

        return Fitted(predict=predict, front=[lambda: predict])

    monkeypatch.setitem(runner.ANCHOR_FITS, "unconstrained", blind_only)
    methods = [
        {"method": "unconstrained", "options": {"blind": True}},
        {"method": "flaml_threshold", "options": {"blind": True}},
    ]
    records = run_sweep(sweep(methods, seeds=(0,)), tmp_path)
    by_method = {r["method"]: r for r in records}
    assert by_method["unconstrained"]["status"] == "ok"
    assert by_method["unconstrained"]["front_size"] == 1
    assert seen == {"blind": True, "options": {}}
    assert by_method["flaml_threshold"]["status"] == "not_applicable"
    assert "decides with the group" in by_method["flaml_threshold"]["error"]


def test_cell_task_gives_one_cell_its_sweep_rows():
    """Experiments that study one cell get the rows a sweep's cell gets: the bench's split
    of the bundled German credit table (the sizes results/blind records for it)."""
    task, (X_test, y_test, s_test) = runner.cell_task(
        "german", "equalized_odds_difference <= 0.05", seed=3
    )
    assert (len(task.y_train), len(task.y_val), len(y_test)) == (600, 200, 200)
    assert [str(c) for c in task.constraints] == ["equalized_odds_difference <= 0.05"]
    assert task.seed == 3 and task.budget == 30.0 and not task.blind
    X, _, s = task.trainval
    assert len(X) == len(s) == 800 and len(X_test) == len(s_test) == 200
