"""Measure the search controllers and the allocator ablation on held-out test data.

Each cell is (dataset, constraint, seed, budget, variant); a variant is
``controller/allocator``, e.g. ``optuna/auto``, ``admm/auto``, ``optuna/never``. A cell
splits the data 60/20/20 (stratified on label x group): FairAutoML fits on the 80%
(``validation_fraction=0.25`` makes its own 60/20 train/validation split) and the chosen
model is scored once on the untouched 20% test rows. One JSON line per cell is appended
to the output; cells already there are skipped, so an interrupted sweep resumes.

    python experiments/controllers.py run --datasets german --constraints dp eo \\
        --seeds 0 --budget 15 --out results/controllers_smoke.jsonl --n-jobs 1
    python experiments/controllers.py report results/controllers_smoke.jsonl \\
        --out results/controllers_smoke.md

Until issue 3's in-processing mitigators are merged, ``stand_ins.py`` registers a
fairlearn ExponentiatedGradient wrapper so the allocator has something to allocate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

CONSTRAINTS = {
    "dp": "demographic_parity_difference <= 0.05",
    "eo": "equalized_odds_difference <= 0.05",
}
TOLERANCE = 0.01  # a run "satisfies" the constraint on test when value <= bound + 0.01
VARIANT_SETS = {
    "default": ["optuna/auto", "admm/auto", "flaml/auto", "optuna/always", "optuna/never"],
    "samplers": ["optuna/never", "optuna[nsga2]/never", "optuna[random]/never"],
    "flaml": ["flaml/never", "flaml[blendsearch]/never"],
}


def register_variants() -> list[str]:
    """Stand-in mitigators and the controller variants measured against the defaults."""
    from stand_ins import register_stand_ins

    from fairautoml.search import get_controller, register_controller
    from fairautoml.search.flaml_cfo import FlamlController
    from fairautoml.search.optuna_mo import OptunaController

    registered = register_stand_ins()
    for kind in ("nsga2", "random", "tpe"):
        name = f"optuna[{kind}]"
        try:
            get_controller(name)
        except KeyError:
            attrs = {"name": name, "default_sampler": kind}
            register_controller(type(f"Optuna_{kind}", (OptunaController,), attrs))
    try:
        get_controller("flaml[blendsearch]")
    except KeyError:
        attrs = {"name": "flaml[blendsearch]", "search_alg": "BlendSearch"}
        register_controller(type("FlamlBlendSearch", (FlamlController,), attrs))
    return registered


def split(y: np.ndarray, s: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the 80% fit rows and the 20% test rows, stratified on label x group."""
    strata = np.char.add(np.asarray(y).astype(str), np.asarray(s).astype(str))
    idx = np.arange(len(y))
    return train_test_split(idx, test_size=0.2, random_state=seed, stratify=strata)


