"""Held-out check of the default search: fit on 80% of a bundled dataset, score the rest.

    python experiments/holdout_check.py adult --time-budget 60 --seed 0

Prints the chosen model, its wall time, and test accuracy and test constraint values
(the test rows are never seen by the search).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.model_selection import train_test_split

import fairautoml


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--constraint", action="append")
    parser.add_argument("--time-budget", type=float, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--controller", default="optuna")
    args = parser.parse_args()
    constraints = args.constraint or ["demographic_parity_difference <= 0.05"]
    X, y, s = fairautoml.datasets.load(args.dataset)
    strata = y.astype(str) + "|" + s.astype(str)
    idx_fit, idx_test = train_test_split(
        np.arange(len(y)), test_size=0.2, random_state=args.seed, stratify=strata
    )
    start = time.monotonic()
    automl = fairautoml.FairAutoML(
        constraints=constraints, time_budget=args.time_budget, random_state=args.seed,
        controller=args.controller,
    )  # fmt: skip
    automl.fit(X.iloc[idx_fit], y.iloc[idx_fit], sensitive_features=s.iloc[idx_fit])
    wall = time.monotonic() - start
    pred = automl.predict(X.iloc[idx_test], sensitive_features=s.iloc[idx_test])
    y_test, s_test = y.iloc[idx_test].to_numpy(), s.iloc[idx_test].to_numpy()
    report = {
        "dataset": args.dataset,
        "seed": args.seed,
        "time_budget": args.time_budget,
        "wall_seconds": round(wall, 1),
        "trials": len(automl.leaderboard_),
        "chosen": automl.best_config_["model"],
        "robust": automl.best_config_["robust"],
        "refitted": automl.best_config_["refitted"],
        "validation_accuracy": round(automl.best_config_["accuracy"], 4),
        "test_accuracy": round(float(np.mean(pred == y_test)), 4),
        **{
            f"test_{c.metric}": round(c.value(y_test, pred, s_test), 4)
            for c in fairautoml.parse_constraints(constraints)
        },
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
