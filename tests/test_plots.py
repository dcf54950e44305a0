"""Trade-off plots: matplotlib PNG and a self-contained plotly page rendered in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from fairautoml import FairAutoML
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.metrics import get_metric
from fairautoml.report.plots import plot_pareto
from fairautoml.testing import make_biased

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def fitted():
    X, y, s = make_biased(n=600, seed=2)
    return FairAutoML(
        ["demographic_parity_difference <= 0.1", "equalized_odds_difference <= 0.15"],
        n_trials=6, time_budget=None, random_state=0,
    ).fit(X, y, sensitive_features=s)  # fmt: skip


def _args(automl):
    return automl.leaderboard_, automl.constraints_, get_metric(automl.metric_)


def test_png_is_drawn(fitted, tmp_path):
    import matplotlib.image

    path = plot_pareto(*_args(fitted), tmp_path / "front.png")
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 500
    assert np.std(image[..., :3]) > 0.05  # not a blank canvas


def test_one_constraint_axis_is_its_value(fitted, tmp_path):
    board, constraints, metric = _args(fitted)
    path = plot_pareto(board, constraints[:1], metric, tmp_path / "one.svg")
    assert "demographic_parity_difference on validation (bound 0.1)" in path.read_text()


def test_unknown_suffix_and_empty_board(fitted, tmp_path):
    board, constraints, metric = _args(fitted)
    with pytest.raises(ConfigurationError, match=r"use a \.png"):
        plot_pareto(board, constraints, metric, tmp_path / "front.jpg")
    with pytest.raises(ConfigurationError, match="No successful trial"):
        plot_pareto(board.iloc[:0], constraints, metric, tmp_path / "front.png")


def test_html_is_self_contained_with_hover_configuration(fitted, tmp_path):
    path = plot_pareto(*_args(fitted), tmp_path / "front.html")
    text = path.read_text()
    assert not re.search(r"<script[^>]+src=", text)  # plotly.js is inlined
    assert "trial " in text and "logistic_regression__C" in text  # hover shows the config
    assert "chosen: trial" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_html_renders_points_offline_in_headless_chromium(fitted, tmp_path):
    board = fitted.leaderboard_
    path = plot_pareto(*_args(fitted), tmp_path / "front.html")
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}",
             "--proxy-server=http://127.0.0.1:9",  # any network request would fail
             "--virtual-time-budget=10000", "--dump-dom", path.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
    n_points = len(re.findall(r'<path class="point"', dom))
    n_ok = int((board["status"] == "ok").sum())
    assert n_points == n_ok + 1  # every successful trial, plus the chosen model's star
    assert 'class="main-svg"' in dom
