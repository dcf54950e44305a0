"""Disparity from group membership probabilities on bundled tables whose true groups are
known: the regression estimator and the plain weighted one against the truth.

For each table, one model (a logistic regression on the numeric columns, the sensitive
attributes left out) decides every row; the truth is its demographic parity (and
equalized odds) difference by the true groups on the whole table. Each replicate draws
the rows with replacement (the table is the population) and gives every row probabilities
of the groups of known calibration: ``P | g ~ Dirichlet(c * shares + e_g)`` (the posterior
of a Dirichlet prior proportional to the groups' shares, so that among rows given ``p`` a
share ``p_g`` is of group ``g``: calibrated), then tempered (``P^(1/t)`` renormalised: ``t
< 1`` over-confident, ``t > 1`` under-confident). The probabilities depend on the true
group only, so the decision is independent of them given the group (the estimator's
second assumption holds by construction; with real BISG it need not).

Per table, measure and temperature: the true value, each estimator's mean, bias and
standard deviation over the replicates, how often its 90% interval covers the truth, and
how often the regression refused (a group's effective size under 20 rows).

    python -m benchmarks.scripts.membership_probabilities 100 > results/membership_probabilities.md
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from fairautoml import datasets
from fairautoml.exceptions import InputError
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.decisions import confusion_counts, rates_from_counts
from fairautoml.measures.membership import membership_measures
from fairautoml.measures.membership_simulation import tempered

TABLES = (("adult", "sex"), ("hmda", "afam"), ("compas", "race"))
MEASURES = ("demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.05")
TEMPERATURES = (0.5, 1.0, 2.0)
CONCENTRATION = 1.4  # the prior's total: 0.7 per group for two equal groups (BISG-like)
LEVEL, N_BOOT = 0.9, 200


def model_decisions(name: str, attribute: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0/1 labels, the model's 0/1 decisions and the true group of every row."""
    X, y, s = datasets.load(name)  # y: 1 the favourable outcome; s: the first attribute
    groups = (s[attribute] if isinstance(s, pd.DataFrame) else s).astype(str).to_numpy()
    sensitive = datasets.DATASETS[name].sensitive
    features = X.drop(columns=[c for c in X.columns if c in sensitive])
    features = features.select_dtypes("number").fillna(0.0)
    labels = np.asarray(y, dtype=int)
    model = LogisticRegression(max_iter=2000).fit(features, labels)
    return labels, model.predict(features), groups


def calibrated(rng: np.random.Generator, codes: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Probabilities of the groups given each row's true group ``codes``, calibrated."""
    alpha = CONCENTRATION * shares
    out = np.empty((len(codes), len(shares)))
    for g in range(len(shares)):
        rows = codes == g
        out[rows] = rng.dirichlet(alpha + np.eye(len(shares))[g], size=int(rows.sum()))
    return out


def run(name: str, attribute: str, replicates: int) -> list[dict]:
    labels, decisions, groups = model_decisions(name, attribute)
    names, codes = np.unique(groups, return_inverse=True)
    shares = np.bincount(codes) / len(codes)
    constraints = parse_constraints(list(MEASURES))
    rates = rates_from_counts(*confusion_counts(labels, decisions, codes))
    truth = {c.key: float(c.from_rates(rates)[0]) for c in constraints}
    rows = []
    for temperature in TEMPERATURES:
        rng = np.random.default_rng(0)
        found: dict[str, list[tuple[float, float, bool, bool]]] = {k: [] for k in truth}
        refused = 0
        for r in range(replicates):
            idx = rng.integers(0, len(codes), len(codes))
            P = tempered(calibrated(rng, codes[idx], shares), temperature)
            try:
                result = membership_measures(
                    labels[idx], decisions[idx], pd.DataFrame(P, columns=names), constraints,
                    level=LEVEL, n_boot=N_BOOT, random_state=r,
                )  # fmt: skip
            except InputError:
                refused += 1
                continue
            for key, true in truth.items():
                e = result.estimate(key)
                low, high = e.regression_interval
                w_low, w_high = e.weighted_interval
                found[key].append(
                    (e.regression, e.weighted, low <= true <= high, w_low <= true <= w_high)
                )
        for key, true in truth.items():
            values = np.array(found[key], dtype=float).reshape(-1, 4)
            rows.append({
                "table": f"{name} ({attribute}: {', '.join(names)})", "measure": key,
                "t": temperature, "true": true, "n": len(values), "refused": refused,
                "regression": values[:, 0].mean(), "reg_bias": values[:, 0].mean() - true,
                "reg_sd": values[:, 0].std(ddof=1), "reg_cover": values[:, 2].mean(),
                "weighted": values[:, 1].mean(), "wtd_bias": values[:, 1].mean() - true,
                "wtd_cover": values[:, 3].mean(),
            })  # fmt: skip
    return rows


def main(replicates: int) -> None:
    rows = [row for name, attribute in TABLES for row in run(name, attribute, replicates)]
    print(f"# Disparity from membership probabilities: {replicates} replicates per cell\n")
    print(__doc__.split("\n\n    python")[0].strip() + "\n")
    print(f"Intervals at {LEVEL:.0%}, {N_BOOT} Poisson resamples; t = 1 is calibrated.\n")
    print("| table | measure | t | true | regression (bias, sd) | covers | weighted (bias) | "
          "covers | refused |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['table']} | {r['measure']} | {r['t']:g} | {r['true']:.3f} | "
            f"{r['regression']:.3f} ({r['reg_bias']:+.3f}, {r['reg_sd']:.3f}) | "
            f"{r['reg_cover']:.0%} | {r['weighted']:.3f} ({r['wtd_bias']:+.3f}) | "
            f"{r['wtd_cover']:.0%} | {r['refused']}/{r['refused'] + r['n']} |"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
