"""Calibration within groups: whether a score's "20 %" means 20 % in every group.

A score is calibrated within a group when, among the group's rows scored about ``p``, the
share of positives is about ``p``. The measure here is each group's expected calibration
error (ECE) over ``n_bins`` equal-width score bins::

    ECE_g = sum_b (n_gb / n_g) * |mean(y in cell gb) - mean(score in cell gb)|
          = sum_b |sum over cell gb of (y - score)| / n_g

and ``calibration_within_groups``, the largest ECE over the groups. Rows count by their
weight when weighted. Intervals are Poisson-bootstrap percentile intervals of each
group's ECE and of the largest.

What it does not say: the binned ECE of a finite sample is above 0 even for a perfectly
calibrated score (each bin's mean residual carries its noise, and the absolute value turns
noise into error), more so in small groups and with many bins; compare groups of similar
size, or read the interval. It measures scores (``predict_proba`` of the positive class,
or a rule's calibrated probabilities), never 0/1 decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairautoml.measures.family import MeasureFamily, central_interval

CALIBRATION_WITHIN_GROUPS = "calibration_within_groups"
DEFAULT_BINS = 10
_BOOT_CHUNK = 50  # resamples drawn at once (memory: chunk x rows)


def score_bins(scores: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Each score's bin among ``n_bins`` equal-width bins of [0, 1] (1 falls in the last)."""
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    return np.minimum((s * n_bins).astype(np.int64), n_bins - 1)


