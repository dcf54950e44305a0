"""The issues' targets: the default fairautoml method against every anchor, per dataset x
constraint set (a *cell*) and pooled over the sweep.

"Accuracy at the bound" (a sweep whose default decides with the group):

1. Within bound on test (every constraint's value within bound + 0.01) in at least 90% of
   the default's runs pooled, and in each cell in at least as many runs as any anchor (or
   the report shows, from the noise floor, why no method can). The *noise floor* of a run
   (:func:`~fairautoml.bench.measure.noise_floor`) is the chance that a model as useful as
   the pick but perfectly fair in truth is measured within bound on those test rows; in a
   cell whose mean floor is below 90%, no model that useful can be within bound in 90% of
   runs, so the pooled share is judged over the cells whose floor allows it (all runs are
   shown too).
2. Paired test accuracy where both are within bound: default minus error_parity and default
   minus oxonfair at least -0.1 points pooled (mean ± standard error), no cell below -0.5.
3. No run where the default's test balanced accuracy is below 0.55 while an anchor is
   within bound with balanced accuracy at least 0.58.
4. Adult, equalized odds <= 0.02: the default within bound in every run, mean test
   accuracy at least 0.85.

"Fair without the group at decision time" (the default has ``options: {blind: true}``;
every method of such a sweep is blind):

1. The default within bound on test in at least 90% of its runs pooled.
2. Paired test accuracy where both are within bound: the default minus every anchor at
   least 0 pooled, no cell below -0.5 points.
3. The allocator: the default (``auto``) ahead of ``always`` and of ``never`` on fair
   accuracy (test accuracy if within bound, else 0), paired run by run, with the standard
   error smaller than the gap. Shown where the cells hold those arms: the setting was
   removed (one rule since, :mod:`fairautoml.search.allocator`), their records stay in results,
   paired only with the default's runs of the same code (the records' ``commit``).

A run that failed counts as not within bound; a run a method cannot express (status
``not_applicable``) is left out of every count and shown as n/a.
"""

from __future__ import annotations

import math

import pandas as pd

from fairautoml.bench.measure import SATISFIED_SLACK
from fairautoml.bench.summary import is_blind
from fairautoml.bench.tables import fmt, table

RUN_KEYS = ["dataset", "constraint_label", "budget", "seed"]
CELL_KEYS = ["dataset", "constraint_label"]
WITHIN_SHARE = 0.9
POOLED_GAP = -0.1  # accuracy points (percent)
CELL_GAP = -0.5
LOW_BALANCED, ANCHOR_BALANCED = 0.55, 0.58
PAIRED_FAMILIES = ("error_parity", "oxonfair")
ADULT_CELL = ("adult", "equalized_odds_difference <= 0.02")
ADULT_ACCURACY = 0.85
NA = "not_applicable"
TIME_SLACK = 0.1  # a run keeps its budget within the budget + 10%


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def budget_kept_line(runs: pd.DataFrame, budget: float, label: str) -> str:
    """Whether every finished run of ``runs`` (one method at one ``budget``) ended within
    the budget + :data:`TIME_SLACK`: the time-budget target, measured by the bench."""
    wall = pd.to_numeric(runs.loc[runs["status"] == "ok", "wall_time"], errors="coerce")
    limit = budget * (1 + TIME_SLACK)
    over = int((wall > limit).sum())
    mean, se = _mean_se(wall)
    return (
        f"Wall time of {label} at {budget:g} s: {fmt(mean, 1)} ± {fmt(se, 1)} s, at most "
        f"{fmt(wall.max(), 1)} s; runs over the budget + {TIME_SLACK:.0%} ({limit:g} s): "
        f"{over} of {len(wall)}: {_verdict(over == 0)}."
    )


def _mean_se(values: pd.Series) -> tuple[float, float]:
    values = values.dropna()
    if values.empty:
        return math.nan, math.nan
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return float(values.mean()), float(se)


def _points(values: pd.Series) -> str:
    """Mean ± standard error of accuracy differences, in points, with the count."""
    mean, se = _mean_se(100 * values)
    if math.isnan(mean):
        return "–"
    return f"{mean:+.2f}" + ("" if math.isnan(se) else f" ± {se:.2f}") + f" (n={len(values)})"


