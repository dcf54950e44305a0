"""The paired bootstrap of two models measured on the same rows (:mod:`fairautoml.measures.paired`).

Every resample draws the held-out rows once, with replacement within each group (each
group keeps its size, so every group is in every resample), and both models are measured
on that one draw: what the two share cancels out of their difference. Yes/no decision
measures read only how many rows fall in each (group, label, incumbent's decision,
alternative's decision) cell, so without row weights the draw is made per cell (a
multinomial of the group's size over its cells, the same bootstrap as drawing its rows)
at a cost that does not grow with the rows. Row weights and scores that are ranked need
the rows themselves: they are drawn in chunks of resamples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse

BOOT_CHUNK = 2**22  # resampled row weights held at once (resamples x rows)


@dataclass(frozen=True)
class JointCells:
    """The held-out rows by (group, label, incumbent's decision, alternative's decision),
    the cells present only. ``groups``: each cell's group value (as given, so a
    constraint's map from cell codes to its groups still applies); ``group_index``: the
    position of that value among the sorted groups; ``cell_of_row``: each row's cell."""

    groups: np.ndarray
    group_index: np.ndarray
    y_true: np.ndarray
    incumbent: np.ndarray
    alternative: np.ndarray
    cell_of_row: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        """Rows per cell."""
        return np.bincount(self.cell_of_row, minlength=len(self.groups)).astype(np.float64)

    def summed(self, row_weights: np.ndarray) -> np.ndarray:
        """Row weights of shape (k, n) summed per cell, shape (k, cells)."""
        n, n_cells = len(self.cell_of_row), len(self.groups)
        onehot = scipy.sparse.csr_matrix(
            (np.ones(n), (np.arange(n), self.cell_of_row)), shape=(n, n_cells)
        )
        return np.asarray(onehot.T @ row_weights.T).T


def joint_cells(
    y_true: np.ndarray, incumbent: np.ndarray, alternative: np.ndarray, groups: np.ndarray
) -> JointCells:
    """The :class:`JointCells` of 0/1 labels and decisions on rows of ``groups``."""
    values, index = np.unique(groups, return_inverse=True)
    index = index.reshape(-1).astype(np.int64)
    code = ((index * 2 + y_true) * 2 + incumbent) * 2 + alternative
    present, cell_of_row = np.unique(code, return_inverse=True)
    return JointCells(
        groups=values[present // 8],
        group_index=present // 8,
        y_true=(present // 4) % 2,
        incumbent=(present // 2) % 2,
        alternative=present % 2,
        cell_of_row=cell_of_row.reshape(-1),
    )


def resampled_cells(cells: JointCells, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Rows per cell in ``n_boot`` resamples, shape (n_boot, cells): per group, a
    multinomial draw of the group's size over its cells."""
    sizes = cells.sizes
    out = np.zeros((n_boot, len(sizes)))
    for g in np.unique(cells.group_index):
        members = np.flatnonzero(cells.group_index == g)
        n_group = int(sizes[members].sum())
        out[:, members] = rng.multinomial(n_group, sizes[members] / n_group, size=n_boot)
    return out


def resampled_rows(
    group_index: np.ndarray, n_boot: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """How many times each row is drawn, in chunks of resamples of shape (k, n), ``n_boot``
    rows in all: each group's rows drawn with replacement as many times as it has rows."""
    n = len(group_index)
    members = [np.flatnonzero(group_index == g) for g in np.unique(group_index)]
    step = max(1, BOOT_CHUNK // max(n, 1))
    for start in range(0, n_boot, step):
        k = min(step, n_boot - start)
        times = np.zeros((k, n))
        for rows in members:
            size = len(rows)
            drawn = rng.integers(0, size, size=(k, size)) + size * np.arange(k)[:, None]
            times[:, rows] = np.bincount(drawn.ravel(), minlength=k * size).reshape(k, size)
        yield times


class RankedScores:
    """One model's scores sorted once, for the area under the ROC curve under many row
    weightings at once: each positive row counts the negative weight below its score, and
    half of that at its score (ties count half, as scikit-learn's ``roc_auc_score``)."""

    def __init__(self, y_true: np.ndarray, scores: np.ndarray) -> None:
        self._order = np.argsort(scores, kind="stable")
        ordered = np.asarray(scores)[self._order]
        positive = np.asarray(y_true)[self._order] == 1
        starts = np.r_[True, ordered[1:] != ordered[:-1]]
        first = np.flatnonzero(starts)  # where each run of tied scores starts, and ends
        last = np.r_[first[1:], len(ordered)] - 1
        run = np.cumsum(starts) - 1
        self._negative = ~positive
        self._positives = np.flatnonzero(positive)
        self._first, self._last = first[run[self._positives]], last[run[self._positives]]

    def auc(self, row_weights: np.ndarray) -> np.ndarray:
        """The weighted AUC under each row of ``row_weights`` (shape (k, n)), shape (k,)."""
        weights = np.ascontiguousarray(row_weights.T)[self._order]  # (n, k), sorted rows
        negatives = weights * self._negative[:, None]
        through = np.cumsum(negatives, axis=0)  # negative weight up to each sorted row
        below = through[self._first] - negatives[self._first]
        tied = through[self._last] - below
        positives = weights[self._positives]
        pairs = positives.sum(axis=0) * through[-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sum(positives * (below + 0.5 * tied), axis=0) / pairs


__all__ = [
    "BOOT_CHUNK",
    "JointCells",
    "RankedScores",
    "joint_cells",
    "resampled_cells",
    "resampled_rows",
]
