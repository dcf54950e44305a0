"""What a fit keeps to tell, later, whether a population moved: small count tables, no rows.

:func:`audit_reference` runs at the end of ``fit`` (its features' part,
:func:`feature_reference`, before the search) and returns a dict of plain values (a skops
model file stores it as it is)::

    {"groups": [label, ...],                        # the fit's groups (or intersections)
     "validation_counts": {label: [tp, fn, fp, tn]},  # the pick on its validation rows
                        # | {label: [k x k counts]} (several classes) | None (amounts)
     "features": {name: {"kind": "numeric", "edges": [...],
                         "all": [count per bin], "by_group": {label: [...]}}
                  | {"kind": "category", "categories": [...], "all": [...], ...}}}

Numeric features are binned at their fit-time deciles, and at those of the values other
than the most common one (a point mass would take every decile), with one more bin for
missing values;
categorical ones by their most frequent categories (one more bin for the rest and missing
values). :func:`feature_drift` compares a new sample's counts in the same bins with a
chi-square test of the two-row table (a two-sample test: the reference counts are a sample
too) and reports the population stability index as the size of the move.
:func:`rate_drift` tests each group rate a constraint compares, fit-time validation
against new rows, with Fisher's exact test: of yes/no decisions from their confusion counts
(:func:`validation_counts`, :func:`decision_trials`), of several classes each class's
one-vs-rest rate from the (true class, predicted class) counts (:func:`class_cells`,
:func:`class_trials`). The task says which it keeps (``Task.drift_counts``); amounts keep
none, and only their features are tested.

A fit given membership probabilities instead of groups has no group to count by: it keeps
each group's rates as the regression estimator reads them on its validation rows, with
their bootstrap standard errors (``"membership_rates"``:
:func:`fairautoml.measures.membership.regression_rates`), and its feature bins overall
only; :func:`estimate_drift` tests each rate against the same estimate on new rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact, norm

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.decisions import confusion_counts
from fairautoml.values import plain

QUANTILES = np.linspace(0.1, 0.9, 9)  # numeric bins: the deciles
MAX_CATEGORIES = 30  # categories kept apart; the rest share one bin
PSI_FLOOR = 1e-4  # share given to an empty bin, so the index stays finite
MIN_ROWS = 20  # fewer rows in a group: its features are not tested
# rows the bins are set on (a fixed sample of a bigger table): deciles of a million rows
# move no bin edge that matters, and computing them took seconds
BIN_ROWS = 100_000


def audit_reference(
    labels: Sequence[str], validation: dict[str, Any] | None, features: dict[str, Any]
) -> dict[str, Any]:
    """The reference of :mod:`fairautoml.measures.drift`: the fit's group ``labels``, the
    pick's per-group counts on its validation rows (``validation``:
    :func:`validation_counts`, or the task's own; None for amounts) and the fit rows'
    feature bins (``features``: :func:`feature_reference`)."""
    return {"groups": list(labels), "validation_counts": validation, "features": features}


def feature_reference(
    X: pd.DataFrame, groups: np.ndarray, labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per feature of ``X``, its bins and their counts, in all and per group (code into
    ``labels``; a row whose group is unknown, code -1, counts in all only). It reads the
    fit's rows, not its pick, so a fit computes it before the search, inside the time
    budget (at a million rows it takes seconds). Bins are set on at most
    :data:`BIN_ROWS` rows (a fixed sample of a bigger table); every row is counted in them."""
    codes = np.asarray(groups).reshape(-1)
    sample = None
    if len(X) > BIN_ROWS:
        sample = np.sort(np.random.default_rng(0).choice(len(X), BIN_ROWS, replace=False))
    features = {}
    for column in X.columns:
        col = X[column]
        spec = _bins(col if sample is None else col.iloc[sample])
        features[str(column)] = {**spec, **_counts(col, spec, codes, labels)}
    return features


def validation_counts(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, labels: Sequence[str]
) -> dict[str, list[int]]:
    """Per group label, ``[tp, fn, fp, tn]`` of 0/1 predictions."""
    present = np.unique(groups)
    tp, fn, fp, tn = (a[0] for a in confusion_counts(y_true, y_pred, groups))
    return {
        str(labels[int(g)]): [int(tp[i]), int(fn[i]), int(fp[i]), int(tn[i])]
        for i, g in enumerate(present)
    }


