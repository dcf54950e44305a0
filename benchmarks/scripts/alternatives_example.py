"""results/alternatives_example: a search for less discriminatory alternatives to a lender's
model on Boston HMDA (granted or denied, by ``afam``), with the page and its screenshot.

The incumbent is a LightGBM fitted by hand, as a lender would, on a third of the table (its
"history", stratified on target x group); the search gets the other two thirds, keeps back
30% of them as evidence rows it never sees, and compares its least disparate models with
the incumbent there, at a tolerance of half a point of accuracy (near-constant models,
which approve nearly everyone, are never alternatives). Nothing here was tuned.

Run from the repository root: ``python -m benchmarks.scripts.alternatives_example``
(about two minutes; the screenshot needs ``chromium`` on the PATH).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from fairautoml import datasets, find_alternatives

OUT = Path("results/alternatives_example")
TIME_BUDGET = 60
TOLERANCE = 0.005


def lenders_model(X):
    """A LightGBM behind a one-hot encoding of the text columns: a hand fit."""
    text = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) in ("str", "string")]
    encode = ColumnTransformer(
        [("text", OneHotEncoder(handle_unknown="ignore"), text)], remainder="passthrough"
    )
    booster = LGBMClassifier(
        n_estimators=300, learning_rate=0.05, num_leaves=15, random_state=0, verbose=-1
    )
    return make_pipeline(encode, booster)


def screenshot(page: Path, png: Path) -> bool:
    """The page rendered by headless Chromium, offline; False when Chromium is absent."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
             "--virtual-time-budget=5000", "--window-size=1100,3200",
             f"--screenshot={png.resolve()}", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    return png.exists()


def main() -> int:
    X, y, s = datasets.load("hmda")
    rows = np.arange(len(X))
    strata = np.asarray(y).astype(str) + "|" + np.asarray(s).astype(str)
    history, rest = train_test_split(rows, test_size=2 / 3, stratify=strata, random_state=0)
    incumbent = lenders_model(X).fit(X.iloc[history], y.iloc[history])
    result = find_alternatives(
        incumbent, X.iloc[rest], y.iloc[rest], sensitive_features=s.iloc[rest],
        tolerance=TOLERANCE, time_budget=TIME_BUDGET, random_state=0,
    )  # fmt: skip
    result.save(OUT)
    shot = screenshot(OUT / "alternatives.html", OUT / "alternatives.png")
    found = {
        "incumbent": "LightGBM (300 trees, 15 leaves) on one-hot text columns, fitted on "
        f"{len(history)} rows",
        "rows given to the search": len(rest),
        "evidence rows (never searched)": len(result.evidence_rows_),
        "verdict": result.verdict_,
        "reason": result.reason_,
        "screenshot": shot,
    }
    (OUT / "found.json").write_text(json.dumps(found, indent=2, default=str))
    print(json.dumps(found, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
