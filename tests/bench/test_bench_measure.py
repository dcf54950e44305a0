from __future__ import annotations

import math

import numpy as np
import pytest

from fairautoml.bench.measure import hypervolume, peak_memory_mb, reset_peak_memory, score_on_test
from fairautoml.constraints import parse_constraints


def test_hypervolume_of_points():
    assert hypervolume([[0.2, 0.1]]) == pytest.approx(0.8 * 0.9)
    # a dominated point adds nothing; two non-dominated ones add their union
    assert hypervolume([[0.2, 0.1], [0.3, 0.2]]) == pytest.approx(0.72)
    assert hypervolume([[0.2, 0.1], [0.1, 0.3]]) == pytest.approx(0.8 * 0.9 + 0.1 * 0.7)
    assert hypervolume([[0.2, 0.1, 0.5]]) == pytest.approx(0.8 * 0.9 * 0.5)
    assert hypervolume([[1.0, 0.0]]) == 0.0
    assert math.isnan(hypervolume([]))


def test_score_on_test_uses_fairlearn_values_and_the_slack():
    constraints = parse_constraints("demographic_parity_difference <= 0.05")
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    s = np.array(["a"] * 4 + ["b"] * 4)
    pred = np.array([0, 1, 0, 1, 0, 1, 1, 1])  # selection 0.5 vs 0.75
    out = score_on_test(constraints, y, pred, s)
    assert out["test_accuracy"] == pytest.approx(7 / 8)
    assert out["test_values"]["demographic_parity_difference"] == pytest.approx(0.25)
    assert out["test_violation"] == pytest.approx(0.20) and out["satisfied"] is False
    loose = parse_constraints("demographic_parity_difference <= 0.245")
    assert score_on_test(loose, y, pred, s)["satisfied"] is True  # within bound + 0.01


def test_peak_memory_resets():
    big = np.ones(30_000_000)  # 240 MB
    del big
    before = peak_memory_mb()
    if not reset_peak_memory():
        pytest.skip("peak memory cannot be reset on this system")
    assert peak_memory_mb() < before - 150
