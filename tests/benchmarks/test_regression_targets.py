"""Issue 38's regression targets on small synthetic records: met and not met, the oracle
compared with but never an anchor to match."""

from __future__ import annotations

import pandas as pd

from benchmarks.acceptance.regression_targets import (
    is_regression_sweep,
    r2_gaps,
    regression_targets,
)
from benchmarks.acceptance.report import targets_section
from fairautoml.bench.summary import records_frame

KS = "demographic_parity_ks <= 0.05"


def rec(method, seed, r2, satisfied=True, budget=30.0, wall=None, floor=0.95, status="ok"):
    family = "fairautoml" if method.startswith("fairautoml") else method
    record = {
        "key": f"cps|{KS}|{budget:g}|{seed}|{method}", "dataset": "cps", "budget": budget,
        "seed": seed, "constraints": [KS], "constraint_label": KS, "method": method,
        "family": family, "status": status, "task": "regression", "metric": "r2",
    }  # fmt: skip
    if status == "ok":
        record.update(
            test_score=r2, test_values={"demographic_parity_ks": 0.04},
            test_violation=-0.01 if satisfied else 0.05, satisfied=satisfied,
            test_noise_floor=floor, trials=3, wall_time=budget if wall is None else wall,
        )  # fmt: skip
    else:
        record["error"] = "fairlearn has no reduction for demographic_parity_ks"
    return record


def sweep(**fa):
    records = []
    for seed in (1, 2, 3):
        records += [
            rec("fairautoml", seed, 0.30, **fa),
            rec("unconstrained", seed, 0.31, satisfied=False),
            rec("barycenter", seed, 0.29, satisfied=seed != 1),
            rec("barycenter_oracle", seed, 0.305),  # ahead: a limit, not an anchor
            rec("eg_lightgbm", seed, None, status="not_applicable"),
        ]
    return records_frame(records)


def test_a_good_sweep_meets_every_target():
    frame = sweep()
    assert is_regression_sweep(frame)
    text = "\n".join(regression_targets(frame, "fairautoml"))
    assert "(a) Within bound on test: fairautoml's runs 3/3" in text
    assert "(b) fairautoml − barycenter, test R² where both within bound: +0.0100" in text
    assert "not measured" in text  # unconstrained never within bound: nothing to pair
    assert "(c) Runs with fairautoml's test R² < 0.02" in text and ": 0: met." in text
    assert "(d) Wall time of fairautoml at" in text and "0 of 3: met" in text
    assert "**not met**" not in text  # the oracle is ahead, but the target is for 120 s
    # every anchor column in the per-cell table, the n/a anchor shown as such
    assert "| eg_lightgbm within |" in text and "| n/a |" in text


def test_failures_are_marked_not_met():
    frame = sweep(satisfied=False, wall=40.0)
    text = "\n".join(regression_targets(frame, "fairautoml"))
    assert "(a) Within bound on test: fairautoml's runs 0/3" in text
    assert text.count("**not met**") >= 3  # (a) pooled, (a) in the cell, (d)
    low = records_frame(
        [rec("fairautoml", 1, 0.01), rec("barycenter", 1, 0.2), rec("barycenter_oracle", 1, 0.3)]
    )
    text = "\n".join(regression_targets(low, "fairautoml"))
    assert "- cps, demographic_parity_ks <= 0.05, 30 s, seed 1: fairautoml R² 0.010" in text
    assert "barycenter (0.200)" in text and "barycenter_oracle (0.300)" not in text


def test_oracle_target_applies_at_120_seconds():
    records = [rec("fairautoml", s, 0.30, budget=120.0) for s in (1, 2)]
    records += [rec("barycenter_oracle", s, 0.32, budget=120.0) for s in (1, 2)]
    text = "\n".join(regression_targets(records_frame(records), "fairautoml"))
    assert "at least the oracle's in 0 of 1 cells (target at 120 s: half): **not met**" in text
    gaps = r2_gaps(records_frame(records), "fairautoml", "barycenter_oracle")
    assert gaps.round(6).tolist() == [-0.02, -0.02]


def test_the_report_section_takes_the_regression_targets():
    lines = targets_section(sweep())
    assert lines[0] == "## Targets (fairautoml vs. every anchor)"
    assert any(line.startswith("### 30 s per method") for line in lines)
    assert not is_regression_sweep(pd.DataFrame({"task": ["binary", "regression"]}))