def paired_runs(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Finished runs of methods ``a`` and ``b`` on the same split, side by side (_a, _b)."""
    ok = frame[frame["status"] == "ok"]
    mine = ok[ok["method"] == a].set_index(RUN_KEYS)
    theirs = ok[ok["method"] == b].set_index(RUN_KEYS)
    return mine.join(theirs, how="inner", suffixes=("_a", "_b"))


def same_code_runs(both: pd.DataFrame) -> pd.DataFrame:
    """The paired runs (:func:`paired_runs`) whose records name the same commit, or where
    neither names one (records from before commits were kept, when a sweep ran every arm
    at once): an ablation's arms against the default they ran beside, not a later one."""
    if not {"commit_a", "commit_b"} <= set(both.columns):
        return both
    a, b = both["commit_a"], both["commit_b"]
    return both[(a == b) | (a.isna() & b.isna())]


def commits_of(runs: pd.DataFrame, column: str = "commit") -> str:
    """The commits the runs name in ``column`` (a paired side's: ``commit_a``), for a
    message."""
    named = runs[column].dropna().unique() if column in runs.columns else []
    return ", ".join(sorted(map(str, named))) or "not recorded"


def _held(runs: pd.DataFrame, slack: float | None, side: str = "") -> pd.Series:
    """Whether each finished run was within bound on test: with the sweep's tolerance
    (``satisfied``) when ``slack`` is None, else worst violation at most ``slack``."""
    if slack is None:
        return runs[f"satisfied{side}"].eq(True)
    return pd.to_numeric(runs[f"test_violation{side}"], errors="coerce") <= slack


def _gaps(frame: pd.DataFrame, default: str, other: str, slack: float | None = None) -> pd.Series:
    """Test accuracy of ``default`` minus ``other``'s, on runs where both were within bound
    (``slack``: :func:`_held`)."""
    both = paired_runs(frame, default, other)
    if both.empty:
        return pd.Series(dtype=float)
    within = _held(both, slack, "_a") & _held(both, slack, "_b")
    return (both["test_accuracy_a"] - both["test_accuracy_b"])[within]


def _within(frame: pd.DataFrame, slack: float | None = None) -> tuple[int, int]:
    """(runs within bound, runs counted): not-applicable runs left out, failures count
    (``slack``: :func:`_held`)."""
    counted = frame[frame["status"] != NA]
    ok = counted["status"] == "ok"
    return int((ok & _held(counted, slack)).sum()), len(counted)


def without_tolerance(frame: pd.DataFrame, default: str) -> list[str]:
    """The default's and every anchor's runs within the bound itself on test (no tolerance)
    beside those within bound + the tolerance, and the default's paired accuracy where both
    are within the bound itself; and the paired fair accuracy over every run (test
    accuracy if within bound + the tolerance, else 0). Why: "where both were within bound"
    counts only the runs where a method that fits its rule to the bound with no margin
    happened to land under it (and the tolerance counts one just over it as within); these
    show whether an accuracy gap survives without the tolerance, and what the runs out of
    bound cost."""
    rows = []
    for method in [default, *_anchors(frame)]:  # variants of the default ran other code
        runs = frame[frame["method"] == method]
        k, n = _within(runs)
        strict, _ = _within(runs, slack=0.0)
        rows.append({
            "method": method,
            f"within bound + {SATISFIED_SLACK:g}": f"{k}/{n}",
            "within bound": f"{strict}/{n}",
            f"{default} − method, both within bound (pts)":
                "–" if method == default else _points(_gaps(frame, default, method, 0.0)),
            f"{default} − method, fair accuracy, every paired run (pts)":
                "–" if method == default else _points(fair_accuracy_gaps(frame, default, method)),
        })  # fmt: skip
    return [
        "Within the bound itself (test value at most the bound, no tolerance), the default "
        "and every anchor, all cells pooled; and fair accuracy (test accuracy if within "
        f"bound + {SATISFIED_SLACK:g}, else 0) paired over every run, which also counts what "
        "the runs out of bound cost:",
        "",
        table(pd.DataFrame(rows)),
        "",
    ]


def _floor(frame: pd.DataFrame) -> float:
    """Mean noise floor of these runs (NaN where not recorded)."""
    if "test_noise_floor" not in frame.columns:
        return math.nan
    return float(frame.loc[frame["status"] == "ok", "test_noise_floor"].mean())


def _attainable(frame: pd.DataFrame, default: str) -> pd.DataFrame:
    """The default's runs in cells whose noise floor allows WITHIN_SHARE (unknown: allows)."""
    mine = frame[frame["method"] == default]
    keep = [g for _, g in mine.groupby(CELL_KEYS, sort=False) if not _floor(g) < WITHIN_SHARE]
    return pd.concat(keep) if keep else mine.iloc[:0]


def _paired_anchors(frame: pd.DataFrame) -> list[str]:
    labels = frame.loc[frame["family"].isin(PAIRED_FAMILIES), "method"]
    return list(dict.fromkeys(labels))


def _anchors(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame.loc[frame["family"] != "fairautoml", "method"]))


