"""Audit a fitted model on new rows: a per-group table, every constraint's verdict, and
whether the model's fairness or its inputs drifted since the fit; for yes/no decisions,
several classes and amounts alike.

A constraint's verdict reads its bootstrap interval on the new rows (central, at
``level``) against the bound: ``holds`` when the interval's unfavourable end is within it,
``violated`` when even its favourable end is outside, ``cannot tell`` when the interval
straddles it (a KS distance's favourable end is its Kolmogorov bound,
:func:`fairautoml.measures.amount_bootstrap.ks_lower_bound`: the bootstrap's sits high).
Then the rows it would take to tell scale the interval's half-width as ``1/sqrt(n)``:
``n * (half-width / distance to the bound)^2``.

Impact ratios (of decisions, and of each class) follow the four-fifths rule and the table
of New York City's Local Law 144 bias audits: each group's selection rate divided by the
most-selected group's.

Drift compares the new rows with what ``fit`` kept (:mod:`fairautoml.measures.drift`): each rate a
constraint compares, per group, against the pick's validation counts, and each feature's
distribution, overall and per group, against the fit rows. A change is reported when its
p-value is below ``alpha`` divided by the number of tests of its kind (Bonferroni), so a
fresh sample of the fit's population raises a false alarm with probability at most
``alpha``.

What differs between tasks is the task object's (:class:`fairautoml.tasks.Task`): how labels
and predictions are counted (``audit_outcomes``), the per-group table (``audit_table``),
which constraints need labels (``needs_labels``) and the counts fairness drift compares
(``drift_counts``, ``rate_trials``; none for amounts, whose drift is their features').
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.audit.calibration import calibration_of, calibration_record
from fairautoml.audit.constraint_verdicts import (
    CANNOT_TELL,
    HOLDS,
    VIOLATED,
    audit_word,
    constraint_verdicts,
)
from fairautoml.data.features import as_frame
from fairautoml.data.groups import GROUP_SEPARATOR, sensitive_frame
from fairautoml.exceptions import ConfigurationError, InputError
from fairautoml.measures.calibration import GroupCalibration
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.drift import (
    audit_reference,
    feature_drift,
    feature_reference,
    rate_drift,
)
from fairautoml.measures.group_tables import decision_table
from fairautoml.measures.membership import regression_rates
from fairautoml.study.record import DEFAULT_INTERVAL_LEVEL
from fairautoml.tasks import Task
from fairautoml.values import json_safe

AUDIT_NO_GROUPS = (
    "An audit compares groups: give sensitive_features (the column name(s) of X, or one "
    "value per row; CLI: --sensitive COLUMN)."
)
AUDIT_NO_RATE_DRIFT = (
    "Fairness drift is not tested for this model: it compares the group rates of decisions "
    "with the fit's validation rows, and a model of amounts has none. Its input drift is "
    "tested, and its constraints are measured on these rows (above)."
)
AUDIT_NO_IMPACT = (
    "Impact ratios compare selection rates of decisions; a model of amounts has none. Read "
    "the per-group table (.groups) and the constraints (.constraints)."
)
AUDIT_NO_REFERENCE = (
    "The model file keeps no fit-time reference (audit_reference_), so drift cannot be "
    "checked: refit the model with this version of fairautoml."
)
AUDIT_DRIFTED = (
    "These rows differ from the fit's ({what}): its claim was made for the fit's population. "
    "To aim it at this one, fit again with these rows as target_X (fit(X, y, s, "
    "target_X=rows); CLI: fairautoml fit ... --target-rows FILE.csv), which weighs the fit's "
    "rows as this population; with their labels, update the model with them "
    "(fairautoml.update(model, rows, labels); CLI: fairautoml update FIT_DIR rows.csv), "
    "which refits the pick on them and audits it before and after. See "
    "docs/fairness_claims.md, 'Where the model will be used', and docs/audit.md, 'After "
    "drift: update'."
)
AUDIT_UNSEEN_GROUPS = "Groups the fit never saw, reported as their own rows: {groups}."
AUDIT_UNSEEN_UNSCORED = (
    "The model reads the group at predict time and the fit never saw {groups}: their {n} "
    "rows cannot be scored and are left out of every number below."
)
AUDIT_NOTHING_SCORED = (
    "Every row belongs to a group the fit never saw ({groups}) and the model reads the "
    "group at predict time: nothing can be scored. Check the --sensitive column."
)
AUDIT_SMALL_GROUPS = (
    "Groups with fewer than {n} rows, too few to measure reliably (their intervals are "
    "wide): {groups}."
)

logger = logging.getLogger("fairautoml")


@dataclass
class Audit:
    """What :func:`audit` found. ``groups``: one row per group (or intersection; per group
    and class for several classes); ``constraints``: one record per constraint of the fit;
    ``drift``: fairness and input drift; ``notes``: what could not be measured, in words;
    ``groups_caption``: what the page says of ``groups``."""

    n_rows: int
    has_labels: bool
    level: float
    groups: pd.DataFrame
    constraints: list[dict[str, Any]]
    drift: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    model: str = ""
    groups_caption: str = ""
    # the fit's vocabulary for the same evidence (selection.verdict_word): FAIR (holds),
    # LIKELY FAIR (met as measured, not at the interval's end), CANNOT TELL, NOT FAIR
    word: str = ""
    # yes/no with labels: the model's probabilities' calibration within each group
    calibration: GroupCalibration | None = None

    @property
    def verdict(self) -> str:
        """``violated`` if any constraint is, ``holds`` if all do, else ``cannot tell``."""
        verdicts = {c["verdict"] for c in self.constraints}
        if VIOLATED in verdicts:
            return VIOLATED
        return HOLDS if verdicts <= {HOLDS} else CANNOT_TELL

    @property
    def impact_table(self) -> pd.DataFrame:
        """The Local Law 144 layout: category (and class, for several classes), selection
        rate, impact ratio. Amounts have none: an error says so."""
        if "impact_ratio" not in self.groups.columns:
            raise ConfigurationError(AUDIT_NO_IMPACT)
        table = self.groups.reset_index()
        keys = list(self.groups.index.names)
        return table[[*keys, "selection_rate", "impact_ratio"]].rename(
            columns={"group": "category"}
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``audit.json``."""
        groups = self.groups.reset_index().astype(object)
        return {
            "verdict": self.verdict,
            "word": self.word,
            "model": self.model,
            "n_rows": self.n_rows,
            "has_labels": self.has_labels,
            "interval_level": self.level,
            "constraints": json_safe(self.constraints),
            "groups": json_safe(groups.where(groups.notna(), None).to_dict(orient="records")),
            "drift": json_safe(self.drift),
            "notes": list(self.notes),
            "calibration": calibration_record(self.calibration),
        }