def _checked(
    y: np.ndarray, scores: np.ndarray, groups: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows with a group (code >= 0), as float target, float scores, codes, weights."""
    y, s, g = np.asarray(y, dtype=np.float64), np.asarray(scores, np.float64), np.asarray(groups)
    if s.ndim != 1 or y.shape != s.shape or g.shape != s.shape:
        raise ValueError(
            "calibration needs one score (the positive class's probability), one 0/1 label "
            f"and one group code per row; got shapes {s.shape}, {y.shape} and {g.shape}."
        )
    if not (np.isfinite(s).all() and s.min(initial=0) >= 0 and s.max(initial=0) <= 1):
        raise ValueError(
            "calibration reads probabilities in [0, 1]; pass predict_proba's positive-class "
            "column, not decisions or margins."
        )
    w = np.ones_like(s) if weight is None else np.asarray(weight, dtype=np.float64)
    known = g >= 0
    return y[known], s[known], g[known].astype(np.int64), w[known]


def _cell_sums(
    residual: np.ndarray, cells: np.ndarray, n_cells: int, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per resample (rows of ``draws``: each row's count), each cell's weight and residual sum."""
    weight = np.zeros((draws.shape[0], n_cells))
    summed = np.zeros((draws.shape[0], n_cells))
    for c in range(n_cells):
        in_cell = cells == c
        if in_cell.any():
            weight[:, c] = draws[:, in_cell].sum(axis=1)
            summed[:, c] = draws[:, in_cell] @ residual[in_cell]
    return weight, summed


def _errors(weight: np.ndarray, summed: np.ndarray, n_groups: int, n_bins: int) -> np.ndarray:
    """Each group's ECE from (..., groups x bins) cell weights and residual sums (NaN: a
    group without weight)."""
    w = weight.reshape(*weight.shape[:-1], n_groups, n_bins).sum(axis=-1)
    gap = np.abs(summed.reshape(*summed.shape[:-1], n_groups, n_bins)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, gap / np.where(w > 0, w, 1.0), np.nan)


def calibration_errors(
    y: np.ndarray,
    scores: np.ndarray,
    groups: np.ndarray,
    n_groups: int | None = None,
    *,
    n_bins: int = DEFAULT_BINS,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Each group's expected calibration error (module docstring), by code ``0..G-1``
    (NaN for a code without rows); rows without a group (code -1) are left out."""
    y, s, g, w = _checked(y, scores, groups, sample_weight)
    n_groups = int(g.max(initial=-1)) + 1 if n_groups is None else int(n_groups)
    cells = g * n_bins + score_bins(s, n_bins)
    size = n_groups * n_bins
    weight = np.bincount(cells, weights=w, minlength=size)
    summed = np.bincount(cells, weights=w * (y - s), minlength=size)
    return _errors(weight, summed, n_groups, n_bins)


def _basic(point: float, boot: np.ndarray, level: float) -> tuple[float, float]:
    """The basic bootstrap interval ``2 * point - quantiles``, its lower end at least 0: the
    binned error's resamples sit above it (noise adds error), and this interval moves down
    by that much rather than around the resamples as a percentile interval would."""
    if np.isnan(point) or np.isnan(boot).all():
        return np.nan, np.nan
    lo, hi = central_interval(boot, level)
    return max(0.0, 2 * point - hi), max(0.0, 2 * point - lo)


@dataclass(frozen=True)
class GroupCalibration:
    """Calibration within each group, with intervals, and the reliability curves behind it.

    ``table``: one row per group (label, rows, ECE, interval) and a last row
    ``largest`` (the value of ``calibration_within_groups``); ``curves``: per group and
    score bin, the rows, the mean score and the observed share of positives.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    level: float
    n_bins: int

    @property
    def largest(self) -> float:
        return float(self.table.loc["largest", "error"])


def group_calibration(
    y: np.ndarray,
    scores: np.ndarray,
    groups: np.ndarray,
    labels: Sequence[object],
    *,
    n_bins: int = DEFAULT_BINS,
    level: float = 0.8,
    n_boot: int = 200,
    random_state: int | None = 0,
    sample_weight: np.ndarray | None = None,
) -> GroupCalibration:
    """Each group's calibration error with its ``level`` bootstrap interval, the largest
    over the groups with its own, and the reliability curves; ``labels``: the group of
    each code (rows of code -1 are left out)."""
    y, s, g, w = _checked(y, scores, groups, sample_weight)
    n_groups = len(labels)
    if g.size and g.max() >= n_groups:
        raise ValueError(f"group codes go up to {int(g.max())} but {n_groups} labels were given.")
    bins = score_bins(s, n_bins)
    cells, size = g * n_bins + bins, n_groups * n_bins
    residual = w * (y - s)
    point = _errors(
        np.bincount(cells, weights=w, minlength=size),
        np.bincount(cells, weights=residual, minlength=size),
        n_groups,
        n_bins,
    )
    rng = np.random.default_rng(random_state)
    boot = []
    for start in range(0, n_boot, _BOOT_CHUNK):
        draws = rng.poisson(1.0, size=(min(_BOOT_CHUNK, n_boot - start), s.size)) * w
        weight, summed = _cell_sums(y - s, cells, size, draws)
        boot.append(_errors(weight, summed, n_groups, n_bins))
    errors = np.concatenate(boot) if boot else np.full((1, n_groups), np.nan)
    present = ~np.isnan(point)
    largest = np.nanmax(errors[:, present], axis=1) if present.any() else np.full(1, np.nan)
    rows = np.bincount(g, weights=w, minlength=n_groups)
    top = float(np.nanmax(point)) if present.any() else np.nan
    ends = [_basic(point[k], errors[:, k], level) for k in range(n_groups)]
    ends.append(_basic(top, largest, level))
    table = pd.DataFrame(
        {
            "rows": [*rows, np.nan],
            "error": [*point, top],
            "low": [lo for lo, _ in ends],
            "high": [hi for _, hi in ends],
        },
        index=pd.Index([*map(str, labels), "largest"], name="group"),
    )
    weight = np.bincount(cells, weights=w, minlength=size)
    per_row = np.maximum(weight, 1e-300)
    curves = pd.DataFrame({
        "group": np.repeat(np.asarray(list(map(str, labels)), dtype=object), n_bins),
        "bin": np.tile(np.arange(n_bins), n_groups),
        "rows": weight,
        "mean_score": np.bincount(cells, weights=w * s, minlength=size) / per_row,
        "observed": np.bincount(cells, weights=w * y, minlength=size) / per_row,
    })  # fmt: skip
    return GroupCalibration(table, curves[curves["rows"] > 0].reset_index(drop=True), level, n_bins)


class GroupCalibrationFamily(MeasureFamily):
    """``calibration_within_groups <= bound``: the largest of the groups' calibration errors
    of the scores (yes/no targets); it reads the scores, never the decisions."""

    metrics = (CALIBRATION_WITHIN_GROUPS,)
    reads_scores = True
    tasks = ("binary",)  # the targets whose scores are probabilities of one outcome

    def values(self, constraints, y_true, y_pred, codes, sample_weight=None):
        largest = _largest(calibration_errors(y_true, y_pred, codes, sample_weight=sample_weight))
        return {c.metric: largest for c in constraints}

    def value(self, constraint, y_true, y_pred, groups, sample_weight=None):
        codes = constraint.groups_of(groups)
        return _largest(calibration_errors(y_true, y_pred, codes, sample_weight=sample_weight))

    def intervals(
        self, constraints, y_true, y_pred, groups, level, random_state, n_boot,
        sample_weight=None, membership=None,
    ):  # fmt: skip
        weight = sample_weight
        if membership is not None:
            weight = membership if weight is None else np.asarray(weight) * membership
        out = {}
        for c in constraints:
            codes = np.asarray(c.groups_of(groups))
            n = int(codes.max(initial=-1)) + 1
            cal = group_calibration(
                y_true, y_pred, codes, list(range(n)), level=level,
                random_state=random_state, n_boot=n_boot, sample_weight=weight,
            )  # fmt: skip
            out[c.key] = (float(cal.table.loc["largest", "low"]),
                          float(cal.table.loc["largest", "high"]))  # fmt: skip
        return out


def _largest(errors: np.ndarray) -> float:
    return float(np.nanmax(errors)) if np.isfinite(errors).any() else float("nan")


__all__ = [
    "CALIBRATION_WITHIN_GROUPS",
    "DEFAULT_BINS",
    "GroupCalibration",
    "GroupCalibrationFamily",
    "calibration_errors",
    "group_calibration",
    "score_bins",
]
