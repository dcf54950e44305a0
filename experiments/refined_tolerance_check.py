"""Does measuring confirmed models at finer tolerances move the pick to a better model?

    python experiments/refined_tolerance_check.py run [--cells adult/eo05 ...] [--seeds 1 2]
    python experiments/refined_tolerance_check.py report

``run``: for each cell (the bench's frontier split: 60/20/20 per seed, the default
``FairAutoML`` fitted on train + validation for 30 s, one thread) the search runs once, with
confirmation measuring ``relaxed_thresholds`` at :data:`~fairautoml.confirm.REFINED_TOLERANCES`
too. Then the pick is made twice on the same leaderboard: as shipped, and with the points
at the refined tolerances left out (what the pick took before they were measured). Both
picks are rebuilt and scored on the test rows; one line per search goes to
``results/refined_tolerance/picks.jsonl`` (a finished search is skipped on the next run).
The comparison is paired on the same search, so the noise of which models a 30 s search
happens to train does not enter it.

``report``: ``results/refined_tolerance/report.md``, per cell and pooled: how often the
two picks differ, test accuracy difference (mean and standard error), runs within bound
(test violation <= bound + 0.01, as the bench counts).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "refined_tolerance"
CELLS = {
    "adult/dp05": ("adult", "demographic_parity_difference <= 0.05"),
    "adult/eo05": ("adult", "equalized_odds_difference <= 0.05"),
    "adult/eo02": ("adult", "equalized_odds_difference <= 0.02"),
    "dutch/dp05": ("dutch", "demographic_parity_difference <= 0.05"),
    "dutch/eo05": ("dutch", "equalized_odds_difference <= 0.05"),
    "dutch/eo02": ("dutch", "equalized_odds_difference <= 0.02"),
}
SEEDS = (1, 2, 3, 4)


def _task(name: str, seed: int):
    from fairautoml.bench.config import parse_config
    from fairautoml.bench.runner import _task, make_cells

    dataset, constraint = CELLS[name]
    config = parse_config(
        {"name": "refined", "datasets": [dataset], "constraints": [constraint],
         "budgets": [30], "seeds": [seed], "methods": ["fairautoml"], "threads": 1},
        base=ROOT / "experiments",
    )  # fmt: skip
    (cell,) = make_cells(config)
    return _task(cell)


def refined_rows(automl) -> pd.Series:
    """Leaderboard rows measured only because of the refined grid: confirmed points of a
    refinable post-processor at a tolerance the search's levels do not list."""
    from fairautoml import record
    from fairautoml.confirm import refinable
    from fairautoml.mitigators import get_mitigator

    board = automl.leaderboard_

    def refined(row) -> bool:
        if not row.confirmed or not refinable(row.post):
            return False
        (tolerance,) = [p for p in get_mitigator(row.post).space.params if p.name == "tolerance"]
        params = record.candidate(automl.study_.trials[int(row.trial)]).post_params
        return params["tolerance"] not in tolerance.levels

    return pd.Series([refined(r) for r in board.itertuples(index=False)], index=board.index)


def search(name: str, seed: int) -> dict:
    from fairautoml import record
    from fairautoml.automl import FairAutoML
    from fairautoml.bench.measure import score_on_test
    from fairautoml.evaluate import evaluate_candidate
    from fairautoml.search_builder import search_context, trial_context
    from fairautoml.selection import PickPolicy

    task, (X_te, y_te, s_te) = _task(name, seed)
    X, y, s = task.trainval
    automl = FairAutoML(
        constraints=list(task.constraints), time_budget=30.0, random_state=seed, n_jobs=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X, y, sensitive_features=s)
    board = automl.leaderboard_
    refined = refined_rows(automl)
    plain = board[~refined].drop(columns=["tier", "pickable"])
    without = int(PickPolicy().rank(plain, "accuracy").iloc[0]["trial"])
    shipped = int(automl.best_config_["trial"])
    ctx, _ = search_context(automl.get_params(), X, y, s)
    out = {"cell": name, "seed": seed, "refined_points": int(refined.sum())}
    for label, number in (("shipped", shipped), ("without", without)):
        trial = automl.study_.trials[number]
        model = evaluate_candidate(record.candidate(trial), trial_context(ctx, trial)).model
        scores = score_on_test(task.constraints, y_te, model.predict(X_te, s_te), s_te)
        row = board.set_index("trial").loc[number]
        out[label] = {
            "trial": number, "confirmed": bool(row["confirmed"]), "tier": row["tier"],
            "post": row["post"], "tolerance": record.candidate(trial).post_params.get("tolerance"),
            "val_accuracy": float(row["accuracy"]), "test_accuracy": scores["test_accuracy"],
            "test_violation": scores["test_violation"], "satisfied": scores["satisfied"],
        }  # fmt: skip
    return out


def run(cells: list[str], seeds: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "picks.jsonl"
    done = set()
    if path.exists():
        done = {(r["cell"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())}
    for name in cells:
        for seed in seeds:
            if (name, seed) in done:
                continue
            row = search(name, seed)
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            s, w = row["shipped"], row["without"]
            print(f"{name} seed {seed}: shipped {s['test_accuracy']:.4f} ({s['tolerance']}) "
                  f"without {w['test_accuracy']:.4f} ({w['tolerance']})", flush=True)  # fmt: skip


def _mean_se(values: list[float]) -> str:
    if not values:
        return "–"
    m = float(np.mean(values))
    if len(values) < 2:
        return f"{m:+.2f} (n=1)"
    se = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return f"{m:+.2f} ± {se:.2f} (n={len(values)})"


def report() -> None:
    rows = [json.loads(line) for line in (OUT / "picks.jsonl").read_text().splitlines()]
    lines = [
        "# Finer tolerances on confirmed models: the pick with and without them",
        "",
        f"Produced by `experiments/refined_tolerance_check.py` (protocol in its docstring): "
        f"{len(rows)} searches, each picked twice on its own leaderboard. Δ: shipped minus "
        "without, test accuracy in points over every search (and over the searches where "
        "the picks differ); within bound: test violation <= bound + 0.01.",
        "",
        "| cell | searches | picks differ | Δ test acc (pts) | Δ where they differ | "
        "within bound shipped / without |",
        "|---|---|---|---|---|---|",
    ]
    groups = {name: [r for r in rows if r["cell"] == name] for name in CELLS}
    groups["pooled"] = rows
    for name, group in groups.items():
        if not group:
            continue
        deltas = [
            100 * (r["shipped"]["test_accuracy"] - r["without"]["test_accuracy"]) for r in group
        ]
        differ = [d for d, r in zip(deltas, group, strict=True)
                  if r["shipped"]["trial"] != r["without"]["trial"]]  # fmt: skip
        sat = sum(r["shipped"]["satisfied"] for r in group)
        sat_without = sum(r["without"]["satisfied"] for r in group)
        lines.append(
            f"| {name} | {len(group)} | {len(differ)} | {_mean_se(deltas)} | "
            f"{_mean_se(differ)} | {sat} / {sat_without} |"
        )
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    args = parser.parse_args()
    if args.action == "run":
        run(args.cells, args.seeds)
    else:
        report()


if __name__ == "__main__":
    sys.exit(main())