# --- at fit time -----------------------------------------------------------------------------


def fit_features(ctx: Any) -> dict[str, Any] | None:
    """The fit rows' feature bins and counts (:func:`~fairautoml.measures.drift.feature_reference`),
    per group, or overall only for a fit given membership probabilities (no known group to
    count by). They read the rows, not the pick: a fit computes them before its search, so
    their seconds come out of the search's, not past the budget. None (and a log line)
    when they cannot be computed."""
    labels = ctx.data.group_encoder.labels
    codes = ctx.data.groups if ctx.data.probabilities is None else np.full(len(ctx.data.X), -1)
    try:
        return feature_reference(ctx.data.X, codes, labels)
    except Exception as exc:  # the fit's result stands without it
        logger.warning("no audit reference kept (%s: %s)", type(exc).__name__, exc)
        return None


def reference_of_fit(
    ctx: Any,
    model: Any,
    *,
    features: dict[str, Any] | None = None,
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The counts an audit compares with (:mod:`fairautoml.measures.drift`): the pick's
    per-group counts that the task's fairness drift compares (none for amounts), and the
    fit rows' feature bins (``features``: :func:`fit_features`, computed before the search;
    None: now). The counts are of the predictions the pick's claim rests on (``evidence``:
    :func:`~fairautoml.estimators.summary.evidence_of`; out of fold where the pick was
    cross-validated), else of ``model`` on the validation rows. None (and a log line) when
    they cannot be computed: the audit then says drift cannot be checked. A fit given
    membership probabilities has no known group to count by: it keeps each group's rates
    as the regression estimator reads them on the validation rows, with their standard
    errors (``"membership_rates"``), and the feature bins overall only."""
    if features is None:
        features = fit_features(ctx)
        if features is None:
            return None
    labels = ctx.data.group_encoder.labels
    try:
        rows, decisions = measured_on(evidence) or (ctx.val_idx, None)
        if ctx.data.probabilities is not None:  # the estimator reads the validation rows
            if not np.array_equal(rows, ctx.val_idx):
                rows, decisions = ctx.val_idx, None
            if decisions is None:
                decisions = ctx.task.decide(model.positive_proba(ctx.val[0], None))
            rates = _membership_rates(ctx, ctx.data.y[rows], decisions)
            return {**audit_reference(labels, None, features), "membership_rates": rates}
        groups = ctx.data.groups[rows]
        if decisions is None:
            X_val = ctx.val[0]
            decisions = ctx.task.decide(
                model.positive_proba(X_val, groups if model.needs_group else None)
            )
        counts = ctx.task.drift_counts(
            ctx.data.y[rows], decisions, groups, labels, ctx.data.classes
        )
        return audit_reference(labels, counts, features)
    except Exception as exc:  # the fit's result stands without it
        logger.warning("no audit reference kept (%s: %s)", type(exc).__name__, exc)
        return None


def measured_on(evidence: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows the pick's claim rests on and its predictions there, as its evidence
    holds them (None where it holds none)."""
    if evidence is None or evidence.get("predictions") is None:
        return None
    return np.asarray(evidence["rows"]), np.asarray(evidence["predictions"])


