"""One FLAML fit per split, shared by the anchors that post-process it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from fairautoml.bench import flaml_fit
from fairautoml.bench.config import parse_config
from fairautoml.bench.flaml_fit import holdout_flaml, trainval_flaml
from fairautoml.bench.methods import CellData
from fairautoml.bench.report import write_report
from fairautoml.bench.rows import make_synthetic, split_rows
from fairautoml.bench.runner import SHARED_DIR, run_sweep
from fairautoml.measures.constraints import parse_constraints

FIT_SECONDS = 0.4


def make_task(shared_dir, seed=0, constraint="demographic_parity_difference <= 0.05"):
    X, y, s = make_synthetic(600, n_features=6, seed=1)
    y, s = np.asarray(y).astype(int), np.asarray(s)
    split = split_rows(y, s, seed=0)
    return CellData(
        X.iloc[split.train].reset_index(drop=True), y[split.train], s[split.train],
        X.iloc[split.val].reset_index(drop=True), y[split.val], s[split.val],
        tuple(parse_constraints(constraint)), 10.0, seed=seed, shared_dir=shared_dir,
    )  # fmt: skip


@pytest.fixture
def slow_fit(monkeypatch):
    """FLAML replaced by a picklable stand-in that takes FIT_SECONDS."""
    fits = []

    def fit(task, budget):
        fits.append(task.seed)
        time.sleep(FIT_SECONDS)
        return {"model": "stand-in", "seed": task.seed}

    monkeypatch.setattr(flaml_fit, "_fit", fit)
    return fits


def test_second_method_reuses_the_fit_and_is_charged_its_seconds(tmp_path, slow_fit):
    first = make_task(tmp_path)
    first.start_clock()
    model, info = holdout_flaml(first)
    assert info["flaml_fit"] == "fitted" and info["flaml_fit_seconds"] >= FIT_SECONDS
    # another constraint, same split: the fit does not depend on the constraints
    second = make_task(tmp_path, constraint="equalized_odds_difference <= 0.05")
    second.start_clock()
    started = time.monotonic()
    again, info2 = holdout_flaml(second)
    assert time.monotonic() - started < FIT_SECONDS  # not fitted again...
    assert second.elapsed() >= info["flaml_fit_seconds"]  # ...but charged as if it were
    assert again == model and info2 == {**info, "flaml_fit": "reused"}
    assert slow_fit == [0]
    other_seed = make_task(tmp_path, seed=1)
    other_seed.start_clock()
    assert holdout_flaml(other_seed)[1]["flaml_fit"] == "fitted"
    assert holdout_flaml(make_task(None))[1]["flaml_fit"] == "own"  # outside a sweep
    assert slow_fit == [0, 1, 0]
    assert (tmp_path / ".gitignore").read_text() == "*\n"  # a cache, never committed


def test_waiting_for_another_cells_fit_is_not_charged(tmp_path, slow_fit):
    first, second = make_task(tmp_path), make_task(tmp_path)
    first.start_clock()
    fitting = threading.Thread(target=holdout_flaml, args=(first,))
    fitting.start()
    time.sleep(FIT_SECONDS / 4)  # the first cell holds the lock, fitting
    second.start_clock()
    _, info = holdout_flaml(second)
    fitting.join()
    assert info["flaml_fit"] == "reused" and slow_fit == [0]
    # charged the fit's seconds, not the wait on top of them
    assert info["flaml_fit_seconds"] <= second.elapsed() < info["flaml_fit_seconds"] + 0.2


def test_sweep_shares_flaml_between_anchors(tmp_path):
    pytest.importorskip("oxonfair")
    config = parse_config(
        {
            "datasets": [{"name": "syn", "synthetic": {"n_rows": 600, "n_features": 6}}],
            "constraints": ["demographic_parity_difference <= 0.1"],
            "budgets": [2],
            "methods": ["flaml_threshold", "oxonfair"],
        }
    )
    first, second = run_sweep(config, tmp_path)
    assert first["status"] == second["status"] == "ok", (first.get("error"), second.get("error"))
    assert first["info"]["flaml_fit"] == "fitted" and second["info"]["flaml_fit"] == "reused"
    seconds = first["info"]["flaml_fit_seconds"]
    assert second["info"]["flaml_fit_seconds"] == seconds and second["wall_time"] >= seconds
    assert len(list((tmp_path / SHARED_DIR / "flaml").glob("*.pkl"))) == 1
    report = write_report(tmp_path).read_text()
    assert "flaml_threshold, oxonfair post-process one shared FLAML fit per split" in report


def test_unconstrained_fit_is_shared_between_constraints_not_with_the_holdout_fit(
    tmp_path, monkeypatch, slow_fit
):
    trainval_fits = []

    def fit_trainval(task, budget):
        trainval_fits.append((task.seed, budget))
        time.sleep(FIT_SECONDS)
        return {"model": "stand-in on train + validation", "seed": task.seed}

    monkeypatch.setattr(flaml_fit, "_fit_trainval", fit_trainval)
    first = make_task(tmp_path)
    first.start_clock()
    model, info = trainval_flaml(first)
    assert info["flaml_fit"] == "fitted" and info["flaml_fit_seconds"] >= FIT_SECONDS
    second = make_task(tmp_path, constraint="equalized_odds_difference <= 0.05")
    second.start_clock()
    again, info2 = trainval_flaml(second)
    assert again == model and info2 == {**info, "flaml_fit": "reused"}
    assert second.elapsed() >= info["flaml_fit_seconds"]
    assert trainval_fits == [(0, first.budget)]  # the whole budget: FLAML refits within it
    # the holdout fit of the same split is another model, fitted on its own
    assert holdout_flaml(make_task(tmp_path))[1]["flaml_fit"] == "fitted"
    assert slow_fit == [0] and len(list((tmp_path / "flaml").glob("*.pkl"))) == 2
