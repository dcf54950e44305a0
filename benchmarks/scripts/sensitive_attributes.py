"""Issue 40's runs for the sensitive attribute as users have it: one constraint per
attribute, survey weights, an attribute cut into bins.

``python -m benchmarks.scripts.sensitive_attributes [--out DIR] [--seeds 1 2 3 4] [--budget 30]``

Each *arm* is one way a user states the problem; each run fits ``FairAutoML`` (the
default, group-blind) on 80% of a bundled table (stratified by target and group, the
bench's :func:`~fairautoml.bench.rows.split_rows`) and judges the pick on the other 20%
with fairlearn's own metric functions on the raw test columns, independently of
fairautoml's measurement code:

* ``per_attribute``: Adult, sex and race, ``demographic_parity_difference[sex] <= 0.05``
  and ``demographic_parity_difference[race] <= 0.1``, each judged on its own attribute;
  ``intersection``: the same table read as one constraint over every sex x race cell
  (``<= 0.05``), judged on those cells and on each attribute, for the contrast in
  accuracy;
* ``weighted``: Adult with ``fnlwgt`` as sampling weights, DP <= 0.05 on sex, judged with
  the weights (accuracy too); ``unweighted``: the same rows without weights, judged the
  same way (what the population sees when the sample's fairness is enforced);
* ``age_bins``: COMPAS with age cut at 25 and 45 (COMPAS's own age categories), DP <= 0.05
  across the three bins, judged on the binned test ages.

A run is *within bound* when every judged constraint is within its bound + 0.01 (the
bench's slack). Each judged constraint also gets its *noise floor* on the run's test rows
(:func:`fairautoml.bench.measure.noise_floor`: the chance that a model as useful as the
pick but fair in truth reads within bound there; unweighted arms only), and the report
counts the runs whose every floor is at least 0.9, where a 90% target can be judged. Each
finished run is one line of ``cells.jsonl`` (a rerun skips them, ``--again`` runs them
anew: the latest record of a run counts); ``report.md`` is rewritten from all of them.
"""

from __future__ import annotations

import argparse
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fairlearn import metrics as flm

from fairautoml import FairAutoML, datasets
from fairautoml.bench.cells_file import append_record, latest, read_records
from fairautoml.bench.measure import SATISFIED_SLACK, noise_floor
from fairautoml.bench.rows import split_rows
from fairautoml.bench.tables import fmt, table
from fairautoml.data.groups import bin_labels
from fairautoml.measures.constraints import parse_constraints

OUT = Path("results/sensitive_attributes")
FLOOR_ALLOWS = 0.9  # a run is judgeable against a 90% target when its floors reach this
_CONSTRAINT = re.compile(r"^\s*(\w+)\s*(?:\[([^\]]*)\])?\s*(<=|>=)\s*([0-9.eE+-]+)\s*$")


@dataclass(frozen=True)
class Arm:
    """One way of stating the problem: a table, its sensitive columns, the constraints the
    search is given, and the constraints the test rows are judged by."""

    name: str
    dataset: str
    sensitive: tuple[str, ...]
    constraints: tuple[str, ...]
    judged: tuple[str, ...]  # what "within bound" means on test
    weight: str | None = None  # a column taken as the fit's sampling weights (not a feature)
    judge_weight: str | None = None  # the weights the test rows are judged with
    drop: tuple[str, ...] = ()  # columns of the table that are not features
    bins: dict[str, list[float]] = field(default_factory=dict)

    def fit_options(self) -> dict[str, Any]:
        return {"sensitive_bins": dict(self.bins)} if self.bins else {}


_DP_SEX = "demographic_parity_difference[sex] <= 0.05"
_DP_RACE = "demographic_parity_difference[race] <= 0.1"
ARMS = {
    arm.name: arm
    for arm in (
        Arm("per_attribute", "adult", ("sex", "race"), (_DP_SEX, _DP_RACE), (_DP_SEX, _DP_RACE)),
        Arm(
            "intersection",
            "adult",
            ("sex", "race"),
            ("demographic_parity_difference <= 0.05",),
            ("demographic_parity_difference[sex,race] <= 0.05", _DP_SEX, _DP_RACE),
        ),
        Arm(
            "weighted",
            "adult",
            ("sex",),
            ("demographic_parity_difference <= 0.05",),
            ("demographic_parity_difference <= 0.05",),
            weight="fnlwgt",
            judge_weight="fnlwgt",
            drop=("fnlwgt",),
        ),
        Arm(
            "unweighted",
            "adult",
            ("sex",),
            ("demographic_parity_difference <= 0.05",),
            ("demographic_parity_difference <= 0.05",),
            judge_weight="fnlwgt",
            drop=("fnlwgt",),
        ),
        Arm(
            "age_bins",
            "compas",
            ("age",),
            ("demographic_parity_difference <= 0.05",),
            ("demographic_parity_difference <= 0.05",),
            bins={"age": [25, 45]},
        ),
    )
}