def _membership_rates(ctx: Any, y_val: np.ndarray, decisions: np.ndarray) -> dict[str, Any]:
    """Each group's rates on the validation rows as the regression estimator reads them
    from the membership probabilities, with their standard errors."""
    fair, weight = ctx.fairness_rows, ctx.val_weight
    return regression_rates(
        fair.take(y_val), fair.take(decisions), fair.probabilities, ctx.data.group_encoder.labels,
        None if weight is None else fair.take(weight), random_state=ctx.random_state,
    )  # fmt: skip


def drift_record(
    rates: list[dict[str, Any]] | None, features: list[dict[str, Any]], alpha: float
) -> dict[str, Any]:
    """The drift an audit reports from its rate tests (None: not tested) and feature tests:
    each flagged ``changed`` at ``alpha`` over the tests of its kind (Bonferroni)."""
    for tests in (rates or [], features):
        for row in tests:
            row["changed"] = bool(row["p_value"] < alpha / len(tests))
    return {
        "fairness_changed": None if rates is None else any(r["changed"] for r in rates),
        "alpha": alpha,
        "rates": rates or [],
        "features": features,
        "features_moved": sorted({r["feature"] for r in features if r["changed"]}),
    }


# --- the audit -------------------------------------------------------------------------------


def audit(
    automl: Any,
    X: Any,
    y: Any = None,
    sensitive_features: Any = None,
    *,
    pos_label: Any = None,
    level: float | None = None,
    alpha: float = 0.05,
    random_state: int | None = 0,
) -> Audit:
    """Audit the fitted ``automl`` on the rows ``X`` (labels ``y`` if known); see the
    module docstring for what is measured and how verdicts are read. ``level``: of every
    interval; None, the fit's own (``best_config_["interval_level"]``), so that the audit
    and the fit's claims are read at one confidence level."""
    if level is None:
        level = float(automl.best_config_.get("interval_level", DEFAULT_INTERVAL_LEVEL))
    model = automl.best_estimator_
    task, classes = model.task, getattr(automl, "classes_", None)
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    if sensitive_features is None and model.sensitive_columns:
        sensitive_features = list(model.sensitive_columns)
    if sensitive_features is None:
        raise InputError(AUDIT_NO_GROUPS)
    if y is not None and len(np.asarray(y).ravel()) != len(frame):
        n_y = len(np.asarray(y).ravel())
        raise InputError(E.LENGTH_MISMATCH.format(n_x=len(frame), name="y", n_other=n_y))
    sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
    names = _group_names(model.group_encoder.binned(sens))  # the fit's bins
    notes: list[str] = []
    scored = _scorable(model, names, notes)
    rows = frame.iloc[scored].reset_index(drop=True)
    given = (
        sensitive_features
        if _names_columns(sensitive_features, frame)
        else sens.iloc[scored].reset_index(drop=True)
    )
    y_pred_raw = automl.predict(rows, given)
    y_rows = None if y is None else np.asarray(y).ravel()[scored]
    y_true, y_pred = task.audit_outcomes(classes, y_rows, y_pred_raw, pos_label)
    fitted = list(automl.constraints_)
    if pos_label is not None:  # the favourable classes the constraints compare, if they read it
        fitted = task.bind_target(fitted, classes, pos_label)
    names = names[scored]
    if y_true is None:
        notes.append(task.audit_no_labels)
    groups = task.audit_table(y_true, y_pred, names, level, classes)
    _note_small_groups(names, automl.min_group_size, notes)
    attributes = model.group_encoder.binned(sens).iloc[scored]
    if attributes.shape[1] == len(model.group_encoder.names):  # by position, as the groups
        attributes.columns = list(model.group_encoder.names)
    on_rows = on_groups(fitted, names, attributes)
    proba = _favourable_proba(model, rows, given, y_pred) if task.cut_off else None
    constraints = constraint_verdicts(
        on_rows, automl.best_config_, y_true, y_pred, names, level, random_state,
        needs_labels=task.needs_labels, scores=proba,
    )  # fmt: skip
    word = audit_word(on_rows, constraints)
    reference = getattr(automl, "audit_reference_", None)
    if reference is None:
        notes.append(AUDIT_NO_REFERENCE)
        drift = {"fairness_changed": None, "rates": [], "features": [], "features_moved": []}
    else:
        Xp, _ = model.prepare(rows, given, method="audit")
        drift = drift_report(
            fitted, reference, Xp, y_true, y_pred, names, alpha, task=task, classes=classes
        )
        if drift["fairness_changed"] is None:
            notes.append(AUDIT_NO_RATE_DRIFT)
        if drifted := drift_in_words(drift):
            notes.append(AUDIT_DRIFTED.format(what=drifted))
    caption = task.audit_caption.format(level=level)
    calibration = None
    if proba is not None and y_true is not None:
        calibration = calibration_of(y_true, proba, names, level, random_state)
    return Audit(len(frame), y_true is not None, level, groups, constraints, drift, notes,
                 model=str(automl.best_config_.get("model", "")),
                 groups_caption=caption, word=word, calibration=calibration)  # fmt: skip