def run_cell(cell: dict) -> dict:
    import fairautoml
    from fairautoml.constraints import parse_constraint
    from fairautoml.exceptions import InfeasibleWarning

    stand_ins = register_variants()
    X, y, s = fairautoml.datasets.load(cell["dataset"])
    fit_idx, test_idx = split(y.to_numpy(), s.to_numpy(), cell["seed"])
    constraint = parse_constraint(CONSTRAINTS[cell["constraint"]])
    controller, allocator = cell["variant"].split("/")
    est = fairautoml.FairAutoML(
        str(constraint),
        time_budget=cell["budget"],
        controller=controller,
        allocator=allocator,
        validation_fraction=0.25,
        random_state=cell["seed"],
        sensitive_at_predict=cell.get("sensitive_at_predict", True),
    )
    started = dt.datetime.now()
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfeasibleWarning)
        warnings.simplefilter("ignore", FutureWarning)
        est.fit(X.iloc[fit_idx], y.iloc[fit_idx], sensitive_features=s.iloc[fit_idx])
    wall = time.monotonic() - t0
    X_te, y_te, s_te = X.iloc[test_idx], y.iloc[test_idx], s.iloc[test_idx]
    pred = est.predict(X_te, sensitive_features=s_te)
    y_true = (y_te.to_numpy() == est.classes_[1]).astype(int)
    y_pred = (pred == est.classes_[1]).astype(int)
    value = constraint.value(y_true, y_pred, s_te.to_numpy())
    trials = est.study_.trials
    trained = [t for t in trials if "derived_from" not in t.user_attrs]
    feasible_times = [
        (t.datetime_complete - started).total_seconds()
        for t in trials
        if t.user_attrs.get("status") == "ok"
        and t.datetime_complete is not None
        and all(v <= 0 for v in t.constraints.values())
    ]
    cfg = est.best_config_
    return {
        **cell,
        "test_accuracy": float(np.mean(y_true == y_pred)),
        "test_value": float(value),
        "test_violation": float(max(0.0, constraint.violation(value))),
        "test_satisfied": bool(value <= constraint.bound + TOLERANCE),
        "val_accuracy": float(cfg["accuracy"]),
        "val_feasible": bool(cfg["feasible"]),
        "robust": bool(cfg["robust"]),
        "model": cfg["model"],
        "trained": len(trained),
        "points": len(trials),
        "in_processing": sum("in_mitigator" in t.params for t in trained),
        "failed": sum(t.user_attrs.get("status") == "failed" for t in trained),
        "first_feasible_s": min(feasible_times) if feasible_times else None,
        "fit_seconds": wall,
        "stand_ins": stand_ins,
        "load": os.getloadavg()[0],
    }


def key(record: dict) -> tuple:
    fields = ("dataset", "constraint", "seed", "budget", "variant")
    return (*(record[k] for k in fields), record.get("sensitive_at_predict", True))


def cmd_run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {key(json.loads(line)) for line in out.read_text().splitlines() if line.strip()}
    variants = [v for name in args.variants for v in VARIANT_SETS.get(name, [name])]
    variants = list(dict.fromkeys(variants))
    extra = {} if args.group_at_predict else {"sensitive_at_predict": False}
    cells = [
        {"dataset": d, "constraint": c, "seed": s, "budget": args.budget, "variant": v, **extra}
        for d in args.datasets
        for c in args.constraints
        for s in args.seeds
        for v in variants
    ]
    todo = [c for c in cells if key(c) not in done]
    print(f"{len(cells)} cells, {len(cells) - len(todo)} done, {len(todo)} to run")
    out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.n_jobs) as pool:
        futures = {pool.submit(run_cell, c): c for c in todo}
        for future in as_completed(futures):
            cell = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # report and go on with the other cells
                print(f"FAILED {key(cell)}: {type(exc).__name__}: {exc}")
                continue
            with out.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            print(
                f"{key(cell)} test acc {record['test_accuracy']:.4f} "
                f"value {record['test_value']:.4f} trained {record['trained']} "
                f"({record['fit_seconds']:.1f}s)"
            )


def cmd_report(args: argparse.Namespace) -> None:
    from report_controllers import report

    text = report([json.loads(x) for x in Path(args.jsonl).read_text().splitlines() if x])
    if args.out:
        Path(args.out).write_text(text)
    print(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--datasets", nargs="+", default=["german"])
    run.add_argument("--constraints", nargs="+", default=["dp", "eo"], choices=CONSTRAINTS)
    run.add_argument("--seeds", nargs="+", type=int, default=[0])
    run.add_argument("--budget", type=float, default=15)
    run.add_argument("--variants", nargs="+", default=["default"])
    run.add_argument("--out", required=True)
    run.add_argument("--n-jobs", type=int, default=1)
    run.add_argument(
        "--no-group-at-predict", dest="group_at_predict", action="store_false",
        help="only models that never need the group at predict time (no group thresholds)",
    )  # fmt: skip
    rep = sub.add_parser("report")
    rep.add_argument("jsonl")
    rep.add_argument("--out")
    args = parser.parse_args(argv)
    {"run": cmd_run, "report": cmd_report}[args.command](args)


if __name__ == "__main__":
    main()