def table_of(arm: Arm) -> tuple[pd.DataFrame, pd.Series]:
    """The arm's table with its sensitive columns among X's columns, and the target."""
    X, y, s = datasets.load(arm.dataset)
    X = X.copy()
    X[s.name] = s
    return X, y


def _attributes(arm: Arm, given: str | None) -> list[str]:
    return [a.strip() for a in given.split(",")] if given else list(arm.sensitive)


def groups_of(arm: Arm, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows' sensitive columns, binned attributes as their bins' labels (left-closed)."""
    groups = rows[list(arm.sensitive)].copy()
    for name, edges in arm.bins.items():
        cut = np.searchsorted(np.asarray(edges, dtype=float), groups[name].to_numpy(float), "right")
        groups[name] = np.asarray(bin_labels(edges), dtype=object)[cut]
    return groups


def judge(
    arm: Arm, test: pd.DataFrame, y: np.ndarray, pred: np.ndarray
) -> dict[str, dict[str, float]]:
    """Each judged constraint's value on the test rows, by fairlearn, with the weights, and
    its noise floor there (None for weighted judging: the floor draws unweighted rows)."""
    weight = None if arm.judge_weight is None else test[arm.judge_weight].to_numpy(float)
    groups = groups_of(arm, test)
    out = {}
    for text in arm.judged:
        metric, attrs, op, bound = _CONSTRAINT.match(text).groups()
        fn = getattr(flm, metric)
        columns = groups[_attributes(arm, attrs)]
        value = float(fn(y, pred, sensitive_features=columns, sample_weight=weight))
        ok = (
            value <= float(bound) + SATISFIED_SLACK
            if op == "<="
            else value >= float(bound) - SATISFIED_SLACK
        )
        floor = None
        if weight is None:
            cells = columns.astype(str).agg("|".join, axis=1).to_numpy()
            constraint = parse_constraints([f"{metric} {op} {bound}"])
            floor = noise_floor(constraint, np.asarray(y), np.asarray(pred), cells)
        out[text] = {"value": value, "within": bool(ok), "floor": floor}
        if weight is None and metric == "demographic_parity_difference":
            sizes = columns.astype(str).agg("|".join, axis=1).value_counts()
            out[text]["group_sizes"] = [int(n) for n in sizes.sort_index()]
            out[text]["selection_rate"] = float(np.mean(pred == 1))
    return out


def reading_if_claim_holds(
    claim: float, high: float, sizes: list[int], rate: float, draws: int = 20_000, seed: int = 0
) -> tuple[float, float]:
    """What the test rows would read if the pick's demographic parity difference were, in
    truth, the value it claimed on validation: the mean reading and the chance it lands
    above the claim's upper end. The largest group is put ``claim`` above the others,
    every group at ``rate`` otherwise, and each group's selections drawn binomially at its
    test size. Why: the largest gap between small groups reads high on few rows, so a
    claim measured on more rows than the test has is missed by the test alone."""
    rng = np.random.default_rng(seed)
    n = np.asarray(sizes)
    rates = np.full(len(n), rate)
    rates[np.argmax(n)] = min(rate + claim, 1.0)
    shares = rng.binomial(n, rates, size=(draws, len(n))) / n
    gaps = shares.max(axis=1) - shares.min(axis=1)
    return float(gaps.mean()), float(np.mean(gaps > high))


def judgeable(record: dict[str, Any]) -> bool:
    """Whether every judged constraint's noise floor reaches :data:`FLOOR_ALLOWS` (a record
    without floors, made before they were recorded, is not judgeable)."""
    floors = [v.get("floor") for v in record["judged"].values()]
    return all(f is not None and f >= FLOOR_ALLOWS for f in floors)


def run(arm: Arm, seed: int, budget: float) -> dict[str, Any]:
    X, y_raw = table_of(arm)
    y = y_raw.to_numpy()
    strata = groups_of(arm, X).astype(str).agg("|".join, axis=1).to_numpy()
    split = split_rows(y, strata, seed)
    fit_rows = np.concatenate([split.train, split.val])
    X_fit, X_test = (
        X.iloc[fit_rows].reset_index(drop=True),
        X.iloc[split.test].reset_index(drop=True),
    )
    weight = None if arm.weight is None else X_fit[arm.weight].to_numpy(float)
    not_features = list(dict.fromkeys(c for c in (arm.weight, *arm.drop) if c is not None))
    features_fit, features_test = (
        X_fit.drop(columns=not_features),
        X_test.drop(columns=not_features),
    )
    automl = FairAutoML(
        constraints=list(arm.constraints), time_budget=budget, random_state=seed,
        **arm.fit_options(),
    )  # fmt: skip
    started = time.monotonic()
    fit_kwargs = {} if weight is None else {"sample_weight": weight}
    automl.fit(features_fit, y[fit_rows], sensitive_features=list(arm.sensitive), **fit_kwargs)
    wall = time.monotonic() - started
    pred = np.asarray(automl.predict(features_test))
    y_test = y[split.test]
    judge_w = None if arm.judge_weight is None else X_test[arm.judge_weight].to_numpy(float)
    judged = judge(arm, X_test, y_test, pred)
    return {
        "key": f"{arm.name}|{seed}|{budget:g}",
        "arm": arm.name,
        "seed": seed,
        "budget": budget,
        "wall_time": wall,
        "accuracy": float(np.average(pred == y_test, weights=judge_w)),
        "judged": judged,
        "within": all(v["within"] for v in judged.values()),
        "claims": _claims(automl.best_config_),
        "pick": f"{automl.best_config_.get('learner')} + {automl.best_config_.get('mitigator')}"
        f" + {automl.best_config_.get('post')}",
    }


def _claims(config: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The pick's claim per constraint the fit was given: its value on validation and its
    interval (the upper end is what the pick promises at ``level``)."""
    intervals = config.get("constraint_intervals") or {}
    return {
        name: {
            "value": float(value),
            "low": float(intervals[name][0]),
            "high": float(intervals[name][1]),
            "level": config.get("interval_level"),
        }
        for name, value in (config.get("constraint_values") or {}).items()
        if name in intervals
    }


