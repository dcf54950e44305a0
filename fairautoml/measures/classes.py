"""Fairness of decisions among several classes: the measures of
:mod:`fairautoml.measures.multiclass` under fairlearn's names, from (group, true class,
predicted class) counts; intervals from Poisson bootstrap cells, with every favourable
class's one-vs-rest Newcombe bound (Bonferroni over the classes too) for a largest gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairautoml.measures import multiclass as mf
from fairautoml.measures import regression as rf
from fairautoml.measures.amount_bootstrap import poisson_weighted_sums
from fairautoml.measures.decisions import DECISION_METRICS, rates_lower_bound
from fairautoml.measures.family import MeasureFamily, by_groups, central_interval


class ClassRates(MeasureFamily):
    """The family of several classes (see the module docstring)."""

    metrics = tuple(DECISION_METRICS)  # the same names, the multiclass meaning

    def value(
        self,
        constraint: Any,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        codes = constraint.groups_of(groups)
        return _multiclass_values([constraint], y_true, y_pred, codes, sample_weight)[
            constraint.key
        ]

    def values(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        codes: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        return _multiclass_values(constraints, y_true, y_pred, codes, sample_weight)

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
        values = _multiclass_bootstrap(
            constraints, y_true, y_pred, groups, n_boot, random_state, w, p
        )
        lows = _multiclass_lower_bounds(constraints, y_true, y_pred, groups, (1 - level) / 2, w, p)
        out: dict[str, tuple[float, float]] = {}
        for key, v in values.items():
            low, high = central_interval(v, level)
            out[key] = (min(low, lows[key]) if key in lows else low, high)
        return out


def _n_classes(constraints: Sequence[Any], *codes: np.ndarray) -> int:
    """The number of classes the constraints were bound to, else the most the codes show."""
    bound = [c.family.n_classes for c in constraints if c.family and c.family.n_classes]
    seen = max((int(np.max(x)) + 1 for x in codes if np.size(x)), default=2)
    return max([*bound, seen])


def _favourable(c: Any) -> tuple[int, ...] | None:
    return None if c.family is None else c.family.favourable


def _multiclass_values(
    constraints: Sequence[Any],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Multiclass constraints' values on groups ``codes`` (the measures of
    :mod:`fairautoml.measures.multiclass`)."""
    k = _n_classes(constraints, y_true, y_pred)
    out: dict[str, float] = {}
    for c in constraints:
        out[c.key] = mf.measure_values(
            [c.metric], y_true, y_pred, codes, n_classes=k, favourable=_favourable(c),
            sample_weight=sample_weight,
        )[c.metric]  # fmt: skip
    return out


def _multiclass_bootstrap(
    constraints: Sequence[Any],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_boot: int,
    random_state: int | None,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each multiclass constraint's value under ``n_boot`` Poisson bootstrap resamples: the
    (group cell, true class, predicted class) counts drawn once, as Poisson(cell size)
    counts (or row by row with ``sample_weight``, as :func:`bootstrap_counts`), then pooled
    into each constraint's groups."""
    k = _n_classes(constraints, y_true, y_pred)
    labels, inverse = np.unique(np.asarray(groups), return_inverse=True)
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    flat = (inverse.reshape(-1) * k + t) * k + p
    n_cells = len(labels) * k * k
    rng = np.random.default_rng(random_state)
    rate = None if membership is None else np.asarray(membership, dtype=np.float64)
    if sample_weight is None:
        sizes = np.bincount(flat, weights=rate, minlength=n_cells).astype(np.float64)
        drawn = rng.poisson(sizes, size=(n_boot, n_cells)).astype(np.float64)
    else:
        weight = np.asarray(sample_weight, dtype=np.float64)
        (drawn,) = poisson_weighted_sums(flat, n_cells, [weight], n_boot, rng, rate)
    cells = drawn.reshape(n_boot, len(labels), k, k)
    out: dict[str, np.ndarray] = {}
    for members in by_groups(constraints):
        into = np.unique(members[0].groups_of(labels), return_inverse=True)[1].reshape(-1)
        member = (into[:, None] == np.arange(into.max() + 1)[None, :]).astype(np.float64)
        rates = mf.rates_from_cells(np.einsum("bgtp,gh->bhtp", cells, member))
        for c in members:
            measure = mf.MULTICLASS_MEASURES[c.metric]
            out[c.key] = np.asarray(measure.from_rates(rates, _favourable(c)), dtype=np.float64)
    return out


def _multiclass_lower_bounds(
    constraints: Sequence[Any],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    alpha: float,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, float]:
    """:func:`rates_lower_bound` of each multiclass difference: every favourable class's
    one-vs-rest counts, Bonferroni over the classes too (``alpha`` shared out)."""
    k = _n_classes(constraints, y_true, y_pred)
    labels, inverse = np.unique(np.asarray(groups), return_inverse=True)
    t = np.asarray(y_true, dtype=np.int64)
    flat = (inverse.reshape(-1) * k + t) * k + np.asarray(y_pred, dtype=np.int64)
    weight = rf.counted_weight(sample_weight, membership)
    row_w = np.ones(len(flat)) if weight is None else np.asarray(weight, dtype=np.float64)
    tables = [
        np.bincount(flat, weights=x, minlength=len(labels) * k * k).reshape(len(labels), k, k)
        for x in (row_w, row_w**2)
    ]
    out: dict[str, float] = {}
    for c in constraints:
        if c.is_ratio:
            continue
        into = np.unique(c.groups_of(labels), return_inverse=True)[1].reshape(-1)
        member = (into[:, None] == np.arange(into.max() + 1)[None, :]).astype(np.float64)
        sums, squares = (np.einsum("gtp,gh->htp", x, member) for x in tables)
        classes = _favourable(c) or tuple(range(k))

        def one_vs_rest(cells: np.ndarray, j: int) -> tuple[np.ndarray, ...]:
            tp = cells[:, j, j]
            fn = cells[:, j, :].sum(axis=-1) - tp
            fp = cells[:, :, j].sum(axis=-1) - tp
            return tp, fn, fp, cells.sum(axis=(-2, -1)) - tp - fn - fp

        rates = mf.MULTICLASS_MEASURES[c.metric].rates
        share = alpha / len(classes)
        out[c.key] = max(
            rates_lower_bound(rates, one_vs_rest(sums, j), one_vs_rest(squares, j), share)
            for j in classes
        )
    return out


__all__ = ["ClassRates"]
