"""An audit of a model's disparity when each row has a probability of each group (BISG,
BIFSG) instead of a known group: "measure my model's disparity with these probabilities".

Every constraint is estimated twice (:mod:`fairautoml.measures.membership`): by the
regression of the decisions on the probabilities, unbiased under the assumptions the
result states in words, and by the plain probability-weighted rates, which understate
every gap under those same assumptions. The verdict (holds / violated / cannot tell) reads
the regression estimate's interval against the bound, as :mod:`.constraint_verdicts` does
with known groups. The model decides without the probabilities: a model that reads the
group at decision time cannot be audited this way (no group to give it).

    result = fairautoml.audit_with_probabilities(
        model, X, y, P, constraints="demographic_parity_difference <= 0.05"
    )
    print(result.summary())

Drift: a FairAutoML fitted with probabilities keeps each group's regression rates on its
validation rows with their standard errors (:func:`~fairautoml.audit.verdicts.reference_of_fit`);
the audit tests each rate a constraint compares against the same estimate on the new rows
(a z-test of two independent estimates, :func:`~fairautoml.measures.drift.estimate_drift`)
and each feature's distribution overall (no group to split by), Bonferroni-corrected
within each kind, as the audit with known groups does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.audit.constraint_verdicts import CANNOT_TELL, HOLDS, VIOLATED, verdict
from fairautoml.audit.verdicts import drift_in_words, drift_record
from fairautoml.data.features import as_frame
from fairautoml.data.labels import binary_outcomes
from fairautoml.data.memberships import checked_memberships
from fairautoml.exceptions import InputError
from fairautoml.measures.decisions import DECISION_METRICS
from fairautoml.measures.drift import estimate_drift, feature_drift
from fairautoml.measures.membership import (
    ASSUMPTIONS,
    WEIGHTED_NOTE,
    membership_measures,
    regression_rates,
)
from fairautoml.measures.membership_checks import MIN_EFFECTIVE_ROWS, membership_constraints
from fairautoml.values import json_safe

PROBABILITIES_NEED_GROUP = (
    "This model reads the group at decision time ({model}); with membership probabilities "
    "there is no group to give it. Audit a model fitted with decision_rule='group_free' (the "
    "default), or audit this one with known groups: automl.audit(X, y, sensitive_features=...)."
)
PROBABILITIES_NOT_BINARY = (
    "Membership probabilities measure yes/no decisions; this model predicts {what}. Audit it "
    "with known groups: automl.audit(X, y, sensitive_features=...)."
)
PROBABILITIES_NO_CONSTRAINTS = (
    "Nothing to measure: pass constraints=, e.g. 'demographic_parity_difference <= 0.05' (a "
    "fitted FairAutoML's own constraints are used when it has some of yes/no decisions)."
)
PROBABILITIES_NOT_MEASURED = (
    "Not measured with probabilities (only measures of yes/no decisions between groups are): "
    "{constraints}."
)
PROBABILITIES_PROXY_RULE = (
    "The model's decision reads an estimate of the group from the features: if those "
    "features carry what the probabilities are computed from (surname, address), the second "
    "assumption fails and the regression estimate may be biased."
)
BOTH_GROUPS_AND_PROBABILITIES = (
    "Pass either sensitive_features (known groups) or group_probabilities (each row's "
    "probability of each group), not both: audit once with each to compare."
)
PROBABILITIES_CLIPPED = "Regression rates outside [0, 1], clipped: {clipped}."
PROBABILITIES_NO_DRIFT_REFERENCE = (
    "Drift is not tested: the model keeps no fit-time reference of group rates estimated "
    "from membership probabilities (it was fitted with known groups, or before fits given "
    "probabilities kept one). Refit it with group_probabilities=, or audit it with known "
    "groups."
)
PROBABILITIES_OTHER_GROUPS = (
    "Fairness drift is not tested: these probabilities' groups {given} are not the fit's "
    "{fitted}. Name the columns as the fit did."
)
PROBABILITIES_DRIFTED = (
    "These rows differ from the fit's ({what}): its claim was made for the fit's "
    "population. To aim it at this one, fit again with these rows as target_X (fit(X, y, "
    "group_probabilities=P, target_X=rows); CLI: fairautoml fit ... --group-probabilities "
    "COL1,COL2 --target-rows FILE.csv), or on labeled rows like these."
)
PROBABILITIES_NO_LABELS = (
    "Without the true outcomes only selection rates are estimated (demographic parity); "
    "pass y to estimate true and false positive rates."
)


@dataclass
class ProbabilityAudit:
    """What :func:`audit_with_probabilities` found. ``constraints``: one record per
    constraint (both estimates, their intervals, the verdict read off the regression's);
    ``rates``: each group's rates by both estimators; ``identification``: each group's
    probability mass and effective rows; ``assumptions``: under which the regression
    estimate is unbiased, in words; ``notes``: what else the reader must know."""

    n_rows: int
    level: float
    groups: tuple[str, ...]
    constraints: list[dict[str, Any]]
    rates: pd.DataFrame
    identification: pd.DataFrame
    condition_number: float
    assumptions: tuple[str, ...] = ASSUMPTIONS
    notes: list[str] = field(default_factory=list)
    model: str = ""
    # fairness and input drift since the fit (as Audit.drift; empty: not tested)
    drift: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``violated`` if any constraint is, ``holds`` if all do, else ``cannot tell``."""
        verdicts = {c["verdict"] for c in self.constraints}
        if VIOLATED in verdicts:
            return VIOLATED
        return HOLDS if verdicts <= {HOLDS} else CANNOT_TELL

    def summary(self) -> str:
        """The result in a few lines of text: each constraint by both estimators, the
        assumptions, the notes."""
        lines = [f"Disparity estimated from group membership probabilities, {self.n_rows} "
                 f"rows, groups {list(self.groups)}, intervals at {self.level:.0%}:"]  # fmt: skip
        for c in self.constraints:
            low, high = c["interval"]
            w_low, w_high = c["weighted_interval"]
            lines.append(
                f"- {c['constraint']}: {c['verdict']}; regression estimate {c['value']:.3f} "
                f"[{low:.3f}, {high:.3f}]; plain weighted {c['weighted']:.3f} "
                f"[{w_low:.3f}, {w_high:.3f}]"
            )
        lines.append("The regression estimate is unbiased if:")
        lines += [f"  {i}. {a}" for i, a in enumerate(self.assumptions, start=1)]
        if self.drift:
            changed = self.drift["fairness_changed"]
            lines.append(
                "Drift since the fit: group rates changed: "
                f"{'not tested' if changed is None else changed}; features moved: "
                f"{', '.join(self.drift['features_moved']) or 'none'}"
            )
        lines += [WEIGHTED_NOTE, *self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        rates = self.rates.reset_index().astype(object)
        ident = self.identification.reset_index().astype(object)
        return json_safe({
            "verdict": self.verdict, "model": self.model, "n_rows": self.n_rows,
            "interval_level": self.level, "groups": list(self.groups),
            "constraints": self.constraints, "rates": rates.to_dict(orient="records"),
            "identification": ident.to_dict(orient="records"),
            "condition_number": self.condition_number,
            "assumptions": list(self.assumptions), "weighted_note": WEIGHTED_NOTE,
            "notes": list(self.notes), "drift": self.drift,
        })  # fmt: skip


def audit_with_probabilities(
    model: Any,
    X: Any,
    y: Any = None,
    group_probabilities: Any = None,
    *,
    constraints: Any = None,
    pos_label: Any = None,
    sample_weight: Any = None,
    level: float | None = None,
    n_boot: int = 1000,
    random_state: int | None = 0,
    min_effective_rows: float = MIN_EFFECTIVE_ROWS,
    alpha: float = 0.05,
) -> ProbabilityAudit:
    """Audit ``model`` on the rows ``X`` (true outcomes ``y`` if known) with each row's
    probability of each group, ``group_probabilities`` (a DataFrame, one named column per
    group, rows summing to 1; or a 2-D array).

    ``model``: a fitted FairAutoML whose model decides without the group (its yes/no
    constraints are measured unless ``constraints`` is given; intervals at the fit's level
    unless ``level`` is), or any fitted scikit-learn classifier of two classes.
    ``pos_label``: the favourable class (default: the second of ``model.classes_``).
    ``level``: of the intervals (default 0.9 for a plain classifier). ``min_effective_rows``:
    a group whose rate the probabilities measure less precisely than this many rows of
    known group would is refused (see :mod:`fairautoml.measures.membership`). ``alpha``:
    the drift tests' false alarm rate (a FairAutoML fitted with probabilities; module
    docstring).
    """
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    memberships = checked_memberships(group_probabilities, len(frame))
    notes: list[str] = []
    fitted = getattr(model, "best_estimator_", None)
    if fitted is not None:  # a FairAutoML
        if fitted.task.name != "binary":
            raise InputError(PROBABILITIES_NOT_BINARY.format(what=f"a {fitted.task.name} target"))
        if fitted.needs_group:
            raise InputError(PROBABILITIES_NEED_GROUP.format(model=fitted.description))
        if fitted.rule is not None and getattr(fitted.rule, "needs_group_proba", False):
            notes.append(PROBABILITIES_PROXY_RULE)
        if level is None:
            level = float(model.best_config_.get("interval_level", 0.9))
        if constraints is None:
            own = list(getattr(model, "constraints_", []))
            constraints = [c for c in own if c.metric in DECISION_METRICS and c.task == "binary"]
            left = [str(c) for c in own if c not in constraints]
            if left:
                notes.append(PROBABILITIES_NOT_MEASURED.format(constraints=", ".join(left)))
    classes = np.asarray(getattr(model, "classes_", []))
    if len(classes) != 2:
        raise InputError(PROBABILITIES_NOT_BINARY.format(what=f"{len(classes)} classes"))
    if not constraints:
        raise InputError(PROBABILITIES_NO_CONSTRAINTS)
    y_true, decisions = binary_outcomes(classes, y, model.predict(frame), pos_label)
    if y_true is None:
        notes.append(PROBABILITIES_NO_LABELS)
    level = 0.9 if level is None else level
    groups = pd.Index(memberships.groups, name=memberships.attribute)
    P = pd.DataFrame(memberships.values, columns=groups)
    measures = membership_measures(
        y_true, decisions, P, constraints, sample_weight=sample_weight, level=level,
        n_boot=n_boot, random_state=random_state, min_effective_rows=min_effective_rows,
    )  # fmt: skip
    records = []
    parsed = membership_constraints(constraints, memberships.attribute)
    for c in parsed:
        e = measures.estimate(c.key)
        records.append({
            "constraint": str(c), "key": c.key,
            "verdict": verdict(c, e.regression_interval),
            "value": e.regression, "interval": list(e.regression_interval),
            "standard_error": e.regression_se,
            "weighted": e.weighted, "weighted_interval": list(e.weighted_interval),
        })  # fmt: skip
    if measures.clipped:
        notes.append(PROBABILITIES_CLIPPED.format(clipped="; ".join(measures.clipped)))
    description = "" if fitted is None else str(model.best_config_.get("model", ""))
    drift = {}
    if fitted is not None:
        drift = _drift(model, frame, parsed, y_true, decisions, memberships, sample_weight,
                       alpha, random_state, notes)  # fmt: skip
    return ProbabilityAudit(
        measures.n_rows, measures.level, measures.groups, records, measures.rates,
        measures.identification, measures.condition_number, notes=notes,
        model=description or type(model).__name__, drift=drift,
    )  # fmt: skip


def _drift(
    automl: Any, frame: pd.DataFrame, constraints: list[Any], y_true: np.ndarray | None,
    decisions: np.ndarray, memberships: Any, sample_weight: Any, alpha: float,
    random_state: int | None, notes: list[str],
) -> dict[str, Any]:  # fmt: skip
    """Fairness and input drift of a FairAutoML since its fit (module docstring); empty,
    with a note, where its reference holds no rates estimated from probabilities."""
    reference = getattr(automl, "audit_reference_", None)
    kept = None if reference is None else reference.get("membership_rates")
    if kept is None:
        notes.append(PROBABILITIES_NO_DRIFT_REFERENCE)
        return {}
    fitted = sorted(next(iter(kept.values())))
    rates = None
    if set(fitted) == set(memberships.groups):
        weight = None if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
        new = regression_rates(
            y_true, decisions, memberships.values, memberships.groups, weight,
            random_state=random_state,
        )  # fmt: skip
        rates = estimate_drift(constraints, kept, new, has_labels=y_true is not None)
    else:
        notes.append(PROBABILITIES_OTHER_GROUPS.format(given=list(memberships.groups),
                                                       fitted=fitted))  # fmt: skip
    Xp, _ = automl.best_estimator_.prepare(frame, None, method="audit")
    features = feature_drift(reference, Xp, np.full(len(Xp), "", dtype=object))
    drift = drift_record(rates, features, alpha)
    if drifted := drift_in_words(drift):
        notes.append(PROBABILITIES_DRIFTED.format(what=drifted))
    return drift


__all__ = ["BOTH_GROUPS_AND_PROBABILITIES", "ProbabilityAudit", "audit_with_probabilities"]
