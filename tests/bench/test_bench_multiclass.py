"""The bench on several outcomes: constraints bound to the table's classes, decisions, the
multiclass noise floor, and the anchors that post-process FLAML's classifier."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairautoml.bench import parse_config, run_sweep
from fairautoml.bench.class_anchors import fit_offsets
from fairautoml.bench.measure import decisions, noise_floor, score_on_test
from fairautoml.bench.methods import CellData
from fairautoml.bench.runner import cell_task, method_tasks
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.multiclass import measure_value
from fairautoml.mitigators._multiclass_lp_core import fit_multiclass_lp
from fairautoml.tasks import get_task

DP = "demographic_parity_difference <= 0.05"
MULTICLASS = get_task("multiclass")


def bound(constraint: str, k: int = 3):
    return tuple(MULTICLASS.bind_target(parse_constraints(constraint), np.arange(k), None))


def tiers(n: int, seed: int = 0, gap: float = 1.0):
    """Three ordered classes from a score that group b has ``gap`` more of."""
    rng = np.random.default_rng(seed)
    s = np.where(rng.random(n) < 0.4, "b", "a")
    X = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    latent = X["x0"] + 0.5 * X["x1"] + gap * (s == "b") + rng.normal(scale=0.7, size=n)
    y = np.digitize(latent, [-0.3, 0.8])
    return X, y, s


def softmax_scores(X: pd.DataFrame, s: np.ndarray, gap: float = 1.0) -> np.ndarray:
    latent = (X["x0"] + 0.5 * X["x1"] + gap * (s == "b")).to_numpy()
    logits = np.stack([-(latent + 0.3) * 2, -np.abs(latent - 0.25) * 2, (latent - 0.8) * 2], 1)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def multiclass_task(constraint: str, n: int = 1200) -> CellData:
    X, y, s = tiers(n)
    cut = n // 2
    return CellData(
        X.iloc[:cut].reset_index(drop=True), y[:cut], s[:cut],
        X.iloc[cut:].reset_index(drop=True), y[cut:], s[cut:],
        bound(constraint), 2.0, seed=0, kind=MULTICLASS,
    )  # fmt: skip


def test_the_bench_binds_a_multiclass_tables_constraints():
    task, (_, y_test, _) = cell_task("compas_tiers", "demographic_parity_difference <= 0.1", 1)
    (c,) = task.constraints
    assert task.kind.name == "multiclass"
    assert c.family.task == "multiclass" and c.family.n_classes == 3
    assert set(np.unique(y_test)) == {0, 1, 2}
    binary, _ = cell_task("compas", "demographic_parity_difference <= 0.1", 1)
    assert binary.constraints[0].task == "binary"


def test_decisions_keep_class_codes_and_decide_probabilities():
    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    assert decisions(MULTICLASS, proba).tolist() == [1, 0]
    assert decisions(MULTICLASS, np.array([2, 0, 1])).tolist() == [2, 0, 1]
    assert decisions(get_task("binary"), np.array([0.7, 0.2])).tolist() == [1, 0]


def test_multiclass_scores_on_test_are_the_multiclass_measures():
    X, y, s = tiers(900, seed=3)
    pred = np.argmax(softmax_scores(X, s), axis=1)
    (c,) = bound(DP)
    out = score_on_test([c], y, pred, s, MULTICLASS)
    expected = measure_value("demographic_parity_difference", y, pred, s)
    assert out["test_values"][c.key] == pytest.approx(expected)
    assert out["test_score"] == pytest.approx(np.mean(pred == y))
    assert out["test_accuracy"] == out["test_score"] and "test_balanced_accuracy" in out
    assert out["satisfied"] == (expected <= 0.05 + 0.01)


def test_multiclass_noise_floor_follows_the_bound_and_the_group_sizes():
    rng = np.random.default_rng(0)
    n = 4000
    s = np.where(rng.random(n) < 0.5, "a", "b")
    y = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, 3, n))  # fair in truth
    loose, tight = bound("demographic_parity_difference <= 0.1"), bound(DP)
    assert noise_floor(loose, y, pred, s) > 0.99
    small = slice(0, 200)
    few = (y[small], pred[small], s[small])
    stricter = bound("demographic_parity_difference <= 0.02")
    assert noise_floor(stricter, *few) < noise_floor(tight, *few) < 1.0
    eo = bound("equalized_odds_difference <= 0.1")
    assert 0 < noise_floor(eo, *few) < noise_floor(eo, y, pred, s)
    both = bound("demographic_parity_difference <= 0.1") + eo
    assert math.isnan(noise_floor(both, y, pred, s))  # no one model is fair by both


def test_a_fair_rule_reads_within_bound_about_as_often_as_the_floor_says():
    """The floor's null model, drawn independently, is within bound about that often."""
    rng = np.random.default_rng(1)
    n = 600
    s = np.where(rng.random(n) < 0.3, "a", "b")
    y = rng.integers(0, 3, n)
    constraints = bound("demographic_parity_difference <= 0.06")
    pred = rng.integers(0, 3, n)
    floor = noise_floor(constraints, y, pred, s)
    hits = [
        score_on_test(constraints, y, rng.integers(0, 3, n), s, MULTICLASS)["satisfied"]
        for _ in range(400)
    ]
    assert np.mean(hits) == pytest.approx(floor, abs=0.08)


