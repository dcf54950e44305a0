"""Per-group additive recalibration of regression scores, for group-loss constraints.

Constraints on the loss per group (a bound on each group's mean squared error, or a floor on
the ratio of the groups' mean absolute errors) are often broken by one group whose predictions
are *biased*: its residuals ``y - f`` are centred away from 0, for instance because the model
learnt mostly from the other groups. Shifting that group's predictions by its residual centre
removes the bias part of its loss: the mean residual minimises the squared loss over constant
shifts, the median residual the absolute loss. The offsets are fitted on held-out rows and
shrunk by ``strength`` in ``[0, 1]`` (0 = identity, 1 = full correction), which the search
tunes, since an offset estimated on few rows carries its own error.

What it cannot do: a group whose loss is noise (residuals centred at 0 but widely spread) is
not helped by any shift; its loss only falls with a better model of that group. Recalibration
also changes the groups' mean predictions, so it can widen demographic-parity gaps when the
groups' true means differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.mitigators._transport_core import (
    _check_group_proba,
    _check_groups,
    _check_scores,
)

__all__ = ["SUPPORTED_LOSSES", "GroupRecalibration", "weighted_median"]


def weighted_median(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The median of ``values`` counted by ``weights`` (positive somewhere): the first value
    at which the cumulative weight reaches half the total, averaged with the next one when
    it reaches exactly half. On integer weights, ``np.median`` of the repeated values."""
    if weights is None:
        return float(np.median(values))
    keep = np.asarray(weights) > 0
    order = np.argsort(np.asarray(values)[keep], kind="stable")
    v, w = np.asarray(values, dtype=np.float64)[keep][order], np.asarray(weights)[keep][order]
    cumulative = np.cumsum(w, dtype=np.float64)
    half = cumulative[-1] / 2
    i = int(np.searchsorted(cumulative, half * (1 - 1e-12), side="left"))
    if abs(cumulative[i] - half) <= 1e-12 * cumulative[-1] and i + 1 < len(v):
        return float((v[i] + v[i + 1]) / 2)
    return float(v[i])


def _weighted_mean(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    return float(np.average(values, weights=weights))


# loss -> the residual centre that minimises it over constant shifts (rows counted by weight)
SUPPORTED_LOSSES = {"squared": _weighted_mean, "absolute": weighted_median}


@dataclass(frozen=True, eq=False)
class GroupRecalibration:
    """Fitted additive correction ``f + offsets[s]`` per group code ``s`` (module docstring).

    Attributes
    ----------
    offsets : ndarray of shape (G,)
        Additive correction per group code ``0..G-1``.
    """

    offsets: np.ndarray

    @classmethod
    def fit(
        cls,
        y: np.ndarray,
        scores: np.ndarray,
        groups: np.ndarray,
        n_groups: int,
        loss: str = "squared",
        strength: float = 1.0,
        sample_weight: np.ndarray | None = None,
    ) -> GroupRecalibration:
        """Offsets ``strength * centre(y - f)`` per group, fitted on held-out rows.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            True targets.
        scores : array-like of shape (n_samples,)
            Model predictions ``f``.
        groups : array-like of shape (n_samples,)
            Integer group codes in ``0..n_groups-1``; every code must occur.
        n_groups : int
            Number of groups ``G``.
        loss : {"squared", "absolute"}, default "squared"
            The loss the constraint measures: the offset is the mean residual for squared
            loss, the median residual for absolute loss.
        strength : float in [0, 1], default 1.0
            Shrinkage of the offsets (0 = identity).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights: the centres are the weighted mean or median.

        Returns
        -------
        GroupRecalibration
        """
        if loss not in SUPPORTED_LOSSES:
            raise ValueError(
                f"Unknown loss {loss!r}. Available: {', '.join(sorted(SUPPORTED_LOSSES))}."
            )
        strength = float(strength)
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must lie in [0, 1] (0 = identity); got {strength}.")
        if int(n_groups) < 1:
            raise ValueError(f"n_groups must be at least 1; got {n_groups}.")
        n_groups = int(n_groups)
        scores = _check_scores(scores)
        groups = _check_groups(groups, scores.size, n_groups)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != scores.shape or not np.isfinite(y).all():
            raise ValueError(f"y must be {scores.size} finite targets; got shape {y.shape}.")
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != scores.shape or not (np.isfinite(w).all() and (w >= 0).all()):
                raise ValueError(
                    f"sample_weight must be {scores.size} finite non-negative weights; "
                    f"got shape {w.shape}."
                )
        counts = np.bincount(groups, weights=w, minlength=n_groups)
        absent = np.flatnonzero(counts <= 0).tolist()
        if absent:
            raise ValueError(
                f"Group code(s) {absent} have no fitting rows (or zero total weight): their "
                "residual bias cannot be estimated. Fit on rows that contain every group, or "
                "merge the rare groups."
            )
        centre = SUPPORTED_LOSSES[loss]
        residual = y - scores
        offsets = np.array([
            centre(residual[groups == g], None if w is None else w[groups == g])
            for g in range(n_groups)
        ])  # fmt: skip
        return cls(offsets=strength * offsets)

    def apply(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Corrected scores ``f + offsets[s]``.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,)
            Integer group codes (the coding used at fit time).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = _check_scores(scores)
        groups = _check_groups(groups, scores.size, self.offsets.size)
        return scores + self.offsets[groups]

    def apply_blind(self, scores: np.ndarray, group_proba: np.ndarray) -> np.ndarray:
        """Expected correction ``f + P(s|x) @ offsets`` when the group is not read.

        With a one-hot ``group_proba`` this equals ``apply``; a blurred group classifier
        applies a blend of offsets, so it removes the bias only as far as it is sharp.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
        group_proba : array-like of shape (n_samples, G)
            ``P(group | x)``; each row sums to 1.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = _check_scores(scores)
        proba = _check_group_proba(group_proba, scores.size, self.offsets.size)
        return scores + proba @ self.offsets