def class_cells(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    labels: Sequence[str],
    n_classes: int,
) -> dict[str, list[int]]:
    """Per group label present, the ``n_classes x n_classes`` counts of (true class,
    predicted class), row by row (rows without a group, code -1, left out)."""
    groups = np.asarray(groups).reshape(-1)
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    out = {}
    for g in np.unique(groups[groups >= 0]):
        mask = groups == g
        cells = np.bincount(t[mask] * n_classes + p[mask], minlength=n_classes * n_classes)
        out[str(labels[int(g)])] = [int(v) for v in cells]
    return out


def _bins(col: pd.Series) -> dict[str, Any]:
    if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col):
        top = col.astype(object).dropna().value_counts().index[:MAX_CATEGORIES]
        return {"kind": "category", "categories": [str(c) for c in top]}
    values = col.to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    if not values.size:
        return {"kind": "numeric", "edges": []}
    # a point mass (a capital gain of 0 for most rows) would take every decile: the rest
    # of the values get their own deciles, so a move among them is seen too
    common = pd.Series(values).mode().iloc[0]
    rest = values[values != common]
    edges = np.quantile(values, QUANTILES)
    if rest.size:
        edges = np.concatenate([edges, [common], np.quantile(rest, QUANTILES)])
    return {"kind": "numeric", "edges": [float(e) for e in np.unique(edges)]}


def bin_codes(col: pd.Series, spec: dict[str, Any]) -> np.ndarray:
    """Each value's bin under ``spec``; the last bin holds missing and other values."""
    if spec["kind"] == "category":
        values = col.astype(object)
        text = values.map(str).where(values.notna(), None)
        codes = pd.Index(spec["categories"], dtype=object).get_indexer(text).astype(np.int64)
        return np.where(codes < 0, len(spec["categories"]), codes)
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    codes = np.searchsorted(np.asarray(spec["edges"]), values, side="right")
    return np.where(np.isnan(values), len(spec["edges"]) + 1, codes)


def n_bins(spec: dict[str, Any]) -> int:
    if spec["kind"] == "category":
        return len(spec["categories"]) + 1
    return len(spec["edges"]) + 2


