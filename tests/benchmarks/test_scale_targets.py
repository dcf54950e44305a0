"""The scale sweep's own targets on small synthetic records: met and not met."""

from __future__ import annotations

from benchmarks.acceptance.scale_targets import is_scale_sweep, scale_targets
from fairautoml.bench.summary import records_frame

DP = "demographic_parity_difference <= 0.05"
SIZES = {"synthetic100k": 100_000, "synthetic1M": 1_000_000, "synthetic10M": 10_000_000}


def rec(method, dataset, seed, acc, *, satisfied=True, trials=100, models=None, wall=1.0,
        peak=4000.0, tree=True):  # fmt: skip
    n = SIZES[dataset]
    budget = 600.0 if dataset == "synthetic10M" else 300.0
    record = {
        "key": f"{dataset}|{DP}|{budget}|{seed}|{method}", "dataset": dataset, "budget": budget,
        "seed": seed, "constraints": [DP], "constraint_label": DP, "method": method,
        "family": "fairautoml" if method == "fairautoml" else method, "status": "ok",
        "n_train": int(0.6 * n), "n_val": int(0.2 * n), "n_test": int(0.2 * n),
        "test_accuracy": acc, "test_balanced_accuracy": acc, "satisfied": satisfied,
        "test_values": {"demographic_parity_difference": 0.04}, "trials": trials,
        "wall_time": wall * budget, "peak_memory_mb": peak,
        "info": {"trained_models": models} if models is not None else {},
    }  # fmt: skip
    if tree:
        record["peak_tree_memory_mb"] = peak
    return record


def sweep(*, acc_1m=0.800, models_1m=200, flaml_to_1m=0.799, wall_10m=1.02, peak_10m=9000.0,
          tree=True, flaml_to_100k=0.798, wall_100k=1.0):  # fmt: skip
    records = []
    for seed in (0, 1):
        records += [
            rec("fairautoml", "synthetic100k", seed, 0.800, models=150, wall=wall_100k),
            rec("flaml_threshold", "synthetic100k", seed, flaml_to_100k),
            rec("unconstrained", "synthetic100k", seed, 0.815, satisfied=False, trials=200),
            rec("fairautoml", "synthetic1M", seed, acc_1m, models=models_1m),
            rec("unconstrained", "synthetic1M", seed, 0.817, satisfied=False, trials=176),
            rec("flaml_threshold", "synthetic1M", seed, flaml_to_1m),
            rec(
                "fairautoml",
                "synthetic10M",
                seed,
                0.801,
                models=60,
                wall=wall_10m,
                peak=peak_10m,
                tree=tree,
            ),
        ]
    return records_frame(records)


def verdicts(frame):
    lines = scale_targets(frame, "fairautoml")
    return {
        int(line[0]): line.split(": ", 1)[1]
        for line in lines
        if line[:2] in {"1.", "2.", "3.", "4.", "5."}
    }


def test_a_scale_sweep_is_told_apart():
    assert is_scale_sweep(sweep())
    one_size = sweep()
    assert not is_scale_sweep(one_size[one_size["dataset"] == "synthetic1M"])


def test_scale_targets_met():
    assert verdicts(sweep()) == {1: "met", 2: "met", 3: "met", 4: "met", 5: "met"}


def test_scale_targets_not_met():
    # 1M falls 2 points below 100k (the test rows' error at 1M is ~0.001), trains fewer
    # models than FLAML's 176 trials and trails FLAML + ThresholdOptimizer; 10M overruns
    got = verdicts(sweep(acc_1m=0.780, models_1m=50, flaml_to_1m=0.790, wall_10m=1.2))
    assert got == {1: "**not met**", 2: "**not met**", 3: "**not met**", 4: "**not met**", 5: "met"}
    assert verdicts(sweep(peak_10m=13_000))[4] == "**not met**"  # over 12 GiB
    assert verdicts(sweep(wall_10m=0.9))[5] == "**not met**"  # stopped with budget left


def test_memory_without_the_workers_is_not_judged():
    lines = scale_targets(sweep(tree=False, wall_10m=1.5), "fairautoml")
    assert verdicts(sweep(tree=False, wall_10m=1.5))[4] == "met"  # the smaller sizes only
    rows = "\n".join(lines).splitlines()
    ten_m = next(row for row in rows if row.startswith("| 10,000,000"))
    assert "9000 (process alone) | – |" in ten_m  # its wall time alone is not judged


def test_an_anchor_run_past_the_bound_is_not_an_accuracy_to_meet():
    """Issue 58 asks for at least FLAML + ThresholdOptimizer's accuracy *within bound*: a
    more accurate anchor run out of bound is left out of the pairs, not counted against."""
    frame = sweep(flaml_to_100k=0.805)
    anchor_100k = (frame["method"] == "flaml_threshold") & (frame["dataset"] == "synthetic100k")
    frame.loc[anchor_100k & (frame["seed"] == 0), "satisfied"] = False
    assert _gap_and_verdict(frame) == ("-0.50 (n=1)", "**not met**")  # seed 1: 0.800 vs 0.805
    frame.loc[anchor_100k, "satisfied"] = False
    assert _gap_and_verdict(frame) == ("–", "–")  # no pair left at 100k: not judged there
    assert verdicts(frame)[3] == "met"  # 1M's pairs still are


def _gap_and_verdict(frame):
    """The 100k row's Δ against FLAML + ThresholdOptimizer and its target-3 verdict."""
    text = "\n".join(scale_targets(frame, "fairautoml"))
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    row = next(line for line in lines if line.startswith("| 100,000"))
    cells = dict(zip(header, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
    return cells["Δ vs flaml_threshold within bound (points)"], cells["3"]


def test_the_big_table_check_judges_100k_rows_too():
    """Issue 58: at 100k rows as at 1M, at least FLAML + ThresholdOptimizer and within the
    budget + 10%."""
    assert verdicts(sweep(flaml_to_100k=0.805))[3] == "**not met**"
    assert verdicts(sweep(wall_100k=1.12))[4] == "**not met**"
    assert verdicts(sweep(wall_100k=1.08))[4] == "met"
