"""Poisson bootstraps of the regression measures: resampled KS distances and group losses
(row weights drawn per row, or per cell where that is the same bootstrap), and the
Kolmogorov lower bound a KS distance's interval takes where the bootstrap's sits high.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fairautoml.measures.regression import (
    _cells,
    _ks_from_cells,
    _loss,
    _rows,
    _weight_and_rate,
    counted_weight,
    regression_measure,
)

MAX_GRID = 1024  # ECDF evaluation points under the KS bootstrap


BOOT_CHUNK = 2**22  # resampled row weights drawn at once by the weighted bootstrap


def poisson_weighted_sums(
    cells: np.ndarray,
    n_cells: int,
    values: list[np.ndarray],
    n_boot: int,
    rng: np.random.Generator,
    rate: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Each of ``values`` summed per cell under ``n_boot`` resamples in which every row gets
    a Poisson(1) weight (the same draws for every entry of ``values``), shape
    (n_boot, n_cells) each: the bootstrap of weighted data, where a row's resampled weight
    is its Poisson(1) count times its own weight (pass the weights, or weight x value).
    ``rate``: each row's Poisson mean instead of 1 (a group membership: the row's draw
    kept with that probability)."""
    import scipy.sparse

    n = len(cells)
    out = [np.empty((n_boot, n_cells)) for _ in values]
    onehots = [
        scipy.sparse.csr_matrix((v, (np.arange(n), cells)), shape=(n, n_cells)) for v in values
    ]
    step = max(1, BOOT_CHUNK // max(n, 1))
    for start in range(0, n_boot, step):
        k = min(step, n_boot - start)
        draws = rng.poisson(1.0 if rate is None else rate, size=(k, n)).astype(np.float64)
        for total, onehot in zip(out, onehots, strict=True):
            total[start : start + k] = np.asarray(onehot.T @ draws.T).T
    return out


def _ks_grid(pred: np.ndarray, max_grid: int) -> np.ndarray:
    distinct = np.unique(pred)
    if distinct.size <= max_grid:
        return distinct
    return np.unique(np.quantile(pred, np.linspace(0.0, 1.0, max_grid)))


def bootstrap_ks(
    pred: ArrayLike,
    groups: ArrayLike,
    n_boot: int = 200,
    random_state: int | None = None,
    sample_weight: ArrayLike | None = None,
    membership: ArrayLike | None = None,
) -> np.ndarray:
    """:func:`ks_distance` under ``n_boot`` Poisson(1) bootstrap resamples of the rows.

    With more than 1,024 distinct predictions the resampled ECDFs are compared on a grid
    of 1,024 pooled quantiles (each row counted at the first grid point at or above its
    prediction), so the bootstrap distribution is that of the KS distance on the grid: it
    can sit slightly below the exact one. With fewer distinct values the grid is every
    value and the resamples are exact. Rows in a grid cell get a Poisson(cell size)
    count, the sum of their Poisson(1) weights, so the cost does not grow with rows.

    With ``sample_weight`` each row's resampled weight is its Poisson(1) count times its
    weight, drawn row by row (O(n_boot x rows)). A row that belongs to its group with
    probability ``membership`` is a Poisson(membership) count there (its Poisson(1) draw
    kept with that probability): a cell's count is Poisson(its total membership).

    Returns
    -------
    ndarray of shape (n_boot,)
        NaN for a resample in which some group drew no rows.
    """
    rows, _ = _rows(pred, groups, counted_weight(sample_weight, membership))
    grid = _ks_grid(rows.pred, MAX_GRID)
    rng = np.random.default_rng(random_state)
    if sample_weight is not None:
        cells = rows.codes * grid.size + np.searchsorted(grid, rows.pred, side="left")
        n_cells = rows.labels.size * grid.size
        weight, rate = _weight_and_rate(sample_weight, membership)
        (totals,) = poisson_weighted_sums(cells, n_cells, [weight], n_boot, rng, rate)
        return _ks_from_cells(totals.reshape(n_boot, rows.labels.size, grid.size))
    sizes = _cells(rows, grid, rows.weight)
    counts = rng.poisson(sizes, size=(n_boot, *sizes.shape)).astype(np.float32)
    return _ks_from_cells(counts).astype(np.float64)  # float32 sums: exact to 2**24 rows


def ks_lower_bound(
    pred: ArrayLike,
    groups: ArrayLike,
    alpha: float,
    sample_weight: ArrayLike | None = None,
    membership: ArrayLike | None = None,
) -> float:
    """A lower confidence bound on the populations' KS distance, valid at every true value
    with probability at least ``1 - alpha``.

    A sample's KS distance reads above the populations' by the sampling noise of both
    ECDFs, and a bootstrap resample adds its own noise on top, so the bootstrap interval's
    lower end sits above the true value far more often than its level says (on a few
    hundred rows per group, even for identical distributions). Here each pair of groups
    gives ``KS_ab - c * sqrt(1/n_a + 1/n_b)``, ``c`` the Kolmogorov distribution's upper
    ``alpha / pairs`` quantile (Bonferroni over the pairs): the gap between a pair's
    sample and population difference of ECDFs is at most the two-sample statistic of
    identical distributions, whose quantile that is (Dvoretzky-Kiefer-Wolfowitz,
    Kolmogorov). Group sizes are effective sizes under weights or memberships
    ``(sum w)^2 / sum w^2``. The bound is the largest over the pairs, at least 0.
    """
    from scipy.stats import kstwobign

    rows, _ = _rows(pred, groups, counted_weight(sample_weight, membership))
    g = rows.labels.size
    if g < 2:
        return 0.0
    cdf = np.cumsum(_cells(rows, np.unique(rows.pred), rows.weight), axis=-1)
    cdf /= cdf[:, -1:]
    total = np.bincount(rows.codes, weights=rows.weight, minlength=g)
    squares = np.bincount(rows.codes, weights=rows.weight**2, minlength=g)
    size = total**2 / squares
    quantile = float(kstwobign.isf(alpha / (g * (g - 1) / 2)))
    best = 0.0
    for a in range(g):
        for b in range(a + 1, g):
            gap = float(np.max(np.abs(cdf[a] - cdf[b])))
            best = max(best, gap - quantile * float(np.sqrt(1 / size[a] + 1 / size[b])))
    return best


def bootstrap_group_losses(
    y: ArrayLike,
    pred: ArrayLike,
    groups: ArrayLike,
    loss: str,
    n_boot: int = 200,
    random_state: int | None = None,
    sample_weight: ArrayLike | None = None,
    membership: ArrayLike | None = None,
) -> np.ndarray:
    """:func:`group_losses` under ``n_boot`` Poisson(1) bootstrap resamples of the rows.

    Drawn as: a group of ``n_g`` rows gets a Poisson(``n_g``) number of draws, made
    uniformly with replacement from its rows. Given their total, Poisson(1) row weights
    are such a multinomial allocation, so this is the Poisson(1) row-weight bootstrap,
    with one draw per resampled row instead of one per row and resample. With
    ``sample_weight`` each row's resampled weight is its Poisson(1) count times its
    weight, drawn row by row. A row in its group with probability ``membership`` is a
    Poisson(membership) count there.

    Returns
    -------
    ndarray of shape (n_boot, n_groups)
        Groups in sorted order; NaN where a group drew no rows.
    """
    rows, target = _rows(pred, groups, counted_weight(sample_weight, membership), y=y)
    values = _loss(target, rows.pred, loss)
    rng = np.random.default_rng(random_state)
    if sample_weight is not None or membership is not None:
        weight, rate = _weight_and_rate(sample_weight, membership)
        weight = np.ones_like(values) if weight is None else weight
        num, den = poisson_weighted_sums(
            rows.codes, rows.labels.size, [weight * values, weight], n_boot, rng, rate
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    size = np.bincount(rows.codes, minlength=rows.labels.size)
    draws = rng.poisson(size, size=(n_boot, size.size))  # rows drawn per (resample, group)
    sums = np.empty(draws.shape)
    for g in range(size.size):
        picked = values[rows.codes == g][rng.integers(0, size[g], draws[:, g].sum())]
        offsets = np.concatenate(([0], np.cumsum(draws[:-1, g])))
        sums[:, g] = np.add.reduceat(np.append(picked, 0.0), offsets)  # 0: a last empty cell
    sums[draws == 0] = 0.0  # reduceat gives the next element for an empty segment
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / draws


def bootstrap_measure(
    name: str,
    y: ArrayLike,
    pred: ArrayLike,
    groups: ArrayLike,
    n_boot: int = 200,
    random_state: int | None = None,
    sample_weight: ArrayLike | None = None,
) -> np.ndarray:
    """The measure ``name`` under ``n_boot`` Poisson(1) bootstrap resamples, shape (n_boot,)
    (rows weighted by ``sample_weight``, when given)."""
    measure = regression_measure(name)
    if measure.loss is None:
        return measure.from_bootstrap(
            bootstrap_ks(pred, groups, n_boot, random_state, sample_weight)
        )
    losses = bootstrap_group_losses(
        y, pred, groups, measure.loss, n_boot, random_state, sample_weight
    )
    return measure.from_bootstrap(losses)