def _favourable_proba(model: Any, rows: Any, given: Any, y_pred: np.ndarray) -> np.ndarray:
    """The model's probability of the favourable outcome (``y_pred``'s 1) on ``rows``."""
    proba = model.predict_proba(rows, given)[:, 1]  # of classes_[1]
    if np.mean(y_pred == (proba >= 0.5)) < 0.5:  # the favourable class is classes_[0]
        proba = 1.0 - proba
    return proba


def _names_columns(sensitive_features: Any, frame: pd.DataFrame) -> bool:
    if isinstance(sensitive_features, str):
        return sensitive_features in frame.columns
    return isinstance(sensitive_features, (list, tuple)) and all(
        isinstance(c, str) and c in frame.columns for c in sensitive_features
    )


def _group_names(sens: pd.DataFrame) -> np.ndarray:
    """One label per row, as the fit names its groups; missing values are a group too."""
    columns = [sens[c].astype(object).where(sens[c].notna(), "missing").astype(str) for c in sens]
    names = columns[0].to_numpy(dtype=object)
    for column in columns[1:]:
        names = names + GROUP_SEPARATOR + column.to_numpy(dtype=object)
    return names


def on_groups(
    constraints: list[Constraint], names: np.ndarray, sens: pd.DataFrame
) -> list[Constraint]:
    """The constraints measured on these rows' groups (the codes of the sorted ``names``):
    one on some attributes compares those attributes' groups, read off ``sens``."""
    cells = np.unique(names, return_inverse=True)[1].reshape(-1)
    out = []
    for c in constraints:
        if c.attributes:
            labels, groups = np.unique(_group_names(sens[list(c.attributes)]), return_inverse=True)
            projection = np.zeros(int(cells.max()) + 1 if cells.size else 0, dtype=np.int64)
            projection[cells] = groups.reshape(-1)  # a cell lies in one group of each
            c = replace(c, projection=tuple(int(g) for g in projection))
            if c.continuous:  # these rows' own values, on the fit's scale (span)
                c = replace(c, levels=tuple(_as_number(label) for label in labels))
        out.append(c)
    return out


