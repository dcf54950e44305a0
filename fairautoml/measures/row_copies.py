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

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

BOOT_CHUNK = 2**22  # resampled row counts multiplied at once


@dataclass(frozen=True)
class RowCopies:
    """Entries of rows in groups: each entry's signed ``weight``, its ``plain`` (non-negative)
    membership, and the row it is a copy of (``rows``: codes 0 to the number of rows - 1).

    The rows' Poisson(1) draws are made once per (resamples, seed) and kept
    (:meth:`row_draws`): they depend on the rows alone, and a search measures every point
    on the same rows with the same seed, and drawing them is most of the bootstrap's
    cost."""

    weight: np.ndarray
    plain: np.ndarray
    rows: np.ndarray
    _draws: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def n_rows(self) -> int:
        return int(self.rows.max(initial=-1)) + 1

    def row_draws(self, n_boot: int, random_state: int | None) -> np.ndarray:
        """Each row's Poisson(1) count in each of ``n_boot`` resamples, (n_boot, rows), kept
        for the next call with the same arguments (a seed of None draws anew)."""
        key = (n_boot, random_state)
        if random_state is None or key not in self._draws:
            rng = np.random.default_rng(random_state)
            drawn = rng.poisson(1.0, size=(n_boot, self.n_rows)).astype(np.uint8)
            if random_state is None:
                return drawn
            self._draws[key] = drawn
        return self._draws[key]

    def resampled_sums(
        self,
        cells: np.ndarray,
        n_cells: int,
        n_boot: int,
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
    ) -> np.ndarray:
        """The entries' weights (times ``sample_weight``) summed per cell (each entry's
        ``cells`` code) under ``n_boot`` row resamples, (n_boot, n_cells): each row's
        draw times its entries' weights."""
        weight = self.weight if sample_weight is None else self.weight * sample_weight
        # each row's weight in each cell (a row's entries in one cell summed), dense: the
        # cells are a few per group, and a dense product is faster than a sparse one
        flat = self.rows * n_cells + np.asarray(cells)
        per_row = np.bincount(flat, weights=weight, minlength=self.n_rows * n_cells)
        per_row = per_row.reshape(self.n_rows, n_cells).astype(np.float32)
        draws = self.row_draws(n_boot, random_state)
        out = np.empty((n_boot, n_cells))
        step = max(1, BOOT_CHUNK // max(self.n_rows, 1))
        for start in range(0, n_boot, step):
            chunk = draws[start : start + step].astype(np.float32)
            out[start : start + len(chunk)] = chunk @ per_row
        return out


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


def for_family(membership: object, takes_signed_weights: bool) -> object:
    """What a family is handed: row copies where it takes signed weights, else their plain
    memberships."""
    if isinstance(membership, RowCopies) and not takes_signed_weights:
        return membership.plain
    return membership
