"""The constraint language: parse ``"metric <= bound"``, bind it to the groups and the
target, and evaluate it through its family.

A :class:`Constraint` is one small frozen record; what measures it is its family object
(:data:`FAMILIES`, one per kind of target, the interface of
:class:`fairautoml.measures.family.MeasureFamily`): values, bootstrap intervals and their
lower bounds, and whether a value depends on the favourable outcome.

* yes/no decisions (:mod:`fairautoml.measures.decisions`): the ``fairlearn.metrics``
  functions (demographic parity, equalized odds, ...), from exact per-group confusion
  counts where fairlearn's own value is the same (a test checks it);
* several classes (:mod:`fairautoml.measures.classes`): the same names with the meaning of
  :mod:`fairautoml.measures.multiclass`, from (group, class, predicted class) counts;
* amounts (:mod:`fairautoml.measures.amounts`): strong demographic parity as the largest
  Kolmogorov-Smirnov distance between groups' predictions (``demographic_parity_ks``), and
  group losses named as fairlearn's ``make_derived_metric`` names them
  (``mean_absolute_error_ratio``, ...).

Each constraint's ``task`` says which targets it is for; the task object checks that the
constraints fit the target. The classification names mean yes/no decisions unless the
target's task binds them to its own (:class:`Family`: the target a constraint is bound
to, :meth:`Constraint.for_target`). What the pick reads of the values (violations,
assurance) is :mod:`fairautoml.measures.claims`.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from fairautoml import exceptions as E
from fairautoml.exceptions import ConstraintError
from fairautoml.measures import regression as rf
from fairautoml.measures.amounts import AmountMeasures
from fairautoml.measures.calibration import GroupCalibrationFamily
from fairautoml.measures.classes import ClassRates
from fairautoml.measures.decisions import DECISION_METRICS as _METRICS
from fairautoml.measures.decisions import DecisionRates
from fairautoml.measures.dependence import (
    DEPENDENCE_METRICS,
    DEPENDENCE_NOT_NUMERIC,
    DEPENDENCE_ONE_ATTRIBUTE,
    AttributeDependence,
    is_dependence,
)
from fairautoml.measures.family import MeasureFamily, by_groups
from fairautoml.measures.messages import (
    CONSTRAINT_ATTRIBUTES,
    CONSTRAINT_BOUND,
    CONSTRAINT_BOUND_POSITIVE,
    CONSTRAINT_DIRECTION,
    CONSTRAINT_DUPLICATE,
    CONSTRAINT_METRIC,
    CONSTRAINT_NEEDS_SCORES,
    CONSTRAINT_OPERATOR,
    CONSTRAINT_SYNTAX,
    CONSTRAINT_TYPE,
    CONSTRAINT_UNBOUND,
)
from fairautoml.measures.row_copies import for_family

# name -> (fairlearn function, required direction, group rates the metric compares)


# one family object per kind of target: the one lookup from a constraint to what measures it
FAMILIES: dict[str, MeasureFamily] = {
    "binary": DecisionRates(),
    "multiclass": ClassRates(),
    "regression": AmountMeasures(),
}
# dependence on a numeric attribute (no groups): for yes/no decisions and amounts alike
DEPENDENCE = AttributeDependence()
# calibration within groups: yes/no scores, not decisions (it reads scores=)
CALIBRATION = GroupCalibrationFamily()
REGRESSION_METRICS: tuple[str, ...] = FAMILIES["regression"].metrics
CLASSIFICATION_METRICS: tuple[str, ...] = FAMILIES["binary"].metrics
SUPPORTED_METRICS: tuple[str, ...] = (
    CLASSIFICATION_METRICS + CALIBRATION.metrics + REGRESSION_METRICS + tuple(DEPENDENCE_METRICS)
)


def _direction(metric: str) -> str | None:
    if metric in _METRICS:
        return _METRICS[metric][1]
    if is_dependence(metric) or metric in CALIBRATION.metrics:
        return "<="
    measure = rf.REGRESSION_MEASURES.get(metric)
    return None if measure is None else measure.op


def metrics_for_task(task: str) -> tuple[str, ...]:
    """The constraint metrics for a task's targets (binary and multiclass decisions share
    the classification names; yes/no scores have their calibration too)."""
    return FAMILIES[task].metrics + (CALIBRATION.metrics if task in CALIBRATION.tasks else ())


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
    (:class:`fairautoml.data.groups.GroupEncoder`)."""

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
    # a dependence constraint (generalized_disparate_impact[age]) once bound: the numeric
    # value of each of its attribute's group codes, and the fit's lowest and highest value
    levels: tuple[float, ...] | None = field(default=None, compare=False, repr=False)
    span: tuple[float, float] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        attributes = (self.attributes,) if isinstance(self.attributes, str) else self.attributes
        attributes = tuple(str(a).strip() for a in attributes)
        if not all(attributes) or len(set(attributes)) != len(attributes):
            raise ConstraintError(
                CONSTRAINT_ATTRIBUTES.format(
                    text=f"{self.metric}[{','.join(attributes)}]", given=list(attributes)
                )
            )
        object.__setattr__(self, "attributes", attributes)
        if _direction(self.metric) is None:
            raise ConstraintError(
                CONSTRAINT_METRIC.format(metric=self.metric, metrics=", ".join(SUPPORTED_METRICS))
            )
        want = _direction(self.metric)
        if self.op != want:
            meaning = "difference is kept small" if want == "<=" else "ratio is kept large"
            raise ConstraintError(
                CONSTRAINT_DIRECTION.format(
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
                    CONSTRAINT_BOUND_POSITIVE.format(metric=self.metric, bound=self.bound)
                )
        elif not (np.isfinite(bound) and 0.0 < bound <= 1.0):
            raise ConstraintError(CONSTRAINT_BOUND.format(metric=self.metric, bound=self.bound))
        object.__setattr__(self, "bound", bound)

    @property
    def measures(self) -> MeasureFamily:
        """The family that measures this constraint (:data:`FAMILIES`, by its task; a
        dependence on a numeric attribute: :data:`DEPENDENCE`, whatever the target)."""
        if self.continuous:
            return DEPENDENCE
        if self.metric in CALIBRATION.metrics:
            return CALIBRATION
        return FAMILIES[self.task]

    @property
    def reads_scores(self) -> bool:
        """Whether it measures scores (positive-class probabilities), not decisions: the
        calibration within groups."""
        return self.measures.reads_scores

    @property
    def continuous(self) -> bool:
        """Whether it reads its attribute as numbers (no groups): a dependence measure."""
        return is_dependence(self.metric)

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
        if self.continuous and len(self.attributes) != 1:
            raise ConstraintError(
                DEPENDENCE_ONE_ATTRIBUTE.format(constraint=str(self), metric=self.metric)
            )
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
        codes, labels = groups.projection(self.attributes)
        bound = replace(self, projection=tuple(int(c) for c in codes))
        if not self.continuous:
            return bound
        levels = tuple(_number(label, self) for label in labels)
        return replace(bound, levels=levels, span=(min(levels), max(levels)))

    def groups_of(self, groups: np.ndarray) -> np.ndarray:
        """The codes of the groups this constraint compares, from the intersection cell
        codes ``groups`` (themselves without ``attributes``)."""
        if not self.attributes:
            return groups
        if self.projection is None:
            raise ConstraintError(CONSTRAINT_UNBOUND.format(constraint=str(self)))
        codes = np.asarray(groups)
        if codes.dtype.kind not in "iu":
            raise ConstraintError(CONSTRAINT_UNBOUND.format(constraint=str(self)))
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
        return self.measures.needs_positive_label(self)

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
        """The metric's value on these predictions (fairlearn's, for yes/no decisions; for a
        constraint that :attr:`reads_scores`, ``y_pred`` are the positive-class
        probabilities)."""
        return self.measures.value(self, y_true, y_pred, groups, sample_weight)

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


def _number(label: str, constraint: Constraint) -> float:
    """A group label of a dependence constraint's attribute as its number (the attribute
    must have been read as numbers: :func:`fairautoml.data.groups.GroupEncoder.fit`)."""
    try:
        return float(label)
    except ValueError:
        raise ConstraintError(
            DEPENDENCE_NOT_NUMERIC.format(
                constraint=str(constraint), attribute=constraint.attributes[0], label=label
            )
        ) from None


def parse_constraint(text: str | Constraint) -> Constraint:
    """Parse one ``"metric <= bound"`` or ``"metric[attribute, ...] <= bound"`` string (a
    Constraint passes through)."""
    if isinstance(text, Constraint):
        return text
    if not isinstance(text, str):
        raise ConstraintError(CONSTRAINT_TYPE.format(given=_describe(text)))
    match = _PATTERN.match(text)
    if match is None:
        raise ConstraintError(
            CONSTRAINT_SYNTAX.format(text=text, metrics=", ".join(SUPPORTED_METRICS))
        )
    metric, attributes, op, bound_text = match.groups()
    names = () if attributes is None else tuple(a.strip() for a in attributes.split(","))
    if op in ("<", ">", "==", "="):
        want = _direction(metric) or "<="
        raise ConstraintError(
            CONSTRAINT_OPERATOR.format(op=op, text=text, metric=metric, want=want)
        )
    try:
        bound = float(bound_text)
    except ValueError:
        bound = bound_text  # Constraint names the bad bound
    if is_dependence(metric) and len(names) != 1:
        raise ConstraintError(DEPENDENCE_ONE_ATTRIBUTE.format(constraint=text, metric=metric))
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
        raise ConstraintError(CONSTRAINT_TYPE.format(given=_describe(spec)))
    constraints = [parse_constraint(item) for item in spec]
    seen: dict[tuple[str, frozenset[str]], Constraint] = {}
    for c in constraints:
        same = seen.setdefault((c.metric, frozenset(c.attributes)), c)
        if same is not c:
            raise ConstraintError(
                CONSTRAINT_DUPLICATE.format(first=str(same), second=str(c), key=same.key)
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
    scores: np.ndarray | None = None,
) -> dict[str, float]:
    """Value of each constraint's metric, keyed by :attr:`Constraint.key`: fairlearn's value
    on the groups the constraint compares.

    The search scores every trial's points this way, and a fairlearn MetricFrame per call
    would be a large share of a post-processed trial's time. When every group
    has both classes, the values are computed from exact per-group confusion counts
    (:func:`confusion_counts`; a test checks it equals fairlearn for every supported
    metric); otherwise (a rate with a zero denominator) fairlearn decides. With
    ``sample_weight`` the counts are weighted (fairlearn's ``sample_weight``); a row that
    belongs to its group with probability ``membership`` counts that much more lightly
    (rows with signed weights: :mod:`fairautoml.measures.row_copies`).
    ``scores``: the positive-class probabilities, for the constraints that read them
    (:attr:`Constraint.reads_scores`; an error names them when not given).
    """
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    values: dict[str, float] = {}
    for members in by_groups(constraints):
        codes = members[0].groups_of(groups)
        whole = [replace(c, attributes=()) if c.attributes else c for c in members]
        by_metric: dict[str, float] = {}
        for family, kind in _by_family(whole):
            read = _read(family, kind, y_pred, scores)
            counted = for_family(membership, family.takes_signed_weights)
            weight = rf.counted_weight(sample_weight, counted)
            by_metric.update(family.values(kind, y_true, read, codes, weight))
        values.update({c.key: by_metric[c.metric] for c in members})
    return {c.key: values[c.key] for c in constraints}


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
    scores: np.ndarray | None = None,
) -> dict[str, tuple[float, float]]:
    """Bootstrap interval of each constraint's metric, keyed by :attr:`Constraint.key`
    (one shared set of resamples per family: a group of some attributes pools its cells'
    resampled counts; rows weighted by ``sample_weight`` and by their group ``membership``
    when given: see :func:`fairautoml.measures.decisions.bootstrap_rates`)."""
    out: dict[str, tuple[float, float]] = {}
    for family, kind in _by_family(constraints):
        out.update(
            family.intervals(
                kind, y_true, _read(family, kind, y_pred, scores), groups, level, random_state,
                n_boot, sample_weight, for_family(membership, family.takes_signed_weights),
            )
        )  # fmt: skip
    return {c.key: out[c.key] for c in constraints}


def _read(
    family: MeasureFamily, kind: Sequence[Constraint], y_pred: np.ndarray, scores: Any
) -> np.ndarray:
    """What ``family`` measures: the decisions, or the scores where it reads them."""
    if not family.reads_scores:
        return y_pred
    if scores is None:
        raise ConstraintError(CONSTRAINT_NEEDS_SCORES.format(constraints=", ".join(map(str, kind))))
    return np.asarray(scores, dtype=np.float64)


def _by_family(constraints: Sequence[Constraint]) -> list[tuple[MeasureFamily, list[Constraint]]]:
    """The constraints by the family that measures them, in the order of :data:`FAMILIES`."""
    return [
        (family, kind)
        for family in (*FAMILIES.values(), CALIBRATION, DEPENDENCE)
        if (kind := [c for c in constraints if c.measures is family])
    ]
