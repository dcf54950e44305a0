"""The data a search runs on, built once from the parameters: the prepared table, the
validation split or cross-validation folds, the row rungs of a big table, and the
inferred group memberships when groups are missing (:func:`search_context`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from fairautoml.data.features import as_frame
from fairautoml.data.missing_groups import (
    drawn_groups,
    infer_membership,
    poorly_inferred,
    warn_if_poor,
)
from fairautoml.data.prepare import PreparedData, prepare_fit_data
from fairautoml.data.shift import (
    ROBUST_POWERS,
    domain_columns,
    importance_weights,
    target_frame,
)
from fairautoml.data.splits import cv_folds, split_train_validation, subsample_rows
from fairautoml.estimators.params import (
    check_params,
    decision_rule_policy,
    domain_for_groups,
    metric_name,
    pick_policy_of,
    task_of,
)
from fairautoml.exceptions import ConfigurationError, FairAutoMLWarning, InputError
from fairautoml.measures.constraints import Constraint, bind_constraints
from fairautoml.measures.membership_checks import identified, membership_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import GROUP_FREE
from fairautoml.search import (
    SearchDomain,
)
from fairautoml.search.confirm import ALL_TRAINING_ROWS, confirmation_kind
from fairautoml.study.storage import (
    data_fingerprint,
)
from fairautoml.study.trial import SearchContext, make_group_classifier
from fairautoml.tasks import Task

PROBABILITIES_TASK = (
    "group_probabilities measure yes/no decisions; this target is {task}. Fit with known "
    "groups (sensitive_features=...) instead."
)
PROBABILITIES_POLICY = (
    "With group_probabilities only group-free decision rules are searched: no group is at "
    "hand to decide with, and no group label to train a proxy rule's group classifier on; "
    "decision_rule={policy!r} asks for rules that read one. Leave decision_rule at "
    "'group_free' (and sensitive_at_predict=False), or fit with known groups."
)
PROBABILITIES_SENSITIVE_OPTIONS = (
    "{options} shape the groups read from sensitive columns; group_probabilities give the "
    "groups as their columns, with no sensitive column to bin or keep. Leave {options} out "
    "(merge or split groups in the probability table itself)."
)
PROBABILITIES_MISSING_GROUPS = (
    "missing_groups is for known groups with some missing; group_probabilities give every "
    "row a probability of each group. Leave missing_groups='error' (the default)."
)
PROBABILITIES_TRAINING_GROUPS = (
    "The training mitigations ({mitigators}) read each row's most probable group (its "
    "largest membership probability), which mislabels some rows; every fairness measure "
    "of the search is estimated from the probabilities themselves, so a model is kept only "
    "as fair as the probabilities show it to be. Pass mitigators=[] to search without them."
)

ROBUST_WITHOUT_TARGET = (
    "shift_robust=True makes the fairness claim the worst case over reweightings of the "
    "fit's rows toward the population of target_X, but no target_X was given. Pass rows "
    "from where the model will be used, without labels: fit(X, y, s, target_X=rows, "
    "shift_robust=True) (CLI: --target-rows FILE.csv --shift-robust), or leave "
    "shift_robust out."
)

CV_FOLDS = 5  # cv_folds="auto": folds, and the most rows searched by cross-validation


CV_MAX_ROWS = 10_000


# min_rung_rows="auto" on a table above max_search_rows: rungs of 11k, 33k and 100k rows
AUTO_RUNG_ROWS = 10_000


def search_context(
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    sensitive_features: Any,
    sample_weight: Any = None,
    target_X: Any = None,
    group_probabilities: Any = None,
    shift_robust: bool = False,
) -> tuple[SearchContext, SearchDomain]:
    """Validate parameters and data; the split and everything a trial needs.

    The split depends on the data and ``random_state`` only, so a resumed search, every
    worker of a study and a rebuilt pick all see the same rows. It does not depend on
    ``sample_weight``: the holdout, the folds and the row samples are stratified on
    target x group counting rows, and every row keeps its weight wherever it lands.

    ``target_X``: unlabeled rows from where the model will be used; every row then also
    counts by its importance weight for that population (:func:`with_target_weights`);
    ``shift_robust``: the constraints are then measured as the worst case over
    reweightings between the fit's population and the target and beyond.
    ``group_probabilities``: instead of ``sensitive_features``, each row's probability of
    each group (:func:`domain_for_probabilities`).
    """
    if shift_robust and target_X is None:
        raise InputError(ROBUST_WITHOUT_TARGET)
    weighted = sample_weight is not None or target_X is not None
    constraints, domain = check_params(params, weighted=weighted)
    task = task_of(params)
    data = prepare_fit_data(
        X,
        y,
        sensitive_features,
        keep_sensitive_as_feature=params["keep_sensitive_as_feature"],
        min_group_size=params["min_group_size"],
        pos_label=params["pos_label"],
        sensitive_bins=params.get("sensitive_bins"),
        missing_groups=params.get("missing_groups", "error"),
        task=task,
        sample_weight=sample_weight,
        constraints=constraints,
        group_probabilities=group_probabilities,
    )
    if data.probabilities is not None:
        domain = domain_for_probabilities(domain, data, constraints, params, task)
    if target_X is not None:
        data = with_target_weights(data, X, target_X, params["random_state"], shift_robust)
    if data.missing_groups == "infer":
        data = with_inferred_membership(data, params["random_state"])
    domain = domain_for_groups(domain, data.group_encoder.labels, params, bool(data.known.all()))
    constraints = bind_constraints(constraints, data.group_encoder)
    constraints = task.bind_target(constraints, data.classes, params["pos_label"])
    split_seed = params["random_state"]
    if split_seed is None:  # one split per data set, so resumes and workers share it
        split_seed = int(data_fingerprint(data.X, data.y, data.groups)[:8], 16)
    train_idx, val_idx = split_train_validation(
        data.strata, data.stratified_on, params["validation_fraction"], split_seed,
        labels=data.group_encoder.labels, strata_names=task.strata_labels(data.classes),
        every_stratum=task.needs_class_rows(constraints), measured=data.measured_groups(),
    )  # fmt: skip
    folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    n_folds = n_cv_folds(params["cv_folds"], len(data.y))
    if not n_folds:
        train_idx, val_idx = cap_validation(
            train_idx, val_idx, data, params.get("max_validation_rows"), split_seed
        )
    if n_folds:  # the holdout split above still checked that validation can be scored
        folds = cv_folds(data.strata, data.stratified_on, n_folds, split_seed)
        train_idx = val_idx = np.arange(len(data.y))
    elif params["max_search_rows"] is not None:
        train_idx = subsample_rows(
            train_idx, data.strata, data.stratified_on, params["max_search_rows"], split_seed
        )
    ctx = SearchContext(
        data, train_idx, val_idx, constraints, get_metric(metric_name(params)),
        params["random_state"], 1, params["keep_sensitive_as_feature"],
        interval_level=task.interval_level(params["confidence"]),
        pick=pick_policy_of(params),
        cv_folds=folds,
        task=task,
    )  # fmt: skip
    if confirmation_kind(ctx) == ALL_TRAINING_ROWS:  # confirmed points on the same rows
        ctx.pick = replace(ctx.pick, confirmed_first=False)
    return ctx, domain


def cap_validation(
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    data: PreparedData,
    most: int | None,
    seed: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) rows with at most ``most`` validation rows
    (``max_validation_rows``): a sample of them stratified on target x group stays, the
    others join the training rows (both sorted). Unchanged where ``most`` is None or not
    exceeded."""
    if most is None or len(val_idx) <= most:
        return train_idx, val_idx
    kept = subsample_rows(val_idx, data.strata, data.stratified_on, most, seed)
    moved = np.setdiff1d(val_idx, kept, assume_unique=True)
    return np.union1d(train_idx, moved), kept


