"""Partial optimal transport of regression scores to the groups' Wasserstein barycenter.

Strong demographic parity asks the distribution of the prediction to be the same in every
group. Chzhen, Denis, Hebiri, Oneto & Pontil ("Fair regression with Wasserstein barycenters",
NeurIPS 2020) show that the squared-risk-optimal fair predictor built from a score ``f`` moves
each group's score distribution onto the groups' Wasserstein-2 barycenter: with ``F_s`` the
CDF of the scores of group ``s``, ``Q_s`` its quantile function and ``p_s`` the group shares,

    g*(f, s) = sum_{s'} p_{s'} Q_{s'}(F_s(f)).

Chzhen & Schreuder ("A minimax framework for quantifying risk-fairness trade-off in
regression", Annals of Statistics 2022) show that the partial transport
``(1 - t) f + t g*(f, s)`` traces the risk-unfairness frontier: ``t = 0`` is the score itself,
``t = 1`` the barycenter, and the unfairness (W2 distance between groups) shrinks like
``(1 - t)``. EquiPy's ``FairWasserstein`` implements the same estimator with random jitter
drawn afresh at every call; here the map is a fixed function so a row is always sent to the
same value.

Estimation choices, made so the map is continuous and repeatable:

* Each group is summarised by sorted *atoms* ``q_1 <= ... <= q_m`` at increasing levels
  ``c_1 < ... < c_m`` in (0, 1): its sorted scores at the plotting positions
  ``c_k = (k - 1/2) / n`` (with sample weights, at each row's mass midpoint). ``Q_s`` is the
  piecewise-linear interpolation through ``(c_k, q_k)``, constant beyond the end atoms, and
  ``F_s`` its inverse. On groups of equal size with distinct scores (no weights) the fitting
  row of rank ``k`` therefore lands exactly on ``sum_s p_s sort(scores_s)[k]``, the exact
  empirical W2 barycenter; on unequal sizes the target is the interpolated version of it.
* A group of more than ``max_points`` rows is summarised by ``max_points`` atoms read off its
  ``Q_s`` at levels evenly spaced between its end positions (so its extreme scores are kept).
  The fitted object stays small and ``transport`` costs ``O(n G log max_points)``; the
  approximation replaces ``Q_s`` between grid levels by a chord, an error of the order of the
  scores' spacing at the grid's resolution, largest in sparse tails.
* New scores between two atoms get an interpolated level, so the output is continuous and
  non-decreasing in the score within a group; scores beyond a group's range are clamped to its
  end atoms, so every output stays within the barycenter's range.
* A score equal to ``r >= 2`` tied atoms corresponds to a whole interval of levels
  ``[c_lo, c_hi]``. Any function of (score, group) alone sends all those rows to one value,
  so a group with a mass point (a tree model's repeated leaf value) cannot be spread over the
  barycenter; hashing the score's bytes would not help, tied rows have the same bytes. Given
  ``row_keys`` (one integer per row derived from its features, e.g.
  ``pandas.util.hash_pandas_object(X, index=False)``), the level is
  ``c_lo + V (c_hi - c_lo)`` with ``V`` in ``[0, 1)`` a hash of (row key, group, seed): tied
  rows are spread uniformly over their levels, yet a row always gets the same output whatever
  batch it comes in. Without keys, tied rows take the middle level ``(c_lo + c_hi) / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.mitigators._row_hash import splitmix64

__all__ = ["BarycenterTransport"]

_PROBA_ATOL = 1e-6  # slack on "rows of group_proba sum to 1"


def _uniform_from_keys(keys: np.ndarray, group: int, seed: int) -> np.ndarray:
    """Deterministic ``V`` in ``[0, 1)`` per row from its key, the group and the seed."""
    salt = splitmix64(np.array([group, seed], dtype=np.uint64))
    mixed = splitmix64(keys ^ salt[0])
    mixed = splitmix64(mixed ^ salt[1])
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _plotting_positions(m: int) -> np.ndarray:
    """Plotting positions ``(k - 1/2) / m`` of ``m`` equal-mass atoms."""
    return (np.arange(m, dtype=np.float64) + 0.5) / m


def _check_scores(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D (one prediction per row); got shape {scores.shape}.")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite; found NaN or infinite predictions.")
    return scores


def _check_groups(groups: np.ndarray, n_rows: int, n_groups: int) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.shape != (n_rows,):
        raise ValueError(f"groups must have shape ({n_rows},) like scores; got {groups.shape}.")
    if groups.dtype.kind not in "iu":
        raise ValueError(f"groups must hold integer group codes 0..G-1; got dtype {groups.dtype}.")
    if n_rows and (groups.min() < 0 or groups.max() >= n_groups):
        bad = sorted(set(np.unique(groups[(groups < 0) | (groups >= n_groups)]).tolist()))
        raise ValueError(
            f"Unknown group code(s) {bad}: expected codes 0..{n_groups - 1}, as at fit time. "
            "Encode groups with the same mapping used at fit time."
        )
    return groups.astype(np.intp)


def _check_group_proba(group_proba: np.ndarray, n_rows: int, n_groups: int) -> np.ndarray:
    proba = np.asarray(group_proba, dtype=np.float64)
    if proba.shape != (n_rows, n_groups):
        raise ValueError(
            f"group_proba must have shape (n_rows, n_groups) = ({n_rows}, {n_groups}); "
            f"got {proba.shape}."
        )
    if not (np.isfinite(proba).all() and (proba >= 0).all()) or not np.allclose(
        proba.sum(axis=1), 1.0, atol=_PROBA_ATOL
    ):
        raise ValueError("Each row of group_proba must hold probabilities summing to 1.")
    return proba


def _check_fraction(fraction: float) -> float:
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(
            f"fraction must lie in [0, 1] (0 = scores, 1 = barycenter); got {fraction}."
        )
    return fraction


def _check_keys(row_keys: np.ndarray | None, n_rows: int) -> np.ndarray | None:
    if row_keys is None:
        return None
    keys = np.asarray(row_keys)
    if keys.shape != (n_rows,) or keys.dtype.kind not in "iu":
        raise ValueError(
            f"row_keys must be {n_rows} integers (one hash per row, e.g. "
            f"pandas.util.hash_pandas_object(X, index=False)); got {keys.dtype} {keys.shape}."
        )
    return (
        keys.astype(np.int64).view(np.uint64) if keys.dtype.kind == "i" else keys.astype(np.uint64)
    )


def _atoms(
    values: np.ndarray, weights: np.ndarray | None, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """(levels, atoms) summarising one group's (weighted) scores; see the module docstring."""
    order = np.argsort(values, kind="stable")
    values = values[order]
    if weights is None:
        levels = _plotting_positions(values.size)
    else:
        w = weights[order] / weights.sum()
        levels = np.cumsum(w) - 0.5 * w  # each row's mass midpoint; unit weights: (k - 1/2) / n
    if values.size <= max_points:
        return levels, values
    grid = np.linspace(levels[0], levels[-1], max_points)  # keeps the extreme scores
    return grid, np.interp(grid, levels, values)


