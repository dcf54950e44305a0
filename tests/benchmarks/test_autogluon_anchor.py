"""The AutoGluon anchors (``autogluon``, ``autogluon_oxonfair``) without their environment:
how tables cross to it, the presets option, the cells they do not apply to, one fit shared
per split (the environment stubbed), the budgets sweep; and, marked slow, a real build and
fit."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.anchors import env_anchors as ea
from benchmarks.anchors import envs
from benchmarks.anchors.envs import run_anchor
from fairautoml.bench.config import load_config
from fairautoml.bench.oxonfair_anchor import OXONFAIR_METRICS
from fairautoml.bench.plugins import METHODS
from fairautoml.bench.runner import make_cells, method_tasks, run_sweep
from fairautoml.bench.specs import ANCHORS
from fairautoml.exceptions import ConfigurationError
from tests.bench.test_bench_anchors import check, make_task
from tests.bench.test_bench_regression import RATIO, regression_task
from tests.benchmarks.test_env_anchors import sweep

ROOT = Path(__file__).parents[2]
DP = "demographic_parity_difference <= 0.05"
EO = "equalized_odds_difference <= 0.05"
NAMES = ("autogluon", "autogluon_oxonfair")


def table_task():
    """A task whose table has a text column with a missing value and a number with NaN."""
    task, test = make_task(DP)
    task.X_train.loc[3, "colour"] = None
    task.X_train.loc[4, "x1"] = np.nan
    return task, test


def test_tables_cross_as_a_float_matrix_and_json_columns():
    task, (X_test, _, _) = table_task()
    columns = json.loads(json.dumps(ea.autogluon_columns(task)))  # as the action reads them
    assert [name for name, _ in columns] == [str(c) for c in task.schema.columns]
    assert dict(columns)["colour"] == ["blue", "red"] and dict(columns)["x1"] is None
    for X in (task.X_train, X_test):
        matrix = ea._matrix(task, X)
        assert matrix.dtype == np.float64  # no object arrays: np.load(allow_pickle=False)
        rebuilt = run_anchor._frame(columns, matrix)
        expected = task.features(X)
        assert list(rebuilt.columns) == list(expected.columns)
        assert isinstance(rebuilt["colour"].dtype, pd.CategoricalDtype)
        assert rebuilt["colour"].astype(object).equals(expected["colour"].astype(object))
        np.testing.assert_array_equal(rebuilt["x1"].to_numpy(), expected["x1"].to_numpy())
    rebuilt = run_anchor._frame(columns, ea._matrix(task, task.X_train))
    assert pd.isna(rebuilt.loc[3, "colour"]) and np.isnan(rebuilt.loc[4, "x1"])


def test_presets_option():
    task, _ = make_task()
    assert ea.autogluon_presets(task) == "medium_quality"  # AutoGluon's default preset
    task.options = {"presets": "best_quality"}
    assert ea.autogluon_presets(task) == "best_quality"
    task.options = {"presets": "extreme_quality"}
    with pytest.raises(ConfigurationError, match="presets must be one of medium_quality"):
        ea.autogluon_presets(task)
    task.options = {"preset": "best_quality"}
    with pytest.raises(ConfigurationError, match=r"unknown option\(s\) \['preset'\]"):
        ea.autogluon_presets(task)


def test_constraints_cross_as_oxonfair_metric_names():
    task, _ = make_task([DP, "demographic_parity_ratio >= 0.8"])
    assert ea.oxonfair_constraints(task) == [
        [OXONFAIR_METRICS["demographic_parity_difference"], 0.05, "<"],
        ["pos_pred_rate.min_ratio", 0.8, ">"],
    ]


def test_cells_the_anchors_have_no_mode_for_are_not_applicable(tmp_path, no_envs):
    """Before the environment is needed: a blind task for OxonFair (it decides with the
    group), a constraint OxonFair has no metric for; amounts and several classes."""
    blind = {"method": "autogluon_oxonfair", "label": "blind", "options": {"blind": True}}
    records = run_sweep(
        sweep([blind, "autogluon_oxonfair"], ["equalized_odds_ratio >= 0.8"]), tmp_path / "o"
    )
    assert [r["status"] for r in records] == ["not_applicable"] * 2
    assert "decides with the group" in records[0]["error"]
    assert "no OxonFair metric mapped for equalized_odds_ratio" in records[1]["error"]
    for name in NAMES:
        assert method_tasks(name) == ("binary",)
        task = regression_task(RATIO)
        with pytest.raises(ea.NotApplicableError, match="handles binary targets"):
            task.needs_kind(name, *method_tasks(name))  # what the runner checks first


def test_a_bad_preset_fails_before_the_clock(tmp_path, no_envs):
    bad = {"method": "autogluon", "label": "ag", "options": {"presets": "extreme"}}
    (r,) = run_sweep(sweep([bad], [DP]), tmp_path / "o")
    assert r["status"] == "failed" and "presets must be one of" in r["error"]
    assert "wall_time" not in r


def test_missing_environment_is_a_recorded_error(tmp_path, no_envs):
    records = run_sweep(sweep(list(NAMES), [DP]), tmp_path / "o")
    for r in records:
        assert r["status"] == "failed"
        assert r["error"].startswith("EnvBuildError: bench environment 'autogluon' could")
        assert "autogluon.txt" in r["error"] and "wall_time" not in r


class FakeEnv:
    """Stands in for the environment's actions: records them, 'fits' in no time."""

    def __init__(self):
        self.calls = []

    def __call__(self, action, params, arrays, timeout):  # as _EnvModel.call, unbound
        self.calls.append(action)
        if action == "autogluon_fit":
            Path(params["path"]).mkdir(parents=True)
            info = {"autogluon_version": "x", "presets": params["presets"],
                    "time_limit": params["deadline"], "autogluon_seconds": 0.1,
                    "models_trained": 7, "best_model": "WeightedEnsemble_L2"}  # fmt: skip
            return info, {}
        n = len(arrays["X"])
        if action == "oxonfair_fit":
            return {"oxonfair_version": "0.3"}, {"pred": arrays["y"].copy()}
        return {}, {"pred": np.zeros(n, dtype=np.int8)}


