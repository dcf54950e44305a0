"""Input validation and preparation: the one place user data is checked and converted.

Every learner receives the same prepared table: numeric columns as float64 (NaN for
missing) and every other column as a pandas ``category`` with the categories fixed at
fit time (unseen values become NaN). LightGBM and XGBoost use the categories natively;
the linear and sklearn learners one-hot encode them. User objects are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.data.features import FeatureSchema, as_frame, check_aligned
from fairautoml.data.groups import (
    MISSING_GROUPS,
    UNKNOWN_GROUP,
    GroupEncoder,
    _check_no_missing,
    constrained_groupings,
    missing_group_rows,
    resolve_levels,
    sensitive_frame,
)
from fairautoml.data.memberships import Memberships, checked_memberships
from fairautoml.data.messages import (
    CONTINUOUS_IN_INTERSECTION,
    GROUP_OF_ATTRIBUTE,
    INTERSECTION_TOO_SMALL,
)
from fairautoml.data.splits import SMALL_STRATUM_ROWS, stratification_groups
from fairautoml.data.weights import check_sample_weight, check_weighted_groups
from fairautoml.exceptions import ConfigurationError, ConstraintError, InputError
from fairautoml.values import describe

MISSING_GROUPS_ALL = (
    "Every one of the {n} rows has a missing value of the sensitive attribute(s) {names}, "
    "so no group is known and fairness cannot be measured or inferred "
    "(missing_groups={mode!r}). Pass the attribute for at least some rows of every group."
)
NO_FEATURES = (
    "No feature columns are left once the sensitive column(s) {names} are removed from X. "
    "Pass keep_sensitive_as_feature=True or add features."
)
BINS_SMALL_GROUP = (
    "{error} {names} {verb} binned: fewer cut points or quantiles give larger groups."
)
BOTH_GROUPS_AND_PROBABILITIES = (
    "Pass either sensitive_features (known groups) or group_probabilities (each row's "
    "probability of each group, e.g. BISG), not both: fit once with each to compare."
)
PROBABILITIES_ATTRIBUTE = "group"  # the attribute's name when the columns have none

# --- continuous sensitive attributes: bins ----------------------------------------------------


@dataclass
class PreparedData:
    """Validated training data: features as learners expect them, the target as the task
    prepared it (0/1 classes, or amounts), group codes, and the target's strata."""

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    schema: FeatureSchema
    group_encoder: GroupEncoder
    classes: np.ndarray | None  # None for amounts
    sensitive_columns: list[str]  # columns of X the groups were read from
    strata: np.ndarray | None = None  # the task's target strata; None: y itself (classes)
    weight: np.ndarray | None = None  # sample_weight per row; None: every row counts once
    # what the search does with rows whose group is unknown (MISSING_GROUPS); "error" when
    # every row's group is known
    missing_groups: str = "error"
    # "infer": P(group | x, y) per row, shape (n, n_groups) (a known group: probability 1),
    # and how well the groups could be inferred (fairautoml.data.missing_groups)
    membership: np.ndarray | None = None
    group_inference: dict[str, Any] | None = None
    # "infer": each known row's P(group | x, y) from a model that did not train on it, the
    # rectifier's (fairautoml.data.missing_groups.rectified_weights), shape (n, n_groups)
    held_out_membership: np.ndarray | None = None
    # "infer": each row's group for training a mitigation: its own where known, else one
    # drawn from its membership (fairautoml.data.missing_groups.drawn_groups); None: groups
    training_groups: np.ndarray | None = None
    # fit(..., target_X=...): what the importance weights for the target population are
    # worth (fairautoml.data.shift.ShiftWeights.record); ``weight`` then holds them
    shift: dict[str, Any] | None = None
    # fit(..., target_X=..., shift_robust=True): the reweightings of the rows the fairness
    # claim is the worst case over, shape (k, n) (``weight``, the central one, among them)
    weight_set: np.ndarray | None = None
    # the sets of attributes whose groups the constraints compare (constrained_groupings);
    # empty: the intersection of all of them
    groupings: tuple[tuple[str, ...], ...] = ()
    # the groups splits stratify on when tiny cells were pooled (stratification_groups);
    # None: the cells themselves
    split_groups: np.ndarray | None = None
    # group membership probabilities (BISG) given instead of groups, shape (n, n_groups):
    # fairness is measured from them (fairautoml.measures.membership); ``groups`` then
    # holds each row's most probable group, which splits stratify on and training
    # mitigators read (docs/decisions.md, "Membership probabilities in the fit")
    probabilities: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.strata is None:
            self.strata = np.asarray(self.y, dtype=np.int64)

    @property
    def known(self) -> np.ndarray:
        """Whether each row's group is known."""
        return self.groups != UNKNOWN_GROUP

    @property
    def stratified_on(self) -> np.ndarray:
        """The group codes splits, folds and row samples stratify on (with the target)."""
        return self.groups if self.split_groups is None else self.split_groups

    def measured_groups(self) -> list[tuple[np.ndarray, list[str]]] | None:
        """The groups validation must hold rows of, as (code per row, labels), where they
        are not the groups stratified on (None: those, the cells)."""
        if self.split_groups is None:
            return None
        encoder = self.group_encoder
        numeric = set(encoder.fitted_levels)
        return [
            encoder.grouping(self.groups, attributes)
            for attributes in self.groupings
            if not numeric & set(attributes)  # read as numbers: no group to hold
        ]

    def subset(self, idx: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        return self.X.iloc[idx], self.y[idx], self.groups[idx]

    @property
    def mitigation_groups(self) -> np.ndarray:
        """Every row's group a mitigation trains on (:attr:`training_groups`, else groups)."""
        return self.groups if self.training_groups is None else self.training_groups

    def training_subset(self, idx: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """:meth:`subset` with the groups a mitigation trains on."""
        return self.X.iloc[idx], self.y[idx], self.mitigation_groups[idx]

    def weights(self, idx: np.ndarray) -> np.ndarray | None:
        """The rows' ``sample_weight`` (None for an unweighted fit)."""
        return None if self.weight is None else self.weight[idx]

    def rows(self, idx: np.ndarray) -> PreparedData:
        """These data on the rows ``idx`` only (renumbered in that order)."""
        membership = None if self.membership is None else self.membership[idx]
        held_out = None if self.held_out_membership is None else self.held_out_membership[idx]
        drawn = None if self.training_groups is None else self.training_groups[idx]
        split_groups = None if self.split_groups is None else self.split_groups[idx]
        probabilities = None if self.probabilities is None else self.probabilities[idx]
        weight_set = None if self.weight_set is None else self.weight_set[:, idx]
        return replace(
            self, X=self.X.iloc[idx], y=self.y[idx], groups=self.groups[idx],
            strata=self.strata[idx], weight=self.weights(idx), membership=membership,
            held_out_membership=held_out, training_groups=drawn,
            split_groups=split_groups, probabilities=probabilities, weight_set=weight_set,
        )  # fmt: skip


def prepare_fit_data(
    X: object,
    y: object,
    sensitive_features: object,
    *,
    keep_sensitive_as_feature: bool = False,
    min_group_size: int = 20,
    pos_label: object = None,
    sensitive_bins: Mapping[str, Any] | None = None,
    missing_groups: str = "error",
    task: Any,
    sample_weight: object = None,
    constraints: Sequence[Any] = (),
    group_probabilities: object = None,
) -> PreparedData:
    """Validate fit inputs and present them as every learner expects them; ``task`` (a
    :class:`~fairautoml.tasks.Task`, which builds on this module) prepares the target and
    checks the groups. ``sensitive_bins`` cuts numeric attributes into bins
    (:func:`resolve_bins`); ``sample_weight`` (:func:`check_sample_weight`) weighs rows.
    ``missing_groups`` other than "error" lets rows whose group is unknown in, coded
    :data:`UNKNOWN_GROUP`; the groups of the other rows are checked, by class where the
    ``constraints`` compare rates per class (:meth:`~fairautoml.tasks.Task.needs_class_rows`).
    ``group_probabilities`` (instead of ``sensitive_features``): each row's probability of
    each group (:func:`prepared_with_probabilities`)."""
    frame = as_frame(X)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(
            E.EMPTY_INPUT.format(n_rows=frame.shape[0], n_cols=frame.shape[1], method="fit")
        )
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise InputError(E.DUPLICATE_COLUMNS.format(table="X", names=dup))
    check_aligned(X, "y", y)
    check_aligned(X, "sensitive_features", sensitive_features)
    check_aligned(X, "sample_weight", sample_weight)
    n = len(frame)
    if group_probabilities is not None and sensitive_features is not None:
        raise InputError(BOTH_GROUPS_AND_PROBABILITIES)
    memberships = None
    if group_probabilities is not None:  # before the target: a bad table's fix comes first
        check_aligned(X, "group_probabilities", group_probabilities)
        memberships = checked_memberships(group_probabilities, n)
    weight = check_sample_weight(sample_weight, n)
    target, classes = task.prepare_target(y, n, pos_label)
    if memberships is not None:
        return prepared_with_probabilities(frame, target, classes, weight, memberships, task)
    sens, sens_columns = sensitive_frame(frame, sensitive_features, n)
    continuous = _continuous(constraints, list(sens.columns))
    resolve_levels(sens, continuous, sensitive_bins)  # a missing value: this error's fix first
    allow_missing = check_missing_groups(missing_groups, sens)
    encoder = GroupEncoder.fit(sens, sensitive_bins, allow_missing, continuous)
    groups = encoder.encode(sens, allow_missing)
    known = groups != UNKNOWN_GROUP
    by_class = task.needs_class_rows(constraints)
    groupings = constrained_groupings(constraints, encoder.names)
    numeric = set(encoder.fitted_levels)
    compared = [encoder.grouping(groups, attributes) for attributes in groupings]
    try:
        for attributes, (codes, labels) in zip(groupings, compared, strict=True):
            if numeric & set(attributes):
                continue  # read as numbers: no group to size (its dependence is measured)
            try:
                task.check_groups(
                    codes[known], target[known], labels, min_group_size, by_class, classes
                )
            except InputError as exc:
                raise InputError(
                    _compared_by(str(exc), attributes, encoder.names, constraints)
                ) from None
    except InputError as exc:
        if not encoder.bins:
            raise
        names, verb = ", ".join(encoder.bins), "is" if len(encoder.bins) == 1 else "are"
        raise InputError(BINS_SMALL_GROUP.format(error=exc, names=names, verb=verb)) from None
    strata = task.strata(target)
    for attributes, (codes, labels) in zip(groupings, compared, strict=True):
        if numeric & set(attributes):
            continue
        check_weighted_groups(
            codes, strata, weight, labels, task.strata_names if by_class else None
        )
    split_groups = None
    if numeric:
        split_groups = numeric_strata(encoder, groups, sens)
    elif tuple(encoder.names) not in groupings and not _passes_check(
        task, groups[known], target[known], encoder.labels, min_group_size, by_class, classes
    ):  # only where the cells would have been refused: every other fit splits as before
        split_groups = stratification_groups(
            groups, strata, [codes for codes, _ in compared], SMALL_STRATUM_ROWS
        )
    features = frame.reset_index(drop=True)
    if sens_columns and not keep_sensitive_as_feature:
        features = features.drop(columns=sens_columns)
        if features.shape[1] == 0:
            raise InputError(NO_FEATURES.format(names=sens_columns))
    schema = FeatureSchema.infer(features)
    return PreparedData(
        schema.transform(features), target, groups, schema, encoder, classes, sens_columns,
        strata, weight, missing_groups if allow_missing else "error",
        groupings=tuple(groupings), split_groups=split_groups,
    )  # fmt: skip


def most_probable_groups(memberships: Memberships) -> tuple[GroupEncoder, np.ndarray]:
    """The encoder of the one attribute the probabilities describe (named by their columns'
    name or :data:`PROBABILITIES_ATTRIBUTE`; its groups the columns), and each row's most
    probable group's code: what splits stratify on and constraints bind to, never what a
    fairness measure reads."""
    attribute = memberships.attribute or PROBABILITIES_ATTRIBUTE
    labels = list(memberships.groups)
    encoder = GroupEncoder([attribute], labels, cells=[(label,) for label in labels])
    return encoder, np.argmax(memberships.values, axis=1).astype(np.int64)


def prepared_with_probabilities(
    frame: pd.DataFrame,
    target: np.ndarray,
    classes: np.ndarray | None,
    weight: np.ndarray | None,
    memberships: Memberships,
    task: Any,
) -> PreparedData:
    """The data of a fit given membership probabilities instead of groups: every column of
    ``frame`` a feature, the probabilities kept per row, and each row's most probable
    group as its group code (one attribute, named by the probabilities' columns' name or
    :data:`PROBABILITIES_ATTRIBUTE`; its groups the columns). Whether the probabilities
    measure every group is checked where the constraints are known
    (:func:`fairautoml.measures.membership_checks.identified`)."""
    encoder, groups = most_probable_groups(memberships)
    features = frame.reset_index(drop=True)
    schema = FeatureSchema.infer(features)
    # splits stratify on the most probable group, but do not require rows of each in
    # validation (no constraint compares them): no groupings to hold there
    return PreparedData(
        schema.transform(features), target, groups, schema, encoder, classes, [],
        task.strata(target), weight, split_groups=groups.copy(),
        probabilities=memberships.values,
    )  # fmt: skip


# an attribute read as numbers is stratified on in this many quantile bins
NUMERIC_STRATA = 4


def numeric_strata(encoder: GroupEncoder, groups: np.ndarray, sens: pd.DataFrame) -> np.ndarray:
    """The groups splits stratify on when some attribute is read as numbers (each of its
    values a level, too many and too small to stratify on): the other attributes' cells
    times that attribute's quartiles, so every split spans its range. Rows without a group
    stay :data:`UNKNOWN_GROUP`."""
    key = np.zeros(len(groups), dtype=np.int64)
    others = [name for name in encoder.names if name not in encoder.fitted_levels]
    if others:
        key, _ = encoder.grouping(groups, others)
        key = np.maximum(key, 0)
    for name in encoder.fitted_levels:
        values = sens[name].to_numpy(dtype="float64", na_value=np.nan)
        cuts = np.unique(np.nanquantile(values, np.linspace(0, 1, NUMERIC_STRATA + 1)[1:-1]))
        key = key * (len(cuts) + 1) + np.searchsorted(cuts, values, side="right")
    codes = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return np.where(groups < 0, UNKNOWN_GROUP, codes)


def _continuous(constraints: Sequence[Any], names: Sequence[str]) -> dict[str, str]:
    """The attributes read as numbers (attribute -> the constraint that reads it); a group
    constraint on one of them (or on every attribute, without brackets) is an error."""
    numeric: list[str] = []  # duck-typed: measures sits above data
    for c in constraints or ():
        if getattr(c, "continuous", False):
            numeric.extend(a for a in c.attributes if a not in numeric)
    if not numeric:
        return {}
    reads = {name: next(str(c) for c in constraints if name in c.attributes) for name in numeric}
    for c in constraints:
        if getattr(c, "continuous", False):
            continue
        compared = c.attributes or tuple(names)
        clash = [name for name in compared if name in reads]
        if clash:
            rest = [name for name in compared if name not in reads] or ["<a group attribute>"]
            example = f"{c.metric}[{','.join(rest)}] {c.op} {c.bound:g}"
            raise ConstraintError(
                CONTINUOUS_IN_INTERSECTION.format(
                    constraint=str(c), name=clash[0], dependence=reads[clash[0]], example=example
                )
            )
    return reads


def _passes_check(task: Any, *args: Any) -> bool:
    """Whether ``task.check_groups(*args)`` finds every group large enough."""
    try:
        task.check_groups(*args)
    except InputError:
        return False
    return True


def _compared_by(
    error: str, attributes: Sequence[str], names: Sequence[str], constraints: Sequence[Any]
) -> str:
    """A group's size error, saying which constraints compare its groups; for a cell of an
    intersection, how to compare each attribute on its own instead (cells are then not
    checked)."""
    if len(names) < 2:
        return error
    asking = [c for c in constraints if set(c.attributes or names) == set(attributes)]
    by = ", ".join(map(str, asking)) if asking else "the fit (no constraint was given)"
    if len(attributes) < 2:
        return GROUP_OF_ATTRIBUTE.format(error=error, attribute=attributes[0], constraints=by)
    metric, op, bound = (
        (asking[0].metric, asking[0].op, f"{asking[0].bound:g}")
        if asking
        else ("demographic_parity_difference", "<=", "0.05")
    )
    example = " and ".join(f"'{metric}[{name}] {op} {bound}'" for name in attributes)
    return INTERSECTION_TOO_SMALL.format(
        error=error, attributes=" x ".join(attributes), constraints=by, example=example
    )


def check_missing_groups(mode: object, sens: pd.DataFrame) -> bool:
    """Whether rows whose group is unknown may stay (``mode`` "exclude" or "infer" and some
    such rows); a row without a group under "error", or no row with one, is an error."""
    if mode not in MISSING_GROUPS:
        raise ConfigurationError(
            E.MISSING_GROUPS_MODE.format(given=describe(mode), modes=", ".join(MISSING_GROUPS))
        )
    if mode == "error":
        _check_no_missing(sens)
        return False
    missing = missing_group_rows(sens)
    if missing.all():
        names = ", ".join(map(str, sens.columns))
        raise InputError(MISSING_GROUPS_ALL.format(n=len(sens), names=names, mode=mode))
    return bool(missing.any())
