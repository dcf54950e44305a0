"""Fairness measures of a regressor, as pure functions, with their Poisson bootstraps.

Two kinds of measure, both from Agarwal, Dudík & Wu (2019), "Fair Regression:
Quantitative Definitions and Reduction-based Algorithms" (ICML):

* **Demographic parity** (statistical parity of the prediction's whole distribution):
  the prediction should not depend on the group. Its violation is measured here as the
  largest Kolmogorov–Smirnov distance between two groups' (weighted) empirical CDFs of
  the prediction, :func:`ks_distance`. Over several groups that is
  ``sup_x (max_g F_g(x) - min_g F_g(x))``. Comparing each group with the pooled
  distribution instead gives a value between half this one and this one; the pairwise
  form is the one ``scipy.stats.ks_2samp`` reports for two groups.
* **Bounded group loss**: every group's error stays small. :func:`group_losses` gives
  the mean absolute or squared error per group; the table :data:`REGRESSION_MEASURES`
  derives fairlearn-style ``_difference``, ``_ratio`` and ``_group_max`` values from it,
  with the names and meaning of ``fairlearn.metrics.make_derived_metric`` (the tests pin
  them to ``fairlearn.metrics.MetricFrame``). These are plain group reductions computed
  directly because the constraint check and its bootstrap run on every trial, where a
  pandas ``MetricFrame`` per resample would cost far more than the model.

The bootstraps give each row a Poisson(1) weight, the bootstrap the binary constraints
use (``fairautoml.measures.decisions.bootstrap_rates``), drawn in equivalent cheaper ways:
a cell of ``c`` rows gets a Poisson(``c``) weighted count, and a group's Poisson(1)
weighted loss sum is, in distribution, the sum over Poisson(``n_g``) rows drawn
uniformly with replacement from its ``n_g`` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from fairautoml.exceptions import InputError, unknown_name
from fairautoml.measures.row_copies import RowCopies
from fairautoml.values import plain

LOSSES = ("absolute", "squared")

LENGTH_MISMATCH = (
    "{what} has {n_other} entries but the predictions have {n}; pass one value per row."
)
NOT_FINITE = "{what} has {n} missing or infinite value(s); drop or impute those rows first."
BAD_WEIGHTS = "sample_weight must be finite and non-negative; it has {n} value(s) that are not."
EMPTY_GROUP = (
    "Group {group!r} has zero total sample_weight, so its distribution or loss is undefined; "
    "give it positive weight or leave its rows out."
)
EMPTY_INPUT = "The predictions are empty; pass at least one row."


@dataclass(frozen=True)
class _Rows:
    """Validated inputs: 1-D float arrays, group codes into ``labels`` (sorted)."""

    pred: np.ndarray
    codes: np.ndarray
    labels: np.ndarray
    weight: np.ndarray


def _rows(
    pred: ArrayLike,
    groups: ArrayLike,
    sample_weight: ArrayLike | None = None,
    y: ArrayLike | None = None,
) -> tuple[_Rows, np.ndarray | None]:
    """One place that checks the arrays and codes the groups in sorted order."""
    p = np.asarray(pred, dtype=np.float64).ravel()
    if p.size == 0:
        raise InputError(EMPTY_INPUT)
    _check_finite(p, "The predictions")
    labels, codes = np.unique(np.asarray(groups).ravel(), return_inverse=True)
    _check_length(codes, p, "groups")
    if sample_weight is None:
        weight = np.ones_like(p)
    else:
        weight = np.asarray(sample_weight, dtype=np.float64).ravel()
        _check_length(weight, p, "sample_weight")
        bad = int(np.sum(~np.isfinite(weight) | (weight < 0)))
        if bad:
            raise InputError(BAD_WEIGHTS.format(n=bad))
        totals = np.bincount(codes, weights=weight, minlength=labels.size)
        if np.any(totals <= 0):
            raise InputError(EMPTY_GROUP.format(group=plain(labels[np.argmin(totals)])))
    target = None
    if y is not None:
        target = np.asarray(y, dtype=np.float64).ravel()
        _check_length(target, p, "y")
        _check_finite(target, "y")
    return _Rows(p, codes.ravel(), labels, weight), target


def counted_weight(
    sample_weight: ArrayLike | None, membership: ArrayLike | None
) -> np.ndarray | None:
    """How much each row counts in its group: its weight times its membership (or its
    signed weight: :class:`~fairautoml.measures.row_copies.RowCopies`)."""
    if membership is None:
        return sample_weight
    signed = isinstance(membership, RowCopies)
    rate = np.asarray(membership.weight if signed else membership, dtype=np.float64)
    return rate if sample_weight is None else rate * np.asarray(sample_weight, dtype=np.float64)


def _weight_and_rate(
    sample_weight: ArrayLike | None, membership: ArrayLike | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The row-by-row bootstrap's weights and Poisson means (see :func:`poisson_weighted_sums`)."""
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    rate = None if membership is None else np.asarray(membership, dtype=np.float64)
    return weight, rate