def report(records: list[dict[str, Any]]) -> str:
    """The report: per budget and arm, runs within bound and test accuracy; per judged
    constraint, its mean test value; the per-attribute and weighting contrasts paired by
    seed."""
    lines = [
        "# The sensitive attribute as users have it: per attribute, weights, bins",
        "",
        "Made by `python -m benchmarks.scripts.sensitive_attributes` (default group-blind "
        f"`FairAutoML`, seeds {sorted({r['seed'] for r in records})}; 2 shared cores). "
        "Judged on the 20% test rows by fairlearn's metric functions on the raw test "
        f"columns; within bound = the value within bound + {SATISFIED_SLACK:g}. Accuracy of "
        "the weighted arms is weighted by `fnlwgt`. See the module docstring for the arms.",
        "",
    ]
    for budget in sorted({r["budget"] for r in records}):
        lines += [f"## {budget:g} s per search", "", *_section(records, budget), ""]
    return "\n".join(lines)


def _section(records: list[dict[str, Any]], budget: float) -> list[str]:
    rows, by_arm = [], {}
    for arm in ARMS.values():
        mine = [r for r in records if r["arm"] == arm.name and r["budget"] == budget]
        runs = [r for r in mine if r.get("status", "ok") == "ok"]
        failed = len(mine) - len(runs)
        by_arm[arm.name] = {r["seed"]: r for r in runs}
        if not runs:
            continue
        acc = np.array([r["accuracy"] for r in runs])
        values = "; ".join(
            f"`{c}` {fmt(float(np.mean([r['judged'][c]['value'] for r in runs])))} "
            f"({sum(r['judged'][c]['within'] for r in runs)}/{len(runs)})"
            for c in arm.judged
        )
        se = acc.std(ddof=1) / math.sqrt(len(acc)) if len(acc) > 1 else math.nan
        floors = [
            float(np.mean([r["judged"][c].get("floor") or math.nan for r in runs]))
            for c in arm.judged
        ]
        allowed = [r for r in runs if judgeable(r)]
        rows.append(
            {
                "arm": arm.name,
                "table": arm.dataset,
                "runs within bound": f"{sum(r['within'] for r in runs)}/{len(runs)}"
                + (f" ({failed} failed)" if failed else ""),
                "noise floor (per judged constraint)": " / ".join(fmt(f, 2) for f in floors),
                f"within where every floor ≥ {FLOOR_ALLOWS:g}": (
                    f"{sum(r['within'] for r in allowed)}/{len(allowed)}" if allowed else "–"
                ),
                "test accuracy": f"{fmt(float(acc.mean()), 4)} ± {fmt(se, 4)}",
                "seconds": fmt(float(np.mean([r["wall_time"] for r in runs])), 1),
                "mean test value (runs within its bound)": values,
            }
        )
    lines = [table(pd.DataFrame(rows)) if rows else "(no runs)", ""]
    lines += _claims_held(records, budget)
    for a, b, what in (
        ("per_attribute", "intersection", "per-attribute reading minus the intersectional one"),
        ("weighted", "unweighted", "weighted fit minus unweighted fit (weighted accuracy)"),
    ):
        seeds = sorted(set(by_arm.get(a, {})) & set(by_arm.get(b, {})))
        if seeds:
            diff = 100 * np.array(
                [by_arm[a][s]["accuracy"] - by_arm[b][s]["accuracy"] for s in seeds]
            )
            se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else math.nan
            lines.append(
                f"- {what}: {diff.mean():+.2f} ± {fmt(float(se), 2)} points of test accuracy "
                f"(paired by seed, n={len(seeds)})."
            )
    return lines


