"""Anchors in their own environments: not-applicable cells, missing environments (no pip
runs here: builds are stubbed), and, marked slow, a real build of both environments."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest

from benchmarks.anchors import envs
from fairautoml.bench.config import parse_config
from fairautoml.bench.plugins import METHODS
from fairautoml.bench.report import write_report
from fairautoml.bench.runner import run_sweep
from fairautoml.cli import main
from tests.bench.test_bench_anchors import check, make_task
from tests.bench.test_bench_regression import RATIO, regression_task

DP = "demographic_parity_difference <= 0.1"
EO = "equalized_odds_difference <= 0.1"


def sweep(methods, constraints=(DP,)):
    return parse_config(
        {
            "name": "t",
            "datasets": [{"name": "syn", "synthetic": {"n_rows": 600, "n_features": 6}}],
            "constraints": list(constraints),
            "budgets": [1],
            "seeds": [0],
            "methods": methods,
        }
    )


def test_fairgbm_under_demographic_parity_is_not_applicable(tmp_path, no_envs):
    out = tmp_path / "out"
    (r,) = run_sweep(sweep(["fairgbm"]), out)  # n/a before its environment is needed
    assert r["status"] == "not_applicable"
    assert "FairGBM has no mode for demographic_parity_difference" in r["error"]
    assert "traceback" not in r
    calls = []
    run_sweep(sweep(["fairgbm"]), out, retry_failed=True, on_record=lambda *a: calls.append(a))
    assert calls == []  # not a failure: --retry-failed does not re-run it
    report = write_report(out).read_text()
    assert "0 failed, 0 skipped, 1 not applicable (n/a)" in report
    row = next(x for x in report.splitlines() if x.startswith("| fairgbm"))
    assert row.startswith("| fairgbm | n/a |")
    assert "## Not applicable (n/a)" in report and "## Failed or skipped" not in report
    assert "- fairgbm (1 cells; demographic_parity_difference <= 0.1): FairGBM has no" in report


def test_missing_environment_is_a_recorded_error_naming_env_and_fix(tmp_path, no_envs):
    records = run_sweep(sweep(["error_parity", "fairgbm"], [EO]), tmp_path / "out")
    assert [r["status"] for r in records] == ["failed", "failed"]
    for r in records:
        assert r["error"].startswith(f"EnvBuildError: bench environment '{r['method']}' could")
        assert str(no_envs) in r["error"] and "Fix: " in r["error"]
        assert f"{r['method']}.txt" in r["error"]  # the requirements to install by hand
        assert "wall_time" not in r  # failed before its clock started
    report = write_report(tmp_path / "out").read_text()
    assert "EnvBuildError: bench environment 'fairgbm'" in report


def test_failed_build_is_recorded_and_not_retried_in_every_cell(tmp_path, monkeypatch):
    monkeypatch.setenv(envs.ENVS_VARIABLE, str(tmp_path / "envs"))
    runs = []

    def venv(env):
        runs.append("venv")
        return [sys.executable, "-c", f"import os; os.makedirs({str(env)!r})"]

    def install(python, requirements):
        runs.append("pip")
        return [sys.executable, "-c", "import sys; sys.exit('ERROR: No matching distribution')"]

    monkeypatch.setattr(envs, "_venv_command", venv)
    monkeypatch.setattr(envs, "_install_command", install)
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(
        "datasets: [{name: syn, synthetic: {n_rows: 600, n_features: 6}}]\n"
        f"constraints: ['{EO}']\nbudgets: [1]\nseeds: [0, 1]\nmethods: [error_parity]\n"
    )
    assert main(["bench", str(sweep_file), "--out", str(tmp_path / "out")]) == 0
    assert runs == ["venv", "pip"]  # the second cell reuses the first one's failure
    first, second = [json.loads(x) for x in (tmp_path / "out" / "cells.jsonl").open()]
    assert "could not be built" in first["error"] and "No matching distribution" in first["error"]
    assert "remembered from a build attempt" in second["error"]
    assert not any((tmp_path / "envs").glob("error_parity-*/.complete"))
    assert list((tmp_path / "envs").glob("error_parity-*.failed"))


def test_env_directory_follows_the_pins_not_the_comments(tmp_path, monkeypatch):
    monkeypatch.setenv(envs.ENVS_VARIABLE, str(tmp_path))
    assert envs.available() == ["autogluon", "equipy", "error_parity", "fairgbm"]
    name = envs.env_dir("fairgbm").name
    assert re.fullmatch(r"fairgbm-[0-9a-f]{12}", name)
    assert envs.env_dir("fairgbm").parent == tmp_path
    with pytest.raises(
        KeyError, match=r"Unknown bench environment 'nope'\. Available: autogluon, equipy, error_"
    ):
        envs.env_dir("nope")


@pytest.mark.slow
def test_environments_really_build(tmp_path, monkeypatch):
    """Builds both environments from their pins (about a minute with a reachable index)."""
    monkeypatch.setenv(envs.ENVS_VARIABLE, str(tmp_path))
    for name in envs.available():
        try:
            python = envs.ensure_env(name)
        except envs.EnvBuildError as exc:
            unreachable = r"connection|network|resolve|timed out|No matching distribution"
            if re.search(unreachable, str(exc)):
                pytest.skip(f"package index unreachable, {name} not built: {exc}")
            raise
        assert python.exists() and envs.is_ready(name)


def test_warm_imports_once_and_names_a_missing_package(tmp_path, monkeypatch):
    """An environment that is built but lacks a package fails before the clock, by name."""
    monkeypatch.setenv(envs.ENVS_VARIABLE, str(tmp_path))
    monkeypatch.setattr(envs, "_WARM", set())
    env = envs.env_dir("fairgbm")
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").symlink_to(sys.executable)
    (env / envs.COMPLETE).write_text("{}")
    with pytest.raises(envs.EnvBuildError, match=r"`import json, no_such_pkg_zz` fails in it"):
        envs.warm("fairgbm", ("json", "no_such_pkg_zz"))
    assert not envs._WARM
    envs.warm("fairgbm", ("json",))
    assert "fairgbm" in envs._WARM
    (env / "bin" / "python").unlink()  # warmed once per process: not run again
    envs.warm("fairgbm", ("no_such_pkg_zz",))


@pytest.mark.parametrize("name", ["error_parity", "fairgbm"])
def test_anchor_in_its_environment_on_a_tiny_budget(name):
    if not envs.is_ready(name):
        pytest.skip(f"the {name} environment is not built (tests do not run pip): build it "
                    f"with python -c \"from benchmarks.anchors.envs import ensure_env; "
                    f"ensure_env('{name}')\"")  # fmt: skip
    task, test = make_task(EO)  # FairGBM has no demographic-parity mode
    METHODS[name].prepare(task)
    task.start_clock()
    check(METHODS[name].fit(task), task, test)


def test_equipy_is_for_amounts_only(tmp_path, no_envs):
    records = run_sweep(sweep(["equipy"], [DP]), tmp_path / "out")
    assert [r["status"] for r in records] == ["not_applicable"]
    assert "regression" in records[0]["error"]


def test_equipy_in_its_environment_on_a_tiny_budget():
    if not envs.is_ready("equipy"):
        pytest.skip("the equipy environment is not built (tests do not run pip): build it "
                    "with python -c \"from benchmarks.anchors.envs import ensure_env; "
                    "ensure_env('equipy')\"")  # fmt: skip
    task = regression_task(RATIO, n=800)
    METHODS["equipy"].prepare(task)
    task.start_clock()
    fitted = METHODS["equipy"].fit(task)
    pred = fitted.predict(task.X_val, task.s_val)
    assert pred.shape == task.y_val.shape and 0.0 <= fitted.info["fraction"] <= 1.0
    assert len(np.unique(pred)) > 10  # amounts
