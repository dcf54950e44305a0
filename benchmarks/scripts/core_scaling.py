"""How a fit scales with cores (issue 58): the same cells at 1, 2, 4, ... cores.

``run``: one bench cell per (dataset, constraint, budget, seed) of a sweep file, its
fairautoml method given every core this process may use (run it under ``taskset -c`` to
give it k cores; ``threads`` of the sweep is replaced by that count), one JSON record per
line appended to ``--out``. ``report``: the records of several runs as
``report.md`` beside the first: per core count, trained models, test accuracy, within-bound
rate, wall time, and the speed-up of trained models against one core.

``run --busy K`` runs each cell beside K processes that spin on any of the machine's
cores (a busy laptop, pytest-xdist's workers): under ``taskset -c 0`` the fit has a core to
itself while they take the others, under ``taskset -c 0-1`` it shares its cores with them;
whether a fit that uses every core stalls when the machine is busy (``docs/decisions.md``,
"All cores by default: not yet"). The report compares core counts at the same number of
busy processes only.

    taskset -c 0-3 python -m benchmarks.scripts.core_scaling run experiments/cores.yaml \\
        --out results/cores/cells.jsonl
    python -m benchmarks.scripts.core_scaling report results/cores/cells.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from fairautoml.bench.config import load_config
from fairautoml.bench.runner import make_cells, run_cell
from fairautoml.search.cores import usable_cores


def _done(out: Path) -> set[tuple]:
    """The cells ``out`` already holds a finished run of, by their cores: a rerun skips
    them, so a sweep cut off resumes."""
    if not out.exists():
        return set()
    records = [json.loads(line) for line in out.read_text().splitlines() if line]
    return {
        _cell_key(
            r["dataset"],
            r["constraint_label"],
            r["budget"],
            r["seed"],
            r["cores"],
            r.get("busy", 0),
        )
        for r in records
        if r.get("status") == "ok"
    }


def _cell_key(
    dataset: str, constraint: str, budget: float, seed: int, cores: int, busy: int = 0
) -> tuple:
    """One run of a cell at a core count beside ``busy`` spinning processes, alike from a
    sweep's cell and a written record."""
    return (dataset, constraint, float(budget), seed, cores, busy)


