"""The policies report pairs each arm with group_free on the same cell."""

from __future__ import annotations

import json

from benchmarks.scripts.policy_costs import report


def test_paired_differences_and_within_bound_counts(tmp_path):
    rows = []
    for seed, (free, aware) in enumerate([(0.80, 0.82), (0.70, 0.71), (0.90, 0.93)]):
        for method, score, ok in (("group_free", free, True), ("group_aware", aware, seed != 1)):
            rows.append({"status": "ok", "dataset": "adult", "seed": seed, "method": method,
                         "constraint_label": "dp <= 0.05", "test_score": score,
                         "satisfied": ok})  # fmt: skip
    rows.append({**rows[0], "status": "failed"})  # a failed cell is not counted
    (tmp_path / "cells.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "environment.json").write_text(json.dumps({"cpu_count": 2, "commit": "abc"}))
    text = report(tmp_path)
    aware = next(line for line in text.splitlines() if line.startswith("| group_aware | allowed"))
    assert "| 3 | 0.8200 | 2/3 |" in aware
    assert "+2.00 ± 0.58 (n=3)" in aware  # differences 2, 1, 3 points
    free = next(line for line in text.splitlines() if line.startswith("| group_free | allowed"))
    assert "| 3/3 | - |" in free and "abc" in text
