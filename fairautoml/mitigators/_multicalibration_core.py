"""Multicalibration by iterative patching (Hébert-Johnson et al. 2018; Gopalan et al. 2021).

A score is ``alpha``-multicalibrated over a collection of groups when, in every group and
every score bin, the mean residual ``y - f`` is within ``alpha``. Patching gets there on the
rows it is fitted on: each round computes the mean residual of every (group x bin) cell
and shifts the scores of each cell whose residual exceeds ``alpha`` by that residual; the
cells of one round are disjoint (a row has one group and one bin), so a round is one
lookup table ``delta[group, bin]``; rounds go on until no cell moves or ``max_rounds``.
New rows replay the rounds in order (a row's bin is read afresh each round).

The groups are the intersection cells: calibration in every cell carries over to every
union of cells (a marginal group's bin residual is a weighted mean of its cells'), so the
marginal groups of each attribute are served too. Bins are the quantiles of the fitting
scores (so amounts work as probabilities do); yes/no scores stay in [0, 1]. A cell with
fewer than ``min_rows`` rows (by weight) is never patched, nor a cell whose residual is
within ``z`` standard errors of 0: such a residual is mostly noise, and patching it would
fit the fitting rows' noise (the cell then stays within ``alpha`` or within its noise).

``apply_blind`` replaces the group by P(group | x): a row's shift is its groups' shifts
averaged under those probabilities; the blind rule is fitted the same way, each row
counting in every group's cells by its probability.

What it promises: on the fitting rows, every cell's residual within ``alpha`` (up to the
cells skipped as too small), and so calibrated probabilities by group that any threshold
or cost can be applied to afterwards. What it does not: it does not equalise rates between
groups (calibration within groups and equal error rates cannot in general hold together),
and on new rows the residuals are within ``alpha`` only up to the fitting noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.mitigators._transport_core import (
    _check_group_proba,
    _check_groups,
    _check_scores,
)

__all__ = ["Multicalibration"]


def _bin_of(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each score's bin among the inner ``edges`` (``len(edges) + 1`` bins)."""
    return np.searchsorted(edges, scores, side="right")


@dataclass(frozen=True, eq=False)
class Multicalibration:
    """Fitted patches (module docstring).

    Attributes
    ----------
    edges : ndarray of shape (n_bins - 1,)
        Inner bin edges (quantiles of the fitting scores).
    rounds : ndarray of shape (n_rounds, n_groups, n_bins)
        Each round's shift per (group, bin).
    bounds : tuple of float
        The range the scores are kept in: (0, 1) for probabilities, else unbounded.
    """

    edges: np.ndarray
    rounds: np.ndarray
    bounds: tuple[float, float]

    @classmethod
    def fit(
        cls,
        y: np.ndarray,
        scores: np.ndarray,
        membership: np.ndarray,
        *,
        alpha: float = 0.02,
        n_bins: int = 10,
        min_rows: float = 20.0,
        z: float = 2.0,
        max_rounds: int = 50,
        sample_weight: np.ndarray | None = None,
    ) -> Multicalibration:
        """Patches fitted on held-out rows.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Labels (0/1) or amounts.
        scores : array-like of shape (n_samples,)
            The model's scores ``f``.
        membership : array-like of shape (n_samples, n_groups)
            Each row's membership of each group: one-hot for known groups, P(group | x)
            for the blind rule.
        alpha : float > 0
            The largest mean residual a cell may keep.
        n_bins : int >= 1
            Score bins (quantiles of the fitting scores).
        min_rows : float
            Cells lighter than this are never patched.
        z : float
            A cell's residual is patched only when it is ``z`` standard errors from 0:
            within its noise, a patch would fit the noise.
        max_rounds : int
            The most rounds of patching.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights.
        """
        alpha, n_bins = float(alpha), int(n_bins)
        if not alpha > 0:
            raise ValueError(f"alpha must be positive (the largest residual kept); got {alpha}.")
        if n_bins < 1:
            raise ValueError(f"n_bins must be at least 1; got {n_bins}.")
        f = _check_scores(scores).copy()
        y = np.asarray(y, dtype=np.float64)
        if y.shape != f.shape or not np.isfinite(y).all():
            raise ValueError(f"y must be {f.size} finite targets; got shape {y.shape}.")
        member = np.asarray(membership, dtype=np.float64)
        if member.ndim != 2 or member.shape[0] != f.size:
            raise ValueError(
                f"membership must have shape ({f.size}, n_groups); got {member.shape}."
            )
        w = np.ones_like(f) if sample_weight is None else np.asarray(sample_weight, np.float64)
        probabilities = bool(((y == 0) | (y == 1)).all() and f.min() >= 0 and f.max() <= 1)
        bounds = (0.0, 1.0) if probabilities else (-np.inf, np.inf)
        inner = np.quantile(f, np.linspace(0, 1, n_bins + 1)[1:-1]) if f.size else np.empty(0)
        edges = np.unique(inner)
        n_cells = edges.size + 1
        weighted = member * w[:, None]  # (n, G): each row's weight in each group
        rounds = []
        for _ in range(int(max_rounds)):
            onehot = np.eye(n_cells)[_bin_of(f, edges)]  # (n, B)
            mass = weighted.T @ onehot  # (G, B)
            r = y - f
            residual = (weighted * r[:, None]).T @ onehot
            squared = (weighted * (r * r)[:, None]).T @ onehot
            safe = np.where(mass > 0, mass, 1.0)
            mean = np.where(mass > 0, residual / safe, 0.0)
            noise = z * np.sqrt(np.maximum(squared / safe - mean**2, 0.0) / safe)
            moves = (np.abs(mean) > np.maximum(alpha, noise)) & (mass >= min_rows)
            delta = np.where(moves, mean, 0.0)
            if not delta.any():
                break
            rounds.append(delta)
            f = np.clip(f + _shift(delta, member, _bin_of(f, edges)), *bounds)
        shape = (0, member.shape[1], n_cells)
        return cls(edges, np.array(rounds) if rounds else np.zeros(shape), bounds)

    def _apply(self, scores: np.ndarray, member: np.ndarray) -> np.ndarray:
        f = scores.copy()
        for delta in self.rounds:
            f = np.clip(f + _shift(delta, member, _bin_of(f, self.edges)), *self.bounds)
        return f

    @property
    def n_groups(self) -> int:
        return int(self.rounds.shape[1])

    def apply(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """The patched scores of rows of known groups (codes as at fit time; a code the
        fitting rows lacked gets no patch)."""
        scores = _check_scores(scores)
        known = max(self.n_groups, int(np.max(groups, initial=0)) + 1)
        groups = _check_groups(groups, scores.size, known)
        member = np.zeros((scores.size, self.n_groups))
        seen = groups < self.n_groups
        member[np.flatnonzero(seen), groups[seen]] = 1.0
        return self._apply(scores, member)

    def apply_blind(self, scores: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
        """The patched scores when the group is only estimated: P(group | x) in its place."""
        scores = _check_scores(scores)
        proba = _check_group_proba(group_proba, scores.size, self.n_groups)
        return self._apply(scores, proba)


def _shift(delta: np.ndarray, member: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Each row's shift: its groups' (by membership) shifts in its bin."""
    return np.einsum("ng,ng->n", member, delta[:, bins].T)
