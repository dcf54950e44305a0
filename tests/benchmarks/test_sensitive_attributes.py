"""Issue 40's runs script: how a run is judged on the test rows (values by fairlearn, noise
floors) and what the report counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from fairlearn.metrics import demographic_parity_difference

from benchmarks.scripts.sensitive_attributes import ARMS, judge, judgeable, report


def judged_rows(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    test = pd.DataFrame({
        "sex": np.where(rng.random(n) < 0.5, "Male", "Female"),
        "race": np.where(rng.random(n) < 0.9, "White", "Black"),
        "fnlwgt": rng.uniform(1, 3, n),
    })  # fmt: skip
    y = rng.integers(0, 2, n)
    pred = (rng.random(n) < np.where(test["sex"] == "Male", 0.3, 0.25)).astype(int)
    return test, y, pred


def test_each_judged_constraint_gets_fairlearns_value_and_a_noise_floor():
    test, y, pred = judged_rows()
    judged = judge(ARMS["per_attribute"], test, y, pred)
    sex = judged["demographic_parity_difference[sex] <= 0.05"]
    assert sex["value"] == demographic_parity_difference(y, pred, sensitive_features=test["sex"])
    assert sex["within"] is (sex["value"] <= 0.06)
    for entry in judged.values():  # 4,000 rows, groups of 400 and more: a fair model reads fair
        assert 0.9 <= entry["floor"] <= 1.0
    small = judge(ARMS["per_attribute"], test.iloc[:300], y[:300], pred[:300])
    assert small["demographic_parity_difference[race] <= 0.1"]["floor"] < 0.9  # ~30 Black rows
    weighted = judge(ARMS["weighted"], test, y, pred)
    assert all(entry["floor"] is None for entry in weighted.values())  # the floor is unweighted


def test_the_report_counts_runs_within_where_every_floor_allows():
    def record(seed: int, floors: tuple, within: bool) -> dict:
        judged = {
            c: {"value": 0.01, "within": within, "floor": f}
            for c, f in zip(ARMS["per_attribute"].judged, floors, strict=True)
        }
        return {"arm": "per_attribute", "seed": seed, "budget": 60.0, "wall_time": 60.0,
                "accuracy": 0.85, "judged": judged, "within": within, "status": "ok"}  # fmt: skip

    records = [
        record(1, (0.99, 0.95), True),
        record(2, (0.99, 0.5), False),  # race's floor does not allow it: not counted
        record(3, (0.99, 0.93), False),
        record(4, (0.99, None), True),  # made before floors were recorded
    ]
    assert [judgeable(r) for r in records] == [True, False, True, False]
    text = report(records)
    assert "within where every floor ≥ 0.9" in text and "| 1/2 |" in text


def test_a_claim_read_on_small_test_groups_reads_higher_and_large_groups_read_it_back():
    from benchmarks.scripts.sensitive_attributes import reading_if_claim_holds

    big, big_above = reading_if_claim_holds(0.02, 0.04, [200_000, 200_000, 400_000], 0.4)
    assert abs(big - 0.02) < 0.002 and big_above < 0.01  # many rows: the claim itself
    small, small_above = reading_if_claim_holds(0.02, 0.04, [300, 300, 800], 0.4)
    assert small > 0.035 and small_above > 0.3  # three gaps on ~300 rows: the largest reads high
    fair, _ = reading_if_claim_holds(0.0, 0.04, [300, 300, 800], 0.4)
    assert 0.02 < fair < small  # a fair model too reads above zero


def test_the_report_compares_the_test_value_with_the_claim():
    def record(seed: int, test_value: float, claim: float) -> dict:
        judged = {"value": test_value, "within": test_value <= 0.06, "floor": 0.85,
                  "group_sizes": [300, 300, 800], "selection_rate": 0.4}  # fmt: skip
        return {"key": f"age_bins|{seed}|30", "arm": "age_bins", "seed": seed, "budget": 30.0,
                "wall_time": 30.0, "accuracy": 0.66, "status": "ok",
                "judged": {"demographic_parity_difference <= 0.05": judged},
                "within": judged["within"],
                "claims": {"demographic_parity_difference": {
                    "value": claim, "low": 0.0, "high": claim + 0.02, "level": 0.8}}}  # fmt: skip

    text = report([record(1, 0.08, 0.02), record(2, 0.03, 0.02)])
    assert "above the claim's upper end in 1/2 runs" in text
    assert "test minus claimed value +0.035" in text
    assert "would read" in text
