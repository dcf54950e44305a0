"""Rows counted in several groups with weights that need not be probabilities: the
rectified estimate of fairness with inferred groups (:func:`fairautoml.data.missing_groups
.fairness_rows`), whose weights on the rows with a known group can be negative.

A membership in ``[0, 1]`` is bootstrapped as a Poisson(membership) count, one draw per
(row, group) entry. Signed weights cannot be: each row gets one Poisson(1) draw, shared by
all of its entries and multiplied by each entry's weight, so a row that adds to one
group's count and takes from another's moves both in every resample, as the estimate it
is part of does (independent draws would understate the variance of a gap between them).
A family that cannot take signed weights (:attr:`~fairautoml.measures.family.MeasureFamily
.takes_signed_weights`) measures ``plain`` instead: the same entries weighted by the
memberships alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RowCopies:
    """Entries of rows in groups: each entry's signed ``weight``, its ``plain`` (non-negative)
    membership, and the row it is a copy of (``rows``: codes 0 to the number of rows - 1)."""

    weight: np.ndarray
    plain: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.weight)


def counted(
    index: np.ndarray, weight: np.ndarray | None, plain: np.ndarray | None
) -> np.ndarray | RowCopies | None:
    """What the measures count entries by (their ``membership=``): the entries' weights,
    or, with ``plain`` memberships beside signed weights, row copies of the rows ``index``
    (the row each entry is a copy of)."""
    if plain is None:
        return weight
    rows = np.unique(index, return_inverse=True)[1].reshape(-1)
    return RowCopies(np.asarray(weight, dtype=np.float64), plain, rows)


def signed_draws(
    sample_weight: np.ndarray | None, membership: object
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """A bootstrap's (weight, Poisson mean, rows sharing a draw) for rows weighted by
    ``sample_weight`` and counted by ``membership`` (None, memberships, or
    :class:`RowCopies`): memberships are Poisson means, row copies' weights multiply."""
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if isinstance(membership, RowCopies):
        signed = membership.weight if weight is None else weight * membership.weight
        return signed, None, membership.rows
    rate = None if membership is None else np.asarray(membership, dtype=np.float64)
    return weight, rate, None


def for_family(membership: object, takes_signed_weights: bool) -> object:
    """What a family is handed: row copies where it takes signed weights, else their plain
    memberships."""
    if isinstance(membership, RowCopies) and not takes_signed_weights:
        return membership.plain
    return membership
