"""How many score levels ThresholdOptimizer needs: test accuracy, DP and fit seconds.

fairlearn builds each group's trade-off curve in Python over every distinct score, so
``threshold_optimizer`` thresholds on at most ``MAX_LEVELS`` score quantiles. This fits
the rule (DP <= 0.05, slack 0.2) on 200,000 validation scores of a logistic model of the
synthetic scale table and measures it on 300,000 other rows, at several level counts and
model seeds. Writes results/threshold_levels.md.

    python -m benchmarks.scripts.threshold_levels
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from fairlearn.metrics import demographic_parity_difference
from sklearn.linear_model import LogisticRegression

import fairautoml.mitigators.threshold_optimizer as to
from fairautoml.bench.rows import make_synthetic
from fairautoml.measures.constraints import parse_constraint
from fairautoml.measures.metrics import get_metric

LEVELS = (2048, 1024, 512, 256, 128)
SEEDS = (0, 1, 2)
OUT = Path(__file__).resolve().parents[2] / "results" / "threshold_levels.md"


def main() -> None:
    X, y, s = make_synthetic(600_000, 30, 1.0, 0)
    X, y, g = X.to_numpy(), y.to_numpy(), (s.to_numpy() == "b").astype(int)
    constraints = [parse_constraint("demographic_parity_difference <= 0.05")]
    metric = get_metric("accuracy")
    rows: dict[int, list[tuple[float, float, float]]] = {n: [] for n in LEVELS}
    default = to.MAX_LEVELS
    for seed in SEEDS:
        order = np.random.default_rng(seed).permutation(len(y))
        tr, va, te = order[:100_000], order[100_000:300_000], order[300_000:]
        model = LogisticRegression(max_iter=500).fit(X[tr], y[tr])
        val, test = model.predict_proba(X[va])[:, 1], model.predict_proba(X[te])[:, 1]
        for levels in LEVELS:
            to.MAX_LEVELS = levels
            start = time.perf_counter()
            rule = to.ThresholdOptimizerMitigator().fit(
                val, y[va], g[va], constraints, metric, {"slack": 0.2}, seed
            )
            seconds = time.perf_counter() - start
            pred = (rule.predict_proba(test, g[te]) >= 0.5).astype(int)
            dpd = demographic_parity_difference(y[te], pred, sensitive_features=g[te])
            rows[levels].append((float(np.mean(pred == y[te])), float(dpd), seconds))
    to.MAX_LEVELS = default
    lines = [
        "# ThresholdOptimizer on score quantiles",
        "",
        "`benchmarks/scripts/threshold_levels.py`: a logistic model of the synthetic scale table "
        "(100,000 training rows), the rule fitted on 200,000 validation scores "
        "(DP <= 0.05, slack 0.2), measured on 300,000 other rows; mean over model seeds "
        f"{', '.join(map(str, SEEDS))} (same rows for every level count). "
        f"The mitigator uses {default} levels.",
        "",
        "| levels | test accuracy | test DP | fit seconds |",
        "|---|---|---|---|",
    ]
    for levels, values in rows.items():
        acc, dpd, sec = np.mean(values, axis=0)
        lines.append(f"| {levels} | {acc:.4f} | {dpd:.4f} | {sec:.2f} |")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