def _check_length(other: np.ndarray, pred: np.ndarray, what: str) -> None:
    if other.size != pred.size:
        raise InputError(LENGTH_MISMATCH.format(what=what, n_other=other.size, n=pred.size))


def _check_finite(values: np.ndarray, what: str) -> None:
    bad = int(np.sum(~np.isfinite(values)))
    if bad:
        raise InputError(NOT_FINITE.format(what=what, n=bad))


def _cells(rows: _Rows, grid: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(G, K) weight of each group's rows whose prediction falls in ``(grid[k-1], grid[k]]``."""
    k = np.searchsorted(grid, rows.pred, side="left")
    flat = np.bincount(
        rows.codes * grid.size + k, weights=weight, minlength=rows.labels.size * grid.size
    )
    return flat.reshape(rows.labels.size, grid.size)


def _ks_from_cells(cells: np.ndarray) -> np.ndarray:
    """Largest pairwise ECDF gap from cell weights of shape (..., G, K); NaN if a group is empty."""
    cdf = np.cumsum(cells, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf /= cdf[..., -1:]
    gap = np.max(cdf, axis=-2) - np.min(cdf, axis=-2)
    return np.max(gap, axis=-1)


def ks_distance(
    pred: ArrayLike, groups: ArrayLike, sample_weight: ArrayLike | None = None
) -> float:
    """Largest Kolmogorov–Smirnov distance between two groups' prediction distributions.

    Exact: the (weighted) ECDFs are compared at every distinct prediction, where the
    supremum of their gap is reached. 0 for identical distributions (and for a single
    group), 1 when some threshold separates two groups completely.

    Parameters
    ----------
    pred : array-like of shape (n_samples,)
        The regressor's predictions.
    groups : array-like of shape (n_samples,)
        Group of each row: any labels, or integer codes.
    sample_weight : array-like of shape (n_samples,), optional
        Row weights for the ECDFs; every group needs a positive total.

    Returns
    -------
    float
        ``max over group pairs of sup_x |F_a(x) - F_b(x)|``, in [0, 1].
    """
    rows, _ = _rows(pred, groups, sample_weight)
    grid = np.unique(rows.pred)
    return float(_ks_from_cells(_cells(rows, grid, rows.weight)))


def _loss(y: np.ndarray, pred: np.ndarray, loss: str) -> np.ndarray:
    if loss not in LOSSES:
        raise unknown_name("loss", loss, LOSSES)
    err = y - pred
    return np.abs(err) if loss == "absolute" else err * err


def group_losses(
    y: ArrayLike,
    pred: ArrayLike,
    groups: ArrayLike,
    loss: str,
    sample_weight: ArrayLike | None = None,
) -> np.ndarray:
    """Mean absolute or squared error of each group, in sorted group order.

    The root mean squared error per group is ``np.sqrt`` of the ``"squared"`` values.

    Parameters
    ----------
    y, pred : array-like of shape (n_samples,)
        Targets and predictions.
    groups : array-like of shape (n_samples,)
        Group of each row (any labels).
    loss : {"absolute", "squared"}
        Which error to average.
    sample_weight : array-like of shape (n_samples,), optional
        Row weights (a weighted mean per group).

    Returns
    -------
    ndarray of shape (n_groups,)
        Groups in the order of ``np.unique(groups)`` (fairlearn's ``by_group`` order).
    """
    rows, target = _rows(pred, groups, sample_weight, y=y)
    values = _loss(target, rows.pred, loss)
    g = rows.labels.size
    num = np.bincount(rows.codes, weights=rows.weight * values, minlength=g)
    return num / np.bincount(rows.codes, weights=rows.weight, minlength=g)


# --- the constraint table -------------------------------------------------------------


@dataclass(frozen=True)
class RegressionMeasure:
    """A regression fairness measure a constraint can name.

    Attributes
    ----------
    name : str
        What users type, e.g. ``"mean_absolute_error_difference"``.
    op : {"<=", ">="}
        The direction a constraint on it takes.
    bound_max : float
        Valid bounds lie in ``(0, bound_max]`` (``inf``: any positive bound).
    meaning : str
        One line for messages and docs.
    loss : {"absolute", "squared"} or None
        The group loss :func:`bootstrap_group_losses` needs for ``from_bootstrap``;
        None: the measure takes :func:`bootstrap_ks`'s output.
    value : callable
        ``(y, pred, groups, sample_weight) -> float``, the measure on data.
    from_bootstrap : callable
        Bootstrap output (``(n_boot,)`` for KS, ``(n_boot, n_groups)`` group losses)
        to the measure's ``(n_boot,)`` resampled values.
    reduction : {"difference", "ratio", "group_max"} or None
        How a group-loss measure compares the groups' values; None for KS.
    root : bool
        Whether the groups' values are the square roots of their mean losses (RMSE).
    """

    name: str
    op: str
    bound_max: float
    meaning: str
    loss: str | None
    value: Callable[[ArrayLike, ArrayLike, ArrayLike, ArrayLike | None], float]
    from_bootstrap: Callable[[np.ndarray], np.ndarray]
    reduction: str | None = None
    root: bool = False


def _difference(losses: np.ndarray) -> np.ndarray:
    return np.max(losses, axis=-1) - np.min(losses, axis=-1)


def _ratio(losses: np.ndarray) -> np.ndarray:
    """min / max; 1 when every group's loss is 0 (all groups equally perfect)."""
    low, high = np.min(losses, axis=-1), np.max(losses, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(high == 0, 1.0, low / high)


def _group_max(losses: np.ndarray) -> np.ndarray:
    return np.max(losses, axis=-1)


_REDUCTIONS: dict[str, tuple[str, float, Callable[[np.ndarray], np.ndarray], str]] = {
    "difference": ("<=", np.inf, _difference, "largest minus smallest group {what}"),
    "ratio": (">=", 1.0, _ratio, "smallest over largest group {what}"),
    "group_max": ("<=", np.inf, _group_max, "largest group {what} (bounded group loss)"),
}
_METRICS: dict[str, tuple[str, bool, str]] = {  # name: (loss, root, what)
    "mean_absolute_error": ("absolute", False, "mean absolute error"),
    "mean_squared_error": ("squared", False, "mean squared error"),
    "root_mean_squared_error": ("squared", True, "root mean squared error"),
}


def _loss_measure(metric: str, reduction: str) -> RegressionMeasure:
    loss, root, what = _METRICS[metric]
    op, bound_max, reduce, meaning = _REDUCTIONS[reduction]

    def from_bootstrap(losses: np.ndarray) -> np.ndarray:
        return reduce(np.sqrt(losses) if root else losses)

    def value(
        y: ArrayLike, pred: ArrayLike, groups: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        return float(from_bootstrap(group_losses(y, pred, groups, loss, sample_weight)))

    name = f"{metric}_{reduction}"
    return RegressionMeasure(
        name, op, bound_max, meaning.format(what=what), loss, value, from_bootstrap, reduction, root
    )


def _ks_value(
    y: ArrayLike, pred: ArrayLike, groups: ArrayLike, sample_weight: ArrayLike | None = None
) -> float:
    return ks_distance(pred, groups, sample_weight)


REGRESSION_MEASURES: dict[str, RegressionMeasure] = {
    "demographic_parity_ks": RegressionMeasure(
        "demographic_parity_ks",
        "<=",
        1.0,
        "largest Kolmogorov-Smirnov distance between two groups' prediction distributions",
        None,
        _ks_value,
        np.asarray,
    ),
    **{
        m.name: m
        for m in (_loss_measure(metric, red) for metric in _METRICS for red in _REDUCTIONS)
    },
}


def regression_measure(name: str) -> RegressionMeasure:
    """The table entry for ``name``; an unknown name lists the valid ones."""
    if name not in REGRESSION_MEASURES:
        raise unknown_name("regression fairness measure", name, REGRESSION_MEASURES)
    return REGRESSION_MEASURES[name]