@dataclass(frozen=True, eq=False)
class BarycenterTransport:
    """Fitted map of each group's scores onto the groups' W2 barycenter (module docstring).

    Attributes
    ----------
    quantiles : tuple of ndarray
        Per group code ``0..G-1``, its sorted atoms: the sorted fitted scores, or a grid of
        ``max_points`` quantiles for a larger group.
    levels : tuple of ndarray
        Per group, the increasing levels in (0, 1) of its atoms (``Q_s(levels[s]) =
        quantiles[s]``): the plotting positions ``(k - 1/2) / n``, the rows' mass midpoints
        with sample weights, or an even grid between the end positions.
    shares : ndarray of shape (G,)
        Group weights ``p_s`` in the fitting rows (sample-weighted if weights were given).
    seed : int
        Salt of the tie-breaking hash used with ``row_keys``.
    """

    quantiles: tuple[np.ndarray, ...]
    levels: tuple[np.ndarray, ...]
    shares: np.ndarray
    seed: int = 0

    @property
    def n_groups(self) -> int:
        return len(self.quantiles)

    @classmethod
    def fit(
        cls,
        scores: np.ndarray,
        groups: np.ndarray,
        n_groups: int,
        sample_weight: np.ndarray | None = None,
        max_points: int = 2048,
        random_state: int | None = None,
    ) -> BarycenterTransport:
        """Summarise each group's score distribution and the group shares.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Predictions of the model on held-out rows.
        groups : array-like of shape (n_samples,)
            Integer group codes in ``0..n_groups-1``; every code must occur.
        n_groups : int
            Number of groups ``G``.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights; they weight both the shares and each group's quantiles.
        max_points : int, default 2048
            Most atoms kept per group; larger groups are summarised by a quantile grid.
        random_state : int, optional
            Salt of the tie-breaking hash (only used when ``transport`` gets ``row_keys``).

        Returns
        -------
        BarycenterTransport
        """
        scores = _check_scores(scores)
        if int(n_groups) < 1:
            raise ValueError(f"n_groups must be at least 1; got {n_groups}.")
        n_groups = int(n_groups)
        groups = _check_groups(groups, scores.size, n_groups)
        if int(max_points) < 2:
            raise ValueError(f"max_points must be at least 2; got {max_points}.")
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != scores.shape or not (
                np.isfinite(weights).all() and (weights >= 0).all()
            ):
                raise ValueError(
                    f"sample_weight must be {scores.size} finite non-negative weights; "
                    f"got shape {weights.shape}."
                )
        mass = np.bincount(groups, weights=weights, minlength=n_groups).astype(np.float64)
        absent = np.flatnonzero(mass <= 0).tolist()
        if absent:
            raise ValueError(
                f"Group code(s) {absent} have no fitting rows (or zero total weight): their score "
                "distribution cannot be estimated. Fit on rows that contain every group, or merge "
                "the rare groups."
            )
        quantiles, levels = [], []
        for g in range(n_groups):
            rows = groups == g
            w = None
            if weights is not None:
                rows &= weights > 0
                w = weights[rows]
            level, atoms = _atoms(scores[rows], w, int(max_points))
            quantiles.append(atoms)
            levels.append(level)
        return cls(
            quantiles=tuple(quantiles),
            levels=tuple(levels),
            shares=mass / mass.sum(),
            seed=0 if random_state is None else int(random_state),
        )

    def _levels_of(self, scores: np.ndarray, group: int, keys: np.ndarray | None) -> np.ndarray:
        """``u = F_group(score)`` with the piecewise-linear CDF; ties per the module docstring."""
        q, c = self.quantiles[group], self.levels[group]
        m = q.size
        lo = np.searchsorted(q, scores, side="left")
        hi = np.searchsorted(q, scores, side="right")
        # strictly between atoms lo-1 and lo (or outside, clamped): linear level
        left = np.clip(lo - 1, 0, m - 1)
        right = np.clip(lo, 0, m - 1)
        span = q[right] - q[left]
        frac = np.divide(scores - q[left], span, out=np.zeros_like(scores), where=span > 0)
        u = c[left] + np.clip(frac, 0.0, 1.0) * (c[right] - c[left])
        # equal to atoms lo..hi-1: a level in [c_lo, c_hi-1]
        tied = hi > lo
        c_lo = c[lo[tied]]
        c_hi = c[hi[tied] - 1]
        v = 0.5 if keys is None else _uniform_from_keys(keys[tied], group, self.seed)
        u[tied] = c_lo + v * (c_hi - c_lo)
        return u

    def _barycenter(self, u: np.ndarray) -> np.ndarray:
        """``sum_s p_s Q_s(u)``: the barycenter's quantile function at levels ``u``."""
        out = np.zeros_like(u)
        for p, c, q in zip(self.shares, self.levels, self.quantiles, strict=True):
            out += p * np.interp(u, c, q)
        return out

    def transport(
        self,
        scores: np.ndarray,
        groups: np.ndarray,
        fraction: float,
        row_keys: np.ndarray | None = None,
    ) -> np.ndarray:
        """Partial transport ``(1 - t) f + t g*(f, s)`` of each row towards the barycenter.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Model predictions ``f``.
        groups : array-like of shape (n_samples,)
            Integer group codes ``s`` (the coding used at fit time).
        fraction : float in [0, 1]
            ``t``: 0 returns ``scores`` unchanged, 1 the barycenter (strong demographic parity
            on the fitting distribution).
        row_keys : array-like of int of shape (n_samples,), optional
            Per-row hashes that spread rows with tied scores (module docstring).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = _check_scores(scores)
        groups = _check_groups(groups, scores.size, self.n_groups)
        t = _check_fraction(fraction)
        keys = _check_keys(row_keys, scores.size)
        if t == 0.0:
            return scores.copy()
        target = np.empty_like(scores)
        for g in range(self.n_groups):
            rows = groups == g
            if rows.any():
                sub_keys = None if keys is None else keys[rows]
                target[rows] = self._barycenter(self._levels_of(scores[rows], g, sub_keys))
        return (1.0 - t) * scores + t * target

    def transport_blind(
        self,
        scores: np.ndarray,
        group_proba: np.ndarray,
        fraction: float,
        row_keys: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected partial transport ``sum_s P(s|x) [(1 - t) f + t g*(f, s)]``.

        For models that may not read the group at decision time: ``group_proba`` comes from a
        group classifier. With a one-hot ``group_proba`` this equals ``transport``; otherwise it
        averages the group-wise maps, so it reaches the barycenter only as far as the group
        classifier is sharp (an uninformative classifier moves every row by the same blend of
        maps and leaves the gaps between groups largely in place).

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Model predictions ``f``.
        group_proba : array-like of shape (n_samples, G)
            ``P(group | x)``; each row sums to 1.
        fraction : float in [0, 1]
            ``t`` as in ``transport``.
        row_keys : array-like of int of shape (n_samples,), optional
            As in ``transport``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = _check_scores(scores)
        proba = _check_group_proba(group_proba, scores.size, self.n_groups)
        t = _check_fraction(fraction)
        keys = _check_keys(row_keys, scores.size)
        if t == 0.0:
            return scores.copy()
        target = np.zeros_like(scores)
        for g in range(self.n_groups):
            weight = proba[:, g]
            rows = weight > 0
            if rows.any():
                sub_keys = None if keys is None else keys[rows]
                fair = self._barycenter(self._levels_of(scores[rows], g, sub_keys))
                target[rows] += weight[rows] * fair
        return (1.0 - t) * scores + t * target