def test_class_offsets_close_a_selection_gap_on_the_rows_they_fit():
    task = multiclass_task(DP)
    scores = softmax_scores(task.X_val, task.s_val)
    before = task.violation(task.y_val, np.argmax(scores, axis=1), task.s_val)
    offsets, labels, feasible = fit_offsets(task, scores, task.y_val, task.s_val)
    assert before > 0.05 and feasible
    assert list(labels) == ["a", "b"] and np.all(offsets[:, 0] == 0)
    pred = np.argmax(scores + offsets[np.searchsorted(labels, task.s_val)], axis=1)
    assert task.violation(task.y_val, pred, task.s_val) <= 0


def test_the_oracle_lp_is_within_bound_on_the_rows_it_fits():
    task = multiclass_task(DP)
    scores = softmax_scores(task.X_val, task.s_val)
    codes = (task.s_val == "b").astype(int)
    rule = fit_multiclass_lp(scores, task.y_val, codes, task.constraints, tolerance=0.8)
    pred = rule.predict(scores, codes)
    assert task.violation(task.y_val, pred, task.s_val) <= 0.01  # draws: near the LP's rates


def test_anchor_applicability_for_several_outcomes():
    assert "multiclass" in method_tasks("fairautoml")
    assert "multiclass" in method_tasks("unconstrained")
    assert method_tasks("class_offsets") == ("multiclass",)
    assert method_tasks("multiclass_lp_oracle") == ("multiclass",)
    assert "multiclass" not in method_tasks("flaml_threshold")


@pytest.mark.slow
def test_tiny_multiclass_sweep_end_to_end(tmp_path):
    X, y, s = tiers(900)
    X.assign(tier=np.array(["low", "mid", "high"])[y], group=s).to_csv(
        tmp_path / "tiers.csv", index=False
    )
    config = parse_config(
        {
            "name": "tiny_multiclass",
            "datasets": [{"name": "tiers", "csv": str(tmp_path / "tiers.csv"),
                          "target": "tier", "sensitive": ["group"]}],
            "constraints": ["demographic_parity_difference <= 0.1"],
            "budgets": [3], "seeds": [1],
            "methods": ["fairautoml", "unconstrained", "class_offsets", "multiclass_lp_oracle",
                        "flaml_threshold"],
            "front_points": 2,
        }
    )  # fmt: skip
    records = {r["method"]: r for r in run_sweep(config, tmp_path)}
    assert records["flaml_threshold"]["status"] == "not_applicable"
    # the front's models are rebuilt as the multiclass search had them, and scored
    fa = records["fairautoml"]
    assert fa["front_size"] >= 1 and 0 < fa["hypervolume"] < 1, fa.get("notes")
    for method in ("fairautoml", "unconstrained", "class_offsets", "multiclass_lp_oracle"):
        r = records[method]
        assert r["status"] == "ok", (method, r.get("error"))
        assert r["task"] == "multiclass" and r["metric"] == "accuracy"
        assert 0.3 < r["test_score"] <= 1 and r["n_test"] == 180
        assert set(r["test_values"]) == {"demographic_parity_difference"}
        assert 0 <= r["test_noise_floor"] <= 1
    assert records["multiclass_lp_oracle"]["satisfied"]  # it fits on the rows it is judged on
