"""Where does ExponentiatedGradient's accuracy lead in the blind sweep come from?

    python experiments/blind_headroom.py [--datasets adult dutch] [--seeds 1 2 3 4 5 6]
        [--constraint equalized_odds_difference]

Per dataset x seed, on exactly a blind bench cell's rows (the bench's split; the search's
own train/validation split of them), LightGBM at the search's defaults, one thread:

* *plain, every row*: unconstrained, trained on train + validation, as ``eg_lightgbm``
  trains its models; its test accuracy and test violation show how far from the bound
  the plain model already is;
* *plain, train*: the same on the search's training rows only (75%);
* the two group-blind post-processors (``bias_score_blind``, ``inferred_thresholds``) fitted
  on validation to that model's scores at aims of 0.8, 0.9 and 1.0 of the bound, with
  P(group | x) from a LightGBM group classifier on the training rows (as the search has it).

Beside them, from ``results/blind/cells.jsonl``: ``eg_lightgbm``'s run and fairautoml's pick
at ``--commit`` in the same cell. Writes nothing; ``results/blind_headroom.md`` holds a run.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BOUND = 0.05
AIMS = (0.8, 0.9, 1.0)
POSTS = ("bias_score_blind", "inferred_thresholds")


def anchor_runs(constraint: str, commit: str) -> dict[tuple, dict]:
    """(dataset, seed, method) -> eg_lightgbm's cell (its last run) and fairautoml's at commit."""
    runs: dict[tuple, dict] = {}
    for line in (ROOT / "results" / "blind" / "cells.jsonl").read_text().splitlines():
        c = json.loads(line)
        if c["constraint_label"] != f"{constraint} <= {BOUND}" or c.get("status") != "ok":
            continue
        if c["method"] == "eg_lightgbm" or (c["method"] == "fairautoml" and c["commit"] == commit):
            runs[(c["dataset"], c["seed"], c["method"])] = c
    return runs


def run(dataset: str, constraint: str, seed: int) -> dict[str, tuple[float, float]]:
    """Name -> (test accuracy, test violation) of the plain model and its post-processings."""
    from fairautoml.bench.runner import cell_task
    from fairautoml.constraints import evaluate_constraints, parse_constraint
    from fairautoml.data import FeatureSchema, as_frame
    from fairautoml.learners import get_learner
    from fairautoml.metrics import get_metric
    from fairautoml.mitigators import get_mitigator
    from fairautoml.splits import split_train_validation

    label = f"{constraint} <= {BOUND}"
    task, (X_test, y_test, s_test) = cell_task(dataset, label, seed, base=ROOT / "experiments")
    X, y, s = task.trainval
    schema = FeatureSchema.infer(as_frame(X))  # the search's columns: strings as categories
    X, X_test = schema.transform(as_frame(X)), schema.transform(as_frame(X_test))
    y, y_test = np.asarray(y), np.asarray(y_test)
    codes = {g: i for i, g in enumerate(sorted(set(s)))}
    groups = np.array([codes[g] for g in s])
    test_groups = np.array([codes[g] for g in s_test])
    train, val = split_train_validation(np.asarray(y), groups, 0.25, seed)
    learner = get_learner("lightgbm")
    defaults = learner.space.defaults()
    (bound,) = [parse_constraint(label)]
    metric = get_metric("accuracy")

    def measured(pred: np.ndarray) -> tuple[float, float]:
        values = evaluate_constraints([bound], y_test, pred, test_groups)
        return float(np.mean(pred == y_test)), values[bound.metric] - BOUND

    out: dict[str, tuple[float, float]] = {}
    every_row = learner.make(defaults, seed).fit(X, y)
    out["plain, every row"] = measured(every_row.predict(X_test))
    model = learner.make(defaults, seed).fit(X.iloc[train], y[train])
    out["plain, train"] = measured(model.predict(X_test))
    group_model = learner.make(defaults, seed).fit(X.iloc[train], groups[train])
    val_scores = model.predict_proba(X.iloc[val])[:, 1]
    test_scores = model.predict_proba(X_test)[:, 1]
    val_proba, test_proba = (group_model.predict_proba(Z) for Z in (X.iloc[val], X_test))
    for post in POSTS:
        for aim in AIMS:
            params = {"tolerance": aim} if post == "inferred_thresholds" else {"slack": 1 - aim}
            rule = get_mitigator(post).fit(
                val_scores, y[val], groups[val], [bound], metric, params, seed,
                group_proba=val_proba,
            )  # fmt: skip
            pred = rule.predict(test_scores, None, group_proba=test_proba)
            out[f"{post} {aim}"] = measured(np.asarray(pred))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["adult", "dutch"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--constraint", default="equalized_odds_difference")
    parser.add_argument("--commit", default="cfb3c79", help="fairautoml's cells to show")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT))
    cells = anchor_runs(args.constraint, args.commit)
    print(f"{args.constraint} <= {BOUND}, blind; test accuracy / test violation\n")
    names = ["plain, every row", "plain, train", *(f"{p} {a}" for p in POSTS for a in AIMS)]
    print("| dataset | seed | eg_lightgbm | fairautoml pick | " + " | ".join(names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    means: dict[str, list] = {}
    for dataset in args.datasets:
        for seed in args.seeds:
            out = run(dataset, args.constraint, seed)
            for method in ("eg_lightgbm", "fairautoml"):
                c = cells.get((dataset, seed, method))
                if c is not None:
                    out[method] = (c["test_accuracy"], c["test_violation"])
            shown = ["eg_lightgbm", "fairautoml", *names]
            row = [f"{out[n][0]:.4f} / {out[n][1]:+.3f}" if n in out else "–" for n in shown]
            print(f"| {dataset} | {seed} | " + " | ".join(row) + " |", flush=True)
            for n, v in out.items():
                means.setdefault(f"{dataset}|{n}", []).append(v)
    print("\nMeans over seeds (test accuracy, test violation, runs within bound + 0.01):\n")
    for key, values in means.items():
        a = np.array(values)
        within = int(np.sum(a[:, 1] <= 0.01))
        print(f"- {key}: {a[:, 0].mean():.4f}, {a[:, 1].mean():+.3f}, {within}/{len(a)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
