"""The inputs of :mod:`fairautoml.measures.membership` checked: 0/1 decisions and labels,
the constraints membership probabilities can measure, and whether the regression estimator
can tell each group's rate from the others' (its effective size per group). The
probabilities themselves are checked in :mod:`fairautoml.data.memberships`.

Each error says what was expected, what was given, and the fix (normalise, drop the rows,
merge groups whose probabilities move together).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.exceptions import InputError
from fairautoml.measures import messages as M
from fairautoml.measures.constraints import Constraint, parse_constraints
from fairautoml.measures.decisions import DECISION_METRICS

MIN_EFFECTIVE_ROWS = 20
SINGULAR = 1e10  # a Gram matrix this ill-conditioned has a direction no row measures


def zero_one(values: Any, what: str, n_rows: int) -> np.ndarray:
    """``values`` as a 0/1 integer array of ``n_rows`` (an error naming the others)."""
    array = np.asarray(values).ravel()
    if len(array) != n_rows:
        raise InputError(E.LENGTH_MISMATCH.format(n_x=n_rows, name=what, n_other=len(array)))
    found = pd.unique(pd.Series(array, dtype=object))
    if not set(found.tolist()) <= {0, 1}:
        shown = ", ".join(repr(v) for v in found[:5].tolist())
        raise InputError(M.MEMBERSHIP_NOT_BINARY.format(what=what, values=shown))
    return array.astype(np.int64)


def membership_constraints(
    constraints: str | Constraint | Iterable[str | Constraint] | None,
    attribute: str | None = None,
) -> list[Constraint]:
    """The constraints, parsed, that membership probabilities can measure: yes/no decision
    measures, comparing the groups of one attribute (``attribute``, when named)."""
    parsed = parse_constraints(constraints)
    for c in parsed:
        if c.metric not in DECISION_METRICS or c.continuous or c.task != "binary":
            raise InputError(
                M.MEMBERSHIP_NOT_DECISIONS.format(constraint=c, metrics=", ".join(DECISION_METRICS))
            )
        several = len(c.attributes) > 1
        if several or (c.attributes and attribute is not None and c.attributes != (attribute,)):
            named = "" if attribute is None else f" ({attribute!r})"
            raise InputError(
                M.MEMBERSHIP_ATTRIBUTES.format(
                    constraint=c, attributes=", ".join(c.attributes), named=named
                )
            )
    return parsed


def effective_sizes(P: np.ndarray, weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Each group's effective size under the regression estimator (the rows of known group
    that would measure its rate as precisely; 0 for a group no direction of the data
    separates) and the condition number of the Gram matrix ``P'WP``."""
    w = np.ones(len(P)) if weight is None else np.asarray(weight, dtype=np.float64)
    gram = (P * w[:, None]).T @ P
    condition = float(np.linalg.cond(gram))
    if not np.isfinite(condition) or condition > SINGULAR:
        values, vectors = np.linalg.eigh(gram)
        null = vectors[:, values < values.max() / SINGULAR]
        sizes = np.full(P.shape[1], np.inf)
        sizes[np.abs(null).max(axis=1) > 1e-6] = 0.0
        if np.isinf(sizes).any():  # the others: from the part of the data that separates them
            inverse = np.linalg.pinv(gram)
            squares = (P * (w**2)[:, None]).T @ P
            ok = np.isinf(sizes)
            sizes[ok] = 1.0 / np.diag(inverse @ squares @ inverse)[ok]
        return sizes, condition
    inverse = np.linalg.inv(gram)
    squares = (P * (w**2)[:, None]).T @ P
    return 1.0 / np.diag(inverse @ squares @ inverse), condition


def weighted_effective_sizes(P: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Each group's effective size under the plain weighted estimator, ``(sum w p)^2 /
    sum (w p)^2``."""
    w = np.ones(len(P)) if weight is None else np.asarray(weight, dtype=np.float64)
    pw = P * w[:, None]
    return pw.sum(axis=0) ** 2 / np.maximum((pw**2).sum(axis=0), 1e-300)


def identified(
    P: np.ndarray, groups: tuple[str, ...], weight: np.ndarray | None, minimum: float
) -> tuple[np.ndarray, float]:
    """:func:`effective_sizes`, refusing (with the fix) when a group's is below ``minimum``."""
    sizes, condition = effective_sizes(P, weight)
    small = sizes < minimum
    if small.any():
        raise InputError(
            M.MEMBERSHIP_NOT_IDENTIFIED.format(
                groups=[g for g, s in zip(groups, small, strict=True) if s],
                sizes=[round(float(s), 1) for s in sizes[small]],
                minimum=minimum, condition=condition,
            )
        )  # fmt: skip
    return sizes, condition


__all__ = [
    "MIN_EFFECTIVE_ROWS",
    "effective_sizes",
    "identified",
    "membership_constraints",
    "weighted_effective_sizes",
    "zero_one",
]
