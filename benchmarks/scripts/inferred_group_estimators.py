"""How far each estimate of a fixed model's fairness gap lands from the truth when groups
are hidden not at random (issue 60, item 3): a replay of fixed models, no search.

On each bundled table a LightGBM model is trained on half the rows; on the other half
(the measurement rows, as a fit's validation rows) the group is hidden for a share of
the rows, three times as often in one group (the bench's ``hide_groups``), over hiding
seeds. Each estimate of the decisions' demographic parity and equalized odds
differences is compared with their value under the true groups:

- ``known rows``: the rows whose group is known (``missing_groups="exclude"``, and
  ``"infer"`` when it warns);
- ``memberships``: those rows, plus every other row in each group with its calibrated,
  share-corrected P(group | x, y) (``missing_groups="infer"`` today);
- ``rectified``: the memberships, plus a rectifier on the known rows for the error the
  memberships make on the others: a known row of group ``h`` also adds
  ``c_h * (1[h = g] - p_g)`` to group ``g`` (``p`` its held-out membership, shifted as the
  others'; ``c_h`` the unknown rows' estimated count of group ``h`` over the known rows of
  ``h``): prediction-powered inference (Angelopoulos et al., Science 2023) with the
  rectifier weighted to the unknown rows' group shares; its weights can be negative.
  Under the assumption the share correction already makes (whether a group is hidden
  depends on the group alone), each group's weighted count and rate are unbiased
  whatever the classifier's quality (the shares' estimate aside); a weak classifier
  widens them instead of pulling them together.

    python -m benchmarks.scripts.inferred_group_estimators \\
        --out results/inferred_group_estimators/report.md
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from fairautoml import datasets
from fairautoml.data.missing_groups import (
    INFERENCE_FOLDS,
    _proba,
    _with_target,
    calibrated,
    fitted_calibration,
    moved_to_shares,
    shifted_to_unknown_shares,
)
from fairautoml.study.trial import make_group_classifier

# (table, the group hidden more often): the missing_groups sweep's
TABLES = (("adult", "Female"), ("dutch", "female"), ("compas", "African-American"), ("hmda", "yes"))
SHARES = (0.3, 0.7, 0.9)
FACTOR = 3.0
SEEDS = range(10)
ESTIMATES = ("known rows", "memberships", "rectified")


def gaps(weights: np.ndarray, decisions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Demographic parity and equalized odds differences of 0/1 ``decisions`` with each row
    counted in each group by ``weights`` (rows x groups)."""

    def spread(mask: np.ndarray) -> float:
        w = weights[mask]
        rates = (w * decisions[mask, None]).sum(0) / w.sum(0)
        return float(rates.max() - rates.min())

    every = np.ones(len(decisions), dtype=bool)
    return {"dp": spread(every), "eo": max(spread(labels == 1), spread(labels == 0))}


def estimates(X: pd.DataFrame, y: np.ndarray, g: np.ndarray, n_groups: int, hidden: np.ndarray,
              seed: int) -> dict[str, np.ndarray]:  # fmt: skip
    """The three estimators' weights (rows x groups) for one hiding."""
    known = ~hidden
    features = _with_target(X, y)
    X_known, g_known = features[known], g[known]
    held = np.zeros((known.sum(), n_groups))
    other = np.zeros((hidden.sum(), n_groups))
    folds = StratifiedKFold(
        min(INFERENCE_FOLDS, int(np.bincount(g_known, minlength=n_groups).min())),
        shuffle=True, random_state=seed,
    )  # fmt: skip
    turn = np.arange(hidden.sum()) % folds.get_n_splits()
    for fold, (fit, scored) in enumerate(folds.split(np.zeros(len(g_known)), g_known)):
        model = make_group_classifier(seed).fit(X_known.iloc[fit], g_known[fit])
        held[scored] = _proba(model, X_known.iloc[scored], n_groups)
        other[turn == fold] = _proba(model, features[hidden][turn == fold], n_groups)
    temperature, bias = fitted_calibration(held, g_known)
    held, other = calibrated(held, temperature, bias), calibrated(other, temperature, bias)
    shares = np.bincount(g_known, minlength=n_groups) / len(g_known)
    other, unknown_shares = shifted_to_unknown_shares(other, shares)
    held = moved_to_shares(held, shares, unknown_shares)  # the same shift
    own = np.eye(n_groups)[g_known]
    known_rows = np.zeros((len(g), n_groups))
    known_rows[known] = own
    memberships = known_rows.copy()
    memberships[hidden] = other
    scale = hidden.sum() * unknown_shares / np.maximum(np.bincount(g_known, minlength=n_groups), 1)
    rectified = memberships.copy()
    rectified[known] += scale[g_known][:, None] * (own - held)
    return {"known rows": known_rows, "memberships": memberships, "rectified": rectified}


