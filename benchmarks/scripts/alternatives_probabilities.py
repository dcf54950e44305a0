"""The paired comparison of two models with membership probabilities instead of groups
(``paired_comparison(..., group_probabilities=P)``, what ``find_alternatives`` reads on its
evidence rows), on Adult by sex, whose true groups are known: the regression estimate of
the difference in demographic parity against the truth.

Two pairs of models decide every row of Adult. *Less disparate*: the incumbent is a
logistic regression on the numeric columns and an indicator of sex, the alternative the
same without it. *Equally disparate*: the alternative is the incumbent's decisions
shuffled within each true group (each group's rate, hence the true DP, unchanged; the
decisions differ on many rows). The truth is the difference of the two models' DP by the
true groups on the whole table. Each replicate draws ``ROWS`` evidence rows with
replacement (the table is the population) and gives every row probabilities of known
calibration (``membership_probabilities``: calibrated Dirichlet posteriors, tempered: t <
1 over-confident, t > 1 under-confident), which depend on the true group only, so the
decisions are independent of them given the group (the estimator's second assumption
holds by construction).

Per pair and temperature: the true difference, the regression's mean difference (bias,
sd), how often its paired 95% interval covers the truth, how often the interval lies
wholly below 0 (what a *less discriminatory* verdict needs), the plain weighted mean
difference, and the paired standard error over the unpaired one (each model's own
bootstrap standard error, as if measured apart, combined: sqrt(se_i^2 + se_a^2)).

    python -m benchmarks.scripts.alternatives_probabilities 50 \\
        > results/alternatives_probabilities.md
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from benchmarks.scripts.cells import code_commit
from benchmarks.scripts.membership_probabilities import calibrated
from fairautoml import datasets
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.decisions import confusion_counts, rates_from_counts
from fairautoml.measures.membership import membership_measures
from fairautoml.measures.membership_simulation import tempered
from fairautoml.measures.paired import paired_comparison

DP = "demographic_parity_difference <= 0.05"
ROWS = 3000  # evidence rows per replicate (Adult's share kept back at 0.3 of 10k rows)
TEMPERATURES = (0.5, 1.0, 2.0)
LEVEL, N_BOOT = 0.95, 200


def adult_models() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Labels, the true group codes, each pair's (incumbent, alternative) decisions, and
    the group names."""
    X, y, s = datasets.load("adult")
    groups = s.astype(str).to_numpy()
    names, codes = np.unique(groups, return_inverse=True)
    numeric = X.drop(columns=[c for c in X.columns if c == "sex"]).select_dtypes("number")
    numeric = numeric.fillna(0.0)
    labels = np.asarray(y, dtype=int)
    with_sex = numeric.assign(female=(codes == list(names).index("Female")).astype(float))
    incumbent = LogisticRegression(max_iter=2000).fit(with_sex, labels).predict(with_sex)
    alternative = LogisticRegression(max_iter=2000).fit(numeric, labels).predict(numeric)
    shuffled = incumbent.copy()
    rng = np.random.default_rng(0)
    for g in np.unique(codes):
        rows = np.flatnonzero(codes == g)
        shuffled[rows] = incumbent[rng.permutation(rows)]
    pairs = {
        "less disparate": np.stack([incumbent, alternative]),
        "equally disparate": np.stack([incumbent, shuffled]),
    }
    return labels, codes, pairs, names


def true_dp(labels: np.ndarray, decisions: np.ndarray, codes: np.ndarray) -> float:
    (c,) = parse_constraints(DP)
    return float(c.from_rates(rates_from_counts(*confusion_counts(labels, decisions, codes)))[0])


def run(replicates: int) -> list[dict]:
    labels, codes, pairs, names = adult_models()
    shares = np.bincount(codes) / len(codes)
    rows = []
    for pair, (inc, alt) in pairs.items():
        truth = true_dp(labels, alt, codes) - true_dp(labels, inc, codes)
        for temperature in TEMPERATURES:
            rng = np.random.default_rng(0)
            found = []
            for r in range(replicates):
                idx = rng.integers(0, len(codes), ROWS)
                P = pd.DataFrame(
                    tempered(calibrated(rng, codes[idx], shares), temperature), columns=names
                )
                c = paired_comparison(
                    labels[idx], inc[idx], alt[idx], None, DP, group_probabilities=P,
                    level=LEVEL, n_boot=N_BOOT, random_state=r,
                )  # fmt: skip
                d = c.disparities[0]
                apart = [
                    membership_measures(labels[idx], side[idx], P, DP, n_boot=N_BOOT,
                                        random_state=r).estimates[0].regression_se
                    for side in (inc, alt)
                ]  # fmt: skip
                weighted = c.plain_weighted[d.name]
                found.append((
                    d.difference, d.interval[0] <= truth <= d.interval[1], d.interval[1] < 0,
                    weighted["alternative"] - weighted["incumbent"],
                    d.standard_error / float(np.hypot(*apart)),
                ))  # fmt: skip
            values = np.array(found, dtype=float)
            rows.append({
                "pair": pair, "t": temperature, "true": truth, "n": len(values),
                "regression": values[:, 0].mean(), "bias": values[:, 0].mean() - truth,
                "sd": values[:, 0].std(ddof=1), "covers": values[:, 1].mean(),
                "below_0": values[:, 2].mean(), "weighted": values[:, 3].mean(),
                "se_ratio": values[:, 4].mean(),
            })  # fmt: skip
    return rows


def main(replicates: int) -> None:
    rows = run(replicates)
    print(f"# Paired comparison with membership probabilities: {replicates} replicates per cell\n")
    print(f"Code: {code_commit()}; 2-core machine (shared).\n")
    print(__doc__.split("\n\n    python")[0].strip() + "\n")
    print(f"Paired intervals at {LEVEL:.0%}, {N_BOOT} resamples, {ROWS} rows; t = 1 calibrated.\n")
    print("| pair | t | true difference | regression (bias, sd) | covers | interval below 0 | "
          "weighted | paired se / unpaired se |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['pair']} | {r['t']:g} | {r['true']:+.3f} | {r['regression']:+.3f} "
            f"({r['bias']:+.3f}, {r['sd']:.3f}) | {r['covers']:.0%} | {r['below_0']:.0%} | "
            f"{r['weighted']:+.3f} | {r['se_ratio']:.2f} |"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
