"""The rectified estimate against the memberships alone, inside a search (issue 60, item 3):
paired runs of the missing-groups sweep's ``fa_infer`` cells on seeds set aside for it.

Each cell of ``experiments/missing_groups.yaml`` named (``--datasets``; the groups hidden
three times as often in one group) runs twice on the same split, hiding and seed: as
shipped (the constraints measured by the rectified estimate,
:func:`fairautoml.data.missing_groups.rectified_weights`) and with the memberships alone
(the fit's held-out memberships withheld, which is what the fit did before), judged on the
test rows with their true groups as the sweep judges. The seeds (default 5-8) are not the
sweep's (1-4): this replay decides, the sweep reports. A rerun skips the finished runs
(``results/rectified_in_search/cells.jsonl``).

    python -m benchmarks.scripts.rectified_in_search run [--seeds 5 6 7 8]
    python -m benchmarks.scripts.rectified_in_search report
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.scripts.cells import code_commit, read_cells, run_cells
from fairautoml.bench.config import SweepConfig, parse_config
from fairautoml.bench.runner import make_cells, run_cell
from fairautoml.estimators import context

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "results" / "rectified_in_search"
SWEEP = ROOT / "experiments" / "missing_groups.yaml"
DATASETS = ("adult_mnar70", "dutch_mnar70")
ARMS = ("rectified", "memberships")
SHIPPED = context.with_inferred_membership


def _memberships_alone(data, random_state):
    """The shipped inference without the held-out memberships: the memberships alone."""
    return dataclasses.replace(SHIPPED(data, random_state), held_out_membership=None)


def sweep(seeds: list[int]) -> SweepConfig:
    """The missing-groups sweep on ``seeds`` instead of its own."""
    raw = yaml.safe_load(SWEEP.read_text())
    raw["seeds"] = list(seeds)
    return parse_config(raw, str(SWEEP), base=ROOT)


def measure(dataset: str, constraint: str, seed: int, arm: str) -> dict:
    config = sweep([seed])
    (cell,) = [
        c for c in make_cells(config)
        if c.dataset.name == dataset and c.constraint_label == constraint and c.seed == seed
        and c.method.label == "fa_infer"
    ]  # fmt: skip
    context.with_inferred_membership = SHIPPED if arm == "rectified" else _memberships_alone
    try:
        record = run_cell(cell)
    finally:
        context.with_inferred_membership = SHIPPED
    keep = ("test_accuracy", "satisfied", "test_values", "trials", "wall_time", "status")
    return {
        "dataset": dataset, "constraint": constraint, "seed": seed, "arm": arm,
        "commit": code_commit(), **{k: record.get(k) for k in keep},
        "model": (record.get("info") or {}).get("model"),
    }  # fmt: skip


def run(seeds: list[int], datasets: list[str]) -> None:
    config = sweep(seeds)
    keys = [
        (d, " & ".join(map(str, c)), s, arm)
        for d in datasets
        for c in config.constraint_sets
        for s in seeds
        for arm in ARMS
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    run_cells(
        OUT / "cells.jsonl",
        keys,
        measure,
        key_of=lambda r: (r["dataset"], r["constraint"], r["seed"], r["arm"]),
        shown=300,
    )


def report() -> str:
    frame = pd.DataFrame(read_cells(OUT / "cells.jsonl"))
    wide = frame.pivot_table(
        index=["dataset", "constraint", "seed"], columns="arm",
        values=["test_accuracy", "satisfied", "trials"], aggfunc="first",
    ).dropna()  # fmt: skip
    diff = 100 * (wide["test_accuracy"]["rectified"] - wide["test_accuracy"]["memberships"])
    se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    commits = ", ".join(sorted(frame["commit"].unique()))
    lines = [
        "# The rectified estimate against the memberships alone, in the search",
        "",
        "Made by `python -m benchmarks.scripts.rectified_in_search run` then `... report` at "
        f"{commits}: the missing-groups sweep's `fa_infer` cells (30 s, the sweep's two "
        "cores, two runs at a time, both arms of a seed in the same sweep), on seeds "
        f"{', '.join(map(str, sorted(frame['seed'].unique())))}: not the sweep's, which "
        "report. Judged on the test rows with their true groups (within bound: + 0.01).",
        "",
        "| table | constraint | runs | within bound: rectified / memberships | "
        "test accuracy: rectified / memberships | trials |",
        "|---|---|---|---|---|---|",
    ]
    for (dataset, constraint), part in wide.groupby(level=[0, 1]):
        acc, sat, tr = part["test_accuracy"], part["satisfied"], part["trials"]
        lines.append(
            f"| {dataset} | {constraint} | {len(part)} | {int(sat['rectified'].sum())} / "
            f"{int(sat['memberships'].sum())} | {acc['rectified'].mean():.4f} / "
            f"{acc['memberships'].mean():.4f} | {tr['rectified'].mean():.0f} / "
            f"{tr['memberships'].mean():.0f} |"
        )
    lines += [
        "",
        f"Rectified − memberships, test accuracy, paired: {diff.mean():+.2f} ± {se:.2f} points "
        f"(n={len(diff)}); within bound {int(wide['satisfied']['rectified'].sum())} against "
        f"{int(wide['satisfied']['memberships'].sum())} of {len(wide)}.",
    ]
    text = "\n".join(lines) + "\n"
    (OUT / "report.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("run", "report"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7, 8])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    args = parser.parse_args()
    if args.what == "run":
        run(args.seeds, args.datasets)
    print(report())


if __name__ == "__main__":
    main()
