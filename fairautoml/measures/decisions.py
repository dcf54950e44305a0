"""Fairness of yes/no decisions: fairlearn's metrics (demographic parity, equalized odds,
equal opportunity, error-rate differences and ratios) from per-group confusion counts.

The family computes each value from exact per-group confusion counts where fairlearn's own
value is the same (a test checks it; a group without both classes is left to fairlearn),
and its intervals from Poisson bootstrap counts with, for a largest gap, Newcombe's
pairwise lower bound (:func:`rates_lower_bound`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from fairlearn import metrics as flm

from fairautoml.measures import regression as rf
from fairautoml.measures.amount_bootstrap import poisson_weighted_sums
from fairautoml.measures.family import MeasureFamily, by_groups, central_interval
from fairautoml.measures.row_copies import RowCopies

# name -> (fairlearn function, required direction, group rates the metric compares)
DECISION_METRICS: dict[str, tuple[Callable[..., float], str, tuple[str, ...]]] = {
    "demographic_parity_difference": (flm.demographic_parity_difference, "<=", ("selection",)),
    "demographic_parity_ratio": (flm.demographic_parity_ratio, ">=", ("selection",)),
    "equalized_odds_difference": (flm.equalized_odds_difference, "<=", ("tpr", "fpr")),
    "equalized_odds_ratio": (flm.equalized_odds_ratio, ">=", ("tpr", "fpr")),
    "equal_opportunity_difference": (flm.equal_opportunity_difference, "<=", ("tpr",)),
    "equal_opportunity_ratio": (flm.equal_opportunity_ratio, ">=", ("tpr",)),
    "true_positive_rate_difference": (flm.true_positive_rate_difference, "<=", ("tpr",)),
    "false_positive_rate_difference": (flm.false_positive_rate_difference, "<=", ("fpr",)),
    "false_positive_rate_ratio": (flm.false_positive_rate_ratio, ">=", ("fpr",)),
    "false_negative_rate_difference": (flm.false_negative_rate_difference, "<=", ("fnr",)),
    "false_negative_rate_ratio": (flm.false_negative_rate_ratio, ">=", ("fnr",)),
}


# the differences that read the same when the two outcomes swap roles (a rate s becomes
# 1 - s; TPR and FPR become 1 - FPR and 1 - TPR)
SYMMETRIC = ("demographic_parity_difference", "equalized_odds_difference")


class DecisionRates(MeasureFamily):
    """The family of yes/no decisions (see the module docstring)."""

    metrics = tuple(DECISION_METRICS)
    takes_signed_weights = True

    def needs_positive_label(self, constraint: Any) -> bool:
        """Every ratio and single-rate metric depends on which outcome is favourable."""
        return constraint.is_ratio or constraint.metric not in SYMMETRIC

    def value(
        self,
        constraint: Any,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """fairlearn's value on the groups the constraint compares."""
        fn = DECISION_METRICS[constraint.metric][0]
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return float(fn(y_true, y_pred, sensitive_features=constraint.groups_of(groups), **kwargs))

    def values(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        codes: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        w = sample_weight
        inverse = np.unique(codes, return_inverse=True)[1].reshape(-1)
        row_w = np.ones(len(inverse)) if w is None else np.asarray(w, dtype=np.float64)
        positives = np.bincount(inverse, weights=(y_true == 1) * row_w)
        negatives = np.bincount(inverse, weights=row_w) - positives
        if len(positives) < 2 or positives.min() <= 0 or negatives.min() <= 0:
            return {c.metric: self.value(c, y_true, y_pred, codes, w) for c in constraints}
        rates = rates_from_counts(*confusion_counts(y_true, y_pred, codes, w))
        return {c.metric: float(c.from_rates(rates)[0]) for c in constraints}

    def intervals(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        level: float,
        random_state: int | None,
        n_boot: int,
        sample_weight: np.ndarray | None = None,
        membership: np.ndarray | None = None,
    ) -> dict[str, tuple[float, float]]:
        w, p = sample_weight, membership
        out: dict[str, tuple[float, float]] = {}
        counts = bootstrap_counts(y_true, y_pred, groups, n_boot, random_state, w, p)
        cells = np.unique(np.asarray(groups))
        weight = rf.counted_weight(w, p)
        ones = np.ones(len(np.asarray(y_true)))
        observed = confusion_counts(y_true, y_pred, groups, ones if weight is None else weight)
        squares = confusion_counts(y_true, y_pred, groups, ones if weight is None else weight**2)
        for members in by_groups(constraints):
            rates = rates_from_counts(*pooled(counts, cells, members[0]))
            sums, sums_sq = pooled(observed, cells, members[0]), pooled(squares, cells, members[0])
            for c in members:
                low, high = central_interval(c.from_rates(rates), level)
                if not c.is_ratio:  # a largest gap's bootstrap sits high: a pairwise bound
                    low = min(low, rates_lower_bound(c.rates, sums, sums_sq, (1 - level) / 2))
                out[c.key] = (low, high)
        return out


def group_rates(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Selection rate, TPR, FPR and FNR per group under row ``weights`` of shape (B, n)."""
    y_true, y_pred = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    onehot = np.asarray(groups)[:, None] == np.unique(groups)[None, :]  # (n, G)

    def total(mask: np.ndarray) -> np.ndarray:
        return weights @ (onehot & mask[:, None])  # (B, G)

    return rates_from_counts(
        total(y_true & y_pred), total(y_true & ~y_pred),
        total(~y_true & y_pred), total(~y_true & ~y_pred),
    )  # fmt: skip


def _cell_codes(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's (group, label, prediction) cell: ``group code * 4 + 2 y + pred``."""
    y_true = np.asarray(y_true, dtype=bool).astype(np.int64)
    y_pred = np.asarray(y_pred, dtype=bool).astype(np.int64)
    g = np.asarray(groups)
    if g.dtype.kind in "iub" and g.size and g.min() >= 0:  # already codes (prepared data)
        codes = g.astype(np.int64)
    else:
        codes = np.unique(g, return_inverse=True)[1].reshape(-1)
    return codes * 4 + y_true * 2 + y_pred


def confusion_counts(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-group (tp, fn, fp, tn) of the groups present, in sorted order, shape (1, G) each:
    :func:`group_rates` under unit weights (or ``sample_weight``: weighted counts), in one
    counting pass over the rows."""
    cell = _cell_codes(y_true, y_pred, groups)
    n_cells = 4 * (int(cell.max()) // 4 + 1) if cell.size else 0
    rows = np.bincount(cell, minlength=n_cells).reshape(-1, 4)
    cells = rows if sample_weight is None else np.bincount(
        cell, weights=np.asarray(sample_weight, dtype=np.float64), minlength=n_cells
    ).reshape(-1, 4)  # fmt: skip
    tn, fp, fn, tp = cells[rows.sum(axis=1) > 0].astype(np.float64).T[:, None, :]
    return tp, fn, fp, tn


def bootstrap_rates(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_boot: int = 200,
    random_state: int | None = None,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-group rates under ``n_boot`` Poisson bootstrap resamples of the rows, (B, G) each.

    Each row gets a Poisson(1) weight; the weighted count of a (group, label, prediction)
    cell is then a sum of independent Poisson(1) draws, i.e. Poisson(cell size). Drawing
    the cell counts directly is the same bootstrap at O(n_boot x groups) cost instead of
    O(n_boot x rows). With ``sample_weight`` a row's resampled weight is its Poisson(1)
    count times its weight, which no cell-level draw reproduces: the rows are drawn
    (O(n_boot x rows)). A row that belongs to its group with probability ``membership``
    counts there as a Poisson(1) draw kept with that probability, a Poisson(membership)
    draw (times its weight): the row and its group drawn together. Without weights the
    cell count is then Poisson(the cell's total membership), drawn per cell. Rows in
    several groups with signed weights (:class:`~fairautoml.measures.row_copies.RowCopies`)
    are drawn row by row, one draw per row shared by its entries.
    """
    return rates_from_counts(
        *bootstrap_counts(y_true, y_pred, groups, n_boot, random_state, sample_weight, membership)
    )


def bootstrap_counts(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_boot: int = 200,
    random_state: int | None = None,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (tp, fn, fp, tn) counts per group present of :func:`bootstrap_rates`' resamples."""
    rng = np.random.default_rng(random_state)
    if sample_weight is not None or isinstance(membership, RowCopies):
        cell = _cell_codes(y_true, y_pred, groups)
        n_cells = 4 * (int(cell.max()) // 4 + 1) if cell.size else 0
        present = np.bincount(cell, minlength=n_cells).reshape(-1, 4).sum(axis=1) > 0
        if isinstance(membership, RowCopies):
            w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
            totals = membership.resampled_sums(cell, n_cells, n_boot, random_state, w)
        else:
            weight = np.asarray(sample_weight, dtype=np.float64)
            rate = None if membership is None else np.asarray(membership, dtype=np.float64)
            (totals,) = poisson_weighted_sums(cell, n_cells, [weight], n_boot, rng, rate)
        tn, fp, fn, tp = np.moveaxis(totals.reshape(n_boot, -1, 4)[:, present], -1, 0)
        return tp, fn, fp, tn

    def draw(size: np.ndarray) -> np.ndarray:
        return rng.poisson(size[0], size=(n_boot, size.shape[1])).astype(np.float64)

    tp, fn, fp, tn = confusion_counts(y_true, y_pred, groups, membership)
    return draw(tp), draw(fn), draw(fp), draw(tn)


def pooled(counts: Sequence[np.ndarray], cells: np.ndarray, c: Any) -> list[np.ndarray]:
    """Counts per cell (columns: the codes ``cells``, sorted) summed into the groups ``c``
    compares: a group of some attributes pools its cells' rows."""
    if not c.attributes:
        return list(counts)
    into = np.unique(c.groups_of(cells), return_inverse=True)[1].reshape(-1)
    member = (into[:, None] == np.arange(into.max() + 1)[None, :]).astype(np.float64)
    return [x @ member for x in counts]


def rates_from_counts(tp: np.ndarray, fn: np.ndarray, fp: np.ndarray, tn: np.ndarray) -> dict:
    """Selection rate, TPR, FPR and FNR from (weighted) confusion counts per group."""

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return num / np.maximum(den, 1e-12)

    pos, neg = tp + fn, fp + tn
    tpr = ratio(tp, pos)
    return {
        "selection": ratio(tp + fp, pos + neg),
        "tpr": tpr,
        "fpr": ratio(fp, neg),
        "fnr": 1.0 - tpr,
    }


def rates_lower_bound(
    rates: Sequence[str],
    counts: Sequence[np.ndarray],
    squares: Sequence[np.ndarray],
    alpha: float,
) -> float:
    """A lower confidence bound on the largest gap between groups' ``rates`` (a difference
    metric's true value), at least ``1 - alpha`` at every true value.

    The sample's largest gap reads above the true one by the noise of every group's rate,
    and a bootstrap resample adds its own noise on top, so the bootstrap interval's lower
    end sits above the true value on small groups far more often than its level says.
    Here each ordered pair of groups and each rate gives Newcombe's lower bound on the
    difference of two proportions (from each rate's Wilson score interval; it keeps its
    level on a few dozen rows, where the normal approximation does not), at the level
    ``alpha`` shared out over the pairs and rates (Bonferroni: the largest true gap is at
    least every pair's). Sizes are effective sizes, ``(sum w)^2 / sum w^2`` from
    ``counts`` and ``squares`` (the (tp, fn, fp, tn) sums of the row weights and of
    their squares per group). The bound is the largest over the pairs and rates, at
    least 0."""
    tp, fn, fp, tn = (np.asarray(x, dtype=np.float64).reshape(-1) for x in counts)
    tp2, fn2, fp2, tn2 = (np.asarray(x, dtype=np.float64).reshape(-1) for x in squares)
    parts = {
        "selection": (tp + fp, tp + fn + fp + tn, tp2 + fn2 + fp2 + tn2),
        "tpr": (tp, tp + fn, tp2 + fn2),
        "fpr": (fp, fp + tn, fp2 + tn2),
        "fnr": (fn, tp + fn, tp2 + fn2),
    }
    g = tp.size
    if g < 2 or not rates:
        return 0.0
    z = NormalDist().inv_cdf(1 - alpha / (len(rates) * g * (g - 1)))
    best = 0.0
    for name in rates:
        num, den, den_sq = parts[name]
        present = den > 0
        if present.sum() < 2:
            continue
        rate = num[present] / den[present]
        n = den[present] ** 2 / den_sq[present]
        centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        low, high = centre - half, centre + half
        # group a above group b: (r_a - r_b) - sqrt((r_a - low_a)^2 + (high_b - r_b)^2)
        gap = (rate[:, None] - rate[None, :]) - np.sqrt(
            (rate - low)[:, None] ** 2 + (high - rate)[None, :] ** 2
        )
        best = max(best, float(np.max(gap)))
    return best


__all__ = [
    "DECISION_METRICS",
    "DecisionRates",
    "bootstrap_counts",
    "bootstrap_rates",
    "confusion_counts",
    "group_rates",
    "pooled",
    "rates_from_counts",
    "rates_lower_bound",
]