def _spin(stop: multiprocessing.synchronize.Event) -> None:
    """Keep one core busy until ``stop`` is set, on any of the machine's cores: a busy
    machine's other load is not confined to the cores the fit was given."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    while not stop.is_set():
        sum(range(10_000))


@contextmanager
def busy_processes(n: int) -> Iterator[None]:
    """``n`` processes spinning (:func:`_spin`) while the block runs."""
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(n)]
    for p in spinners:
        p.start()
    try:
        yield
    finally:
        stop.set()
        for p in spinners:
            p.join()


def run(
    sweep: str,
    out: Path,
    seeds: list[int] | None,
    budgets: list[float] | None,
    busy: int = 0,
) -> None:
    config = load_config(sweep)
    cores = usable_cores(-1)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done(out)
    for cell in make_cells(config):
        if cell.method.family != "fairautoml" or (seeds and cell.seed not in seeds):
            continue
        if budgets and cell.budget not in budgets:
            continue
        key = _cell_key(
            cell.dataset.name, cell.constraint_label, cell.budget, cell.seed, cores, busy
        )
        if key in done:
            continue
        with busy_processes(busy):
            record = run_cell(dataclasses.replace(cell, threads=cores))
        record["cores"] = cores
        record["busy"] = busy
        with out.open("a") as f:
            f.write(json.dumps(record, default=str) + "\n")
        print(
            f"{cores} cores ({busy} busy) {cell.dataset.name} seed {cell.seed}: "
            f"{record.get('status')} "
            f"acc={record.get('test_accuracy')} wall={record.get('wall_time')}",
            flush=True,
        )


def _mean_se(values: pd.Series) -> str:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return "–"
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return f"{values.mean():.3f}" + ("" if math.isnan(se) else f" ± {se:.3f}")


def _paired_gain(at: pd.DataFrame, base: pd.DataFrame) -> str:
    """Test accuracy at these cores minus at the fewest, in points, paired by seed."""
    pairs = at.set_index("seed")["test_accuracy"] - base.set_index("seed")["test_accuracy"]
    pairs = 100 * pairs.dropna()
    if len(pairs) < 2:
        return "–"
    se = pairs.std(ddof=1) / math.sqrt(len(pairs))
    return f"{pairs.mean():+.2f} ± {se:.2f} (n={len(pairs)})"


def report(paths: list[Path]) -> str:
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line]
    frame = pd.DataFrame(rows)
    frame["trained_models"] = frame["info"].map(
        lambda i: i.get("trained_models") if isinstance(i, dict) else None
    )
    frame = frame[frame["status"] == "ok"]
    frame["busy"] = frame["busy"].fillna(0).astype(int) if "busy" in frame else 0
    lines = [
        "# Cores: the default fit given 1 to 16 cores",
        "",
        f"Made by `python -m benchmarks.scripts.core_scaling report {' '.join(map(str, paths))}`"
        "; where and how they ran: `environment.json` beside this report. *vs 1 core*: "
        "trained models against the fewest cores' runs of the cell; *accuracy vs 1 core*: "
        "test accuracy minus the fewest cores' on the same seeds, in points (mean ± standard "
        "error). Both arms of a row ran at the code its *code* column names. Test rows: each "
        "cell's own 20 %, never seen by the fit; *within bound*: the test value within "
        "the bound + 0.01 (the bench's rule). *busy*: processes spinning on any of the "
        "machine's cores beside the fit (`run --busy`); core counts are compared at the same "
        "number only; "
        "*wall / budget*: the longest run's.",
        "",
        "| cells | budget (s) | busy | cores | runs | trained models | vs 1 core | test accuracy "
        "| accuracy vs 1 core | within bound | wall / budget | code |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, constraint, budget, busy), group in frame.groupby(
        ["dataset", "constraint_label", "budget", "busy"]
    ):
        fewest = group[group["cores"] == group["cores"].min()]
        base = fewest["trained_models"].mean()
        for cores, at in group.groupby("cores"):
            models = at["trained_models"].mean()
            gain = "–" if cores == fewest["cores"].iloc[0] else _paired_gain(at, fewest)
            lines.append(
                f"| {dataset}: {constraint} | {budget:g} | {busy} | {cores} | {len(at)} "
                f"| {models:.0f} "
                f"| {models / base:.2f}x | {_mean_se(at['test_accuracy'])} | {gain} "
                f"| {int(at['satisfied'].eq(True).sum())}/{len(at)} "
                f"| {(at['wall_time'] / at['budget']).max():.2f} "
                f"| {', '.join(sorted(set(at['commit'].astype(str))))} |"
            )
    lines += _projection(frame[frame["busy"] == 0])
    return "\n".join(lines) + "\n"


PROJECTED_CORES = (8, 16)


def amdahl(speedup: float, cores: int, to: int) -> float:
    """The speed-up at ``to`` cores of a run whose side-by-side share ``f`` gave ``speedup``
    at ``cores`` (Amdahl: ``1 / ((1 - f) + f / k)``; ``f`` clipped to [0, 1])."""
    share = (1 - 1 / speedup) / (1 - 1 / cores)
    share = min(1.0, max(0.0, share))
    return 1 / ((1 - share) + share / to)


def _projection(frame: pd.DataFrame) -> list[str]:
    """What 8 and 16 cores would give, projected per budget from the 2-core speed-up of
    its cells pooled (trained models summed over the cells with both arms): one cell's
    ratio moves with which models its search happened to try."""
    rows = []
    for budget, at in frame.groupby("budget"):
        both = at.groupby(["dataset", "constraint_label", "cores"])["trained_models"].mean()
        both = both.unstack("cores")
        if 1 not in both.columns or 2 not in both.columns:
            continue
        both = both[[1, 2]].dropna()
        if both.empty or not both[1].sum():
            continue
        speedup = both[2].sum() / both[1].sum()
        low, high = (both[2] / both[1]).min(), (both[2] / both[1]).max()
        projected = " | ".join(f"{amdahl(speedup, 2, k):.2f}x" for k in PROJECTED_CORES)
        rows.append(
            f"| {budget:g} | {len(both)} | {speedup:.2f}x ({low:.2f}-{high:.2f}) | {projected} |"
        )
    if not rows:
        return []
    return [
        "",
        "## Projected: 8 and 16 cores",
        "",
        "Not measured: trained models at 8 and 16 cores projected by Amdahl's law from the "
        "2-core speed-up of each budget's cells pooled (the share of the run that trains "
        "side by side, read from it, stays that share at more cores). Assumptions: one "
        "worker per core fits in memory (the core plan bounds it by the table's size), the "
        "trials stay as small, the controller's proposals and the steps after the search "
        "take the seconds they take on 2 cores, and workers start side by side. A many-core "
        "machine measured at 08badff (`results/cores/`, before workers started side by side) "
        "fell far short of this; the projection is an upper reading until a lent machine "
        "measures today's code.",
        "",
        "| budget (s) | cells | 2 cores, measured (cells' range) | "
        + " | ".join(f"{k} cores (projected)" for k in PROJECTED_CORES)
        + " |",
        "|---|---|---|" + "---|" * len(PROJECTED_CORES),
        *rows,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("sweep")
    r.add_argument("--out", required=True, type=Path)
    r.add_argument("--seeds", nargs="+", type=int)
    r.add_argument("--budgets", nargs="+", type=float)
    r.add_argument("--busy", type=int, default=0, help="processes spinning beside each cell")
    rep = sub.add_parser("report")
    rep.add_argument("cells", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.sweep, args.out, args.seeds, args.budgets, args.busy)
    else:
        text = report(args.cells)
        (args.cells[0].parent / "report.md").write_text(text)
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
