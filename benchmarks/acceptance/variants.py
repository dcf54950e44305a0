"""fairautoml's variants against its default: the other controllers, and the allocator
("auto") against always- and never-mitigate, per cell, pooled and paired run by run."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from benchmarks.acceptance.targets import commits_of, paired_runs, same_code_runs
from fairautoml.bench.measure import SATISFIED_SLACK
from fairautoml.bench.summary import summarize
from fairautoml.bench.tables import fmt, table


def default_method(frame: pd.DataFrame) -> str | None:
    fa = frame[frame["family"] == "fairautoml"]
    if fa.empty:
        return None
    labels = list(dict.fromkeys(fa["method"]))
    return "fairautoml" if "fairautoml" in labels else labels[0]


def _variant_kind(record: pd.Series) -> str | None:
    """``controller`` / ``allocator`` for fairautoml's variants, None for anchors."""
    if record["family"] != "fairautoml":
        return None
    options = record.get("options")
    return "allocator" if isinstance(options, dict) and "allocator" in options else "controller"


def variant_comparison(frame: pd.DataFrame, default: str) -> list[str]:
    """Issue 4's table: the default against fairautoml's other controllers, and its
    allocator ("auto") against always- and never-mitigate, per dataset x constraint set.

    Columns: mean test accuracy, mean worst test violation (value minus bound; <= 0 is
    within the bound), share of runs within bound + slack, mean accuracy among those
    runs, trials, seconds to the first model feasible on validation. The verdict compares
    mean accuracy among satisfied runs; a variant with no satisfied run loses to one with.
    """
    kinds = frame.apply(_variant_kind, axis=1)
    variants = set(frame.loc[kinds.notna(), "method"])
    if len(variants) < 2:
        return []
    summary = summarize(frame)
    ours = summary[summary["method"].isin(variants)]
    lines: list[str] = []
    verdicts: dict[str, list[str]] = {}
    for (dataset, label), g in ours.groupby(["dataset", "constraints"], sort=False):
        acc_sat = dict(zip(g["method"], g["score_satisfied"], strict=True))
        rows = pd.DataFrame(
            {
                "variant": g["method"],
                "runs ok": g["runs"],
                "test acc": g["test_accuracy"].map(fmt),
                "test violation": g["test_violation"].map(fmt),
                f"share ≤ bound + {SATISFIED_SLACK}": g["satisfied_share"].map(lambda v: fmt(v, 2)),
                "acc if satisfied": g["score_satisfied"].map(fmt),
                "trials": g["trials"].map(lambda v: fmt(v, 0)),
                "first feasible (s)": g["ttff"].map(lambda v: fmt(v, 1)),
            }
        )
        lines += [f"### {dataset}: {label}", "", table(rows), ""]
        # compared as shown (3 decimals): a 0.0001 difference over 3 runs is not a ranking
        mine = round(acc_sat.get(default, math.nan), 3)
        cell = frame[(frame["dataset"] == dataset) & (frame["constraint_label"] == label)]
        for method in acc_sat:
            if method == default:
                continue
            other_code = other_code_note(cell, default, method)
            if other_code:
                verdicts.setdefault(method, []).append("not compared")
                lines.append(f"- {default} not compared with {method}: {other_code}")
                continue
            other = round(acc_sat[method], 3)
            won = (not math.isnan(mine)) and (math.isnan(other) or mine > other)
            tied = (math.isnan(mine) and math.isnan(other)) or mine == other
            verdict = "ahead" if won else ("tied" if tied else "behind")
            verdicts.setdefault(method, []).append(verdict)
            word = {"ahead": "ahead of", "tied": "tied with", "behind": "**behind**"}[verdict]
            lines.append(f"- {default} {word} {method} ({fmt(mine)} vs {fmt(other)})")
        lines.append("")
    counts = [
        f"- {default} vs {method}: ahead in {v.count('ahead')}, tied in {v.count('tied')}, "
        f"behind in {v.count('behind')} of {len(v)} dataset × constraint cells"
        + (f" ({v.count('not compared')} not compared: other code)" if "not compared" in v else "")
        for method, v in verdicts.items()
    ]
    paired = [paired_comparison(frame, default, method) for method in verdicts]
    pooled = variant_overall(frame, [default, *verdicts])
    return ["All runs pooled (see `variant_overall`):", "", pooled, "",
            *counts, "", "Paired over runs (same dataset, constraints, budget and seed):", "",
            *paired, "", *lines]  # fmt: skip