def hide(names: np.ndarray, more_in: str, share: float, seed: int) -> np.ndarray:
    """The bench's hiding (:func:`fairautoml.bench.rows.hidden_group_rows`)."""
    odds = np.where(names == more_in, FACTOR, 1.0)
    chance = np.clip(share * odds / np.mean(odds), 0.0, 0.98)
    return np.random.default_rng([seed, 40]).random(len(names)) < chance


def run() -> pd.DataFrame:
    records = []
    for table, more_in in TABLES:
        X, y, s = datasets.load(table)
        X = pd.get_dummies(X, columns=list(X.select_dtypes(exclude="number").columns), dtype=float)
        names = np.asarray(s).astype(str)
        labels, g = np.unique(names, return_inverse=True)
        y = np.asarray(y)
        order = np.random.default_rng(0).permutation(len(y))
        train, measured = order[: len(y) // 2], order[len(y) // 2 :]
        model = lgb.LGBMClassifier(n_estimators=100, verbose=-1, random_state=0)
        decisions = model.fit(X.iloc[train], y[train]).predict(X.iloc[measured]).astype(float)
        Xm, ym, gm = X.iloc[measured].reset_index(drop=True), y[measured], g[measured]
        truth = gaps(np.eye(len(labels))[gm], decisions, ym)
        for share in SHARES:
            for seed in SEEDS:
                hidden = hide(names[measured], more_in, share, seed)
                known_counts = np.bincount(gm[~hidden], minlength=len(labels))
                if known_counts.min() < 2 * INFERENCE_FOLDS:
                    records.append({"table": table, "share": share, "seed": seed, "skipped": True,
                                    "known_min": int(known_counts.min())})  # fmt: skip
                    continue
                for name, weights in estimates(Xm, ym, gm, len(labels), hidden, seed).items():
                    for measure, value in gaps(weights, decisions, ym).items():
                        records.append({
                            "table": table, "share": share, "seed": seed, "skipped": False,
                            "estimate": name, "measure": measure, "value": value,
                            "truth": truth[measure], "rows": len(ym),
                        })  # fmt: skip
    return pd.DataFrame(records)


def report(frame: pd.DataFrame, commit: str) -> str:
    done = frame[~frame["skipped"]].assign(error=lambda f: f["value"] - f["truth"])
    lines = [
        "# Estimates of a fixed model's gap with groups hidden not at random",
        "",
        "Made by `python -m benchmarks.scripts.inferred_group_estimators --out "
        f"results/inferred_group_estimators/report.md` at {commit}; the method in the "
        "script's docstring. A LightGBM model trained on half of each bundled table; its "
        f"decisions on the other half, with the group hidden for a share of those rows, "
        f"{FACTOR:g} times as often in one group; hiding seeds {SEEDS.start}-{SEEDS.stop - 1}. "
        "*bias*: mean estimate minus the value under the true groups on the same rows; "
        "*sd*: across hidings; *rmse*: both. No search and no choice of the fit's is made "
        "here: these replays decide which estimator the fit should use.",
        "",
        "| table (hidden more in) | share hidden | measure | true value | "
        + " | ".join(f"{e}: bias / sd / rmse" for e in ESTIMATES)
        + " |",
        "|---|---|---|---|" + "---|" * len(ESTIMATES),
    ]
    more = dict(TABLES)
    for (table, share, measure), cell in done.groupby(["table", "share", "measure"], sort=False):
        parts = []
        for name in ESTIMATES:
            err = cell.loc[cell["estimate"] == name, "error"]
            rmse = float(np.sqrt((err**2).mean()))
            parts.append(f"{err.mean():+.3f} / {err.std(ddof=1):.3f} / {rmse:.3f}")
        lines.append(
            f"| {table} ({more[table]}) | {share:.0%} | {measure} | {cell['truth'].iloc[0]:.3f} | "
            + " | ".join(parts)
            + " |"
        )
    skipped = frame[frame["skipped"]]
    if len(skipped):
        lines += [
            "",
            "Not estimated (fewer known rows of a group than the classifier's folds need):",
        ]
        for (table, share), cell in skipped.groupby(["table", "share"]):
            lines.append(
                f"- {table} at {share:.0%}: {len(cell)} of {len(SEEDS)} hidings (as few as "
                f"{int(cell['known_min'].min())} known rows of a group)"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    frame = run()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_json(args.out.with_name("cells.jsonl"), orient="records", lines=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"  # fmt: skip
    args.out.write_text(report(frame, commit))
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
