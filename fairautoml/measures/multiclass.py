"""Fairness measures of a classifier of ``k`` classes, as pure functions, with their Poisson
bootstrap.

Every measure is read off one table of *one-vs-rest* rates per group and class: for
class ``c`` in group ``g``

* selection rate ``s_gc = P(pred = c | g)``,
* true positive rate ``tpr_gc = P(pred = c | y = c, g)`` (the recall of ``c``),
* false positive rate ``fpr_gc = P(pred = c | y != c, g)``,
* false negative rate ``fnr_gc = 1 - tpr_gc``.

A measure compares these across groups, class by class, over the *favourable* classes
``F`` (every class unless a constraint names some; ``pos_label`` in the user's words):

* a ``_difference`` is the largest, over ``c`` in ``F`` and the rates it compares, of
  ``max_g rate_gc - min_g rate_gc``;
* a ``_ratio`` the smallest, over the same, of ``min_g rate_gc / max_g rate_gc``.

``demographic_parity`` compares selection rates, ``equalized_odds`` TPR and FPR,
``equal_opportunity`` TPR, and the single-rate names (``false_positive_rate_ratio``, ...)
theirs, exactly as :mod:`fairlearn.metrics` names them for two classes.

On two classes with ``F = {1}`` every measure is fairlearn's binary one (class 1 being the
positive label). With ``F`` both classes the demographic parity and equalized odds
differences are still the binary ones: class 0's selection rate is ``1 - s``, its TPR is
``1 - FPR`` and its FPR is ``1 - TPR``, so its gaps are class 1's. Ratios and single-rate
measures are not symmetric that way (they depend on the favourable label, as in the
binary case), which is why they take ``F``. The tests pin both reductions.

A rate whose denominator is empty in a group (no row of class ``c`` in ``g``, for a TPR)
is NaN, and so is every measure that compares it: a constraint on it cannot be checked
(:meth:`fairautoml.measures.constraints.Constraint.violation_array` counts NaN as violated).

The bootstrap is the one the binary constraints use
(:func:`fairautoml.measures.decisions.bootstrap_rates`): a Poisson(1) weight per row, drawn per
(group, true class, predicted class) cell as a Poisson(cell size) count, at
``O(n_boot x G x k^2)`` cost whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from fairautoml.exceptions import InputError, unknown_name
from fairautoml.values import plain

RATES = ("selection", "tpr", "fpr", "fnr")

LENGTH_MISMATCH = "{what} has {n_other} entries but y_true has {n}; pass one value per row."
NOT_CODES = (
    "{what} must hold class codes 0 .. n_classes - 1 (integers); it has {examples}. Encode "
    "the labels first, e.g. codes = np.searchsorted(classes, labels) with sorted classes."
)
TOO_FEW_CLASSES = "n_classes must be at least 2; got {n}."
BAD_FAVOURABLE = (
    "favourable must name one or more distinct class codes in 0 .. {last}; got {given}. "
    "Pass the codes of the favourable class(es), or None for every class."
)
BAD_WEIGHTS = "sample_weight must be finite and non-negative; it has {n} value(s) that are not."
EMPTY_GROUP = (
    "Group {group!r} has zero total sample_weight, so its rates are undefined; give it "
    "positive weight or leave its rows out."
)
EMPTY_INPUT = "y_true is empty; pass at least one row."
BAD_N_BOOT = "n_boot must be a positive integer; got {n_boot!r}."


@dataclass(frozen=True)
class MulticlassMeasure:
    """A multiclass fairness measure a constraint can name (the binary family's names).

    Attributes
    ----------
    name : str
        What users type, e.g. ``"equalized_odds_difference"``.
    op : {"<=", ">="}
        The direction a constraint on it takes (differences ``<=``, ratios ``>=``).
    rates : tuple of str
        The one-vs-rest rates it compares (keys of :func:`rates_from_cells`).
    meaning : str
        One line for messages and docs.
    """

    name: str
    op: str
    rates: tuple[str, ...]
    meaning: str

    @property
    def is_ratio(self) -> bool:
        return self.op == ">="

    @property
    def symmetric_on_two_classes(self) -> bool:
        """Whether on two classes the value is the same for either favourable class (and
        for both): the demographic parity and equalized odds differences."""
        return self.name in ("demographic_parity_difference", "equalized_odds_difference")

    def from_rates(
        self, rates: dict[str, np.ndarray], favourable: Sequence[int] | None = None
    ) -> np.ndarray:
        """The measure from per-group, per-class rates of shape ``(..., G, k)``: shape
        ``(...)``. ``favourable``: the class codes compared (None: all)."""
        per_rate = []
        for r in self.rates:
            values = rates[r] if favourable is None else rates[r][..., list(favourable)]
            low, high = np.min(values, axis=-2), np.max(values, axis=-2)  # (..., classes)
            if self.is_ratio:  # as fairautoml.measures.constraints.Constraint.from_rates does
                per_class = low / np.maximum(high, 1e-12)
                per_rate.append(np.min(per_class, axis=-1))
            else:
                per_rate.append(np.max(high - low, axis=-1))
        reduce = np.minimum if self.is_ratio else np.maximum
        return reduce.reduce(per_rate)


def _measure(name: str, rates: tuple[str, ...], what: str) -> MulticlassMeasure:
    if name.endswith("_ratio"):
        meaning = f"smallest, over classes, of the lowest over the highest group {what}"
        return MulticlassMeasure(name, ">=", rates, meaning)
    meaning = f"largest, over classes, gap between two groups' {what}"
    return MulticlassMeasure(name, "<=", rates, meaning)


_SEL, _TPR, _FPR = "selection rate", "true positive rate", "false positive rate"
MULTICLASS_MEASURES: dict[str, MulticlassMeasure] = {
    m.name: m
    for m in (
        _measure("demographic_parity_difference", ("selection",), _SEL),
        _measure("demographic_parity_ratio", ("selection",), _SEL),
        _measure("equalized_odds_difference", ("tpr", "fpr"), "one-vs-rest TPR or FPR"),
        _measure("equalized_odds_ratio", ("tpr", "fpr"), "one-vs-rest TPR or FPR"),
        _measure("equal_opportunity_difference", ("tpr",), _TPR),
        _measure("equal_opportunity_ratio", ("tpr",), _TPR),
        _measure("true_positive_rate_difference", ("tpr",), _TPR),
        _measure("false_positive_rate_difference", ("fpr",), _FPR),
        _measure("false_positive_rate_ratio", ("fpr",), _FPR),
        _measure("false_negative_rate_difference", ("fnr",), "false negative rate"),
        _measure("false_negative_rate_ratio", ("fnr",), "false negative rate"),
    )
}


def multiclass_measure(name: str) -> MulticlassMeasure:
    """The table entry for ``name``; an unknown name lists the valid ones."""
    if name not in MULTICLASS_MEASURES:
        raise unknown_name("multiclass fairness measure", name, MULTICLASS_MEASURES)
    return MULTICLASS_MEASURES[name]


# --- validation ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """Validated inputs: class codes, group codes into ``labels`` (sorted), row weights."""

    y_true: np.ndarray
    y_pred: np.ndarray
    codes: np.ndarray
    labels: np.ndarray
    weight: np.ndarray | None
    n_classes: int


def _class_codes(values: ArrayLike, what: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values).ravel()
    if n is not None and arr.size != n:
        raise InputError(LENGTH_MISMATCH.format(what=what, n_other=arr.size, n=n))
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    ok = arr.dtype.kind in "iuf"
    if ok:
        with np.errstate(invalid="ignore"):
            good = np.isfinite(arr) & (arr >= 0) & (np.mod(arr, 1) == 0)
        ok = bool(good.all())
    if not ok:
        bad = arr if arr.dtype.kind not in "iuf" else arr[~good]
        examples = ", ".join(repr(plain(v)) for v in bad[:3])
        raise InputError(NOT_CODES.format(what=what, examples=examples))
    return arr.astype(np.int64)


def _rows(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    n_classes: int | None = None,
    sample_weight: ArrayLike | None = None,
) -> _Rows:
    t = _class_codes(y_true, "y_true")
    if t.size == 0:
        raise InputError(EMPTY_INPUT)
    p = _class_codes(y_pred, "y_pred", t.size)
    k = int(max(t.max(), p.max())) + 1 if n_classes is None else int(n_classes)
    if k < 2:
        raise InputError(TOO_FEW_CLASSES.format(n=k))
    for arr, what in ((t, "y_true"), (p, "y_pred")):
        if arr.max() >= k:
            raise InputError(NOT_CODES.format(what=what, examples=repr(int(arr.max()))))
    g = np.asarray(groups).ravel()
    if g.size != t.size:
        raise InputError(LENGTH_MISMATCH.format(what="groups", n_other=g.size, n=t.size))
    labels, codes = np.unique(g, return_inverse=True)
    weight = None
    if sample_weight is not None:
        weight = np.asarray(sample_weight, dtype=np.float64).ravel()
        if weight.size != t.size:
            raise InputError(
                LENGTH_MISMATCH.format(what="sample_weight", n_other=weight.size, n=t.size)
            )
        bad = int(np.sum(~np.isfinite(weight) | (weight < 0)))
        if bad:
            raise InputError(BAD_WEIGHTS.format(n=bad))
        totals = np.bincount(codes.ravel(), weights=weight, minlength=labels.size)
        if np.any(totals <= 0):
            raise InputError(EMPTY_GROUP.format(group=plain(labels[np.argmin(totals)])))
    return _Rows(t, p, codes.ravel().astype(np.int64), labels, weight, k)


def check_favourable(favourable: Iterable[int] | None, n_classes: int) -> list[int] | None:
    """``favourable`` as a sorted list of distinct class codes (None stays None: every
    class); a clear error otherwise."""
    if favourable is None:
        return None
    given = [favourable] if np.ndim(favourable) == 0 else list(favourable)  # type: ignore[arg-type]
    ok = bool(given) and all(
        isinstance(plain(c), int) and not isinstance(plain(c), bool) and 0 <= plain(c) < n_classes
        for c in given
    )
    if not ok or len(set(given)) != len(given):
        raise InputError(BAD_FAVOURABLE.format(last=n_classes - 1, given=given))
    return sorted(int(c) for c in given)


# --- rates ------------------------------------------------------------------------------


def confusion_cells(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    n_classes: int | None = None,
    sample_weight: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The (weighted) count of each (group, true class, predicted class) cell.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Class codes ``0 .. n_classes - 1``.
    groups : array-like of shape (n_samples,)
        Group of each row (any labels).
    n_classes : int, optional
        The number of classes (default: the largest code seen, plus one).
    sample_weight : array-like of shape (n_samples,), optional
        Row weights; every group needs a positive total.

    Returns
    -------
    cells : ndarray of shape (n_groups, n_classes, n_classes)
        ``cells[g, t, p]``: rows of group ``g`` of class ``t`` predicted ``p``.
    labels : ndarray of shape (n_groups,)
        The groups, sorted (fairlearn's ``by_group`` order).
    """
    rows = _rows(y_true, y_pred, groups, n_classes, sample_weight)
    return _cells(rows), rows.labels


def _cells(rows: _Rows) -> np.ndarray:
    k, n_groups = rows.n_classes, rows.labels.size
    flat = (rows.codes * k + rows.y_true) * k + rows.y_pred
    counts = np.bincount(flat, weights=rows.weight, minlength=n_groups * k * k)
    return counts.astype(np.float64).reshape(n_groups, k, k)


def rates_from_cells(cells: np.ndarray) -> dict[str, np.ndarray]:
    """One-vs-rest selection rate, TPR, FPR and FNR per group and class, from cell counts
    of shape ``(..., G, k, k)`` (true class, then predicted): arrays of shape ``(..., G, k)``,
    NaN where the rate's denominator is empty."""
    cells = np.asarray(cells, dtype=np.float64)
    predicted = cells.sum(axis=-2)  # (..., G, k): rows predicted c
    actual = cells.sum(axis=-1)  # (..., G, k): rows of class c
    size = actual.sum(axis=-1, keepdims=True)  # (..., G, 1)
    hits = np.diagonal(cells, axis1=-2, axis2=-1)  # (..., G, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.where(actual > 0, hits / actual, np.nan)
        others = size - actual
        fpr = np.where(others > 0, (predicted - hits) / others, np.nan)
        selection = np.where(size > 0, predicted / size, np.nan)
    return {"selection": selection, "tpr": tpr, "fpr": fpr, "fnr": 1.0 - tpr}


def group_class_rates(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    n_classes: int | None = None,
    sample_weight: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """:func:`rates_from_cells` of :func:`confusion_cells`: rate -> ``(n_groups, n_classes)``."""
    cells, _ = confusion_cells(y_true, y_pred, groups, n_classes, sample_weight)
    return rates_from_cells(cells)


# --- measures ---------------------------------------------------------------------------


def measure_values(
    names: Sequence[str],
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    *,
    n_classes: int | None = None,
    favourable: Iterable[int] | None = None,
    sample_weight: ArrayLike | None = None,
) -> dict[str, float]:
    """Each named measure (see the module docstring) on these predictions."""
    measures = [multiclass_measure(n) for n in names]
    rows = _rows(y_true, y_pred, groups, n_classes, sample_weight)
    fav = check_favourable(favourable, rows.n_classes)
    rates = rates_from_cells(_cells(rows))
    return {m.name: float(m.from_rates(rates, fav)) for m in measures}


def measure_value(
    name: str,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    *,
    n_classes: int | None = None,
    favourable: Iterable[int] | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """The measure ``name`` on these predictions.

    Parameters
    ----------
    name : str
        A key of :data:`MULTICLASS_MEASURES`.
    y_true, y_pred : array-like of shape (n_samples,)
        Class codes ``0 .. n_classes - 1``.
    groups : array-like of shape (n_samples,)
        Group of each row (any labels).
    n_classes : int, optional
        The number of classes (default: the largest code seen, plus one).
    favourable : int or iterable of int, optional
        The classes compared (default: every class).
    sample_weight : array-like of shape (n_samples,), optional
        Row weights.

    Returns
    -------
    float
        NaN when a compared rate is undefined in some group.
    """
    return measure_values(
        [name], y_true, y_pred, groups, n_classes=n_classes, favourable=favourable,
        sample_weight=sample_weight,
    )[name]  # fmt: skip


def bootstrap_cells(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    n_boot: int = 200,
    random_state: int | None = None,
    n_classes: int | None = None,
) -> np.ndarray:
    """:func:`confusion_cells` under ``n_boot`` Poisson(1) bootstrap resamples of the rows,
    shape ``(n_boot, G, k, k)``: each cell's count drawn Poisson(cell size) (the sum of its
    rows' Poisson(1) weights). Unweighted, as
    :func:`fairautoml.measures.decisions.bootstrap_rates`."""
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 1:
        raise InputError(BAD_N_BOOT.format(n_boot=n_boot))
    rows = _rows(y_true, y_pred, groups, n_classes)
    sizes = _cells(rows)
    rng = np.random.default_rng(random_state)
    return rng.poisson(sizes, size=(int(n_boot), *sizes.shape)).astype(np.float64)


def bootstrap_measures(
    names: Sequence[str],
    y_true: ArrayLike,
    y_pred: ArrayLike,
    groups: ArrayLike,
    *,
    n_boot: int = 200,
    random_state: int | None = None,
    n_classes: int | None = None,
    favourable: Iterable[int] | None = None,
) -> dict[str, np.ndarray]:
    """Each named measure under ``n_boot`` Poisson(1) bootstrap resamples (one shared set of
    resamples): name -> ndarray of shape ``(n_boot,)``, NaN for a resample in which a
    compared rate has no rows (use ``np.nanquantile``, as
    :func:`fairautoml.measures.family.central_interval` does)."""
    measures = [multiclass_measure(n) for n in names]
    cells = bootstrap_cells(y_true, y_pred, groups, n_boot, random_state, n_classes)
    fav = check_favourable(favourable, cells.shape[-1])
    rates = rates_from_cells(cells)
    return {m.name: np.asarray(m.from_rates(rates, fav), dtype=np.float64) for m in measures}