def _counts(
    col: pd.Series, spec: dict[str, Any], groups: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """Rows per bin, in all and per group present (by group code: a million rows cost a
    few bincounts, not a comparison of labels per group)."""
    codes, size = bin_codes(col, spec), n_bins(spec)
    known = groups >= 0
    cells = groups[known] * size + codes[known]  # (group, bin) as one index
    table = np.bincount(cells, minlength=size * len(labels)).reshape(len(labels), size)
    present = sorted((int(g) for g in np.unique(groups[known])), key=lambda g: str(labels[g]))
    by_group = {str(labels[g]): table[g].tolist() for g in present}
    return {"all": np.bincount(codes, minlength=size).tolist(), "by_group": by_group}


def psi(reference: np.ndarray, new: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    p = np.maximum(np.asarray(reference, float) / max(np.sum(reference), 1), PSI_FLOOR)
    q = np.maximum(np.asarray(new, float) / max(np.sum(new), 1), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def two_sample_p(reference: np.ndarray, new: np.ndarray) -> float:
    """Chi-square test that two count vectors come from one distribution (1.0 when a
    single bin is used)."""
    table = np.array([reference, new], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(chi2_contingency(table, correction=False).pvalue)


def feature_drift(
    reference: dict[str, Any], X: pd.DataFrame, names: np.ndarray
) -> list[dict[str, Any]]:
    """Per feature, overall (group ``"all"``) and within each fit group with at least
    :data:`MIN_ROWS` new rows: the PSI and the two-sample p-value."""
    rows = []
    for feature, spec in reference.get("features", {}).items():
        if feature not in X.columns:
            continue
        codes, size = bin_codes(X[feature], spec), n_bins(spec)
        pairs = [("all", spec["all"], codes)]
        for group, counts in spec["by_group"].items():
            mask = names == group
            if mask.sum() >= MIN_ROWS:
                pairs.append((group, counts, codes[mask]))
        for group, ref_counts, new_codes in pairs:
            new_counts = np.bincount(new_codes, minlength=size)
            rows.append({
                "feature": feature,
                "group": group,
                "statistic": psi(ref_counts, new_counts),
                "p_value": two_sample_p(ref_counts, new_counts),
            })  # fmt: skip
    return rows


# a rate's (successes, trials) from a group's [tp, fn, fp, tn]
RATE_COUNTS = {
    "selection": lambda tp, fn, fp, tn: (tp + fp, tp + fn + fp + tn),
    "tpr": lambda tp, fn, fp, tn: (tp, tp + fn),
    "fpr": lambda tp, fn, fp, tn: (fp, fp + tn),
    "fnr": lambda tp, fn, fp, tn: (fn, tp + fn),
}
# (class code or None, successes, trials) of each rate a group's counts give
Trials = Callable[[list[int], str], list[tuple[int | None, int, int]]]


def decision_trials(counts: list[int], rate: str) -> list[tuple[int | None, int, int]]:
    """The rate of yes/no decisions, from a group's ``[tp, fn, fp, tn]``."""
    return [(None, *RATE_COUNTS[rate](*counts))]


def class_trials(cells: list[int], rate: str) -> list[tuple[int | None, int, int]]:
    """Each class's one-vs-rest rate, from a group's :func:`class_cells` counts."""
    k = math.isqrt(len(cells))
    table = np.asarray(cells, dtype=np.int64).reshape(k, k)  # true class, predicted class
    size, actual, predicted = int(table.sum()), table.sum(axis=1), table.sum(axis=0)
    out = []
    for c in range(k):
        hits, pos = int(table[c, c]), int(actual[c])
        counts = {
            "selection": (int(predicted[c]), size),
            "tpr": (hits, pos),
            "fpr": (int(predicted[c]) - hits, size - pos),
            "fnr": (pos - hits, pos),
        }
        out.append((c, *counts[rate]))
    return out


def _compared_classes(constraints: Sequence[Constraint], rate: str) -> set[int] | None:
    """The class codes the constraints on ``rate`` compare (None: every class)."""
    favourable = [
        None if c.family is None else c.family.favourable for c in constraints if rate in c.rates
    ]
    if any(f is None for f in favourable):
        return None
    return {code for f in favourable for code in f or ()}


def rate_drift(
    constraints: Sequence[Constraint],
    reference: dict[str, list[int]],
    new: dict[str, list[int]],
    *,
    has_labels: bool,
    trials: Trials = decision_trials,
    classes: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Fisher's exact test of each rate a constraint compares, per group in both samples
    (label-dependent rates only ``has_labels``); ``trials`` reads a rate off a group's
    counts (per class, named by ``classes``, for several classes)."""
    rates = sorted({r for c in constraints for r in c.rates if has_labels or r == "selection"})
    rows = []
    for rate in rates:
        compared = _compared_classes(constraints, rate)
        for group in sorted(set(reference) & set(new)):
            pairs = zip(trials(reference[group], rate), trials(new[group], rate), strict=True)
            for (code, k0, n0), (_, k1, n1) in pairs:
                if n0 == 0 or n1 == 0 or not (code is None or compared is None or code in compared):
                    continue
                p = float(fisher_exact([[k0, n0 - k0], [k1, n1 - k1]]).pvalue)
                row: dict[str, Any] = {"rate": rate, "group": group}
                if code is not None:
                    row["class"] = code if classes is None else plain(classes[code])
                rows.append(row | {"fit": k0 / n0, "new": k1 / n1, "p_value": p})
    return rows


def estimate_drift(
    constraints: Sequence[Constraint],
    reference: dict[str, dict[str, list[float]]],
    new: dict[str, dict[str, list[float]]],
    *,
    has_labels: bool,
) -> list[dict[str, Any]]:
    """Each group rate a constraint compares (label-dependent rates only ``has_labels``),
    fit-time against new rows, where both are estimates with standard errors
    (``{rate: {group: [estimate, se]}}``, membership probabilities): a two-sided z-test of
    their difference, the two samples independent. A rate without a finite estimate and
    standard error on both sides is not tested."""
    rates = sorted({r for c in constraints for r in c.rates if has_labels or r == "selection"})
    rows = []
    for rate in rates:
        before, after = reference.get(rate, {}), new.get(rate, {})
        for group in sorted(set(before) & set(after)):
            (fit, se_fit), (now, se_now) = before[group], after[group]
            if not np.all(np.isfinite([fit, se_fit, now, se_now])):
                continue
            se = math.hypot(se_fit, se_now)
            p = 1.0 if se == 0 else float(2 * norm.sf(abs(now - fit) / se))
            rows.append({"rate": rate, "group": group, "fit": fit, "new": now, "p_value": p})
    return rows