def _low_balanced(frame: pd.DataFrame, default: str) -> list[tuple[tuple, float, pd.DataFrame]]:
    """Target 3's offending runs: (run keys, the default's balanced accuracy, the anchors
    within bound with balanced accuracy >= ANCHOR_BALANCED)."""
    ok = frame[frame["status"] == "ok"]
    found = []
    for keys, g in ok.groupby(RUN_KEYS, sort=False):
        mine = g.loc[g["method"] == default, "test_balanced_accuracy"]
        if mine.empty or not mine.iloc[0] < LOW_BALANCED:
            continue
        good = g[
            (g["family"] != "fairautoml")
            & _held(g, None)
            & (g["test_balanced_accuracy"] >= ANCHOR_BALANCED)
        ]
        if not good.empty:
            found.append((keys, float(mine.iloc[0]), good))
    return found


def low_balanced_runs(frame: pd.DataFrame, default: str) -> list[str]:
    """Target 3's offending runs, one line each, with the anchors that did better."""
    lines = []
    for (dataset, label, budget, seed), mine, good in _low_balanced(frame, default):
        others = ", ".join(
            f"{r.method} ({r.test_balanced_accuracy:.3f})" for r in good.itertuples()
        )
        lines.append(
            f"- {dataset}, {label}, {budget:g} s, seed {seed}: {default} balanced accuracy "
            f"{mine:.3f}; within bound with ≥ {ANCHOR_BALANCED}: {others}"
        )
    return lines


def cell_targets(frame: pd.DataFrame, default: str) -> str:
    """One row per cell: targets 1-3 for that cell, each met or not."""
    anchors, paired = _anchors(frame), _paired_anchors(frame)
    low = {keys[:2] for keys, _, _ in _low_balanced(frame, default)}
    rows = []
    for (dataset, label), g in frame.groupby(CELL_KEYS, sort=False):
        mine = g[g["method"] == default]
        k, n = _within(mine)
        floor = _floor(mine)
        counts = {a: _within(g[g["method"] == a]) for a in anchors}
        counts = {a: c for a, c in counts.items() if c[1]}  # n/a anchors left out
        most = max((c[0] for c in counts.values()), default=0)
        leaders = [f"{a} {c[0]}/{c[1]}" for a, c in counts.items() if c[0] == most]
        row = {
            "cell": f"{dataset}: {label}",
            f"{default} within bound": _share(k, n, digits=2) if n else "–",
            "most among anchors": ", ".join(leaders) if counts else "–",
            "noise floor": fmt(floor, 2),
            "1": _verdict(bool(n) and k >= most)
            + (
                f" (floor < {WITHIN_SHARE})"
                if bool(n) and k < most and floor < WITHIN_SHARE
                else ""
            ),
        }
        met = True
        for other in paired:
            gaps = _gaps(g, default, other)
            row[f"Δ acc vs {other} (pts)"] = _points(gaps)
            met &= gaps.empty or 100 * gaps.mean() >= CELL_GAP
        row["2"] = _verdict(met)
        row["3"] = _verdict((dataset, label) not in low)
        rows.append(row)
    return table(pd.DataFrame(rows)) if rows else "(no cells)"


