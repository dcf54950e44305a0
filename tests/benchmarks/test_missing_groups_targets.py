"""Issue 60's target (d): ``infer`` against the fully known fit with groups hidden not at
random, paired by table, constraint and seed, apart by whether the run warned."""

from __future__ import annotations

import pandas as pd

from benchmarks.acceptance.missing_groups_targets import _hidden, _not_at_random_gaps

DP = "demographic_parity_difference <= 0.05"
WARNED = ["GroupInferenceWarning: 67% of the rows have no group"]


def run(dataset, method, seed, accuracy, warnings=(), status="ok"):
    return {"dataset": dataset, "method": method, "constraint_label": DP, "seed": seed,
            "status": status, "test_accuracy": accuracy, "warnings": list(warnings)}  # fmt: skip


def test_the_gap_is_paired_and_split_by_the_warning():
    frame = pd.DataFrame(
        [
            run("adult_known", "fairautoml", 1, 0.850),
            run("adult_known", "fairautoml", 2, 0.860),
            run("dutch_known", "fairautoml", 1, 0.800),
            run("adult_mnar70", "fa_infer", 1, 0.852),  # +0.2
            run("adult_mnar70", "fa_infer", 2, 0.864),  # +0.4
            run("dutch_mnar70", "fa_infer", 1, 0.700, WARNED),  # -10
            run("dutch_mnar70", "fa_infer", 2, None, status="error"),
            run("adult_mar70", "fa_infer", 1, 0.0),  # at random: not in (d)
        ]
    )
    (line,) = _not_at_random_gaps(frame, _hidden(frame))
    assert line.startswith("- (d) 70% hidden, more in one group")
    assert "-3.13 ± 3.43 points (n=3; target ≥ -1): **not met**" in line
    assert "1 run(s) failed and are not paired (dutch 1)" in line
    assert "did not warn 0.30 (n=2: adult 0.30)" in line
    assert "warned -10.00 (n=1: dutch -10.00)" in line