def other_code_note(cell: pd.DataFrame, default: str, other: str) -> str:
    """Why ``default``'s and ``other``'s runs in one cell are no ablation ("" when they
    are): some paired runs are of different code (the rule of
    :func:`~benchmarks.acceptance.targets.same_code_runs`), so their means differ by more
    than the variant."""
    every = paired_runs(cell, default, other)
    same = same_code_runs(every)
    if len(same) == len(every):
        return ""
    return (
        f"{len(every) - len(same)} of {len(every)} paired runs are other code "
        f"({_who_ran(every, default, other)})"
    )


def _who_ran(every: pd.DataFrame, default: str, other: str) -> str:
    """Which commits each side of the paired runs ran, for a message."""
    return (
        f"{default} at {commits_of(every, 'commit_a')}, {other} at {commits_of(every, 'commit_b')}"
    )


def variant_overall(frame: pd.DataFrame, methods: Sequence[str]) -> str:
    """All of a variant's runs pooled, over every dataset and constraint set.

    "acc if satisfied" is the issue's criterion taken literally (mean test accuracy of the
    runs satisfied on test); it mixes datasets, so a variant that satisfies more runs on
    a low-accuracy dataset scores lower. "relative acc if satisfied" removes that: each
    satisfied run's accuracy minus the mean accuracy of every variant's run on the same
    split (dataset, constraints, budget, seed), averaged. "code": the commits the runs
    name; variants at other code than the default's are no ablation of it.
    """
    keys = ["dataset", "constraint_label", "budget", "seed"]
    ok = frame[(frame["status"] == "ok") & frame["method"].isin(methods)]
    split_mean = ok.groupby(keys)["test_accuracy"].transform("mean")
    ok = ok.assign(relative=ok["test_accuracy"] - split_mean)
    rows = []
    for method in methods:
        g = ok[ok["method"] == method]
        sat = g[g["satisfied"].astype(bool)]
        n_all = int((frame["method"] == method).sum())
        rows.append(
            {
                "variant": method,
                "runs ok": f"{len(g)}/{n_all}",
                "test acc": fmt(g["test_accuracy"].mean()),
                "test violation": fmt(g["test_violation"].mean()),
                f"share ≤ bound + {SATISFIED_SLACK}": fmt(len(sat) / len(g), 2) if len(g) else "–",
                "acc if satisfied": fmt(sat["test_accuracy"].mean()) if len(sat) else "–",
                "relative acc if satisfied": (
                    f"{sat['relative'].mean():+.4f}" if len(sat) else "–"
                ),
                "trials": fmt(g["trials"].mean(), 0),
                "first feasible (s)": fmt(g["time_to_first_feasible"].mean(), 1),
                "code": commits_of(g),
            }
        )
    return table(pd.DataFrame(rows))


def paired_comparison(frame: pd.DataFrame, default: str, other: str) -> str:
    """One line: ``default`` against ``other`` run by run, which a per-cell mean of three
    runs is too noisy to show: how often each satisfied the constraints on test, and the
    mean paired accuracy difference (± its standard error) where both did. Only runs of
    the same code pair (:func:`~benchmarks.acceptance.targets.same_code_runs`): a variant swept
    once beside an older default is not an ablation of the current one."""
    every = paired_runs(frame, default, other)
    if every.empty:
        return f"- vs {other}: no paired runs"
    both = same_code_runs(every)
    if both.empty:
        return (
            f"- vs {other}: not paired, no run at the same code "
            f"({_who_ran(every, default, other)}; the runs of one commit are in the cells "
            "file's git history)"
        )
    sat_a = both["satisfied_a"].astype(bool)
    sat_b = both["satisfied_b"].astype(bool)
    diff = (both["test_accuracy_a"] - both["test_accuracy_b"])[sat_a & sat_b]
    if len(diff) >= 2:
        gap = f"{diff.mean():+.4f} ± {diff.std(ddof=1) / math.sqrt(len(diff)):.4f}"
    else:
        gap = f"{diff.mean():+.4f}" if len(diff) else "–"
    return (
        f"- vs {other} ({len(both)} runs): satisfied in {int(sat_a.sum())} vs "
        f"{int(sat_b.sum())}; where both were ({len(diff)}), test accuracy {gap} "
        f"(mean difference ± standard error); only {default} satisfied: "
        f"{int((sat_a & ~sat_b).sum())}, only {other}: {int((~sat_a & sat_b).sum())}"
    )
