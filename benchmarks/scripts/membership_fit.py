"""The search given membership probabilities instead of groups, on bundled tables whose true
groups are known: is its pick within the bound on test by the true groups?

For each table, seed and temperature: the rows are split 70/30 (stratified on target x
group, by the seed); every row gets probabilities of the groups of known calibration, as in
``membership_probabilities.py`` (``P | g ~ Dirichlet(c * shares + e_g)``, calibrated, then
tempered: ``t < 1`` over-confident, ``t > 1`` under-confident); ``FairAutoML`` searches the
training rows with ``group_probabilities=P`` (the sensitive columns are not features), and
its pick is measured on the test rows by the true groups. Beside it, per seed, the same
search given the true groups. No setting was chosen on these seeds: the fit path ran with
its defaults.

    python -m benchmarks.scripts.membership_fit 30 1 2 3 4 > results/membership_fit.md
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fairautoml import FairAutoML, datasets
from fairautoml.measures.membership_simulation import tempered

TABLES = (("adult", "sex"), ("hmda", "afam"))
CONSTRAINT = "demographic_parity_difference <= 0.05"
BOUND = 0.05
TEMPERATURES = (0.5, 1.0, 2.0)
CONCENTRATION = 1.4  # the prior's total, as in membership_probabilities.py


def calibrated(rng: np.random.Generator, codes: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Probabilities of the groups given each row's true group ``codes``, calibrated."""
    alpha = CONCENTRATION * shares
    out = np.empty((len(codes), len(shares)))
    for g in range(len(shares)):
        rows = codes == g
        out[rows] = rng.dirichlet(alpha + np.eye(len(shares))[g], size=int(rows.sum()))
    return out


def true_dp(decisions: np.ndarray, codes: np.ndarray) -> float:
    rates = [decisions[codes == g].mean() for g in np.unique(codes)]
    return float(max(rates) - min(rates))


def run(name: str, attribute: str, budget: float, seed: int) -> list[dict]:
    X, y, s = datasets.load(name)
    groups = (s[attribute] if isinstance(s, pd.DataFrame) else s).astype(str).to_numpy()
    X = X.drop(columns=[c for c in X.columns if c in datasets.DATASETS[name].sensitive])
    names, codes = np.unique(groups, return_inverse=True)
    shares = np.bincount(codes) / len(codes)
    labels = np.asarray(y)
    strata = pd.Series(labels).astype(str).to_numpy() + "|" + groups
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.3, random_state=seed, stratify=strata
    )
    positive = np.max(labels)

    def measured(automl: FairAutoML, how: str, t: float | None, seconds: float) -> dict:
        decided = (automl.predict(X.iloc[test]) == positive).astype(float)
        pick = automl.fit_summary_
        record = pick.group_probabilities or {}
        key = "demographic_parity_difference"
        return {
            "table": f"{name} ({attribute})", "seed": seed, "groups": how,
            "t": "" if t is None else f"{t:g}", "tier": pick.tier,
            "val_value": pick.constraint_values.get(key, float("nan")),
            "val_weighted": (record.get("weighted") or {}).get(key, float("nan")),
            "test_dp": true_dp(decided, codes[test]),
            "test_accuracy": float(np.mean(decided == (labels[test] == positive))),
            "seconds": seconds,
        }  # fmt: skip

    rows = []
    options = dict(constraints=CONSTRAINT, time_budget=budget, random_state=seed, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.monotonic()
        known = FairAutoML(**options).fit(X.iloc[train], y.iloc[train], groups[train])
        rows.append(measured(known, "known", None, time.monotonic() - started))
        for t in TEMPERATURES:
            rng = np.random.default_rng(seed)
            P = pd.DataFrame(tempered(calibrated(rng, codes, shares), t), columns=names)
            started = time.monotonic()
            automl = FairAutoML(**options).fit(
                X.iloc[train], y.iloc[train], group_probabilities=P.iloc[train]
            )
            rows.append(measured(automl, "probabilities", t, time.monotonic() - started))
    return rows


def main(budget: float, seeds: list[int]) -> None:
    rows = [
        row
        for name, attribute in TABLES
        for seed in seeds
        for row in run(name, attribute, budget, seed)
    ]
    frame = pd.DataFrame(rows)
    print(f"# The search given membership probabilities: {budget:g} s, seeds {seeds}\n")
    print(__doc__.split("\n\n    python")[0].strip() + "\n")
    print(f"Constraint `{CONSTRAINT}`; test DP by the true groups; t = 1 is calibrated.\n")
    print(
        "| table | seed | groups | t | tier | validation DP (regression with probabilities) | "
        "weighted | test DP (true groups) | within bound | test accuracy | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        within = "yes" if r["test_dp"] <= BOUND else "no"
        print(
            f"| {r['table']} | {r['seed']} | {r['groups']} | {r['t']} | {r['tier']} | "
            f"{r['val_value']:.3f} | {r['val_weighted']:.3f} | {r['test_dp']:.3f} | {within} | "
            f"{r['test_accuracy']:.4f} | {r['seconds']:.0f} |"
        )
    print("\nWithin the bound on test, by groups and temperature:\n")
    summary = frame.assign(within=frame["test_dp"] <= BOUND).groupby(["table", "groups", "t"])
    print("| table | groups | t | runs | within bound | mean test DP | mean test accuracy |")
    print("|---|---|---|---|---|---|---|")
    for (table, how, t), part in summary:
        print(
            f"| {table} | {how} | {t} | {len(part)} | {int(part['within'].sum())} | "
            f"{part['test_dp'].mean():.3f} | {part['test_accuracy'].mean():.4f} |"
        )


if __name__ == "__main__":
    main(float(sys.argv[1]), [int(a) for a in sys.argv[2:]] or [1, 2, 3, 4])
