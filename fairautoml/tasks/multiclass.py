"""Several classes (3 to :data:`MAX_CLASSES`).

Scores are class probabilities of shape (n, k), columns in ``classes`` order; what is
predicted is the argmax. The constraints keep the binary family's names with their
multiclass meaning (:mod:`fairautoml.measures.multiclass`, ``docs/multiclass.md``): the
task binds them to its family (:meth:`MulticlassTask.check_constraints`, then
:meth:`MulticlassTask.bind_target` with the classes and the favourable ones), and
:mod:`fairautoml.measures.constraints` evaluates them by that family. The metrics are the
registry's that name "multiclass" (accuracy, balanced accuracy, macro F1, log loss).

The pick's diagnostics: *usefulness* is balanced accuracy adjusted for chance
(``(bacc - 1/k) / (1 - 1/k)``, scikit-learn's ``adjusted=True``): 0 for a constant or
random rule whatever ``k``, 1 when perfect; 0.1 is the binary task's 0.55 on this scale.
*Spread* is the share of rows predicted as the most predicted class, 1 for a constant rule.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from fairautoml import exceptions as E
from fairautoml.data.groups import check_group_sizes
from fairautoml.data.labels import MAX_CLASSES, class_outcomes, positive_index, target_array
from fairautoml.exceptions import ConstraintError, InputError
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.drift import class_cells, class_trials
from fairautoml.measures.group_tables import FOUR_FIFTHS, class_report, wilson_interval
from fairautoml.measures.multiclass import MULTICLASS_MEASURES, confusion_cells, rates_from_cells
from fairautoml.tasks._base import Task
from fairautoml.values import is_number, plain

AUDIT_NO_LABELS_CLASSES = (
    "Without labels only the selection rate of each class per group, impact ratios and "
    "input drift can be measured: recall (true positive rates), false positive rates and "
    "the constraints that compare them cannot be checked (give the classes with y, or "
    "--target COLUMN)."
)

MIN_CLASSES = 3  # up to labels.MAX_CLASSES

TARGET_TWO_CLASSES = (
    "The target has two classes ({classes}): that is a yes/no target. Fit it as a binary "
    "classification (the default task), which knows its favourable class."
)
TARGET_TOO_MANY_CLASSES = (
    "The target has {n} classes ({classes}); multiclass FairAutoML takes {low} to {high}. "
    "Group rare classes (e.g. into 'other'), or, for an amount or a score, fit a "
    "FairAutoMLRegressor (CLI: --task regression)."
)
TARGET_ONE_CLASS = "The target has a single class ({classes}); there is nothing to predict."
TARGET_CONTINUOUS_MULTI = (
    "The target looks continuous ({n} distinct values, not all whole numbers), but a "
    "classifier was asked for. Fit a FairAutoMLRegressor (CLI: --task regression), or "
    "recode y to a few classes."
)
GROUP_CLASS_TOO_SMALL = (
    "Group {group!r} has {n} row(s), with {count} of class {label!r}; a constraint on rates "
    "given the true class (equalized odds, equal opportunity, TPR or FPR) needs at least "
    "{min_size} rows per group, with two or more of every class, to estimate them. Merge "
    "small groups (e.g. into 'other'), merge rare classes, lower min_group_size, or "
    "constrain demographic parity only (it compares predictions and needs no class rows)."
)
GROUP_TOO_SMALL = (
    "Group {group!r} has {n} row(s); at least {min_size} are needed to estimate its "
    "per-class selection rates. Merge it with another group (e.g. into 'other'), or lower "
    "min_group_size (the fairness claim on it will be noisy)."
)
SCORES_NOT_2D = (
    "Multiclass scores must have shape (n_rows, n_classes); got shape {shape}. The scoring "
    "model must return every class's probability (predict_proba), columns in classes order."
)
CONSTRAINT_NOT_MULTICLASS = (
    "Constraint {constraint!r} is not of the classification family; multiclass targets take: "
    "{metrics}."
)


# --- metrics ---------------------------------------------------------------------------


def adjusted_balanced_accuracy(
    y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    """Balanced accuracy adjusted for chance: 0 for a constant rule, 1 when perfect."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class never predicted: its recall is 0
        return float(
            skm.balanced_accuracy_score(y, pred, sample_weight=sample_weight, adjusted=True)
        )


# --- per-group tables ----------------------------------------------------------------------

CLASS_RATES = {  # column -> one-vs-rest rate of multiclass_fairness
    "selection_rate": "selection",
    "true_positive_rate": "tpr",
    "false_positive_rate": "fpr",
}


