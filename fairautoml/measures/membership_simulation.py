"""Simulations where the true groups are known: membership probabilities made over- or
under-confident (:func:`tempered`), and an estimate beside the value by the true groups
(:func:`compare_with_true_groups`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.exceptions import InputError
from fairautoml.measures import messages as M
from fairautoml.measures.constraints import Constraint, parse_constraints
from fairautoml.measures.decisions import confusion_counts, rates_from_counts
from fairautoml.measures.membership import MembershipMeasures


def tempered(P: Any, temperature: float) -> np.ndarray:
    """``P`` made over-confident (``temperature < 1``: sharper) or under-confident (``> 1``:
    flatter): ``P^(1/t)`` renormalised per row; a probability of 0 stays 0."""
    values = np.asarray(P, dtype=np.float64) ** (1.0 / temperature)
    return values / values.sum(axis=1, keepdims=True)


def compare_with_true_groups(
    measures: MembershipMeasures,
    y_true: Any,
    y_pred: Any,
    true_groups: Any,
    constraints: str | Constraint | Iterable[str | Constraint],
) -> pd.DataFrame:
    """Where the true groups are known (a simulation): each constraint's value by the true
    groups (labels named as the probabilities' columns) beside both estimates, their errors,
    and whether each interval covers the true value."""
    decisions = np.asarray(y_pred).ravel()
    labels = decisions if y_true is None else np.asarray(y_true).ravel()
    names = np.asarray([str(v) for v in np.asarray(true_groups).ravel()], dtype=object)
    unknown = sorted(set(names) - set(measures.groups))
    if unknown:
        raise InputError(
            M.MEMBERSHIP_TRUE_GROUPS.format(unknown=unknown[:5], groups=list(measures.groups))
        )
    rates = rates_from_counts(*confusion_counts(labels, decisions, names))
    rows = []
    for c in parse_constraints(constraints):
        e, true = measures.estimate(c.key), float(c.from_rates(rates)[0])
        rows.append({
            "measure": c.key, "true": true,
            "regression": e.regression, "regression_error": e.regression - true,
            "regression_covers": e.regression_interval[0] <= true <= e.regression_interval[1],
            "weighted": e.weighted, "weighted_error": e.weighted - true,
            "weighted_covers": e.weighted_interval[0] <= true <= e.weighted_interval[1],
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("measure")


__all__ = ["compare_with_true_groups", "tempered"]