@pytest.mark.parametrize("shared", [False, True])
def test_one_autogluon_fit_per_split_and_preset(tmp_path, monkeypatch, shared):
    fake = FakeEnv()
    monkeypatch.setattr(ea._EnvModel, "call", fake)
    fitted = {}
    for name, presets in [*((n, None) for n in NAMES), ("autogluon", "best_quality")]:
        task, test = make_task(EO, budget=30)
        task.shared_dir = tmp_path / "shared" if shared else None
        task.options = {"presets": presets} if presets else {}
        task.start_clock()
        fitted[name, presets] = f = getattr(ea, f"fit_{name}")(task)
        assert f.info["models_trained"] == 7 and f.info["best_model"] == "WeightedEnsemble_L2"
        # the time limit leaves room for OxonFair's process: POST_RESERVE and AUTOGLUON_LOAD
        assert f.info["time_limit"] <= 30 * (1 - ea.POST_RESERVE) - ea.AUTOGLUON_LOAD
        assert f.predict(test[0], test[2]).shape == test[1].shape
    ox = fitted["autogluon_oxonfair", None]
    assert ox.trials == 8 and ox.selection_feasible is True  # validation labels as preds
    assert ox.info["oxonfair_version"] == "0.3"
    assert fitted["autogluon", None].selection_feasible is None  # does not see fairness
    how = [f.info["autogluon_fit"] for f in fitted.values()]
    fits = fake.calls.count("autogluon_fit")
    if shared:
        assert how == ["fitted", "reused", "fitted"] and fits == 2  # the preset is in the key
        assert (tmp_path / "shared" / ".gitignore").read_text() == "*\n"
        seconds = fitted["autogluon_oxonfair", None].info["autogluon_fit_seconds"]
        assert seconds == fitted["autogluon", None].info["autogluon_fit_seconds"]
    else:
        assert how == ["own"] * 3 and fits == 3


def test_the_budgets_sweep_lists_its_cells():
    config = load_config(ROOT / "experiments" / "budgets.yaml")
    cells = make_cells(config)
    assert len(cells) == 684
    by = collections.Counter((c.budget, c.method.label) for c in cells)
    medium = ["fairautoml", "fairautoml_no_ensemble", "autogluon_oxonfair", "autogluon",
              "error_parity", "oxonfair", "flaml_threshold", "thresholds_oracle",
              "unconstrained"]  # fmt: skip
    best = ["autogluon_oxonfair_best", "autogluon_best"]
    assert {m: by[30.0, m] for m in medium + best} == {**dict.fromkeys(medium, 32),
                                                       **dict.fromkeys(best, 0)}  # fmt: skip
    assert {m: by[120.0, m] for m in medium + best} == dict.fromkeys(medium + best, 32)
    assert {m: by[600.0, m] for m in medium + best} == dict.fromkeys(medium + best, 4)
    assert {c.dataset.name for c in cells if c.budget == 600} == {"adult"}
    assert {c.dataset.name for c in cells} == {"adult", "dutch", "compas", "german"}
    assert {str(cs[0]) for cs in config.constraint_sets} == {DP, EO}
    methods = {m.label: m for m in config.methods}
    assert methods["autogluon_oxonfair_best"].options == {"presets": "best_quality"}
    assert methods["fairautoml_no_ensemble"].options == {"ensemble": False}
    assert not {"autogluon", "autogluon_oxonfair"} & set(ANCHORS)  # plug-ins, not installed
    assert {"autogluon", "autogluon_oxonfair"} <= set(METHODS)


@pytest.mark.slow
def test_autogluon_oxonfair_builds_and_fits_a_tiny_table(tmp_path, monkeypatch):
    """Builds the environment from its pins when it is not built yet (about a minute with a
    reachable index), then AutoGluon + OxonFair on a small table for about 15 s."""
    try:
        envs.ensure_env("autogluon")
    except envs.EnvBuildError as exc:
        unreachable = r"connection|network|resolve|timed out|No matching distribution"
        if re.search(unreachable, str(exc)):
            pytest.skip(f"package index unreachable, the autogluon environment not built: {exc}")
        raise
    task, test = make_task(DP, budget=15)
    task.shared_dir = tmp_path / "shared"
    METHODS["autogluon_oxonfair"].prepare(task)
    task.start_clock()
    fitted = METHODS["autogluon_oxonfair"].fit(task)
    check(fitted, task, test)
    info = fitted.info
    assert info["autogluon_version"] == "1.6.3" and info["oxonfair_version"] == "0.3"
    assert info["models_trained"] >= 1 and info["best_model"]
    assert 0 < info["autogluon_seconds"] <= info["autogluon_fit_seconds"]
    X, y, s = test
    assert task.violation(y, fitted.predict(X, s), s) < 0.1  # thresholds per group held
