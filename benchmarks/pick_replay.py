"""Replay pick rules on every point of real searches, each point scored on the test rows.

    python benchmarks/pick_replay.py run [--cells adult/eo05 ...] [--seeds 1 2] [--out DIR]
                                          [--blind]
    python benchmarks/pick_replay.py report [--out DIR]

``run``: for each cell (the bench's frontier split: 60/20/20 per seed, the default
``FairAutoML`` fitted on train + validation for 30 s, one thread) every trained point the
search measured is kept with its model (the in-memory trimming is switched off), and its
validation record (tier inputs: violation, assurance, balanced accuracy, selection rate,
accuracy; whether it was confirmed on every row after the search and which trial trained
its model) is written beside its test accuracy, test violation and noise floor to
``results/pick_replay/points-CELL.jsonl.gz`` (one line per point; a finished search is
skipped on the next run). ``--blind``: the search fits with ``sensitive_at_predict=False``
and every point is scored on test without the group, as the bench's blind cells are.

``report``: applies pick rules to the same leaderboards and writes
``results/pick_replay/report.md``: per rule and cell, how many picks are within bound on
test (+ 0.01, as the bench counts) and their mean test accuracy. The rules differ only in
how the pick treats the sampling noise of the validation rows; each is a function of the
recorded validation columns, so the comparison is paired (same searches, same points).
The ``policy, ...`` rules run the shipped pick policy itself and differ in how they treat
confirmed points; they need searches recorded with confirmation (``--out
results/pick_replay/confirmed``; the searches in ``results/pick_replay`` predate it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "pick_replay"
NOPROXY = {"name": "adult_noproxy", "bundled": "adult", "drop": ["relationship", "marital-status"]}
CELLS = {
    "adult/dp05": ("adult", "demographic_parity_difference <= 0.05"),
    "adult/eo05": ("adult", "equalized_odds_difference <= 0.05"),
    "adult/eo02": ("adult", "equalized_odds_difference <= 0.02"),
    "compas/dp05": ("compas", "demographic_parity_difference <= 0.05"),
    "compas/eo05": ("compas", "equalized_odds_difference <= 0.05"),
    "german/dp05": ("german", "demographic_parity_difference <= 0.05"),
    "german/eo05": ("german", "equalized_odds_difference <= 0.05"),
    "dutch/eo02": ("dutch", "equalized_odds_difference <= 0.02"),
    "dutch/eo05": ("dutch", "equalized_odds_difference <= 0.05"),
    "dutch/dp05": ("dutch", "demographic_parity_difference <= 0.05"),
    "adult_noproxy/dp05": (NOPROXY, "demographic_parity_difference <= 0.05"),
    "adult_noproxy/eo05": (NOPROXY, "equalized_odds_difference <= 0.05"),
}
SEEDS = (1, 2, 3, 4)
BUDGET = 30.0
COLUMNS = ("status", "violation", "robust_violation", "assurance", "balanced_accuracy",
           "selection_rate", "accuracy")  # fmt: skip


def _cell(name: str, seed: int):
    from fairautoml.bench.runner import cell_task

    dataset, constraint = CELLS[name]
    return cell_task(dataset, constraint, seed, BUDGET, base=ROOT / "experiments")


def search(name: str, seed: int, blind: bool = False) -> list[dict]:
    import fairautoml.automl as automl_module
    import fairautoml.search_builder as search_builder
    from fairautoml import record
    from fairautoml.bench.measure import noise_floor, score_on_test

    task, (X_te, y_te, s_te) = _cell(name, seed)
    kept: dict = {}

    def keep_all(evaluations, keep, policy):  # the replay needs every point's model
        kept["evaluations"] = evaluations

    search_builder.forget_weak_models = keep_all
    X, y, s = task.trainval
    automl = automl_module.FairAutoML(
        constraints=list(task.constraints),
        time_budget=task.budget,
        random_state=seed,
        n_jobs=1,
        sensitive_at_predict=not blind,
    )
    automl.fit(X, y, sensitive_features=s)
    board = automl.leaderboard_.set_index("trial")
    rows = []
    for number, evaluation in kept["evaluations"].items():
        if evaluation.model is None or number not in board.index:
            continue
        r = board.loc[number]
        if r["status"] != "ok":
            continue
        pred = evaluation.model.predict(X_te, None if blind else s_te)
        scores = score_on_test(task.constraints, y_te, pred, s_te)
        rows.append({
            "cell": name, "seed": seed, "trial": int(number), "tier": r["tier"],
            "model": evaluation.result.candidate.describe(),
            "chosen": bool(r["chosen"]), "confirmed": bool(r["confirmed"]),
            "trained": record.derived_from(automl.study_.trials[int(number)]),
            **{c: (r[c] if c == "status" else float(r[c])) for c in COLUMNS},
            "test_accuracy": scores["test_accuracy"],
            "test_balanced_accuracy": scores["test_balanced_accuracy"],
            "test_violation": scores["test_violation"], "satisfied": scores["satisfied"],
            "test_noise_floor": noise_floor(task.constraints, y_te, pred, s_te),
        })  # fmt: skip
    return rows


def run(cells: list[str], seeds: list[int], out: Path = OUT, blind: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in cells:
        path = out / f"points-{name.replace('/', '-')}.jsonl.gz"
        done = set()
        if path.exists():
            with gzip.open(path, "rt") as fh:
                done = {json.loads(line)["seed"] for line in fh}
        for seed in seeds:
            if seed in done or (name.endswith("02") and seed == 4):
                continue
            started = time.monotonic()
            rows = search(name, seed, blind)
            with gzip.open(path, "at") as fh:  # one gzip member per search
                fh.writelines(json.dumps(row) + "\n" for row in rows)
            print(f"{name} seed {seed}: {len(rows)} points, {time.monotonic() - started:.0f} s",
                  flush=True)  # fmt: skip


# --- rules ----------------------------------------------------------------------------------


def _z(level: float) -> float:
    return NormalDist().inv_cdf(level)


def _useful(points: pd.DataFrame) -> pd.DataFrame:
    """Feasible on validation, not constant, above the raised usefulness floor."""
    from fairautoml.selection import PickPolicy

    policy = PickPolicy().raised(points.itertuples())
    feasible = points[(points["violation"] <= 0) & ~points["selection_rate"].isin([0.0, 1.0])]
    return feasible[feasible["balanced_accuracy"] >= policy.min_usefulness]


def ladder_rule(required: float, ladder: tuple[float, ...]):
    """Most accurate useful point holding by ``required`` standard errors; else the most
    accurate at the highest ``ladder`` step (in standard errors) any useful point reaches."""

    def pick(points: pd.DataFrame) -> pd.Series | None:
        useful = _useful(points)
        if useful.empty:
            return None
        for z in (required, *ladder):
            ok = useful[useful["assurance"] >= z]
            if not ok.empty:
                return ok.sort_values(["accuracy", "trial"], ascending=[False, True]).iloc[0]
        return useful.sort_values(["accuracy", "trial"], ascending=[False, True]).iloc[0]

    return pick


def safest_rule(required: float, band: float):
    """Most accurate useful point holding by ``required`` standard errors; else the most
    accurate among those within ``band`` standard errors of the best assurance reached."""

    def pick(points: pd.DataFrame) -> pd.Series | None:
        useful = _useful(points)
        if useful.empty:
            return None
        ok = useful[useful["assurance"] >= required]
        if ok.empty:
            ok = useful[useful["assurance"] >= useful["assurance"].max() - band]
        return ok.sort_values(["accuracy", "trial"], ascending=[False, True]).iloc[0]

    return pick


def policy_rule(confirmation: str, levels: tuple[float, float] = (0.9, 0.9)):
    """The shipped :class:`~fairautoml.selection.PickPolicy` on the points, with the
    confirmed points (measured again on every row after a holdout search) treated as
    ``confirmation`` says: "first" (as shipped: a confirmed point ranks first in its
    tier), "supersedes" (a confirmed model's unconfirmed points are dropped, every other
    point competes on accuracy within its tier) or "ignored" (confirmed or not alike).
    ``levels``: the one-sided confidence with which an unconfirmed and a confirmed point
    must meet the constraints to be robust (as shipped: 0.9 both, the upper end of the
    central 80% interval; ``results/confirmed_margin/`` measured 0.8 for confirmed ones)."""
    from fairautoml.selection import PickPolicy

    def pick(points: pd.DataFrame) -> pd.Series | None:
        if "confirmed" not in points or not points["confirmed"].any():
            return None  # searches recorded before confirmation
        pts = points.copy()
        if levels != (0.9, 0.9):  # the recorded robust_violation is at 0.9
            z = np.where(pts["confirmed"], _z(levels[1]), _z(levels[0]))
            pts["robust_violation"] = np.where(pts["assurance"] >= z, -1.0, 1.0)
        if confirmation == "supersedes":
            confirmed_models = set(pts.loc[pts["confirmed"], "trained"])
            pts = pts[pts["confirmed"] | ~pts["trained"].isin(confirmed_models)]
        if confirmation != "first":
            pts["confirmed"] = False
        ranked = PickPolicy().rank(pts.reset_index(drop=True), "accuracy")
        return points[points["trial"] == int(ranked.iloc[0]["trial"])].iloc[0]

    return pick


LADDER = tuple(_z(x) for x in (0.8, 0.7, 0.6, 0.5))
FINE = tuple(_z(x) for x in np.arange(0.85, 0.49, -0.05))
RULES = {
    "shipped (chosen)": None,
    "ladder 90% (replayed)": ladder_rule(_z(0.9), LADDER),
    # the same ladder asked from a lower level: what each step of confidence costs
    "ladder 80%": ladder_rule(_z(0.8), LADDER[1:]),
    "ladder 70%": ladder_rule(_z(0.7), LADDER[2:]),
    "ladder 60%": ladder_rule(_z(0.6), LADDER[3:]),
    "ladder 90%, fine steps": ladder_rule(_z(0.9), FINE),
    "90%, else safest ± 0.25 se": safest_rule(_z(0.9), 0.25),
    "90%, else safest ± 0.5 se": safest_rule(_z(0.9), 0.5),
    "95%, else safest ± 0.25 se": safest_rule(_z(0.95), 0.25),
    "prediction 90% (√2 se), else safest ± 0.25": safest_rule(_z(0.9) * math.sqrt(2), 0.25),
    "point (most accurate feasible)": ladder_rule(-math.inf, ()),
    "policy, confirmed first in its tier": policy_rule("first"),
    "policy, confirmed at 80% (e14875f)": policy_rule("first", (0.9, 0.8)),
    "policy, confirmed at 70%": policy_rule("first", (0.9, 0.7)),
    "policy, confirmed at 60%": policy_rule("first", (0.9, 0.6)),
    "policy, every point at 80%": policy_rule("first", (0.8, 0.8)),
    "policy, every point at 70%": policy_rule("first", (0.7, 0.7)),
    "policy, confirmation supersedes its model's points": policy_rule("supersedes"),
    "policy, confirmation ignored": policy_rule("ignored"),
}


def report(out: Path = OUT) -> None:
    points = pd.concat(pd.read_json(p, lines=True) for p in sorted(out.glob("points-*.jsonl.gz")))
    picks = []
    for (cell, seed), g in points.groupby(["cell", "seed"], sort=False):
        for rule, pick in RULES.items():
            row = g[g["chosen"]].iloc[0] if pick is None and g["chosen"].any() else (
                pick(g) if pick is not None else None)  # fmt: skip
            if row is None:
                continue
            picks.append({"rule": rule, "cell": cell, "seed": seed,
                          "satisfied": bool(row["satisfied"]), "acc": row["test_accuracy"],
                          "bal": row["test_balanced_accuracy"],
                          "floor": row["test_noise_floor"]})  # fmt: skip
    frame = pd.DataFrame(picks)
    searches = points.groupby(["cell", "seed"]).ngroups
    lines = [
        "# Pick rules replayed on the same searches",
        "",
        f"Produced by `benchmarks/pick_replay.py` (protocol in its docstring): {searches} "
        f"searches, {len(points)} points scored on test. Per rule: picks within bound on "
        "test (+ 0.01) / picks and mean test accuracy of all picks, pooled and per cell. The "
        "last line: each cell's noise floor (the chance a perfectly fair model as useful as "
        "the shipped pick reads within bound on those test rows; `bench/measure.py`).",
        "",
        "| rule | within bound | mean test acc | mean bal. acc | " + " | ".join(CELLS) + " |",
        "|---|---|---|---|" + "---|" * len(CELLS),
    ]
    for rule in RULES:
        f = frame[frame["rule"] == rule]
        cells = []
        for cell in CELLS:
            c = f[f["cell"] == cell]
            cells.append(f"{int(c['satisfied'].sum())}/{len(c)} {c['acc'].mean():.3f}"
                         if len(c) else "–")  # fmt: skip
        lines.append(
            f"| {rule} | {int(f['satisfied'].sum())}/{len(f)} | {f['acc'].mean():.4f} | "
            f"{f['bal'].mean():.3f} | " + " | ".join(cells) + " |"
        )
    floors = frame[frame["rule"] == "shipped (chosen)"].groupby("cell")["floor"].mean()
    lines += ["", "Noise floor of the shipped picks per cell: "
              + ", ".join(f"{c} {v:.2f}" for c, v in floors.items()) + "."]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the points and report")
    parser.add_argument(
        "--blind", action="store_true", help="search and score without the group at predict time"
    )
    args = parser.parse_args()
    if args.action == "run":
        run(args.cells, args.seeds, args.out, args.blind)
    else:
        report(args.out)


if __name__ == "__main__":
    sys.exit(main())
