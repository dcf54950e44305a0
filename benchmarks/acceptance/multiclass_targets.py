"""Issue 42's targets for fair multiclass decisions (``experiments/multiclass.yaml``), per
dataset x constraint set (a *cell*) and pooled over the multiclass cells.

(a) The default fairautoml method within bound on test (every constraint within bound +
    its slack) in at least 90% of its runs in the cells whose noise floor allows it
    (:func:`fairautoml.bench.measure.noise_floor`: the chance that a model as useful but
    fair in truth is measured within bound on those test rows).
(b) Where both are within bound, test accuracy at least every deployable anchor's
    (``unconstrained``, ``class_offsets``): the paired mean at least 0 pooled. The oracle
    (``multiclass_lp_oracle``, fitted on the test rows) is shown, never a target.
(c) Binary results unchanged: the default's runs on the two-class tables of this sweep,
    paired by table, constraint and seed with the default's runs of the same cells in
    ``results/frontier/cells.jsonl`` (the code of the frontier report): within noise when
    neither the paired accuracy difference nor the paired within-bound difference is below
    zero by more than two standard errors.

A failed run counts as not within bound; a run a method cannot express (n/a) counts nowhere.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from benchmarks.acceptance.targets import (
    CELL_KEYS,
    RUN_KEYS,
    WITHIN_SHARE,
    _attainable,
    _floor,
    _gaps,
    _held,
    _mean_se,
    _points,
    _share,
    _verdict,
    _within,
)
from fairautoml.bench.measure import SATISFIED_SLACK
from fairautoml.bench.tables import fmt, table

ORACLE = "multiclass_lp_oracle"
FRONTIER_CELLS = Path(__file__).resolve().parents[2] / "results" / "frontier" / "cells.jsonl"
NOT_PAIRED = "not measured (no run where both were within bound)"
NOISE_SE = 2.0  # standard errors: what "within noise" allows below zero


def is_multiclass_sweep(frame: pd.DataFrame) -> bool:
    return "task" in frame and bool((frame["task"] == "multiclass").any())


def _anchors(frame: pd.DataFrame) -> list[str]:
    others = frame[~frame["family"].isin(["fairautoml", ORACLE])]
    return list(dict.fromkeys(others["method"]))


def _cell_rows(
    frame: pd.DataFrame, default: str, methods: list[str] | None = None
) -> list[dict[str, str]]:
    """Per cell: the default's within-bound runs and accuracy, and each of ``methods``'
    (the anchors, then the oracle) within-bound runs and paired accuracy gap."""
    if methods is None:
        oracles = frame.loc[frame["family"] == ORACLE, "method"]
        methods = [*_anchors(frame), *dict.fromkeys(oracles)]
    rows = []
    for (dataset, label), g in frame.groupby(CELL_KEYS, sort=False):
        k, n = _within(g[g["method"] == default])
        ok = g[(g["method"] == default) & (g["status"] == "ok")]
        row = {
            "cell": f"{dataset}: {label}",
            "noise floor": fmt(_floor(g[g["method"] == default]), 2),
            f"{default} within": f"{k}/{n}" if n else "–",
            f"{default} acc": fmt(ok["test_score"].mean(), 4),
        }
        for m in methods:
            km, nm = _within(g[g["method"] == m])
            row[f"{m} within"] = f"{km}/{nm}" if nm else "n/a"
            row[f"Δ acc vs {m}"] = _points(_gaps(g, default, m))
        rows.append(row)
    return rows


def frontier_runs(frontier: Path, method: str = "fairautoml") -> pd.DataFrame:
    """``method``'s runs in the frontier report's cells file (every status), the latest
    record of each cell."""
    then = pd.DataFrame([json.loads(line) for line in frontier.read_text().splitlines()])
    # the file keeps every run of a cell; the latest is the report's
    then = then.drop_duplicates("key", keep="last")
    return then[then["method"] == method]


def within_noise(mean: float, se: float) -> bool:
    """A paired difference not below zero by more than NOISE_SE standard errors (one pair,
    no standard error: not below zero)."""
    return not (mean < 0 and (math.isnan(se) or mean + NOISE_SE * se < 0))


def _binary_unchanged(frame: pd.DataFrame, default: str, frontier: Path) -> list[str]:
    """(c): the default's two-class runs here against the frontier's, paired."""
    now = frame[(frame["method"] == default) & (frame["task"] == "binary")]
    if now.empty:
        return ["(c) Binary results unchanged: no two-class run in this sweep."]
    if not frontier.exists():
        return [f"(c) Binary results unchanged: {frontier} not found."]
    then = frontier_runs(frontier)
    then = then[then["status"] == "ok"]
    both = (
        now[now["status"] == "ok"]
        .set_index(RUN_KEYS)
        .join(then.set_index(RUN_KEYS), how="inner", suffixes=("_now", "_then"))
    )
    if both.empty:
        return ["(c) Binary results unchanged: no run pairs with the frontier's."]
    held_now, held_then = _held(both, None, "_now"), _held(both, None, "_then")
    accuracy = both["test_accuracy_now"] - both["test_accuracy_then"]
    within = held_now.astype(float) - held_then.astype(float)
    acc_mean, acc_se = _mean_se(accuracy)
    within_mean, within_se = _mean_se(within)
    ok = within_noise(acc_mean, acc_se) and within_noise(within_mean, within_se)
    rows = []
    for (dataset, label), g in both.reset_index().groupby(CELL_KEYS, sort=False):
        rows.append({
            "cell": f"{dataset}: {label}",
            "runs": len(g),
            "within now": int(_held(g, None, "_now").sum()),
            "within then": int(_held(g, None, "_then").sum()),
            "Δ acc (now − then)": _points(g["test_accuracy_now"] - g["test_accuracy_then"]),
        })  # fmt: skip
    return [
        f"(c) Binary results unchanged: {len(both)} two-class runs paired with the frontier "
        f"report's (`{frontier.relative_to(frontier.parents[2])}`, commits "
        f"{', '.join(sorted(map(str, both['commit_then'].dropna().unique()))) or '?'}); within "
        f"bound now {int(held_now.sum())}, then {int(held_then.sum())}; test accuracy now − "
        f"then {_points(accuracy)} points: {_verdict(ok)} (within noise: neither difference "
        f"below zero by more than {NOISE_SE:g} standard errors).",
        "",
        table(pd.DataFrame(rows)),
        "",
    ]


def multiclass_targets(
    frame: pd.DataFrame, default: str, frontier: Path = FRONTIER_CELLS
) -> list[str]:
    """Targets (a)-(c), one paragraph each, and the per-cell table of the multiclass cells."""
    multi = frame[frame["task"] == "multiclass"] if "task" in frame else frame.iloc[:0]
    k, n = _within(multi[multi["method"] == default])
    attainable = _attainable(multi, default)
    ka, na = _within(attainable)
    cells = attainable.groupby(CELL_KEYS).ngroups if na else 0
    lines = [
        f"*Within bound*: every constraint's test value within its bound + {SATISFIED_SLACK}. "
        "*Noise floor*: the share of draws in which a model as useful as the pick but fair "
        "in truth (every group predicted with the overall class shares, or, for the rates "
        "given the true class, the overall confusion rows) is measured within bound on "
        f"these test rows; a cell whose mean floor is below {WITHIN_SHARE} cannot reach "
        f"(a)'s {WITHIN_SHARE:.0%} whatever the method.",
        "",
        f"(a) Within bound on test: {default}'s multiclass runs {_share(k, n)}; in the "
        f"{cells} cells whose noise floor is at least {WITHIN_SHARE}: {_share(ka, na)} "
        f"(target ≥ {WITHIN_SHARE}): "
        + (_verdict(ka / na >= WITHIN_SHARE) if na else "not measured (no such cell)")
        + ".",
    ]
    for a in _anchors(multi):
        gaps = _gaps(multi, default, a)
        verdict = _verdict(gaps.mean() >= 0) if len(gaps) else NOT_PAIRED
        lines.append(
            f"(b) {default} − {a}, test accuracy where both within bound: {_points(gaps)} "
            f"points (target ≥ 0 pooled): {verdict}."
        )
    for o in dict.fromkeys(multi.loc[multi["family"] == ORACLE, "method"]):
        lines.append(
            f"(b) {default} − {o} (the limit of post-processing FLAML's model, fitted on the "
            f"test rows), where both within bound: {_points(_gaps(multi, default, o))} points "
            "(shown, not a target)."
        )
    rows = _cell_rows(multi, default)
    lines += [
        "",
        "Per multiclass cell (Δ acc: mean ± standard error, in points, over the runs where "
        "both were within bound):",
        "",
        table(pd.DataFrame(rows)) if rows else "(no cells)",
        "",
        *_binary_unchanged(frame, default, frontier),
    ]
    return lines