def _as_number(label: str) -> float:
    """A numeric attribute's value from its group label; NaN for a missing one (such rows
    are left out of the dependence measure)."""
    try:
        return float(label)
    except ValueError:
        return float("nan")


def _scorable(model: Any, names: np.ndarray, notes: list[str]) -> np.ndarray:
    """Rows the model can score: all, unless it reads the group and some rows belong to a
    group the fit never saw (they are left out, and said)."""
    known = set(model.group_encoder.labels)
    unseen = sorted(set(names) - known)
    if not unseen:
        return np.arange(len(names))
    if not model.needs_group:
        notes.append(AUDIT_UNSEEN_GROUPS.format(groups=unseen))
        return np.arange(len(names))
    keep = np.isin(names, list(known))
    notes.append(AUDIT_UNSEEN_UNSCORED.format(groups=unseen, n=int((~keep).sum())))
    if not keep.any():
        raise InputError(AUDIT_NOTHING_SCORED.format(groups=unseen))
    return np.flatnonzero(keep)


def group_table(
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    names: np.ndarray,
    level: float,
    min_rows: int,
    notes: list[str],
) -> pd.DataFrame:
    """The table of 0/1 decisions (:func:`fairautoml.measures.group_tables.decision_table`), groups
    under ``min_rows`` said in ``notes``."""
    table = decision_table(y_true, y_pred, names, level)
    _note_small_groups(names, min_rows, notes)
    return table


def _note_small_groups(names: np.ndarray, min_rows: int, notes: list[str]) -> None:
    groups, counts = np.unique(np.asarray(names, dtype=object), return_counts=True)
    small = [str(g) for g, n in zip(groups, counts, strict=True) if n < min_rows]
    if small:
        notes.append(AUDIT_SMALL_GROUPS.format(groups=small, n=min_rows))


def drift_in_words(drift: dict[str, Any]) -> str:
    """What drifted beyond noise, in words ("" when nothing did)."""
    what = []
    if drift.get("fairness_changed"):
        what.append("the model's group rates changed")
    if moved := drift.get("features_moved"):
        what.append("features moved: " + ", ".join(map(str, moved)))
    return "; ".join(what)


def drift_report(
    constraints: list[Constraint],
    reference: dict[str, Any],
    X: pd.DataFrame,
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    names: np.ndarray,
    alpha: float,
    *,
    task: Task,
    classes: np.ndarray | None,
) -> dict[str, Any]:
    """Fairness drift (each constraint's group rates, fit-time validation vs new rows) and
    input drift (each feature, overall and per group), Bonferroni-corrected within each.
    ``task`` counts the rates (:meth:`fairautoml.tasks.Task.drift_counts`); a task or a
    reference without them: ``fairness_changed`` is None."""
    labels = np.zeros_like(y_pred) if y_true is None else y_true
    present, codes = np.unique(names, return_inverse=True)
    kept = reference.get("validation_counts")
    new_counts = (
        None
        if kept is None
        else task.drift_counts(labels, y_pred, codes.reshape(-1), list(present), classes)
    )
    rates = (
        None
        if new_counts is None
        else rate_drift(
            constraints, kept, new_counts, has_labels=y_true is not None,
            trials=task.rate_trials, classes=classes,
        )
    )  # fmt: skip
    return drift_record(rates, feature_drift(reference, X, names), alpha)


__all__ = ["CANNOT_TELL", "HOLDS", "VIOLATED", "Audit", "audit", "drift_record"]