def _class_rates(
    y: np.ndarray, pred: np.ndarray, groups: np.ndarray, level: float, k: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row per (group, class code) of ``k`` classes: ``rows``, ``class_rows`` and the
    :data:`CLASS_RATES` with Wilson intervals; and the rates, (groups, k) each."""
    cells, labels = confusion_cells(y, pred, groups, n_classes=k)
    rates = rates_from_cells(cells)
    size = cells.sum(axis=(1, 2))[:, None] * np.ones((1, k))
    per_class = cells.sum(axis=2)
    trials = {"selection": size, "tpr": per_class, "fpr": size - per_class}
    index = pd.MultiIndex.from_product(
        [[plain(g) for g in labels], range(k)], names=["group", "class"]
    )
    table = pd.DataFrame(
        {"rows": size.ravel().astype(int), "class_rows": per_class.ravel().astype(int)},
        index=index,
    )
    for column, rate in CLASS_RATES.items():
        n = trials[rate]
        table[column] = rates[rate].ravel()
        low, high = wilson_interval(np.round(rates[rate] * n).ravel(), n.ravel(), level)
        table[f"{column}_low"], table[f"{column}_high"] = low, high
    return table, rates


# --- the task ----------------------------------------------------------------------------


def _sorted_classes(arr: np.ndarray) -> np.ndarray:
    values = sorted(pd.unique(arr), key=lambda v: (str(type(v)), v))
    if arr.dtype != object:
        return np.array(values, dtype=arr.dtype)
    if values and all(is_number(v) for v in values):
        return np.array([plain(v) for v in values])
    return np.array(values, dtype=object)


def _shown(classes: np.ndarray) -> str:
    return ", ".join(map(repr, (plain(c) for c in classes[:5]))) + (
        ", ..." if len(classes) > 5 else ""
    )


class MulticlassTask(Task):
    """Scores are class probabilities (n, k); a row is predicted its most probable class."""

    name = "multiclass"
    estimator_kind = "classifier"
    default_metric = "accuracy"
    # a gap of 0.1 in any one class's selection rate: with k classes each rate is smaller
    # and the largest of k noisy gaps is larger than the binary one gap, so the binary
    # default of 0.05 would mostly measure noise on validation sets of usual size
    default_constraint = "demographic_parity_difference <= 0.1"
    usefulness = "adjusted_balanced_accuracy"
    chance = 0.0
    min_usefulness = 0.1
    spread = "top_class_share"
    constant_at = (1.0,)
    strata_names = tuple(f"class {k}" for k in range(MAX_CLASSES))
    # each constraint is the largest of many per-class gaps, the search compares hundreds
    # of points near the bound, and the most accurate of them that holds at the binary
    # level kept its claim on new rows too rarely: the claim asks 99% one-sided
    claim_confidence = 0.98
    report_columns = {  # noqa: RUF012 (class data, never mutated)
        "selection_rate": "selection rate",
        "true_positive_rate": "recall (true positive rate)",
        "false_positive_rate": "false positive rate",
    }
    side_effects = (
        "demographic_parity_difference <= 0.1",
        "equalized_odds_difference <= 0.1",
    )
    target_summary = "class shares"
    audit_caption = (
        "Per group and class, one-vs-rest rates with their {level:.0%} Wilson intervals: the "
        "selection rate is the share of the group's rows predicted as the class, the true "
        "positive rate (recall) the share of the class's rows predicted as it, the false "
        "positive rate the share of the other rows predicted as it. The impact ratio is the "
        "group's selection rate of the class over the most-selected group's (below 0.8 fails "
        "the four-fifths rule, shaded; it speaks of adverse impact for a favourable class)."
    )
    audit_no_labels = AUDIT_NO_LABELS_CLASSES

    def prepare_target(
        self, y: object, n_rows: int, pos_label: object = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Class codes ``0 .. k-1`` in sorted label order, and the classes. ``pos_label``
        (one label or several: the favourable classes) must name classes of ``y``; the
        codes do not depend on it (see :meth:`favourable_codes`)."""
        arr = target_array(y, n_rows)
        classes = _sorted_classes(arr)
        k = len(classes)
        if arr.dtype.kind == "f" and k > MAX_CLASSES and not np.all(np.mod(arr, 1) == 0):
            raise InputError(TARGET_CONTINUOUS_MULTI.format(n=k))
        if k < 2:
            raise InputError(TARGET_ONE_CLASS.format(classes=_shown(classes)))
        if k == 2:
            raise InputError(TARGET_TWO_CLASSES.format(classes=_shown(classes)))
        if k > MAX_CLASSES:
            raise InputError(
                TARGET_TOO_MANY_CLASSES.format(
                    n=k, classes=_shown(classes), low=MIN_CLASSES, high=MAX_CLASSES
                )
            )
        if pos_label is not None:
            self.favourable_codes(classes, pos_label)
        codes = np.searchsorted(classes, arr) if arr.dtype != object else None
        if codes is None or not np.array_equal(classes[np.minimum(codes, k - 1)], arr):
            index = {plain(c): i for i, c in enumerate(classes)}
            codes = np.array([index[plain(v)] for v in arr])
        return codes.astype(np.int64), classes

    def favourable_codes(self, classes: np.ndarray, pos_label: object) -> list[int] | None:
        """The codes of the favourable classes ``pos_label`` names (one label or a list);
        None for None (every class). An unknown label names the classes."""
        if pos_label is None:
            return None
        labels: Iterable[object] = (
            pos_label if isinstance(pos_label, (list, tuple, set, frozenset)) else [pos_label]
        )
        return sorted({positive_index(classes, label) for label in labels})

    def check_groups(
        self,
        groups: np.ndarray,
        y: np.ndarray,
        labels: Sequence[str],
        min_size: int,
        by_class: bool = True,
        classes: np.ndarray | None = None,
    ) -> None:
        if not by_class:
            check_group_sizes(groups, labels, min_size, GROUP_TOO_SMALL)
            return
        if len(labels) < 2:
            raise InputError(E.SINGLE_GROUP.format(group=labels[0] if labels else None))
        k = int(np.max(y)) + 1
        for code, label in enumerate(labels):
            counts = np.bincount(y[groups == code], minlength=k)
            n = int(counts.sum())
            if n < min_size or counts.min() < 2:
                rare = int(np.argmin(counts))
                name = plain(classes[rare]) if classes is not None else rare
                raise InputError(
                    GROUP_CLASS_TOO_SMALL.format(
                        group=label, n=n, count=int(counts[rare]), label=name, min_size=min_size
                    )
                )

    def needs_class_rows(self, constraints: Sequence[Constraint]) -> bool:
        """Only a measure of rates given the true class (TPR, FPR) needs every class in
        every group; selection rates (demographic parity) read the predictions alone."""
        return any(
            c.metric not in MULTICLASS_MEASURES
            or MULTICLASS_MEASURES[c.metric].rates != ("selection",)
            for c in constraints
        )

    def strata(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.int64)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        s = np.asarray(scores)
        if s.ndim != 2 or s.shape[1] < MIN_CLASSES:
            raise InputError(SCORES_NOT_2D.format(shape=s.shape))
        return np.argmax(s, axis=1).astype(np.int64)

    def fairness_report(
        self,
        predict: Any,
        classes: np.ndarray | None,
        X: Any,
        y: Any,
        sensitive_features: Any,
        encoder: Any,
        level: float,
        sample_weight: Any = None,
    ) -> Any:
        """One row per (group, class), at ``level`` (:meth:`group_table`)."""
        table = partial(self.group_table, level=level)
        return class_report(predict, classes, table, X, y, sensitive_features, encoder)

    def as_decisions(self, returned: np.ndarray) -> np.ndarray:
        """Class codes as they are; class probabilities (n, k) decided (their argmax)."""
        arr = np.asarray(returned)
        return arr.astype(np.int64) if arr.ndim == 1 else self.decide(arr)

    def diagnostics(
        self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> dict[str, float]:
        pred = np.asarray(pred, dtype=np.int64)
        counts = np.bincount(pred, weights=sample_weight)
        share = float(np.max(counts) / counts.sum()) if len(pred) else float("nan")
        return {
            "top_class_share": share,
            "adjusted_balanced_accuracy": adjusted_balanced_accuracy(y, pred, sample_weight),
        }

    def group_table(
        self, y: np.ndarray, pred: np.ndarray, groups: np.ndarray, level: float
    ) -> pd.DataFrame:
        """One row per (group, class): ``rows`` of the group, ``class_rows`` of the class in
        it, the one-vs-rest rates with Wilson intervals; then a ``largest gap`` row per class
        (the largest between-group difference of each rate)."""
        y, pred = np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)
        k = int(max(y.max(), pred.max())) + 1
        table, rates = _class_rates(y, pred, groups, level, k)
        for c in range(k):
            for column, rate in CLASS_RATES.items():
                values = rates[rate][:, c]
                table.loc[("largest gap", c), column] = float(np.nanmax(values) - np.nanmin(values))
        return table

    def diagnostics_line(self, cfg: dict[str, Any]) -> str:
        return (
            f"balanced accuracy adjusted for chance {cfg['adjusted_balanced_accuracy']:.3f}, "
            f"share of the most predicted class {cfg['top_class_share']:.3f} (validation)"
        )

    def check_constraints(self, constraints: Sequence[Constraint]) -> list[Constraint]:
        """The classification constraints, bound to the multiclass family (their names mean
        the multiclass measures); any other is an error naming those that are."""
        out = []
        for c in constraints:
            if c.metric not in MULTICLASS_MEASURES:
                raise ConstraintError(
                    CONSTRAINT_NOT_MULTICLASS.format(
                        constraint=str(c), metrics=", ".join(MULTICLASS_MEASURES)
                    )
                )
            bound = c.family is not None and c.family.task == self.name
            out.append(c if bound else c.for_target(self.name))
        return out

    def bind_target(
        self, constraints: Sequence[Constraint], classes: np.ndarray | None, pos_label: object
    ) -> list[Constraint]:
        """The constraints measured on ``classes`` (their number), comparing the favourable
        classes ``pos_label`` names (one label or several; None: every class)."""
        assert classes is not None
        favourable = self.favourable_codes(classes, pos_label)
        return [
            c.for_target(self.name, len(classes), favourable)
            for c in self.check_constraints(constraints)
        ]

    def strata_labels(self, classes: np.ndarray | None) -> tuple[str, ...]:
        """The classes by their labels ("class 'manage'")."""
        if classes is None:
            return self.strata_names
        return tuple(f"class {plain(c)!r}" for c in classes)

    def score_shape(self, n_rows: int, classes: np.ndarray | None) -> tuple[int, ...]:
        return (n_rows, 0 if classes is None else len(classes))

    def class_proba(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores, dtype=np.float64)

    def positive_label(self, classes: np.ndarray | None, pos_label: object) -> object:
        """The favourable labels the user named (a list), or None: every class."""
        if pos_label is None or classes is None:
            return None
        return [plain(classes[c]) for c in self.favourable_codes(classes, pos_label) or []]

    def encode_labels(self, y: object, classes: np.ndarray, n_rows: int) -> np.ndarray:
        arr = target_array(y, n_rows)
        index = {plain(c): i for i, c in enumerate(classes)}
        unknown = sorted({plain(v) for v in pd.unique(arr)} - set(index), key=str)
        if unknown:
            raise InputError(
                E.UNKNOWN_LABELS.format(labels=unknown, classes=[plain(c) for c in classes])
            )
        return np.array([index[plain(v)] for v in arr], dtype=np.int64)

    def audit_outcomes(
        self, classes: np.ndarray | None, y: object, pred: np.ndarray, pos_label: object
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """Class codes (the favourable classes are the constraints': :meth:`bind_target`)."""
        assert classes is not None
        return class_outcomes(classes, y, pred)

    def audit_table(
        self,
        y: np.ndarray | None,
        pred: np.ndarray,
        names: np.ndarray,
        level: float,
        classes: np.ndarray | None,
    ) -> pd.DataFrame:
        """One row per (group, class): the group's ``count``, with labels ``class_rows``
        (the class's rows in it), the rates with Wilson intervals (without labels only the
        selection rate), and the class's impact ratio against its most-selected group."""
        assert classes is not None
        table, _ = _class_rates(pred if y is None else y, pred, names, level, len(classes))
        table = table.rename(columns={"rows": "count"})
        if y is None:
            table = table[["count", *(f"selection_rate{e}" for e in ("", "_low", "_high"))]].copy()
        selection = table["selection_rate"]
        top = selection.groupby(level="class").transform("max")
        groups = selection.groupby(level="class").transform("size")  # one: no ratio
        table["impact_ratio"] = (selection / top).where((top > 0) & (groups > 1))
        table["below_four_fifths"] = table["impact_ratio"] < FOUR_FIFTHS
        codes = table.index.get_level_values("class")
        table.index = pd.MultiIndex.from_arrays(
            [table.index.get_level_values("group"), [plain(classes[c]) for c in codes]],
            names=["group", "class"],
        )
        return table

    def drift_counts(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        groups: np.ndarray,
        labels: Sequence[str],
        classes: np.ndarray | None,
    ) -> dict[str, list[int]] | None:
        """Per group, its (true class, predicted class) counts."""
        assert classes is not None
        return class_cells(y, pred, groups, labels, len(classes))

    def rate_trials(self, counts: list[int], rate: str) -> list[tuple[int | None, int, int]]:
        return class_trials(counts, rate)