def _claims_held(records: list[dict[str, Any]], budget: float) -> list[str]:
    """Per arm and constrained key, how often the test value lies beyond the pick's claimed
    upper end: a claim at level L promises that in at most 1 - L of runs."""
    lines = []
    for arm in ARMS.values():
        for text in arm.constraints:
            key = parse_constraints([text])[0].key
            pairs = [
                (r["claims"][key], r["judged"][text])
                for r in records
                if r["arm"] == arm.name and r["budget"] == budget
                and r.get("status", "ok") == "ok" and key in r.get("claims", {})
                and text in r["judged"]
            ]  # fmt: skip
            if not pairs:
                continue
            above = sum(judged["value"] > claim["high"] for claim, judged in pairs)
            gap = np.array([judged["value"] - claim["value"] for claim, judged in pairs])
            se = gap.std(ddof=1) / math.sqrt(len(gap)) if len(gap) > 1 else math.nan
            level = pairs[0][0]["level"]
            line = (
                f"- {arm.name}, `{key}`: test value above the claim's upper end in "
                f"{above}/{len(pairs)} runs (the claim at level {level} promises at most "
                f"{1 - level:.0%}); test minus claimed value {gap.mean():+.3f} ± "
                f"{fmt(float(se), 3)}."
            )
            held = [
                reading_if_claim_holds(
                    claim["value"], claim["high"], judged["group_sizes"], judged["selection_rate"]
                )
                for claim, judged in pairs
                if "group_sizes" in judged
            ]
            if len(held) == len(pairs):
                line += (
                    " Were each pick's gap in truth what it claimed, its test rows alone would "
                    f"read {np.mean([m for m, _ in held]):.3f} on average (observed "
                    f"{np.mean([j['value'] for _, j in pairs]):.3f}) and land above the upper "
                    f"end in {sum(p for _, p in held):.1f} of {len(pairs)} runs "
                    "(`reading_if_claim_holds`)."
                )
            lines.append(line)
    return [*lines, ""] if lines else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument(
        "--again", action="store_true", help="run the chosen arms and seeds anew (appended)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "cells.jsonl"
    done = latest(read_records(path)) if path.exists() and not args.again else {}
    done = {k: r for k, r in done.items() if r.get("status", "ok") == "ok"}  # failed: again
    for seed in args.seeds:
        for name in args.arms:
            key = f"{name}|{seed}|{args.budget:g}"
            if key in done:
                continue
            try:
                record = run(ARMS[name], seed, args.budget)
            except Exception as exc:  # a failed run is recorded; the others go on
                error = f"{type(exc).__name__}: {exc}"[:500]
                record = {"key": key, "arm": name, "seed": seed, "budget": args.budget,
                          "status": "failed", "error": error}  # fmt: skip
                append_record(path, record)
                print(key, "FAILED", record["error"][:120], flush=True)
                continue
            append_record(path, {**record, "status": "ok"})
            print(key, record["within"], f"{record['accuracy']:.4f}", flush=True)
    records = list(latest(read_records(path)).values())
    (args.out / "report.md").write_text(report(records))


if __name__ == "__main__":
    main()