def with_target_weights(
    data: PreparedData, X: Any, target_X: Any, random_state: int | None, robust: bool = False
) -> PreparedData:
    """``data`` with each row's weight times its importance weight for the population of
    ``target_X`` (:mod:`fairautoml.data.shift`), and what those weights are worth: the
    metric, the constraints, their intervals, the post-processing and training then count
    the fit's rows as the target population would. ``robust``: also the reweightings of
    :data:`~fairautoml.data.shift.ROBUST_POWERS`, over which the search measures each
    constraint's worst case (the metric, training and post-processing keep the central
    weights)."""
    began = time.monotonic()
    target = target_frame(target_X)
    frame = as_frame(X)
    frame.columns = [str(c) for c in frame.columns]
    columns = domain_columns(frame, target, data.schema.columns, data.sensitive_columns)
    seed = 0 if random_state is None else random_state  # one set of weights per data
    shift = importance_weights(
        frame[columns], target[columns], base_weight=data.weight, random_state=seed
    )
    record = {
        **shift.record(),
        "with_sample_weight": data.weight is not None,
        "seconds": time.monotonic() - began,  # before the search's budget starts
    }
    if not robust:
        return replace(data, weight=shift.weights, shift=record)
    record["robust"] = shift.robust_record(ROBUST_POWERS)
    weight_set = shift.reweightings(ROBUST_POWERS)
    return replace(data, weight=shift.weights, shift=record, weight_set=weight_set)