def _share(k: int, n: int, digits: int = 3) -> str:
    """``k/n (share ± standard error)``."""
    share = k / n if n else math.nan
    se = math.sqrt(share * (1 - share) / n) if n else math.nan
    return f"{k}/{n} ({fmt(share, digits)} ± {fmt(se, digits)})"


def _within_line(frame: pd.DataFrame, default: str) -> str:
    """Target 1, pooled: the default's runs within bound, with the standard error, over the
    cells whose noise floor allows the target (and over every cell)."""
    k, n = _within(frame[frame["method"] == default])
    attainable = _attainable(frame, default)
    ka, na = _within(attainable)
    cells = attainable.groupby(CELL_KEYS).ngroups if na else 0
    return (
        f"1. Within bound on test (≤ bound + {SATISFIED_SLACK}): {default}'s runs {_share(k, n)}"
        f"; in the {cells} cells whose noise floor is at least {WITHIN_SHARE} (or not "
        f"recorded): {_share(ka, na)} (target ≥ {WITHIN_SHARE}): "
        f"{_verdict(na > 0 and ka / na >= WITHIN_SHARE)}."
    )


def _gap_line(frame: pd.DataFrame, default: str, other: str, floor: float) -> str:
    """Target 2, pooled: paired accuracy where both were within bound, at least ``floor``."""
    gaps = _gaps(frame, default, other)
    mean = 100 * gaps.mean() if len(gaps) else math.nan
    return (
        f"2. {default} − {other}, test accuracy where both within bound: "
        f"{_points(gaps)} points (target ≥ {floor} pooled, no cell below "
        f"{CELL_GAP}: column 2): {_verdict(not math.isnan(mean) and mean >= floor)}."
    )


def pooled_targets(frame: pd.DataFrame, default: str) -> list[str]:
    """Targets 1-4 over the whole sweep, one line each, with standard errors."""
    lines = [
        _within_line(frame, default)[:-1] + "; per cell at least as many runs as any anchor: "
        "see column 1.",
        *(_gap_line(frame, default, other, POOLED_GAP) for other in _paired_anchors(frame)),
    ]
    if not _paired_anchors(frame):
        lines.append(f"2. No {' or '.join(PAIRED_FAMILIES)} runs in this sweep.")
    low = low_balanced_runs(frame, default)
    lines.append(
        f"3. Runs with {default}'s balanced accuracy < {LOW_BALANCED} while an anchor within "
        f"bound has ≥ {ANCHOR_BALANCED}: {len(low)}{' (listed below)' if low else ''}: "
        f"{_verdict(not low)}."
    )
    dataset, label = ADULT_CELL
    cell = frame[
        (frame["dataset"] == dataset)
        & (frame["constraint_label"] == label)
        & (frame["method"] == default)
    ]
    if cell.empty:
        lines.append(f"4. {dataset}, {label}: not in this sweep.")
    else:
        k, n = _within(cell)
        mean, se = _mean_se(cell.loc[cell["status"] == "ok", "test_accuracy"])
        floor = _floor(cell)
        lines.append(
            f"4. {dataset}, {label}: {default} within bound in {k}/{n} runs, mean test "
            f"accuracy {fmt(mean)} ± {fmt(se)} (target: every run, ≥ {ADULT_ACCURACY}): "
            f"{_verdict(n > 0 and k == n and mean >= ADULT_ACCURACY)}"
            + (
                ""
                if math.isnan(floor)
                else f"; noise floor {fmt(floor, 2)}: a perfectly fair model this accurate "
                f"is within bound in {fmt(floor, 2)} of such runs, all {n} with chance "
                f"{fmt(floor**n, 2)}"
            )
            + "."
        )
    return lines


BLIND_GAP = 0.0  # accuracy points: at least every blind anchor's, pooled
ALLOCATOR_RIVALS = ("always", "never")


