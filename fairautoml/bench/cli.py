"""``fairautoml bench FILE.yaml [--out DIR]``: run a sweep, then write its report."""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path
from typing import Any


def _progress(started: float) -> Any:
    def show(i: int, total: int, r: dict[str, Any]) -> None:
        cell = f"{r['dataset']} | {r['constraint_label']} | {r['budget']:g}s | seed {r['seed']}"
        if r["status"] == "ok":
            ttff = r.get("time_to_first_feasible", math.nan)
            what = (
                f"{r['metric']} {r['test_score']:.4f} violation {r['test_violation']:+.4f} "
                f"{'satisfied' if r['satisfied'] else 'NOT satisfied'}, {r['trials']} trials, "
                f"{r['wall_time']:.1f} s"
                + (f", first feasible {ttff:.1f} s" if ttff == ttff else "")
            )
        else:
            status = "n/a" if r["status"] == "not_applicable" else r["status"].upper()
            what = f"{status}: {str(r.get('error', '')).splitlines()[0][:160]}"
        elapsed = time.monotonic() - started
        print(f"[{i}/{total} {elapsed:6.0f}s] {cell} | {r['method']}: {what}", flush=True)

    return show


def _only(
    config: Any,
    datasets: list[str] | None,
    methods: list[str] | None,
    seeds: list[int] | None = None,
    budgets: list[float] | None = None,
) -> Any:
    """The sweep restricted to some datasets, method labels, seeds and budgets."""
    from fairautoml.exceptions import unknown_name

    changes = {}
    for field, names, attr in (("datasets", datasets, "name"), ("methods", methods, "label")):
        if not names:
            continue
        items = getattr(config, field)
        known = [getattr(item, attr) for item in items]
        for name in names:
            if name not in known:
                raise unknown_name(f"{field[:-1]} of {config.source}", name, known)
        changes[field] = tuple(item for item in items if getattr(item, attr) in names)
    if seeds:
        unknown = [seed for seed in seeds if seed not in config.seeds]
        if unknown:
            raise unknown_name(f"seed of {config.source}", unknown[0], map(str, config.seeds))
        changes["seeds"] = tuple(seed for seed in config.seeds if seed in seeds)
    if budgets:
        unknown = [b for b in budgets if b not in config.budgets]
        if unknown:
            known = [f"{b:g}" for b in config.budgets]
            raise unknown_name(f"budget of {config.source}", f"{unknown[0]:g}", known)
        changes["budgets"] = tuple(b for b in config.budgets if b in budgets)
    return dataclasses.replace(config, **changes)


def cmd_bench(args: argparse.Namespace) -> int:
    from fairautoml.bench.config import load_config
    from fairautoml.bench.report import write_report
    from fairautoml.bench.runner import make_cells, run_sweep

    config = _only(load_config(args.sweep), args.datasets, args.methods, args.seeds, args.budgets)
    out = Path(args.out or Path("results") / config.name)
    if not args.report_only:
        n_cells = len(make_cells(config))
        print(f"sweep {config.name}: {n_cells} cells -> {out}/cells.jsonl", flush=True)
        run_sweep(
            config,
            out,
            n_jobs=args.n_jobs,
            retry_failed=args.retry_failed,
            on_record=_progress(time.monotonic()),
        )
    report = write_report(out, title=config.name)
    print(f"wrote {report}")
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bench`` on the ``fairautoml`` command's subparsers."""
    bench = subparsers.add_parser(
        "bench", help="run a benchmark sweep (fairautoml vs. anchors) from a YAML file"
    )
    bench.add_argument("sweep", help="sweep file, e.g. experiments/smoke.yaml")
    bench.add_argument("--out", help="results directory (default results/<sweep name>)")
    bench.add_argument("--n-jobs", type=int, default=None, help="cells in parallel (YAML: n_jobs)")
    bench.add_argument("--datasets", nargs="+", help="run only these datasets of the sweep")
    bench.add_argument("--methods", nargs="+", help="run only these method labels")
    bench.add_argument("--seeds", nargs="+", type=int, help="run only these seeds of the sweep")
    bench.add_argument(
        "--budgets", nargs="+", type=float, help="run only these budgets (seconds) of the sweep"
    )
    bench.add_argument(
        "--retry-failed", action="store_true", help="re-run failed or skipped cells too"
    )
    bench.add_argument(
        "--report-only", action="store_true", help="only rewrite report.md from cells.jsonl"
    )
    bench.set_defaults(func=cmd_bench)
    return bench