# Whether a training mitigation under missing_groups="infer" trains on every row, those
# without a group in one drawn from its membership (True), or on the known rows (False).
# Decided on replays on seeds set aside, at every hiding (docs/decisions.md, "Training
# mitigations in drawn groups"); the replay script (benchmarks/scripts/
# rectified_in_search.py, --question drawn) sets it per arm.
DRAW_UNKNOWN_GROUPS = True


def with_inferred_membership(data: PreparedData, random_state: int | None) -> PreparedData:
    """``data`` with the inferred P(group | x, y) of the rows whose group is unknown, and
    how well it could be inferred; when poorly, a warning and no memberships: fairness is
    then measured on the known rows (:mod:`fairautoml.data.missing_groups`)."""
    membership, held_out, quality = infer_membership(
        data.X, data.y, data.groups, len(data.group_encoder.labels),
        partial(make_group_classifier, random_state), random_state,
    )  # fmt: skip
    warn_if_poor(quality)
    poor = poorly_inferred(quality)
    quality["measured_on"] = "known rows" if poor else "all rows"
    labels = [str(label) for label in data.group_encoder.labels]
    for shares in ("known_shares", "unknown_shares"):  # per group, by its name
        quality[shares] = dict(zip(labels, quality[shares], strict=True))
    return replace(
        data,
        membership=None if poor else membership,
        held_out_membership=None if poor else held_out,
        training_groups=(
            drawn_groups(data.groups, membership, random_state)
            if DRAW_UNKNOWN_GROUPS and not poor
            else None
        ),
        group_inference=quality,
    )


def domain_for_probabilities(
    domain: SearchDomain,
    data: PreparedData,
    constraints: Sequence[Constraint],
    params: Mapping[str, Any],
    task: Task,
) -> SearchDomain:
    """The search a fit given membership probabilities instead of groups may run, or a
    clear error: yes/no decisions, constraints the probabilities can estimate, every group
    measured by at least ``min_group_size`` effective rows, and only group-free decision
    rules (no group to read at predict time, and no group label to train a proxy rule's
    group classifier on); no other policy's rules compared. Training mitigators read each
    row's most probable group (warned; docs/decisions.md, "Membership probabilities in the
    fit")."""
    if task.name != "binary":
        raise InputError(PROBABILITIES_TASK.format(task=task.name))
    check_probabilities_options(params)
    membership_constraints(constraints, data.group_encoder.names[0])
    identified(
        data.probabilities, tuple(data.group_encoder.labels), data.weight,
        params["min_group_size"],
    )  # fmt: skip
    trained = [m for m in domain.mitigators if m != "none"]
    if trained:
        warnings.warn(
            PROBABILITIES_TRAINING_GROUPS.format(mitigators=", ".join(trained)),
            FairAutoMLWarning,
            stacklevel=6,  # the caller of FairAutoML.fit
        )
    return replace(domain, compare_posts=())


def check_probabilities_options(params: Mapping[str, Any]) -> None:
    """The options a search given membership probabilities refuses, each with its fix:
    decision rules that read a group, ``missing_groups`` (for known groups), and the
    options that shape groups read from sensitive columns."""
    policy = decision_rule_policy(params)
    if policy != GROUP_FREE:
        raise ConfigurationError(PROBABILITIES_POLICY.format(policy=policy))
    if params.get("missing_groups", "error") != "error":
        raise ConfigurationError(PROBABILITIES_MISSING_GROUPS)
    shaping = [name for name in ("sensitive_bins", "keep_sensitive_as_feature") if params.get(name)]
    if shaping:
        raise ConfigurationError(PROBABILITIES_SENSITIVE_OPTIONS.format(options=", ".join(shaping)))


def n_cv_folds(cv_folds: int | str | None, n_rows: int) -> int:
    """Cross-validation folds for ``n_rows`` rows (0: a holdout split)."""
    if cv_folds == "auto":
        return CV_FOLDS if n_rows <= CV_MAX_ROWS else 0
    return int(cv_folds or 0)


def min_rung_rows(setting: int | str | None, ctx: SearchContext) -> int | None:
    """The lowest row rung's size (None: no rungs). ``"auto"``: :data:`AUTO_RUNG_ROWS` when
    the search trains on a sample of a big table, else none: there rungs train more models
    for a pick as accurate, while on mid-sized tables at short budgets a model screened on
    a small sample can lose a pick accuracy."""
    if setting == "auto":
        return AUTO_RUNG_ROWS if ctx.trains_on_sample else None
    return None if setting is None else int(setting)