def _allocator_label(frame: pd.DataFrame, setting: str) -> str | None:
    """The label of the fairautoml variant run with ``allocator: setting``, if any."""
    if "options" not in frame:
        return None
    fa = frame[frame["family"] == "fairautoml"]
    for label, options in zip(fa["method"], fa["options"], strict=True):
        if isinstance(options, dict) and options.get("allocator") == setting:
            return str(label)
    return None


def fair_accuracy_gaps(frame: pd.DataFrame, a: str, b: str, same_code: bool = False) -> pd.Series:
    """Per run on the same split: ``a``'s fair accuracy minus ``b``'s (test accuracy if
    within bound, else 0); ``same_code``: only runs of the same code
    (:func:`same_code_runs`)."""
    both = paired_runs(frame, a, b)
    if same_code:
        both = same_code_runs(both)

    def fair(side: str) -> pd.Series:
        return both[f"test_accuracy_{side}"].where(_held(both, None, f"_{side}"), 0.0)

    return fair("a") - fair("b")


def blind_targets(frame: pd.DataFrame, default: str) -> list[str]:
    """The blind sweep's targets 1-3: pooled lines, a per-cell table, the allocator."""
    anchors = _anchors(frame)
    lines = [
        _within_line(frame, default),
        *(_gap_line(frame, default, other, BLIND_GAP) for other in anchors),
    ]
    for setting in ALLOCATOR_RIVALS:
        rival = _allocator_label(frame, setting)
        if rival is None:  # the allocator ablation's records, where a sweep has them
            continue
        gaps = fair_accuracy_gaps(frame, default, rival, same_code=True)
        if gaps.empty:
            lines.append(
                f"3. {default} (allocator auto) − {rival}: not paired, no run of {default} "
                f"at the commit {rival} ran at (its later runs are other code; the paired "
                "runs are in the cells file's git history)."
            )
            continue
        mean, se_gap = _mean_se(100 * gaps)
        met = len(gaps) > 1 and mean > 0 and se_gap < mean
        lines.append(
            f"3. {default} (allocator auto) − {rival}, fair accuracy (test accuracy if within "
            f"bound, else 0), paired: {_points(gaps)} points over {len(gaps)} runs "
            f"(target: ahead, standard error smaller than the gap): {_verdict(met)}."
        )
    rows = []
    for (dataset, label), g in frame.groupby(CELL_KEYS, sort=False):
        k, n = _within(g[g["method"] == default])
        row = {"cell": f"{dataset}: {label}", f"{default} within bound": f"{k}/{n}"}
        met = True
        for other in anchors:
            counted = _within(g[g["method"] == other])
            row[f"{other} within"] = f"{counted[0]}/{counted[1]}" if counted[1] else "n/a"
            gaps = _gaps(g, default, other)
            row[f"Δ acc vs {other} (pts)"] = _points(gaps)
            met &= gaps.empty or 100 * gaps.mean() >= CELL_GAP
        row["2"] = _verdict(met)
        rows.append(row)
    return [
        *lines,
        "",
        "Per cell (column 2: no cell below the cell floor; Δ: mean ± standard error over the "
        "runs where both were within bound; n/a runs left out, a failed run is not within "
        "bound):",
        "",
        table(pd.DataFrame(rows)) if rows else "(no cells)",
        "",
    ]


def target_section(frame: pd.DataFrame, default: str) -> list[str]:
    """The report's targets section: the pooled lines, the per-cell table, target 3's runs
    (the blind sweep's targets when the default is blind)."""
    if is_blind(frame, default):
        return blind_targets(frame, default) + without_tolerance(frame, default)
    lines = [
        *pooled_targets(frame, default),
        "",
        "Per cell (columns 1-3: targets 1-3; Δ: mean ± standard error over the runs where "
        "both were within bound; n/a runs left out, a failed run is not within bound):",
        "",
        cell_targets(frame, default),
        "",
    ]
    low = low_balanced_runs(frame, default)
    if low:
        lines += [f"Target 3's runs ({default} below {LOW_BALANCED} balanced accuracy):", ""]
        lines += [*low, ""]
    return lines + without_tolerance(frame, default)
