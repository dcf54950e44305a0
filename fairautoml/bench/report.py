"""``report.md`` and plots from a sweep's ``cells.jsonl``.

Tables per dataset x constraint set x method: runs, mean test accuracy and balanced
accuracy, mean test value of each constraint, share of runs satisfied on test (value
within bound + 0.01), mean accuracy among satisfied runs, hypervolume of the
test-evaluated front, trials, time to the first feasible model, wall time, peak memory.
Before the tables, the sections registered through ``plugins.py`` (the repository's
``benchmarks/`` adds its acceptance targets there); after them, the plots (the plug-ins'
last), then every failed cell. Cells a method cannot express (status ``not_applicable``,
e.g. FairGBM under demographic parity) show as n/a and count nowhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fairautoml.bench.cells_file import NOT_APPLICABLE, RESULTS_FILE, latest, read_records
from fairautoml.bench.measure import HYPERVOLUME_TASKS, SATISFIED_SLACK
from fairautoml.bench.plugins import PLOTS, SECTIONS
from fairautoml.bench.summary import is_blind, records_frame, summarize
from fairautoml.bench.tables import fmt, table
from fairautoml.tasks import get_task

REGRESSION_NOTE = (
    " Amounts (regression): the metric is R² (*r2 if satisfied*); the strata are the "
    "target's quartiles × group; a group loss's difference or maximum, in the target's "
    f"units, is satisfied within its bound × (1 + {SATISFIED_SLACK}); hypervolume: n/a "
    "(an R² has no (0, 1) box)."
)
# error_parity and equipy: plug-ins
SHARES_FLAML = (
    "flaml_threshold",
    "oxonfair",
    "error_parity",
    "barycenter",
    "barycenter_oracle",
    "equipy",
)


def _method_table(summary: pd.DataFrame) -> str:
    value_cols = [c for c in summary.columns if c.startswith("test ") and summary[c].notna().any()]
    metric = str(summary["metric"].iloc[0])
    short = "acc" if metric == "accuracy" else metric
    # a yes/no target's usefulness is its balanced accuracy: shown beside the metric
    binary = get_task(str(summary["task"].iloc[0])).usefulness == "balanced_accuracy"
    out = pd.DataFrame(
        {
            "method": summary["method"],
            "runs ok": summary["runs"],
            f"test {short}": summary["test_score_sd"],
            **({"bal. acc": summary["test_balanced_accuracy"].map(fmt)} if binary else {}),
            **{c.removeprefix("test "): summary[c].map(fmt) for c in value_cols},
            "satisfied": summary["satisfied_share"].map(lambda v: fmt(v, 2)),
            f"{short} if satisfied": summary["score_satisfied"].map(fmt),
            "hypervolume": summary["hypervolume"].map(fmt)
            if summary["task"].iloc[0] in HYPERVOLUME_TASKS
            else "n/a",
            "trials": summary["trials"].map(lambda v: fmt(v, 0) if not math.isnan(v) else "–"),
            "first feasible (s)": [
                f"{fmt(t, 1)} ({n}/{k})" if n else "–"
                for t, n, k in zip(
                    summary["ttff"], summary["ttff_runs"], summary["n_ok"], strict=True
                )
            ],
            "wall (s)": summary["wall_time"].map(lambda v: fmt(v, 1)),
            "peak MiB": summary["peak_memory_mb"].map(lambda v: fmt(v, 0)),
        }
    )
    return table(out)


def _plots(frame: pd.DataFrame, out: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    ok = frame[frame["status"] == "ok"]
    plots_dir = out / "plots"
    plots_dir.mkdir(exist_ok=True)
    methods = list(dict.fromkeys(frame["method"]))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    shapes = "osD^vPX*<>"  # distinct hollow markers keep coinciding runs visible
    markers = {m: (shapes[i % len(shapes)], 80 - 6 * (i % 8)) for i, m in enumerate(methods)}
    written = []
    for dataset, g in ok.groupby("dataset", sort=False):
        labels = list(dict.fromkeys(g["constraint_label"]))
        fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 4.2), squeeze=False)
        for ax, label in zip(axes[0], labels, strict=True):
            sub = g[g["constraint_label"] == label]
            for method, m in sub.groupby("method", sort=False):
                marker, size = markers[method]
                ax.scatter(
                    m["test_violation"],
                    m["test_score"],
                    label=method,
                    marker=marker,
                    s=size,
                    facecolors="none",
                    edgecolors=colours[method],
                    linewidths=1.4,
                )
            ax.axvline(0.0, color="grey", lw=0.8)
            ax.axvline(SATISFIED_SLACK, color="grey", lw=0.8, ls="--")
            ax.set_title(f"{dataset}: {label}", fontsize=9)
            ax.set_xlabel("test violation (value − bound; within the slack counts as satisfied)")
            ax.set_ylabel(f"test {sub['metric'].iloc[0]}")
        axes[0][-1].legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        name = f"plots/accuracy_vs_violation_{dataset}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(name)
    if ok["dataset"].nunique() >= 2 and ok["rows"].nunique() >= 2:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        cost = ok.assign(per_trial=ok["wall_time"] / ok["trials"])
        for method, m in cost.groupby("method", sort=False):
            m = m.groupby("rows").mean(numeric_only=True).reset_index()
            for ax, col in zip(axes, ("trials", "per_trial", "peak_memory_mb"), strict=True):
                ax.plot(
                    m["rows"],
                    m[col],
                    "-",
                    marker=markers[method][0],
                    label=method,
                    color=colours[method],
                )
        titles = ("trials within budget", "seconds per trial", "peak MiB")
        for ax, title in zip(axes, titles, strict=True):
            ax.set_xscale("log")
            ax.set_xlabel("train + validation rows")
            ax.set_title(title)
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plots_dir / "cost_vs_rows.png", dpi=110)
        plt.close(fig)
        written.append("plots/cost_vs_rows.png")
    return written


def _cost_table(frame: pd.DataFrame) -> str:
    ok = frame[frame["status"] == "ok"]
    rows = []
    for (dataset, method), g in ok.groupby(["dataset", "method"], sort=False):
        trials = g["trials"].mean()
        rows.append(
            {
                "dataset": dataset,
                "rows (train+val)": int(g["rows"].iloc[0]) if g["rows"].notna().any() else "–",
                "method": method,
                "budget (s)": fmt(g["budget"].mean(), 0),
                "wall (s)": fmt(g["wall_time"].mean(), 1),
                "trials": fmt(trials, 1),
                "s / trial": fmt(g["wall_time"].mean() / trials, 2) if trials else "–",
                "peak MiB": fmt(g["peak_memory_mb"].max(), 0),
            }
        )
    return table(pd.DataFrame(rows)) if rows else "(no finished cells)"


def _code_line(records: Sequence[dict[str, Any]]) -> str:
    """Which code made the cells: per method, the commits recorded (cells of one sweep may
    come from runs at different times)."""
    by_method: dict[str, dict[str, int]] = {}
    for r in records:
        commits = by_method.setdefault(r["method"], {})
        commit = r.get("commit") or "not recorded"
        commits[commit] = commits.get(commit, 0) + 1
    parts = [
        f"{method} " + ", ".join(f"{c} ({n})" for c, n in sorted(commits.items()))
        for method, commits in by_method.items()
    ]
    return "Code (commit, cells): " + "; ".join(parts) + "."


def write_report(out: str | Path, title: str | None = None) -> Path:
    """Write ``out/report.md`` (and ``out/plots/``) from ``out/cells.jsonl``."""
    out = Path(out)
    records = list(latest(read_records(out / RESULTS_FILE)).values())
    lines = [f"# Benchmark: {title or out.name}", ""]
    if not records:
        lines.append("No cells recorded yet.")
        (out / "report.md").write_text("\n".join(lines) + "\n")
        return out / "report.md"
    frame = records_frame(records)
    summary = summarize(frame)
    n_ok = int((frame["status"] == "ok").sum())
    n_na = int((frame["status"] == NOT_APPLICABLE).sum())
    lines += [
        f"{len(frame)} cells: {n_ok} finished, {int((frame['status'] == 'failed').sum())} failed, "
        f"{int((frame['status'] == 'skipped').sum())} skipped, {n_na} not applicable (n/a). "
        "Budgets (s): "
        f"{', '.join(f'{b:g}' for b in sorted(frame['budget'].unique()))}; seeds: "
        f"{', '.join(map(str, sorted(frame['seed'].unique())))}.",
        "",
        "Test rows (20%, stratified on target × group) are never seen by any method. "
        f"*satisfied*: every constraint's test value within its bound + {SATISFIED_SLACK}. "
        "*acc if satisfied*: mean test accuracy over satisfied runs. *hypervolume*: of the "
        "method's validation Pareto front evaluated on test, in (error, disparity) up to "
        "(1, 1); – for methods that return a single model. *first feasible*: seconds until "
        "the first model feasible on validation (runs where it is known / runs)."
        + (REGRESSION_NOTE if any(not _classes(t) for t in frame["task"].unique()) else ""),
        "",
    ]
    env_path = out / "environment.json"
    if env_path.exists():
        env = json.loads(env_path.read_text())
        load = env.get("load_average_at_start")
        lines += [
            f"Last run: {env.get('n_jobs')} cell(s) in parallel on {env.get('cpu_count')} cores"
            + (f", load average {load[0]:.1f} when it started" if load else "")
            + " (timings on a busy machine are slower than the budget suggests).",
            "",
        ]
    lines += [_code_line(records), ""]
    sharing = sorted(set(frame["family"]) & set(SHARES_FLAML))
    if len(sharing) > 1:
        lines += [
            f"{', '.join(sharing)} post-process one shared FLAML fit per split (same rows, "
            "seed and budget; fitted once, its fit seconds charged to each method's clock).",
            "",
        ]
    blind = [m for m in dict.fromkeys(frame["method"]) if is_blind(frame, m)]
    if blind:
        lines += [
            f"Blind (no group at decision time: scored on test with sensitive_features=None): "
            f"{', '.join(blind)}.",
            "",
        ]
    for section in SECTIONS:
        lines += section(frame)
    for (dataset, label), g in summary.groupby(["dataset", "constraints"], sort=False):
        lines += [f"## {dataset}: {label}", "", _method_table(g), ""]
    lines += ["## Cost", "", _cost_table(frame), ""]
    names = _plots(frame, out)
    if PLOTS:
        (out / "plots").mkdir(exist_ok=True)
        names += [name for plot in PLOTS for name in plot(frame, out)]
    for name in names:
        lines += [f"![{name}]({name})", ""]
    na = frame[frame["status"] == NOT_APPLICABLE]
    if not na.empty:
        lines += ["## Not applicable (n/a)", ""]
        for (method, error), g in na.groupby(["method", "error"], sort=False):
            cells = ", ".join(dict.fromkeys(g["constraint_label"]))
            lines.append(f"- {method} ({len(g)} cells; {cells}): {error}")
        lines.append("")
    bad = frame[~frame["status"].isin(["ok", NOT_APPLICABLE])]
    if not bad.empty:
        lines += ["## Failed or skipped cells", ""]
        for r in bad.itertuples():
            error = str(r.error).splitlines()[0][:300] if r.error else "?"
            lines.append(f"- `{r.key}` ({r.status}): {error}")
        lines.append("")
    notes = frame.get("notes")
    if notes is not None:
        pairs = zip(frame["method"], notes, strict=True)
        seen = sorted({(m, n) for m, ns in pairs if isinstance(ns, list) for n in ns})
        if seen:
            lines += ["## Method notes", ""]
            lines += [f"- {m}: {n}" for m, n in seen] + [""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _classes(task: str) -> bool:
    """Whether the task's target is classes (not amounts)."""
    return get_task(task).estimator_kind == "classifier"
