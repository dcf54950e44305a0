"""Issue 60's target (d): ``infer`` against the fully known fit with groups hidden not at
random, paired by table, constraint and seed, apart by whether the run warned."""

from __future__ import annotations

import pandas as pd

from benchmarks.acceptance.missing_groups_targets import (
    _hidden,
    _not_at_random_gaps,
    _stated_lines,
)

DP = "demographic_parity_difference <= 0.05"
WARNED = ["GroupInferenceWarning: 67% of the rows have no group"]


def run(dataset, method, seed, accuracy, warnings=(), status="ok", **more):
    return {"dataset": dataset, "method": method, "constraint_label": DP, "seed": seed,
            "status": status, "test_accuracy": accuracy, "warnings": list(warnings),
            **more}  # fmt: skip


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


def test_what_the_pick_stated_splits_robust_picks_from_the_warned_ones():
    """A robust pick counts as held at 90%; a pick returned with the warning counts at the
    confidence its assurance states (assurance 0: 50%, 0.8416: 80%); a cell whose noise
    floor is below the target and failed runs are left out."""

    def pick(seed, tier, assurance, satisfied, floor=1.0, status="ok"):
        return run("adult_mnar70", "fa_infer", seed, 0.85, status=status, satisfied=satisfied,
                   test_noise_floor=floor, test_violation=-0.01 if satisfied else 0.03,
                   info={"tier": tier, "assurance": assurance})  # fmt: skip

    frame = pd.DataFrame(
        [
            pick(1, "robust", 1.5, True),
            pick(2, "robust", 1.3, False),
            pick(3, "feasible", 0.0, False),
            pick(4, "feasible", 0.8416, True),
            # another cell, whose floor does not allow the target
            {**pick(5, "robust", 2.0, False, floor=0.5), "constraint_label": "eo <= 0.05"},
            pick(6, "robust", 2.0, False, status="error"),
        ]
    )
    (line,) = _stated_lines(_hidden(frame))
    assert "70% hidden" in line
    assert "held at one-sided 90% 1/2 (0.500 ± 0.354)" in line
    assert "stating one-sided 65% on average: 1/2 (0.500 ± 0.354)" in line
