"""Fairness constraints: parse ``"metric <= bound"`` and evaluate it.

A :class:`Constraint` is one small frozen record. Two families share the language:

* classification (``binary``): the ``fairlearn.metrics`` functions on decisions
  (demographic parity, equalized odds, ...), computed from exact per-group confusion
  counts where fairlearn's own value is the same (a test checks it);
* regression: strong demographic parity as the largest Kolmogorov-Smirnov distance
  between two groups' prediction distributions (``demographic_parity_ks``), and group
  losses named as fairlearn's ``make_derived_metric`` names them
  (``mean_absolute_error_ratio``, ``mean_squared_error_group_max``, ...): see
  :mod:`fairautoml.measures.regression`.

Each constraint's ``task`` says which targets it is for; the task object checks that the
constraints fit the target. The classification names mean yes/no decisions unless the
target's task binds them to its own family (:class:`Family`, :meth:`Constraint.for_target`):
a multiclass target's constraints are the measures of :mod:`fairautoml.measures.multiclass`
under the same names, evaluated here from (group, class, predicted class) counts.

Groups: with several sensitive attributes, a constraint compares the cells of their
intersection (every sex x race cell), or, written ``metric[race] <= bound``, the groups of
the attributes in brackets, each pooled over the others (the marginal groups). Group codes
are always the intersection cells' (what the encoder gives and the mitigators take); a
constraint on some attributes carries the map from cell codes to its groups' codes
(:meth:`Constraint.bind`), so measuring it is an integer lookup before the same counting.
Values, intervals and violations are keyed by :attr:`Constraint.key`: the metric's name
for the intersection, the name with its brackets otherwise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Protocol

import numpy as np
from fairlearn import metrics as flm

from fairautoml import exceptions as E
from fairautoml.exceptions import ConstraintError
from fairautoml.measures import multiclass as mf
from fairautoml.measures import regression as rf

# name -> (fairlearn function, required direction, group rates the metric compares)
_METRICS: dict[str, tuple[Callable[..., float], str, tuple[str, ...]]] = {
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


REGRESSION_METRICS: tuple[str, ...] = tuple(rf.REGRESSION_MEASURES)
CLASSIFICATION_METRICS: tuple[str, ...] = tuple(_METRICS)
SUPPORTED_METRICS: tuple[str, ...] = CLASSIFICATION_METRICS + REGRESSION_METRICS


def _direction(metric: str) -> str | None:
    if metric in _METRICS:
        return _METRICS[metric][1]
    measure = rf.REGRESSION_MEASURES.get(metric)
    return None if measure is None else measure.op


def metrics_for_task(task: str) -> tuple[str, ...]:
    """The constraint metrics for a task's targets (binary and multiclass decisions share
    the classification family)."""
    return REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS


_PATTERN = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([^\[\]]*)\])?\s*(<=|>=|<|>|==|=)\s*"
    r"([-+0-9.eE]+|[-+]?(?i:nan|inf))\s*$"
)


@dataclass(frozen=True)
class Family:
    """The target a constraint is bound to, when its name alone does not say: ``task``
    ("multiclass"), the number of classes and the favourable class codes (None: every
    class) the multiclass measures compare."""

    task: str
    n_classes: int | None = None
    favourable: tuple[int, ...] | None = None


class Projector(Protocol):
    """What binds constraints to the groups: the sensitive attributes' names, and the map
    from intersection cell codes to the codes of some attributes' groups
    (:class:`fairautoml.data.prepare.GroupEncoder`)."""

    names: list[str]

    def projection(self, attributes: Sequence[str]) -> tuple[np.ndarray, list[str]]: ...


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``, e.g. ``demographic_parity_difference <= 0.05``.

    Differences must be bounded above (``<=``) and ratios below (``>=``); rates, ratios
    and the KS distance by a value in (0, 1], differences and maxima of group losses
    (target units) by any positive value.

    ``attributes``: the sensitive attributes whose groups are compared, each pooled over
    the others (``metric[race] <= bound``); empty: the intersection of all of them.
    ``projection``: the map from intersection cell codes to those groups' codes, set by
    :meth:`bind` once the attributes are known (not part of the constraint's identity).
    """

    metric: str
    op: str
    bound: float
    attributes: tuple[str, ...] = ()
    projection: tuple[int, ...] | None = field(default=None, compare=False, repr=False)
    family: Family | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        attributes = (self.attributes,) if isinstance(self.attributes, str) else self.attributes
        attributes = tuple(str(a).strip() for a in attributes)
        if not all(attributes) or len(set(attributes)) != len(attributes):
            raise ConstraintError(
                E.CONSTRAINT_ATTRIBUTES.format(
                    text=f"{self.metric}[{','.join(attributes)}]", given=list(attributes)
                )
            )
        object.__setattr__(self, "attributes", attributes)
        if _direction(self.metric) is None:
            raise ConstraintError(
                E.CONSTRAINT_METRIC.format(metric=self.metric, metrics=", ".join(SUPPORTED_METRICS))
            )
        want = _direction(self.metric)
        if self.op != want:
            meaning = "difference is kept small" if want == "<=" else "ratio is kept large"
            raise ConstraintError(
                E.CONSTRAINT_DIRECTION.format(
                    metric=self.metric, want=want, meaning=meaning, op=self.op, bound=self.bound
                )
            )
        try:
            bound = float(self.bound)
        except (TypeError, ValueError):
            bound = float("nan")
        if self.in_target_units:
            if not (np.isfinite(bound) and bound > 0.0):
                raise ConstraintError(
                    E.CONSTRAINT_BOUND_POSITIVE.format(metric=self.metric, bound=self.bound)
                )
        elif not (np.isfinite(bound) and 0.0 < bound <= 1.0):
            raise ConstraintError(E.CONSTRAINT_BOUND.format(metric=self.metric, bound=self.bound))
        object.__setattr__(self, "bound", bound)

    @property
    def task(self) -> str:
        """The targets the constraint is for: its bound :class:`Family`'s task, else
        "regression" or "binary" by its name."""
        if self.family is not None:
            return self.family.task
        return "regression" if self.metric in REGRESSION_METRICS else "binary"

    def for_target(
        self, task: str, n_classes: int | None = None, favourable: Sequence[int] | None = None
    ) -> Constraint:
        """This constraint bound to a target's task (its classification name then has that
        task's meaning: "multiclass", of ``n_classes`` classes, comparing the
        ``favourable`` class codes, None: every class)."""
        fav = None if favourable is None else tuple(int(c) for c in favourable)
        return replace(self, family=Family(task, n_classes, fav))

    @property
    def in_target_units(self) -> bool:
        """A bound in the target's units (a group-loss difference or maximum), not in (0, 1]."""
        measure = rf.REGRESSION_MEASURES.get(self.metric)
        return measure is not None and math.isinf(measure.bound_max)

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.bound:g}"

    @property
    def key(self) -> str:
        """The name its values, intervals, violations and leaderboard columns go by: the
        metric's for the intersection of all attributes, ``metric[a,b]`` otherwise."""
        if not self.attributes:
            return self.metric
        return f"{self.metric}[{','.join(self.attributes)}]"

    @property
    def label(self) -> str:
        """The key for prose: ``demographic parity difference [race]``."""
        text = self.metric.replace("_", " ")
        return f"{text} [{', '.join(self.attributes)}]" if self.attributes else text

    def bind(self, groups: Projector) -> Constraint:
        """This constraint measured on ``groups``' cell codes: with ``attributes``, the map
        from cell codes to those attributes' groups (an unknown attribute is an error
        naming the known ones)."""
        if not self.attributes:
            return self
        unknown = [a for a in self.attributes if a not in groups.names]
        if unknown:
            raise ConstraintError(
                E.CONSTRAINT_UNKNOWN_ATTRIBUTE.format(
                    constraint=str(self),
                    unknown=", ".join(map(repr, unknown)),
                    known=", ".join(map(repr, groups.names)),
                )
            )
        codes, _ = groups.projection(self.attributes)
        return replace(self, projection=tuple(int(c) for c in codes))

    def groups_of(self, groups: np.ndarray) -> np.ndarray:
        """The codes of the groups this constraint compares, from the intersection cell
        codes ``groups`` (themselves without ``attributes``)."""
        if not self.attributes:
            return groups
        if self.projection is None:
            raise ConstraintError(E.CONSTRAINT_UNBOUND.format(constraint=str(self)))
        codes = np.asarray(groups)
        if codes.dtype.kind not in "iu":
            raise ConstraintError(E.CONSTRAINT_UNBOUND.format(constraint=str(self)))
        projected = np.asarray(self.projection, dtype=np.int64)[codes]
        return np.where(codes < 0, codes, projected)  # a row without a group stays without

    @property
    def rates(self) -> tuple[str, ...]:
        """Group rates the metric compares: 'selection', 'tpr', 'fpr', 'fnr' (none for a
        regression constraint)."""
        return _METRICS[self.metric][2] if self.metric in _METRICS else ()

    @property
    def needs_positive_label(self) -> bool:
        """Whether the value changes when the two classes swap roles. Demographic parity
        and equalized odds *differences* do not (a selection rate s becomes 1 - s; TPR and
        FPR become 1 - FPR and 1 - TPR); every ratio and single-rate metric does. A
        regression target has no favourable label; a multiclass one compares every class
        unless told which are favourable."""
        if self.task in ("regression", "multiclass"):
            return False
        return self.is_ratio or self.metric not in (
            "demographic_parity_difference",
            "equalized_odds_difference",
        )

    @property
    def is_ratio(self) -> bool:
        return self.op == ">="

    def value(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """The metric's value on these predictions (fairlearn's, for classification)."""
        if self.task == "regression":
            return _regression_values([self], y_true, y_pred, groups, sample_weight)[self.key]
        if self.task == "multiclass":
            codes = self.groups_of(groups)
            return _multiclass_values([self], y_true, y_pred, codes, sample_weight)[self.key]
        fn = _METRICS[self.metric][0]
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return float(fn(y_true, y_pred, sensitive_features=self.groups_of(groups), **kwargs))

    def violation(self, value: float) -> float:
        """How far ``value`` is on the wrong side of the bound (<= 0 means satisfied)."""
        return float(self.violation_array(value))

    def violation_array(self, values: np.ndarray) -> np.ndarray:
        """:meth:`violation` of many values at once (NaN counts as a violation of 1)."""
        values = np.asarray(values, dtype=float)
        gap = values - self.bound if self.op == "<=" else self.bound - values
        return np.where(np.isnan(values), 1.0, gap)

    def from_rates(self, rates: dict[str, np.ndarray]) -> np.ndarray:
        """The metric from per-group rates (arrays of shape (..., n_groups)).

        Used to bootstrap many resamples at once; a test checks it against fairlearn.
        """
        if self.is_ratio:
            per_rate = [
                np.min(rates[r], axis=-1) / np.maximum(np.max(rates[r], axis=-1), 1e-12)
                for r in self.rates
            ]
            return np.minimum.reduce(per_rate)
        per_rate = [np.max(rates[r], axis=-1) - np.min(rates[r], axis=-1) for r in self.rates]
        return np.maximum.reduce(per_rate)

    def interval(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        *,
        n_boot: int = 200,
        level: float = 0.8,
        random_state: int | None = None,
    ) -> tuple[float, float]:
        """Bootstrap interval of the value (Poisson resampling of rows).

        Small groups make a measured violation noisy; selection uses the pessimistic end.
        """
        return evaluate_intervals(
            [self], y_true, y_pred, groups, level=level, random_state=random_state, n_boot=n_boot
        )[self.key]

    def interval_from_rates(
        self, rates: dict[str, np.ndarray], level: float
    ) -> tuple[float, float]:
        """Central interval of the value over bootstrap ``rates`` (see bootstrap_rates)."""
        return central_interval(self.from_rates(rates), level)


def central_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap ``values``."""
    lo, hi = np.nanquantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _regression_values(
    constraints: Sequence[Constraint],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Regression constraints' values (the measures of :mod:`fairautoml.measures.regression`)."""
    return {
        c.key: float(
            rf.REGRESSION_MEASURES[c.metric].value(
                y_true, y_pred, c.groups_of(groups), sample_weight
            )
        )
        for c in constraints
    }


def _n_classes(constraints: Sequence[Constraint], *codes: np.ndarray) -> int:
    """The number of classes the constraints were bound to, else the most the codes show."""
    bound = [c.family.n_classes for c in constraints if c.family and c.family.n_classes]
    seen = max((int(np.max(x)) + 1 for x in codes if np.size(x)), default=2)
    return max([*bound, seen])


def _favourable(c: Constraint) -> tuple[int, ...] | None:
    return None if c.family is None else c.family.favourable


def _multiclass_values(
    constraints: Sequence[Constraint],
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
    constraints: Sequence[Constraint],
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
        (drawn,) = rf.poisson_weighted_sums(flat, n_cells, [weight], n_boot, rng, rate)
    cells = drawn.reshape(n_boot, len(labels), k, k)
    out: dict[str, np.ndarray] = {}
    for members in _by_groups(constraints):
        into = np.unique(members[0].groups_of(labels), return_inverse=True)[1].reshape(-1)
        member = (into[:, None] == np.arange(into.max() + 1)[None, :]).astype(np.float64)
        rates = mf.rates_from_cells(np.einsum("bgtp,gh->bhtp", cells, member))
        for c in members:
            measure = mf.MULTICLASS_MEASURES[c.metric]
            out[c.key] = np.asarray(measure.from_rates(rates, _favourable(c)), dtype=np.float64)
    return out


def _multiclass_lower_bounds(
    constraints: Sequence[Constraint],
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


def _regression_bootstrap(
    constraints: Sequence[Constraint],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_boot: int,
    random_state: int | None,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each regression constraint's value under ``n_boot`` Poisson bootstrap resamples
    (the resamples of one loss, or of the KS distance, drawn once per set of groups and
    shared)."""
    drawn: dict[tuple[str | None, tuple[str, ...]], np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    for c in constraints:
        measure = rf.REGRESSION_MEASURES[c.metric]
        which = (measure.loss, c.attributes)
        if which not in drawn:
            codes = c.groups_of(groups)
            drawn[which] = (
                rf.bootstrap_ks(y_pred, codes, n_boot, random_state, sample_weight, membership)
                if measure.loss is None
                else rf.bootstrap_group_losses(
                    y_true,
                    y_pred,
                    codes,
                    measure.loss,
                    n_boot,
                    random_state,
                    sample_weight,
                    membership,
                )
            )
        out[c.key] = measure.from_bootstrap(drawn[which])
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
    cell count is then Poisson(the cell's total membership), drawn per cell.
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
    if sample_weight is not None:
        cell = _cell_codes(y_true, y_pred, groups)
        n_cells = 4 * (int(cell.max()) // 4 + 1) if cell.size else 0
        present = np.bincount(cell, minlength=n_cells).reshape(-1, 4).sum(axis=1) > 0
        weight = np.asarray(sample_weight, dtype=np.float64)
        rate = None if membership is None else np.asarray(membership, dtype=np.float64)
        (totals,) = rf.poisson_weighted_sums(cell, n_cells, [weight], n_boot, rng, rate)
        tn, fp, fn, tp = np.moveaxis(totals.reshape(n_boot, -1, 4)[:, present], -1, 0)
        return tp, fn, fp, tn

    def draw(size: np.ndarray) -> np.ndarray:
        return rng.poisson(size[0], size=(n_boot, size.shape[1])).astype(np.float64)

    tp, fn, fp, tn = confusion_counts(y_true, y_pred, groups, membership)
    return draw(tp), draw(fn), draw(fp), draw(tn)


def pooled(counts: Sequence[np.ndarray], cells: np.ndarray, c: Constraint) -> list[np.ndarray]:
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


def parse_constraint(text: str | Constraint) -> Constraint:
    """Parse one ``"metric <= bound"`` or ``"metric[attribute, ...] <= bound"`` string (a
    Constraint passes through)."""
    if isinstance(text, Constraint):
        return text
    if not isinstance(text, str):
        raise ConstraintError(E.CONSTRAINT_TYPE.format(given=_describe(text)))
    match = _PATTERN.match(text)
    if match is None:
        raise ConstraintError(
            E.CONSTRAINT_SYNTAX.format(text=text, metrics=", ".join(SUPPORTED_METRICS))
        )
    metric, attributes, op, bound_text = match.groups()
    names = () if attributes is None else tuple(a.strip() for a in attributes.split(","))
    if op in ("<", ">", "==", "="):
        want = _direction(metric) or "<="
        raise ConstraintError(
            E.CONSTRAINT_OPERATOR.format(op=op, text=text, metric=metric, want=want)
        )
    try:
        bound = float(bound_text)
    except ValueError:
        bound = bound_text  # Constraint names the bad bound
    return Constraint(metric, op, bound, names)


def parse_constraints(
    spec: str | Constraint | Iterable[str | Constraint] | None,
) -> list[Constraint]:
    """Parse a string, a Constraint or a list of them; all must hold together."""
    if spec is None:
        return []
    if isinstance(spec, (str, Constraint)):
        spec = [spec]
    elif isinstance(spec, (set, frozenset)):
        spec = sorted(spec, key=str)  # the same order in every process
    elif not isinstance(spec, (list, tuple)):
        raise ConstraintError(E.CONSTRAINT_TYPE.format(given=_describe(spec)))
    constraints = [parse_constraint(item) for item in spec]
    seen: dict[tuple[str, frozenset[str]], Constraint] = {}
    for c in constraints:
        same = seen.setdefault((c.metric, frozenset(c.attributes)), c)
        if same is not c:
            raise ConstraintError(
                E.CONSTRAINT_DUPLICATE.format(first=str(same), second=str(c), key=same.key)
            )
    return constraints


def bind_constraints(constraints: Sequence[Constraint], groups: Projector) -> list[Constraint]:
    """The constraints measured on ``groups``' cell codes (:meth:`Constraint.bind`)."""
    return [c.bind(groups) for c in constraints]


def _describe(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def evaluate_constraints(
    constraints: Sequence[Constraint],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, float]:
    """Value of each constraint's metric, keyed by :attr:`Constraint.key`: fairlearn's value
    on the groups the constraint compares.

    The search scores every trial's points this way, and a fairlearn MetricFrame per call
    would be a large share of a post-processed trial's time. When every group
    has both classes, the values are computed from exact per-group confusion counts
    (:func:`confusion_counts`; a test checks it equals fairlearn for every supported
    metric); otherwise (a rate with a zero denominator) fairlearn decides. With
    ``sample_weight`` the counts are weighted (fairlearn's ``sample_weight``); a row that
    belongs to its group with probability ``membership`` counts that much more lightly.
    """
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    weight = rf.counted_weight(sample_weight, membership)
    values: dict[str, float] = {}
    for members in _by_groups(constraints):
        codes = members[0].groups_of(groups)
        values.update(_evaluate(members, y_true, y_pred, codes, weight))
    return {c.key: values[c.key] for c in constraints}


def _by_groups(constraints: Sequence[Constraint]) -> list[list[Constraint]]:
    """The constraints by the groups they compare (those on the same attributes together)."""
    out: dict[tuple[str, ...], list[Constraint]] = {}
    for c in constraints:
        out.setdefault(c.attributes, []).append(c)
    return list(out.values())


def _evaluate(
    constraints: Sequence[Constraint],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    w: np.ndarray | None = None,
) -> dict[str, float]:
    """:func:`evaluate_constraints` of constraints that compare the groups ``codes``
    (rows weighted by ``w``)."""
    whole = [replace(c, attributes=()) if c.attributes else c for c in constraints]
    regression = [c for c in whole if c.task == "regression"]
    values = _regression_values(regression, y_true, y_pred, codes, w) if regression else {}
    multiclass = [c for c in whole if c.task == "multiclass"]
    if multiclass:
        values.update(_multiclass_values(multiclass, y_true, y_pred, codes, w))  # by metric
    rest = [c for c in whole if c.task not in ("regression", "multiclass")]
    if rest:
        inverse = np.unique(codes, return_inverse=True)[1].reshape(-1)
        row_w = np.ones(len(inverse)) if w is None else np.asarray(w, dtype=np.float64)
        positives = np.bincount(inverse, weights=(y_true == 1) * row_w)
        negatives = np.bincount(inverse, weights=row_w) - positives
        if len(positives) < 2 or positives.min() <= 0 or negatives.min() <= 0:
            values.update({c.metric: c.value(y_true, y_pred, codes, w) for c in rest})
        else:
            rates = rates_from_counts(*confusion_counts(y_true, y_pred, codes, w))
            values.update({c.metric: float(c.from_rates(rates)[0]) for c in rest})
    return {c.key: values[c.metric] for c in constraints}


def evaluate_intervals(
    constraints: Sequence[Constraint],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    *,
    level: float = 0.8,
    random_state: int | None = None,
    n_boot: int = 200,
    sample_weight: np.ndarray | None = None,
    membership: np.ndarray | None = None,
) -> dict[str, tuple[float, float]]:
    """Bootstrap interval of each constraint's metric, keyed by :attr:`Constraint.key`
    (one shared set of resamples per family: a group of some attributes pools its cells'
    resampled counts; rows weighted by ``sample_weight`` and by their group ``membership``
    when given: see :func:`bootstrap_rates`)."""
    out: dict[str, tuple[float, float]] = {}
    w, p = sample_weight, membership
    regression = [c for c in constraints if c.task == "regression"]
    if regression:
        values = _regression_bootstrap(
            regression, y_true, y_pred, groups, n_boot, random_state, w, p
        )
        for c in regression:
            low, high = central_interval(values[c.key], level)
            if rf.REGRESSION_MEASURES[c.metric].loss is None:  # the KS distance
                # its bootstrap sits high: the lower end from the Kolmogorov bound
                bound = rf.ks_lower_bound(y_pred, c.groups_of(groups), (1 - level) / 2, w, p)
                low = min(low, bound)
            out[c.key] = (low, high)
    multiclass = [c for c in constraints if c.task == "multiclass"]
    if multiclass:
        values = _multiclass_bootstrap(
            multiclass, y_true, y_pred, groups, n_boot, random_state, w, p
        )
        lows = _multiclass_lower_bounds(multiclass, y_true, y_pred, groups, (1 - level) / 2, w, p)
        for key, v in values.items():
            low, high = central_interval(v, level)
            out[key] = (min(low, lows[key]) if key in lows else low, high)
    classification = [c for c in constraints if c.task not in ("regression", "multiclass")]
    if classification:
        counts = bootstrap_counts(y_true, y_pred, groups, n_boot, random_state, w, p)
        cells = np.unique(np.asarray(groups))
        weight = rf.counted_weight(w, p)
        ones = np.ones(len(np.asarray(y_true)))
        observed = confusion_counts(y_true, y_pred, groups, ones if weight is None else weight)
        squares = confusion_counts(y_true, y_pred, groups, ones if weight is None else weight**2)
        for members in _by_groups(classification):
            rates = rates_from_counts(*pooled(counts, cells, members[0]))
            sums, sums_sq = pooled(observed, cells, members[0]), pooled(squares, cells, members[0])
            for c in members:
                low, high = c.interval_from_rates(rates, level)
                if not c.is_ratio:  # a largest gap's bootstrap sits high: a pairwise bound
                    low = min(low, rates_lower_bound(c.rates, sums, sums_sq, (1 - level) / 2))
                out[c.key] = (low, high)
    return {c.key: out[c.key] for c in constraints}


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


def rule_noise(fold_values: Sequence[dict[str, float]]) -> dict[str, float]:
    """Standard error of each constraint's value that comes from fitting a post-processing
    rule on a sample of the validation rows: the grouped jackknife over the rules fitted
    on the cross-fitting folds (each on all but one fold), every rule's value measured on
    the same rows. With ``K`` folds, ``(K - 1) / K * sum((v_k - mean)^2)``.

    The bootstrap interval resamples the rows for fixed decisions, so a rule whose fit
    moves with its sample (a linear programme's vertex, a quantile threshold) looks
    surer than it is; this is the part it leaves out."""
    k = len(fold_values)
    if k < 2:
        return {}
    out = {}
    for key in fold_values[0]:
        v = np.array([f[key] for f in fold_values], dtype=np.float64)
        out[key] = float(np.sqrt((k - 1) / k * np.sum((v - v.mean()) ** 2)))
    return out


def pessimistic_violation(
    constraints: Sequence[Constraint], intervals: dict[str, tuple[float, float]]
) -> float:
    """Largest violation at the unfavourable end of each interval (<= 0: all hold there)."""
    if not constraints:
        return 0.0
    return max(
        c.violation(intervals[c.key][0] if c.is_ratio else intervals[c.key][1]) for c in constraints
    )


def robust_violation(
    constraints: Sequence[Constraint], intervals: dict[str, tuple[float, float]]
) -> float:
    """:func:`pessimistic_violation`, or nan when a constraint has no interval."""
    if any(c.key not in intervals for c in constraints):
        return float("nan")
    return pessimistic_violation(constraints, intervals)


def assurance(
    constraints: Sequence[Constraint],
    values: dict[str, float],
    intervals: dict[str, tuple[float, float]],
    level: float,
) -> float:
    """By how many standard errors every constraint holds: the smallest, over the
    constraints, of the room between the value and the bound divided by the value's
    standard error on the unfavourable side (read off the bootstrap interval, central at
    ``level``). ``>= z((1 + level) / 2)`` exactly when the unfavourable end of the interval
    meets the bound; negative when a value misses it; nan when an interval is missing.

    It lets the pick ask for a lower confidence (a smaller margin, in units of the
    sampling noise) when nothing holds at ``level``.
    """
    if not constraints:
        return math.inf
    z = NormalDist().inv_cdf((1 + level) / 2)
    worst = math.inf
    for c in constraints:
        if c.key not in intervals or c.key not in values:
            return math.nan
        value = float(values[c.key])
        low, high = intervals[c.key]
        room = -c.violation(value)
        spread = (value - low) if c.is_ratio else (high - value)
        if not math.isfinite(room):
            return math.nan
        if spread > 1e-12:
            worst = min(worst, room * z / spread)
        elif room < 0:
            worst = min(worst, -math.inf)
    return worst


def worst_violation(constraints: Sequence[Constraint], values: dict[str, float]) -> float:
    """Largest violation over the constraints, floored at 0 (0 means all hold)."""
    if not constraints:
        return 0.0
    return max(0.0, *(c.violation(values[c.key]) for c in constraints))
