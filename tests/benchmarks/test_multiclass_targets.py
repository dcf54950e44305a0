"""Issue 42's multiclass targets on small synthetic records: within bound where the noise
floor allows, accuracy against the deployable anchors (the oracle shown, never a target),
and the two-class runs paired with the frontier's."""

from __future__ import annotations

import json

from benchmarks.acceptance.multiclass_targets import is_multiclass_sweep, multiclass_targets
from benchmarks.acceptance.report import targets_section
from fairautoml.bench.summary import records_frame

DP = "demographic_parity_difference <= 0.1"
DP_BINARY = "demographic_parity_difference <= 0.05"


def rec(method, seed, acc, satisfied=True, floor=0.95, task="multiclass", dataset="tiers",
        label=DP, status="ok", commit="abc1234"):  # fmt: skip
    family = "fairautoml" if method.startswith("fairautoml") else method
    record = {
        "key": f"{dataset}|{label}|30|{seed}|{method}", "dataset": dataset, "budget": 30.0,
        "seed": seed, "constraints": [label], "constraint_label": label, "method": method,
        "family": family, "status": status, "task": task, "metric": "accuracy",
        "commit": commit,
    }  # fmt: skip
    if status == "ok":
        record.update(
            test_score=acc, test_accuracy=acc, test_values={label.split()[0]: 0.05},
            test_violation=-0.01 if satisfied else 0.05, satisfied=satisfied,
            test_noise_floor=floor, trials=3, wall_time=30.0,
        )  # fmt: skip
    return record


def sweep(fa_satisfied=True, binary_now=0.85):
    records = []
    for seed in (1, 2, 3, 4):
        records += [
            rec("fairautoml", seed, 0.62, satisfied=fa_satisfied or seed == 1),
            rec("unconstrained", seed, 0.64, satisfied=False),
            rec("class_offsets", seed, 0.60, satisfied=seed != 1),
            rec("multiclass_lp_oracle", seed, 0.63),  # ahead: a limit, not an anchor
            rec("fairautoml", seed, 0.60, floor=0.5, label="equalized_odds_difference <= 0.1",
                satisfied=seed == 2),  # a cell whose floor does not allow 90%
            rec("fairautoml", seed, binary_now, task="binary", dataset="adult",
                label=DP_BINARY),
        ]  # fmt: skip
    return records_frame(records)


def frontier(tmp_path, acc=0.85, satisfied=True):
    path = tmp_path / "cells.jsonl"
    lines = [rec("fairautoml", seed, acc, satisfied=satisfied, task="binary", dataset="adult",
                 label=DP_BINARY, commit="old5678") for seed in (1, 2, 3, 4)]  # fmt: skip
    lines.append(rec("oxonfair", 1, 0.9, task="binary", dataset="adult", label=DP_BINARY))
    # an earlier run of a cell (written first), superseded by the latest record of its key
    lines.insert(0, rec("fairautoml", 1, 0.5, task="binary", dataset="adult", label=DP_BINARY,
                        commit="older00"))  # fmt: skip
    for r in lines:
        r.pop("task")  # frontier records predate the task field
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_a_good_sweep_meets_every_target(tmp_path):
    frame = sweep()
    assert is_multiclass_sweep(frame)
    text = "\n".join(multiclass_targets(frame, "fairautoml", frontier(tmp_path)))
    assert "fairautoml's multiclass runs 5/8" in text
    assert "in the 1 cells whose noise floor is at least 0.9: 4/4" in text
    assert "(b) fairautoml − class_offsets, test accuracy where both within bound: +2.00" in text
    assert "(b) fairautoml − unconstrained" in text and "not measured" in text
    assert "(b) fairautoml − multiclass_lp_oracle" in text and "shown, not a target" in text
    assert "(c) Binary results unchanged: 4 two-class runs paired" in text
    assert "commits old5678" in text
    assert "**not met**" not in text
    assert "| multiclass_lp_oracle within |" in text


def test_worse_runs_are_marked_not_met(tmp_path):
    frame = sweep(fa_satisfied=False, binary_now=0.80)
    text = "\n".join(multiclass_targets(frame, "fairautoml", frontier(tmp_path)))
    assert "4/4" not in text.split("(b)")[0].split("0.9:")[1][:6]
    assert text.count("**not met**") >= 2  # (a) and (c): five points less accurate


def test_the_report_section_is_the_multiclass_one():
    lines = targets_section(sweep())
    assert lines[0] == "## Targets (issue 42: several outcomes)"
