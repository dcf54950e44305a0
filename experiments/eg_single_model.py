"""Why fairlearn's ExponentiatedGradient around LightGBM is more accurate than our blind picks
at equalized odds: what its model is, and what one LightGBM fit at its multipliers gives.

    python experiments/eg_single_model.py [--dataset adult] [--seeds 1 2 3]

Per seed (the bench's split; EG as the ``eg_lightgbm`` anchor runs it: LightGBM's
defaults, every fit row, bound 0.05, here ``max_iter`` 50 in one run), prints the test
accuracy and test violation (value minus bound) of: LightGBM's defaults on the training
rows and on every fit row; EG's randomized predictions and its derandomised mixture (a
row is positive when the members' weighted vote is at least one half); how many members
carry weight; and LightGBM fitted once on the rows relabelled and reweighted as fairlearn's
Lagrangian does at EG's final multipliers (``lambda_vecs_``'s last column), with the
seconds each took. Writes nothing; ``results/eg_single_model/README.md`` holds a run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BOUND = 0.05


def lagrangian_fit(estimator, X, y, s, lambda_vec):
    """``estimator`` fitted once as fairlearn's Lagrangian fits its best response to
    ``lambda_vec``: labels from the sign of the signed weights, weights their size."""
    from fairlearn.reductions import EqualizedOdds, ErrorRate

    objective, constraint = ErrorRate(), EqualizedOdds(difference_bound=BOUND)
    objective.load_data(X, y, sensitive_features=s)
    constraint.load_data(X, y, sensitive_features=s)
    signed = objective.signed_weights() + constraint.signed_weights(lambda_vec)
    weights = signed.abs()
    return estimator.fit(
        X, (signed > 0).astype(int).to_numpy(), sample_weight=(len(y) * weights / weights.sum())
    )


def run(dataset: str, seed: int) -> str:
    from fairlearn.reductions import EqualizedOdds, ExponentiatedGradient
    from lightgbm import LGBMClassifier

    from fairautoml.bench.measure import score_on_test
    from fairautoml.bench.runner import cell_task

    task, (X_test, y_test, s_test) = cell_task(
        dataset, f"equalized_odds_difference <= {BOUND}", seed, base=ROOT / "experiments"
    )
    X, y, s = task.trainval
    X_fit = task.features(X).reset_index(drop=True)
    X_te = task.features(X_test)

    def lgbm():
        return LGBMClassifier(verbosity=-1, n_jobs=1, random_state=seed)

    def scored(pred) -> str:
        r = score_on_test(task.constraints, y_test, np.asarray(pred).astype(int), s_test)
        return f"{r['test_accuracy']:.4f} ({r['test_violation']:+.3f})"

    out = [f"{dataset} seed {seed}"]
    part = lgbm().fit(task.features(task.X_train), task.y_train)
    out.append(f"LightGBM, training rows {scored(part.predict(X_te))}")
    clock = time.perf_counter()
    full = lgbm().fit(X_fit, y)
    out.append(f"every fit row {scored(full.predict(X_te))} {time.perf_counter() - clock:.1f} s")
    clock = time.perf_counter()
    eg = ExponentiatedGradient(lgbm(), EqualizedOdds(difference_bound=BOUND), max_iter=50)
    eg.fit(X_fit, y, sensitive_features=s)
    seconds = time.perf_counter() - clock
    members = int((np.asarray(eg.weights_) > 1e-6).sum())
    out.append(
        f"EG randomized {scored(eg.predict(X_te, random_state=seed))}, derandomised "
        f"{scored(eg._pmf_predict(X_te)[:, 1] >= 0.5)}, {members} member(s), "
        f"{eg.last_iter_ + 1} iterations, {seconds:.1f} s"
    )
    clock = time.perf_counter()
    once = lagrangian_fit(lgbm(), X_fit, y, s, eg.lambda_vecs_.iloc[:, -1])
    out.append(
        f"one fit at EG's final multipliers {scored(once.predict(X_te))} "
        f"{time.perf_counter() - clock:.1f} s"
    )
    return " | ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # fairlearn's and pandas' deprecations
    for seed in args.seeds:
        print(run(args.dataset, seed), flush=True)


if __name__ == "__main__":
    sys.exit(main())
