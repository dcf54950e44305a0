from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

from fairautoml.bench.measure import (
    SATISFIED_SLACK,
    TreeMemory,
    hypervolume,
    noise_floor,
    peak_memory_mb,
    reset_peak_memory,
    score_on_test,
)
from fairautoml.measures.constraints import parse_constraints


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


def _biased_test_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.choice(["a", "b", "c"], n, p=[0.2, 0.5, 0.3])
    y = (rng.random(n) < np.select([s == "a", s == "b"], [0.15, 0.35], 0.5)).astype(int)
    pred = np.where(y == 1, rng.random(n) < 0.7, rng.random(n) < 0.1).astype(int)
    return y, pred, s


def _fair_draws(y, pred, s, rates_by, draws, seed):
    """Independent check: whole prediction vectors of a perfectly fair model, row by row."""
    rng = np.random.default_rng(seed)
    tpr, fpr = pred[y == 1].mean(), pred[y == 0].mean()
    for _ in range(draws):
        if rates_by == "label":
            p = np.where(y == 1, tpr, fpr)
        else:  # each group's TPR and FPR scaled to the overall selection rate
            p = np.empty(len(y))
            for g in np.unique(s):
                m = s == g
                scale = pred.mean() * m.sum() / (tpr * y[m].sum() + fpr * (1 - y[m]).sum())
                p[m] = np.minimum(np.where(y[m] == 1, tpr, fpr) * scale, 1.0)
        yield (rng.random(len(y)) < p).astype(int)


@pytest.mark.parametrize(
    ("text", "fn", "rates_by"),
    [
        ("equalized_odds_difference <= 0.05", equalized_odds_difference, "label"),
        ("demographic_parity_difference <= 0.03", demographic_parity_difference, "group"),
    ],
)
def test_noise_floor_is_the_chance_a_fair_model_reads_within_bound(text, fn, rates_by):
    y, pred, s = _biased_test_rows(1500)
    constraints = parse_constraints(text)
    floor = noise_floor(constraints, y, pred, s, draws=4000)
    bound = constraints[0].bound
    hits = [
        fn(y, fair, sensitive_features=s) <= bound + SATISFIED_SLACK
        for fair in _fair_draws(y, pred, s, rates_by, 600, seed=1)
    ]
    assert 0.2 < floor < 0.95  # a noisy cell: neither certain nor hopeless
    assert floor == pytest.approx(np.mean(hits), abs=0.06)  # 600 draws: se about 0.02


def test_noise_floor_rises_with_rows_and_with_the_bound():
    y, pred, s = _biased_test_rows(1500)
    eo = parse_constraints("equalized_odds_difference <= 0.05")
    small = noise_floor(eo, y, pred, s)
    large = noise_floor(eo, *_biased_test_rows(30000))
    loose = noise_floor(parse_constraints("equalized_odds_difference <= 0.15"), y, pred, s)
    assert small < large and large > 0.99 and small < loose
    assert noise_floor(eo, y, pred, s) == small  # seeded: the report is reproducible


def test_noise_floor_is_undefined_where_no_model_is_fair_by_both_kinds():
    y, pred, s = _biased_test_rows(500)
    both = parse_constraints(
        ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.05"]
    )
    assert math.isnan(noise_floor(both, y, pred, s))
    assert math.isnan(noise_floor(parse_constraints("equalized_odds_difference <= 0.1"),
                                  np.ones_like(y), pred, s))  # fmt: skip
    by_label = parse_constraints(
        ["equalized_odds_difference <= 0.05", "false_positive_rate_ratio >= 0.8"]
    )
    assert 0 <= noise_floor(by_label, y, pred, s) <= 1  # one model is fair by both


def test_peak_memory_resets():
    big = np.ones(30_000_000)  # 240 MB
    del big
    before = peak_memory_mb()
    if not reset_peak_memory():
        pytest.skip("peak memory cannot be reset on this system")
    assert peak_memory_mb() < before - 150


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_tree_memory_counts_the_worker_processes():
    """A search's trial workers hold their own copy of the data: a cell's peak counts them."""
    hold = "import numpy, time; a = numpy.ones(40_000_000); time.sleep(1.5)"  # 320 MB
    with TreeMemory(interval=0.1) as tree:
        subprocess.run([sys.executable, "-c", hold], check=True)
    assert tree.children_kib / 1024 > 250
    assert tree.peak_mb() >= peak_memory_mb() + 250
    with TreeMemory(interval=0.1) as alone:
        pass
    assert alone.children_kib == 0
