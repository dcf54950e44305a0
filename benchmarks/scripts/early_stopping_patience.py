"""How many rounds should early stopping wait? Fit-level check, on decision tables only.

Each configuration (10 random draws per learner from the spaces' ranges, ceiling 1024) is
boosted once to its ceiling with the held-back share the learners use (a stratified 10%,
:func:`~fairautoml.learners.early_stopping.inner_split`); every patience is then read off
that one loss curve (the round it would stop at, the best round it would keep), so the
patiences are compared on the same trees. CPU seconds are the fit's, prorated by the
rounds each patience trains. Tables: ``make_synthetic`` with interactions at seed 1 (the
scale sweep's table is seed 0: no choice is made on its rows), the linear synthetic table
at seed 1, and Adult (30,000 rows to fit, 50,000 to test, split seed 11)::

    python -m benchmarks.scripts.early_stopping_patience          # ~25 min on 2 cores
    python -m benchmarks.scripts.early_stopping_patience --report-only
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

OUT = Path("results/early_stopping_patience")
PATIENCES = (20, 30, 50, 100)
CONFIGS = 10


def _tables():
    from fairautoml import datasets
    from fairautoml.bench.rows import make_synthetic

    X, y, _ = make_synthetic(200_000, 30, bias=1.6, seed=1, interactions=4, signal=1.6)
    yield "synthetic, interactions (seed 1)", X, y.values, 100_000
    X, y, _ = make_synthetic(200_000, 30, bias=1.0, seed=1)
    yield "synthetic, linear (seed 1)", X, y.values, 100_000
    X, y, _ = datasets.load("adult")
    X = X.copy()
    for c in X.columns:
        if X[c].dtype != "int64":
            X[c] = X[c].astype("category")
    yield "adult", X, y.values, 30_000


def _draw(rng: np.random.Generator, learner: str) -> dict:
    def log_uniform(a: float, b: float) -> float:
        return float(np.exp(rng.uniform(np.log(a), np.log(b))))

    if learner == "xgboost":
        return dict(n_estimators=1024, max_depth=int(rng.integers(1, 13)),
                    learning_rate=log_uniform(0.01, 0.5), min_child_weight=log_uniform(0.01, 32),
                    subsample=rng.uniform(0.5, 1), colsample_bytree=rng.uniform(0.3, 1),
                    reg_lambda=log_uniform(0.001, 100))  # fmt: skip
    return dict(n_estimators=1024, num_leaves=round(log_uniform(4, 256)),
                learning_rate=log_uniform(0.01, 0.5),
                min_child_samples=round(log_uniform(2, 128)), subsample=rng.uniform(0.5, 1),
                subsample_freq=1, colsample_bytree=rng.uniform(0.3, 1),
                reg_lambda=log_uniform(0.001, 100))  # fmt: skip


def stopping(curve: list[float], patience: int) -> tuple[int, int]:
    """(best round, rounds trained), 0-based best: the rule of the libraries' early stopping."""
    best = 0
    for r in range(len(curve)):
        if curve[r] < curve[best]:
            best = r
        if r - best >= patience:
            return best, r + 1
    return best, len(curve)


def run() -> pd.DataFrame:
    import lightgbm as lgb
    import xgboost as xgb

    from fairautoml.learners.early_stopping import inner_split

    rows = []
    for name, X, y, n in _tables():
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, train_size=n, random_state=11, stratify=y)
        te = te[:50_000]
        fit_i, val_i = inner_split(y[tr], None, 0.1, 0)
        Xf, yf = X.iloc[tr[fit_i]], y[tr[fit_i]]
        Xv, yv = X.iloc[tr[val_i]], y[tr[val_i]]
        Xt, yt = X.iloc[te], y[te]
        rng = np.random.default_rng(3)
        for k in range(CONFIGS):
            for learner in ("xgboost", "lightgbm"):
                p = _draw(rng, learner)
                t0 = time.process_time()
                if learner == "xgboost":
                    m = xgb.XGBClassifier(
                        **p, tree_method="hist", enable_categorical=True, n_jobs=2,
                        random_state=0, eval_metric="logloss",
                    )  # fmt: skip
                    m.fit(Xf, yf, eval_set=[(Xv, yv)], verbose=False)
                    curve = m.evals_result()["validation_0"]["logloss"]

                    def proba(b, m=m, Xt=Xt):
                        return m.predict_proba(Xt, iteration_range=(0, b + 1))[:, 1]
                else:
                    m = lgb.LGBMClassifier(**p, n_jobs=2, random_state=0, verbose=-1)
                    m.fit(Xf, yf, eval_set=[(Xv, yv)], eval_metric="binary_logloss")
                    curve = m.evals_result_["valid_0"]["binary_logloss"]

                    def proba(b, m=m, Xt=Xt):
                        return m.predict_proba(Xt, num_iteration=b + 1)[:, 1]

                cpu = time.process_time() - t0
                for patience in (*PATIENCES, 0):
                    b, trained = stopping(curve, patience or 10**9)
                    q = np.clip(proba(b), 1e-7, 1 - 1e-7)
                    rows.append(dict(
                        table=name, learner=learner, config=k, learning_rate=p["learning_rate"],
                        patience=patience, best_round=b + 1, trained=trained,
                        cpu=cpu * trained / len(curve), accuracy=float(((q > 0.5) == yt).mean()),
                        log_loss=float(-np.mean(yt * np.log(q) + (1 - yt) * np.log(1 - q))),
                    ))  # fmt: skip
    return pd.DataFrame(rows)


def report(fits: pd.DataFrame) -> str:
    lines = [
        "| table | learner | patience | CPU / CPU at 20 | rounds / at 20 | Δ test accuracy vs 20, "
        "mean (min, max), points | Δ test log-loss vs 20 |",
        "|---|---|---|---|---|---|---|",
    ]
    for (table, learner), g in fits.groupby(["table", "learner"], sort=False):
        base = g[g.patience == 20].set_index("config")
        for patience in (*PATIENCES[1:], 0):
            q = g[g.patience == patience].set_index("config")
            da = (q.accuracy - base.accuracy) * 100
            lines.append(
                f"| {table} | {learner} | {patience or 'off'} | "
                f"{q.cpu.sum() / base.cpu.sum():.2f} | "
                f"{q.trained.sum() / base.trained.sum():.2f} | {da.mean():+.2f} ({da.min():+.2f}, "
                f"{da.max():+.2f}) | {(q.log_loss - base.log_loss).mean():+.4f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        run().to_csv(OUT / "fits.csv", index=False)
    (OUT / "fits.md").write_text(report(pd.read_csv(OUT / "fits.csv")))


if __name__ == "__main__":
    main()
