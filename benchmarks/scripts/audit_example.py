"""results/audit_example: Adult fitted on its training file, audited on its test file and
on a drifted sample of it, with the false-alarm rate of fresh draws.

Run from the repository root: ``python -m benchmarks.scripts.audit_example`` (about two minutes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from fairautoml import FairAutoML, datasets
from fairautoml.audit.page import write_audit

OUT = Path("results/audit_example")
TRAIN_ROWS = 32_561  # adult.csv.gz holds adult.data first, then adult.test
DRAWS = 20  # fresh samples of the test file for the false-alarm rate
SAMPLE = 5_000  # rows per fresh or drifted sample


def drifted(X, rng: np.random.Generator) -> np.ndarray:
    """Rows of a population that is older than the test file's: sampled with weight
    exp((age - 38) / 8)."""
    weights = np.exp((X["age"].to_numpy(float) - 38.0) / 8.0)
    return rng.choice(len(X), size=SAMPLE, replace=False, p=weights / weights.sum())


def summary(result) -> dict:
    return {
        "verdict": result.verdict,
        "constraints": [(c["constraint"], c["value"], c["interval"], c["verdict"])
                        for c in result.constraints],
        "fairness_changed": result.drift["fairness_changed"],
        "features_moved": result.drift["features_moved"],
    }  # fmt: skip


def main() -> int:
    X, y, s = datasets.load("adult")
    fit_rows, test_rows = np.arange(TRAIN_ROWS), np.arange(TRAIN_ROWS, len(X))
    automl = FairAutoML(
        constraints="demographic_parity_difference <= 0.05", time_budget=60, random_state=0
    ).fit(X.iloc[fit_rows], y.iloc[fit_rows], sensitive_features=s.iloc[fit_rows])
    automl.save(OUT / "model.skops")
    Xt, yt, st = X.iloc[test_rows], y.iloc[test_rows], s.iloc[test_rows]
    found = {"model": automl.best_config_["model"]}
    test = automl.audit(Xt, yt, st)
    write_audit(test, OUT / "test")
    found["test file"] = summary(test)
    rng = np.random.default_rng(0)
    rows = drifted(Xt, rng)
    older = automl.audit(Xt.iloc[rows], yt.iloc[rows], st.iloc[rows])
    write_audit(older, OUT / "drifted")
    found["drifted (older) sample"] = summary(older)
    alarms = {"fairness": 0, "features": 0}
    for _ in range(DRAWS):
        rows = rng.choice(len(Xt), size=SAMPLE, replace=False)
        drift = automl.audit(Xt.iloc[rows], yt.iloc[rows], st.iloc[rows]).drift
        alarms["fairness"] += drift["fairness_changed"]
        alarms["features"] += bool(drift["features_moved"])
    found[f"alarms over {DRAWS} fresh draws of {SAMPLE} test rows"] = alarms
    (OUT / "found.json").write_text(json.dumps(found, indent=2, default=str))
    print(json.dumps(found, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
