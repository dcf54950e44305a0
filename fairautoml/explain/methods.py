"""How a model's margin is split into one contribution per column: the boosting libraries'
own TreeSHAP, an exact split for models additive in their columns (linear models behind a
column-wise encoding), and a model-agnostic interventional Shapley estimate.

Every method here is exactly additive: a row's contributions sum with its base value to
its margin (up to floating-point rounding). The columns are those of the table the model
reads, which for a fair model are the user's own columns (the learners' one-hot or
encoded columns are never exposed: each method works on the columns before encoding).

Why interventional for the other models: a contribution should say what the model does
with the applicant's value ("had this value been a typical one, the score would have
been higher"), not what the value says about other columns through their correlation.
Replacing a column by the values of reference rows and measuring the change in margin
asks exactly that of the model, needs nothing but its predictions (a user's scikit-learn
model with only ``predict_proba``, an ensemble, a reduction's mixture), and, averaged over
orders of the columns (Shapley), sums exactly to the margin minus the reference rows'
mean margin. Its price: it is an estimate from sampled orders and reference rows (its
noise shrinks with ``n_samples``), and hybrid rows may be ones no applicant would send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Margin = Callable[[pd.DataFrame, np.ndarray], np.ndarray]  # (rows, explained row of each)

# rows of hybrid tables scored in one call of the interventional method
BATCH_ROWS = 200_000


def lightgbm_contributions(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(contributions (n, p), base (n,)) from LightGBM's ``pred_contrib`` (TreeSHAP), on the
    margin: ``model`` is an ``LGBMModel`` (it predicts at its best iteration) or a
    ``Booster``."""
    out = np.asarray(model.predict(X, pred_contrib=True), dtype=np.float64)
    return _split(out, X.shape[1])


def xgboost_contributions(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(contributions, base) from XGBoost's ``Booster.predict(..., pred_contribs=True)``
    (TreeSHAP) at the rounds the model predicts with; the base holds ``base_score``."""
    import xgboost

    booster = model.get_booster()
    matrix = xgboost.DMatrix(X, enable_categorical=bool(getattr(model, "enable_categorical", 0)))
    out = booster.predict(matrix, pred_contribs=True, iteration_range=(0, _xgb_rounds(model)))
    return _split(np.asarray(out, dtype=np.float64), X.shape[1])


def _xgb_rounds(model: Any) -> int:
    """The rounds the wrapper's ``predict`` uses: fairautoml's early-stopped estimators
    record them; otherwise the best iteration, else every round (0)."""
    used = getattr(model, "n_estimators_used_", None)
    if used is not None:
        return int(used)
    try:
        return int(model.best_iteration) + 1
    except AttributeError:
        return 0


def _split(out: np.ndarray, n_columns: int) -> tuple[np.ndarray, np.ndarray]:
    if out.ndim != 2 or out.shape[1] != n_columns + 1:
        raise ValueError(f"expected one contribution per column and a base, got {out.shape}")
    return out[:, :-1], out[:, -1]


def additive_contributions(
    margin: Callable[[pd.DataFrame], np.ndarray], X: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(contributions, base) of a model whose margin is a sum of one function per column
    (a linear model behind imputation, scaling and one-hot encoding, each column-wise).

    Each column's function is read by moving that column alone away from a fixed row (the
    first of ``X``): ``g_j(x_j) = m(x_0 with column j set to x_j) - m(x_0)``, so
    ``m(x) = m(x_0) + sum_j g_j(x_j)`` exactly. The base is ``m(x_0)``; centring on
    reference rows (:func:`centre`) then gives ``coef . (z - mean z_ref)`` per column.
    """
    n, p = X.shape
    anchor = X.iloc[[0] * n].reset_index(drop=True)
    start = margin(anchor)
    values = np.empty((n, p))
    for j, name in enumerate(X.columns):
        moved = anchor.copy()
        moved[name] = X[name].reset_index(drop=True)  # keeps its dtype (categories)
        values[:, j] = margin(moved) - start
    return values, start


def centre(
    values: np.ndarray, base: np.ndarray, reference_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Contributions relative to reference rows: each column's mean over them subtracted,
    and added to the base (the sum is unchanged)."""
    shift = reference_values.mean(axis=0)
    return values - shift, base + shift.sum()


def interventional_contributions(
    margin: Margin,
    X: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    n_samples: int = 32,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(contributions, base): interventional Shapley values estimated from ``n_samples``
    pairs (reference row, order of the columns), shared by every explained row.

    For each pair, a row starts as the reference row and takes its own values column by
    column in that order; each step's change in margin is that column's. The steps
    telescope, so each row's contributions sum to its margin minus the base (the mean
    margin of the reference rows drawn, scored as that row: ``margin`` gets the index of
    the explained row, so a model that reads the row's group keeps it).
    """
    rng = np.random.default_rng(random_state)
    n, p = X.shape
    if len(reference) > n_samples:  # a sample of the reference rows
        draws = n_samples
        refs = rng.choice(len(reference), size=draws, replace=False)
    else:  # every reference row, equally often: the base is their mean margin
        draws = len(reference) * -(-n_samples // len(reference))
        refs = np.resize(rng.permutation(len(reference)), draws)
    orders = [rng.permutation(p) for _ in range(draws)]
    pool = pd.concat([X, reference], ignore_index=True)  # rows: X first, then the reference
    columns = {name: pool[name] for name in X.columns}
    values, base = np.zeros((n, p)), np.zeros(n)
    per_batch = max(1, BATCH_ROWS // max(n, 1))
    rows = np.arange(n)
    for first in range(0, draws, per_batch):
        batch = range(first, min(draws, first + per_batch))
        # source[s][:, j]: the pool row column j comes from, per explained row
        source = np.stack([np.broadcast_to(n + refs[s], (n, p)).copy() for s in batch])
        who = np.tile(rows, len(batch))

        previous = _score(margin, columns, source, who)
        base += previous.sum(axis=0)
        for step in range(p):
            for b, s in enumerate(batch):
                source[b, :, orders[s][step]] = rows
            current = _score(margin, columns, source, who)
            for b, s in enumerate(batch):
                values[:, orders[s][step]] += current[b] - previous[b]
            previous = current
    return values / draws, base / draws


def _score(
    margin: Margin, columns: dict[str, pd.Series], source: np.ndarray, who: np.ndarray
) -> np.ndarray:
    """The margins of the hybrid rows ``source`` (draws, rows, columns: the pool row each
    value comes from), shape (draws, rows)."""
    draws, n, p = source.shape
    flat = source.reshape(-1, p)
    hybrid = pd.DataFrame({
        name: column.take(flat[:, j]).reset_index(drop=True)
        for j, (name, column) in enumerate(columns.items())
    })  # fmt: skip
    return margin(hybrid, who).reshape(draws, n)
