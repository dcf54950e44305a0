"""Each constraint's verdict on the audited rows: its value and bootstrap interval there,
read against the bound (holds, violated, cannot tell), the rows it would take to tell,
and the one word for them all, in the fit's vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fairautoml.measures.constraints import Constraint, evaluate_constraints, evaluate_intervals
from fairautoml.study.pick import verdict_word
from fairautoml.tasks import get_task
from fairautoml.values import plain

AUDIT_ONE_GROUP = (
    "The {n} row(s) audited hold one group ({group!r} of {attributes}): fairness compares "
    "groups, so "
    "it cannot be measured on them (cannot tell, not holds). Audit rows of at least two "
    "groups (CLI: a CSV of such rows; --sensitive names the column)."
)
AUDIT_NEEDS_LABELS = "needs the true outcomes (labels) of the new rows"
AUDIT_UNDEFINED = (
    "undefined on these rows: a rate it compares has no rows behind it in some group (e.g. "
    "no row of a class in a group, for a true positive rate); audit more rows of that group"
)

HOLDS = "holds"


VIOLATED = "violated"


CANNOT_TELL = "cannot tell"


def verdict(constraint: Constraint, interval: tuple[float, float]) -> str:
    """holds / violated / cannot tell, read off the interval's two ends."""
    low, high = interval
    if not (math.isfinite(low) and math.isfinite(high)):
        return CANNOT_TELL
    worst, best = (low, high) if constraint.is_ratio else (high, low)
    if constraint.violation(worst) <= 0:
        return HOLDS
    if constraint.violation(best) > 0:
        return VIOLATED
    return CANNOT_TELL


def audit_word(constraints: list[Constraint], records: list[dict[str, Any]]) -> str:
    """The fit's word (:func:`~fairautoml.study.pick.verdict_word`) for the audit's
    evidence: each constraint's value and interval on the new rows."""
    values = [r["value"] for r in records]
    evidence = {
        "robust": all(r["verdict"] == HOLDS for r in records),
        "feasible": all(
            v is not None and math.isfinite(v) and c.violation(v) <= 0
            for c, v in zip(constraints, values, strict=True)
        ),
        "constraint_intervals": {
            c.key: r["interval"] for c, r in zip(constraints, records, strict=True) if r["interval"]
        },
    }
    return verdict_word(constraints, evidence)


def rows_to_tell(
    constraint: Constraint, value: float, interval: tuple[float, float], n: int
) -> int | None:
    """Rows at which the interval, narrowing as 1/sqrt(n), would no longer straddle the
    bound (None when the value sits on it)."""
    half = (interval[1] - interval[0]) / 2
    distance = abs(value - constraint.bound)
    if not (math.isfinite(half) and distance > 1e-12):
        return None
    return math.ceil(n * (half / distance) ** 2)


def constraint_verdicts(
    constraints: list[Constraint],
    best_config: dict[str, Any],
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    names: np.ndarray,
    level: float,
    random_state: int | None,
    *,
    needs_labels: Callable[[Constraint], bool] | None = None,
    scores: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """One record per constraint: value and interval on the new rows, what the fit
    claimed on validation, and the verdict. ``needs_labels``: the model's task's
    (:meth:`fairautoml.tasks.Task.needs_labels`; default: each constraint's own task's);
    ``scores``: the model's positive-class probabilities, for the constraints that read
    them (calibration within groups)."""
    codes = np.unique(names, return_inverse=True)[1].reshape(-1)
    # without labels only what does not read them is measured (selection rates, the KS
    # distance of predictions): the predictions stand in for the labels, which keeps
    # evaluate_constraints on its counting path
    labels = y_pred if y_true is None else y_true
    if needs_labels is None:
        needs_labels = _own_task_needs_labels
    measurable = [c for c in constraints if y_true is not None or not needs_labels(c)]
    compared = [c for c in measurable if _groups_compared(c, codes) >= 2]
    measurable = compared
    values = evaluate_constraints(measurable, labels, y_pred, codes, scores=scores)
    intervals = evaluate_intervals(
        measurable, labels, y_pred, codes, level=level, random_state=random_state, scores=scores
    )
    claimed = best_config.get("constraint_values", {})
    claimed_intervals = best_config.get("constraint_intervals", {})
    records = []
    for c in constraints:
        record: dict[str, Any] = {
            "constraint": str(c),
            "claimed": claimed.get(c.key),
            "claimed_interval": claimed_intervals.get(c.key),
        }
        if c not in measurable:
            reason = (
                AUDIT_NEEDS_LABELS
                if y_true is None and needs_labels(c)
                else AUDIT_ONE_GROUP.format(
                    n=len(y_pred), group=plain(names[0]), attributes=_attributes_words(c)
                )
            )
            record |= {"value": None, "interval": None, "verdict": CANNOT_TELL,
                       "rows_to_tell": None, "reason": reason}  # fmt: skip
        else:
            interval = intervals[c.key]
            said = verdict(c, interval)
            record |= {
                "value": values[c.key],
                "interval": list(interval),
                "verdict": said,
                "rows_to_tell": rows_to_tell(c, values[c.key], interval, len(y_pred))
                if said == CANNOT_TELL
                else None,
            }
            if not math.isfinite(values[c.key]):
                record["reason"] = AUDIT_UNDEFINED
        records.append(record)
    return records


def _groups_compared(constraint: Constraint, codes: np.ndarray) -> int:
    """How many groups the constraint compares on these rows (the cells' groups of its
    attributes, for a constraint on some of them)."""
    cells = np.unique(codes)
    if constraint.projection is not None:
        return len({constraint.projection[int(k)] for k in cells})
    return len(cells)


def _attributes_words(constraint: Constraint) -> str:
    return ", ".join(constraint.attributes) if constraint.attributes else "the sensitive features"


def _own_task_needs_labels(constraint: Constraint) -> bool:
    return get_task(constraint.task).needs_labels(constraint)
