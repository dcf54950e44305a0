"""What each decision-rule policy costs: results/policies/README.md from its sweep's cells.

    python -m benchmarks.scripts.policy_costs results/policies

Per policy (``group_free``, ``proxy``, ``group_aware``, each with randomized rules allowed
or left out): test accuracy and the within-bound rate on test, over the sweep's cells
(tables x constraints x seeds); and each policy's accuracy against the default
(``group_free``) paired on the same cell (same table, constraint, seed and split), with the
standard error of the mean paired difference. Nothing here is tuned: the sweep measures
policies a user chooses between, on seeds no choice was made on.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean, stdev

ARMS = ["group_free", "group_free_det", "proxy", "proxy_det", "group_aware", "group_aware_det"]
BASE = "group_free"


def _cells(folder: Path) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "cells.jsonl").read_text().splitlines()]
    return [r for r in rows if r.get("status") == "ok"]


def _cell_key(row: dict) -> tuple:
    return row["dataset"], row["constraint_label"], row["seed"]


def _paired(by_arm: dict[str, dict[tuple, dict]], arm: str) -> tuple[float, float, int]:
    """Mean and standard error of (arm - BASE) test accuracy, in points, over shared cells."""
    shared = sorted(set(by_arm[arm]) & set(by_arm[BASE]))
    diffs = [100 * (by_arm[arm][k]["test_score"] - by_arm[BASE][k]["test_score"]) for k in shared]
    if len(diffs) < 2:
        return math.nan, math.nan, len(diffs)
    return mean(diffs), stdev(diffs) / math.sqrt(len(diffs)), len(diffs)


def report(folder: Path) -> str:
    cells = _cells(folder)
    by_arm: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for row in cells:
        by_arm[row["method"]][_cell_key(row)] = row
    env = json.loads((folder / "environment.json").read_text())
    lines = [
        "# What each decision-rule policy costs",
        "",
        "Made by `python -m benchmarks experiments/policies.yaml --out results/policies`, then",
        "`python -m benchmarks.scripts.policy_costs results/policies` (this page). Adult,",
        "COMPAS, German, Dutch x {DP, EO} <= 0.05 x seeds 1-4, 30 s each, every arm one thread,",
        f"two cells at a time on {env.get('cpu_count', '?')} cores, all arms in one sweep at "
        f"commit `{str(env.get('commit', '?'))[:10]}`. Accuracy and the bound are read on each",
        "cell's test rows, which no search saw. No choice is made on these seeds: the policies",
        "are the user's to choose.",
        "",
        "| policy | randomized rules | cells | test accuracy | within bound on test | "
        "vs group_free (points, paired) |",
        "|---|---|---|---|---|---|",
    ]
    for arm in ARMS:
        rows = list(by_arm.get(arm, {}).values())
        if not rows:
            continue
        policy = arm.removesuffix("_det")
        randomized = "left out" if arm.endswith("_det") else "allowed"
        accuracy = mean(r["test_score"] for r in rows)
        within = sum(bool(r["satisfied"]) for r in rows)
        if arm == BASE:
            paired = "-"
        else:
            d, se, n = _paired(by_arm, arm)
            paired = f"{d:+.2f} ± {se:.2f} (n={n})"
        lines.append(
            f"| {policy} | {randomized} | {len(rows)} | {accuracy:.4f} | {within}/{len(rows)} | "
            f"{paired} |"
        )
    lines += ["", "Per table (test accuracy, mean over seeds and both constraints):", ""]
    datasets = sorted({r["dataset"] for r in cells})
    lines.append("| policy | " + " | ".join(datasets) + " |")
    lines.append("|---|" + "---|" * len(datasets))
    for arm in ARMS:
        rows = list(by_arm.get(arm, {}).values())
        if not rows:
            continue
        cells_of = [[r["test_score"] for r in rows if r["dataset"] == d] for d in datasets]
        values = [f"{mean(v):.4f}" if v else "-" for v in cells_of]
        lines.append(f"| {arm} | " + " | ".join(values) + " |")
    lines += [
        "",
        "The paired difference is each arm's test accuracy minus group_free's on the same",
        "cell; ± is its standard error over cells. A difference within about two standard",
        "errors is a tie at this size.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:])[0])
    text = report(folder)
    (folder / "README.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
