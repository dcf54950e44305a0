"""Paired replays of the missing-groups sweep's ``fa_infer`` cells on seeds set aside for
them (issue 60, item 3): two variants of what ``missing_groups="infer"`` does, each
question its own report.

* ``rectified`` (``results/rectified_in_search/``): the constraints measured by the
  rectified estimate (:func:`fairautoml.data.missing_groups.rectified_weights`, shipped)
  against the memberships alone (the fit's held-out memberships withheld).
* ``drawn`` (``results/drawn_groups_in_search/``): the training mitigations given every
  row, those without a group in one drawn from its membership
  (:func:`fairautoml.data.missing_groups.drawn_groups`, shipped:
  ``fairautoml.estimators.context.DRAW_UNKNOWN_GROUPS``), against the known rows alone.

Each cell of ``experiments/missing_groups.yaml`` named (``--datasets``; by default the
groups hidden for 70% of the rows, three times as often in one group) runs once per
variant on the same split, hiding and seed, judged on the test rows with their true
groups as the sweep judges. The seeds (default 5-8) are not the sweep's (1-4): these
replays decide, the sweep reports. A rerun skips the finished runs (the question's
``cells.jsonl``).

    python -m benchmarks.scripts.rectified_in_search run [--question drawn] [--seeds 5 6 7 8]
    python -m benchmarks.scripts.rectified_in_search report [--question drawn]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.scripts.cells import code_commit, read_cells, run_cells
from fairautoml.bench.config import SweepConfig, parse_config
from fairautoml.bench.runner import make_cells, run_cell
from fairautoml.estimators import context

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "experiments" / "missing_groups.yaml"
DATASETS = ("adult_mnar70", "dutch_mnar70")
SHIPPED = context.with_inferred_membership


def _memberships_alone(data, random_state):
    """The shipped inference without the held-out memberships: the memberships alone."""
    return dataclasses.replace(SHIPPED(data, random_state), held_out_membership=None)


def _known_rows_alone(data, random_state):
    """The shipped inference with the training mitigations on the known rows alone
    (``context.DRAW_UNKNOWN_GROUPS`` off)."""
    context.DRAW_UNKNOWN_GROUPS = False
    try:
        return SHIPPED(data, random_state)
    finally:
        context.DRAW_UNKNOWN_GROUPS = True


@dataclass(frozen=True)
class Question:
    """Two variants of the inference (the one asked about first), and the report's words."""

    out: Path
    title: str
    arms: tuple[str, str]
    variants: tuple[Callable, Callable]


QUESTIONS = {
    "rectified": Question(
        ROOT / "results" / "rectified_in_search",
        "The rectified estimate against the memberships alone, in the search",
        ("rectified", "memberships"),
        (SHIPPED, _memberships_alone),
    ),
    "drawn": Question(
        ROOT / "results" / "drawn_groups_in_search",
        "Training mitigations on every row (drawn groups) against the known rows alone",
        ("drawn", "known"),
        (SHIPPED, _known_rows_alone),
    ),
}


def sweep(seeds: list[int]) -> SweepConfig:
    """The missing-groups sweep on ``seeds`` instead of its own."""
    raw = yaml.safe_load(SWEEP.read_text())
    raw["seeds"] = list(seeds)
    return parse_config(raw, str(SWEEP), base=ROOT)


def measure(question: Question, dataset: str, constraint: str, seed: int, arm: str) -> dict:
    config = sweep([seed])
    (cell,) = [
        c for c in make_cells(config)
        if c.dataset.name == dataset and c.constraint_label == constraint and c.seed == seed
        and c.method.label == "fa_infer"
    ]  # fmt: skip
    context.with_inferred_membership = question.variants[question.arms.index(arm)]
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


def run(question: Question, seeds: list[int], datasets: list[str]) -> None:
    config = sweep(seeds)
    keys = [
        (d, " & ".join(map(str, c)), s, arm)
        for d in datasets
        for c in config.constraint_sets
        for s in seeds
        for arm in question.arms
    ]
    question.out.mkdir(parents=True, exist_ok=True)
    run_cells(
        question.out / "cells.jsonl",
        keys,
        lambda *key: measure(question, *key),
        key_of=lambda r: (r["dataset"], r["constraint"], r["seed"], r["arm"]),
        shown=300,
    )


def report(question: Question, name: str) -> str:
    frame = pd.DataFrame(read_cells(question.out / "cells.jsonl"))
    shipped, other = question.arms
    wide = frame.pivot_table(
        index=["dataset", "constraint", "seed"], columns="arm",
        values=["test_accuracy", "satisfied", "trials"], aggfunc="first",
    ).dropna()  # fmt: skip
    diff = 100 * (wide["test_accuracy"][shipped] - wide["test_accuracy"][other])
    se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    commits = ", ".join(sorted(frame["commit"].unique()))
    lines = [
        f"# {question.title}",
        "",
        f"Made by `python -m benchmarks.scripts.rectified_in_search run --question {name} "
        f"--datasets {' '.join(sorted(frame['dataset'].unique()))}` "
        f"then `... report --question {name}` at "
        f"{commits}: the missing-groups sweep's `fa_infer` cells (30 s, the sweep's two "
        "cores, two runs at a time, both arms of a seed in the same sweep), on seeds "
        f"{', '.join(map(str, sorted(frame['seed'].unique())))}: not the sweep's, which "
        "report. Judged on the test rows with their true groups (within bound: + 0.01).",
        "",
        f"| table | constraint | runs | within bound: {shipped} / {other} | "
        f"test accuracy: {shipped} / {other} | trials |",
        "|---|---|---|---|---|---|",
    ]
    for (dataset, constraint), part in wide.groupby(level=[0, 1]):
        acc, sat, tr = part["test_accuracy"], part["satisfied"], part["trials"]
        lines.append(
            f"| {dataset} | {constraint} | {len(part)} | {int(sat[shipped].sum())} / "
            f"{int(sat[other].sum())} | {acc[shipped].mean():.4f} / "
            f"{acc[other].mean():.4f} | {tr[shipped].mean():.0f} / "
            f"{tr[other].mean():.0f} |"
        )
    by_table = diff.groupby(level=0)
    if by_table.ngroups > 1:
        lines += ["", f"{shipped} − {other}, test accuracy, paired, by table:", ""]
        for dataset, part in by_table:
            part_se = part.std(ddof=1) / math.sqrt(len(part)) if len(part) > 1 else math.nan
            lines.append(f"- {dataset}: {part.mean():+.2f} ± {part_se:.2f} points (n={len(part)})")
    lines += [
        "",
        f"{shipped} − {other}, test accuracy, paired, all: {diff.mean():+.2f} ± {se:.2f} points "
        f"(n={len(diff)}); within bound {int(wide['satisfied'][shipped].sum())} against "
        f"{int(wide['satisfied'][other].sum())} of {len(wide)}.",
    ]
    text = "\n".join(lines) + "\n"
    (question.out / "report.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("run", "report"))
    parser.add_argument("--question", choices=sorted(QUESTIONS), default="rectified")
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7, 8])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    args = parser.parse_args()
    question = QUESTIONS[args.question]
    if args.what == "run":
        run(question, args.seeds, args.datasets)
    print(report(question, args.question))


if __name__ == "__main__":
    main()
