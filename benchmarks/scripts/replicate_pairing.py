"""Target 2 of the blind sweep read over several runs of the same search code.

    python -m benchmarks.scripts.replicate_pairing results/blind/cells.jsonl \\
        results/blind_rerun/cells.jsonl --commits cfb3c79 1daec50

A 30 s search is noisy: two runs of one code pick differently in about a third of the
cells, which moves a paired gap against an anchor by about 0.2 points. Given cells files
holding ``fairautoml`` runs at the named commits (behaviourally identical code: the caller
vouches for that), this pairs each run with every anchor's run on the same split, as the
report's target 2 does (test accuracy where both are within bound + 0.01), and pools the
replicates: per split, the mean of the replicates' gaps where both were within, then mean
± standard error over splits (one unit per split, so the error is not understated by
counting one anchor run twice). Each replicate alone is shown beside it, and how often
the replicates' picks agree on being within bound.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

DEFAULT = "fairautoml"


def load(paths: list[Path]) -> list[dict]:
    records = []
    for path in paths:
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


def split_key(r: dict) -> tuple:
    return r["dataset"], r["constraint_label"], r["budget"], r["seed"]


def mean_se(values: list[float]) -> str:
    n = len(values)
    if n == 0:
        return "–"
    mean = sum(values) / n
    if n < 2:
        return f"{mean:+.2f} (n=1)"
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return f"{mean:+.2f} ± {sd / math.sqrt(n):.2f} (n={n})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="+", type=Path)
    parser.add_argument("--commits", nargs="+", required=True, help="the replicates' code")
    args = parser.parse_args(argv)
    records = load(args.cells)
    anchors: dict[tuple, dict] = {}  # (split, method) -> the anchor's latest run
    runs: dict[str, dict[tuple, dict]] = {c: {} for c in args.commits}
    for r in records:
        if r.get("status") != "ok":
            continue
        if r["method"] == DEFAULT and r.get("commit") in runs:
            runs[r["commit"]][split_key(r)] = r
        elif r["family"] != "fairautoml":
            anchors[(split_key(r), r["method"])] = r
    print(f"{DEFAULT} at {', '.join(f'{c} ({len(v)} runs)' for c, v in runs.items())}\n")
    splits = sorted(set.intersection(*(set(v) for v in runs.values())))
    within = {c: sum(bool(runs[c][k]["satisfied"]) for k in splits) for c in runs}
    agree = sum(len({bool(runs[c][k]["satisfied"]) for c in runs}) == 1 for k in splits)
    print(
        f"Within bound + 0.01 on the {len(splits)} splits every replicate ran: "
        + ", ".join(f"{c} {n}" for c, n in within.items())
        + f"; the replicates agree in {agree}.\n"
    )
    header = ["anchor", *(f"{c} alone" for c in runs), "replicates pooled per split"]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for method in sorted({m for _, m in anchors}):
        alone: dict[str, list[float]] = defaultdict(list)
        pooled = []
        for k in splits:
            anchor = anchors.get((k, method))
            if anchor is None or not anchor["satisfied"]:
                continue
            gaps = []
            for c in runs:
                mine = runs[c][k]
                if mine["satisfied"]:
                    gap = 100 * (mine["test_accuracy"] - anchor["test_accuracy"])
                    alone[c].append(gap)
                    gaps.append(gap)
            if gaps:
                pooled.append(sum(gaps) / len(gaps))
        print(
            f"| {method} | " + " | ".join(mean_se(alone[c]) for c in runs)
            + f" | {mean_se(pooled)} |"
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
