"""``group_thresholds``: one deterministic decision threshold per group, fitted on held-out
scores to maximise the metric subject to every constraint at once.

Every constraint bounds how far apart the groups' rates may be (selection rate, TPR,
FPR, FNR). A difference bound ``b`` holds exactly when all groups' rates fit in some band
``[l, l + b]``; a ratio bound ``rho`` when they fit in ``[l, l / rho]``. So the search
sweeps the band's lower edge ``l`` over a grid (one axis per constrained rate) and, for
each band, lets every group independently take its best threshold inside the band; the
best sum wins. Accuracy and balanced accuracy decompose over groups, so this is exact
on the grid; other metrics use accuracy as the proxy. ``slack`` tightens every bound by
a fraction, buying a margin against the noise of small validation groups.

In a weighted fit (``sample_weight``) every rate and the metric's gain count each row
by its weight: the same rule as on the rows repeated by integer weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric, class_weights
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators.registry import register_mitigator

MAX_CANDIDATES = 256
_GRID_SIZES = {1: 201, 2: 61, 3: 21}


def shifted_proba(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Monotone per-row map of scores so that ``>= 0.5`` exactly when ``score >= threshold``."""
    s = np.asarray(scores, dtype=np.float64)
    t = np.clip(thresholds, 0.0, 1.0)
    below = 0.5 * s / np.maximum(t, 1e-12)
    above = 0.5 + 0.5 * (s - t) / np.maximum(1.0 - t, 1e-12)
    out = np.where(s >= thresholds, np.clip(above, 0.5, 1.0), np.clip(below, 0.0, 0.5 - 1e-9))
    return out.astype(np.float64)


@dataclass(frozen=True)
class GroupThresholdRule(DecisionRule):
    thresholds: np.ndarray  # one per group code; +inf accepts nobody, -inf everybody
    feasible: bool = True
    needs_group = True

    def predict_proba(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        assert groups is not None, "group_thresholds needs the group of every row"
        return shifted_proba(scores, self.thresholds[groups])


def _group_curves(
    scores: np.ndarray,
    y: np.ndarray,
    w_neg: float,
    w_pos: float,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Candidate thresholds of one group, its rates at each, and the metric gain at each
    (rows counted by ``weight`` when given)."""
    order = np.argsort(-scores, kind="stable")
    s, yy = scores[order], y[order]
    n, n_pos = len(s), int(yy.sum())
    n_neg = n - n_pos
    if weight is not None:
        return _weighted_curves(s, yy, np.asarray(weight, np.float64)[order], w_neg, w_pos)
    # k = number of rows accepted; valid where the score changes (ties go together)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(s) != 0) + 1, [n]])
    if len(cuts) > MAX_CANDIDATES:
        cuts = np.unique(cuts[np.linspace(0, len(cuts) - 1, MAX_CANDIDATES).round().astype(int)])
    tp = np.concatenate([[0], np.cumsum(yy)])[cuts]
    fp = cuts - tp
    padded = np.concatenate([[np.inf], s, [-np.inf]])
    thresholds = (padded[cuts] + padded[cuts + 1]) / 2  # between accepted and rejected rows
    thresholds[cuts == 0] = np.inf
    thresholds[cuts == n] = -np.inf
    tpr = tp / max(n_pos, 1)
    fpr = fp / max(n_neg, 1)
    rates = {"selection": cuts / n, "tpr": tpr, "fpr": fpr, "fnr": 1.0 - tpr}
    gain = w_pos * tp + w_neg * (n_neg - fp)
    return thresholds, rates, gain


def _cut_points(s: np.ndarray) -> np.ndarray:
    """Rows accepted at each candidate threshold of scores ``s`` sorted descending: where
    the score changes (ties go together), at most :data:`MAX_CANDIDATES` of them."""
    n = len(s)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(s) != 0) + 1, [n]])
    if len(cuts) > MAX_CANDIDATES:
        cuts = np.unique(cuts[np.linspace(0, len(cuts) - 1, MAX_CANDIDATES).round().astype(int)])
    return cuts


def _weighted_curves(
    s: np.ndarray, yy: np.ndarray, ww: np.ndarray, w_neg: float, w_pos: float
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """:func:`_group_curves` of sorted scores ``s`` whose rows weigh ``ww``."""
    n = len(s)
    cuts = _cut_points(s)
    accepted = np.concatenate([[0.0], np.cumsum(ww)])[cuts]
    tp = np.concatenate([[0.0], np.cumsum(ww * yy)])[cuts]
    fp = accepted - tp
    total, w_pos_rows = float(ww.sum()), float(np.sum(ww * yy))
    w_neg_rows = total - w_pos_rows
    padded = np.concatenate([[np.inf], s, [-np.inf]])
    thresholds = (padded[cuts] + padded[cuts + 1]) / 2
    thresholds[cuts == 0] = np.inf
    thresholds[cuts == n] = -np.inf
    tpr = tp / (w_pos_rows if w_pos_rows > 0 else 1.0)
    fpr = fp / (w_neg_rows if w_neg_rows > 0 else 1.0)
    selection = accepted / (total if total > 0 else 1.0)
    rates = {"selection": selection, "tpr": tpr, "fpr": fpr, "fnr": 1.0 - tpr}
    gain = w_pos * tp + w_neg * (w_neg_rows - fp)
    return thresholds, rates, gain


def _band_uppers(constraints: Sequence[Constraint], slack: float) -> dict[str, Callable]:
    """For each constrained rate, the band's upper edge as a function of its lower edge."""
    limits: dict[str, list[tuple[bool, float]]] = {}
    for c in constraints:
        bound = c.bound * (1 - slack) if not c.is_ratio else 1 - (1 - c.bound) * (1 - slack)
        for rate in c.rates:
            limits.setdefault(rate, []).append((c.is_ratio, bound))

    def upper(spec: list[tuple[bool, float]]) -> Callable[[np.ndarray], np.ndarray]:
        def fn(low: np.ndarray) -> np.ndarray:
            ups = [low / max(b, 1e-6) if is_ratio else low + b for is_ratio, b in spec]
            return np.minimum.reduce(ups)

        return fn

    return {rate: upper(spec) for rate, spec in limits.items()}


def fit_group_thresholds(
    scores: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    constraints: Sequence[Constraint],
    metric: Metric,
    slack: float = 0.0,
    sample_weight: np.ndarray | None = None,
    gains: tuple[float, float] | None = None,
) -> GroupThresholdRule:
    """Best per-group thresholds on these rows (see the module docstring); ``gains``: the
    gain of a correct negative and of a correct positive (None: the metric's), e.g. a
    false positive's cost relative to a false negative's and 1."""
    scores, y, groups = np.asarray(scores, np.float64), np.asarray(y), np.asarray(groups)
    n_groups = int(groups.max()) + 1
    w_neg, w_pos = class_weights(metric, y, sample_weight) if gains is None else gains
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    curves = [
        _group_curves(
            scores[groups == g], y[groups == g], w_neg, w_pos,
            None if w is None else w[groups == g],
        )
        for g in range(n_groups)
    ]  # fmt: skip
    if not constraints:
        best = [int(np.argmax(gain)) for _, _, gain in curves]
        return GroupThresholdRule(np.array([c[0][i] for c, i in zip(curves, best, strict=True)]))
    for widen in (1.0, 1.5, 2.0, 3.0, 5.0, 100.0):
        uppers = _band_uppers(constraints, max(1 - widen * (1 - slack), -50.0))
        picks = _best_in_bands(curves, uppers)
        if picks is not None:
            thresholds = np.array([c[0][i] for c, i in zip(curves, picks, strict=True)])
            return GroupThresholdRule(thresholds, feasible=widen == 1.0)
    raise AssertionError("an unbounded band always admits a threshold")  # pragma: no cover


def _best_in_bands(curves: list, uppers: dict[str, Callable]) -> list[int] | None:
    """Sweep the band grid; return each group's threshold index at the best band."""
    rates = list(uppers)
    size = _GRID_SIZES.get(len(rates), 11)
    lows = np.linspace(0.0, 1.0, size)
    grid = np.array(list(itertools.product(lows, repeat=len(rates))))  # (M, D)
    bands = [(grid[:, d], uppers[r](grid[:, d])) for d, r in enumerate(rates)]
    total = np.zeros(len(grid))
    per_group = []
    for _, group_rates, gain in curves:
        inside = np.ones((len(gain), len(grid)), dtype=bool)
        for (low, up), rate in zip(bands, rates, strict=True):
            r = group_rates[rate][:, None]
            inside &= (r >= low[None, :] - 1e-12) & (r <= up[None, :] + 1e-12)
        masked = np.where(inside, gain[:, None], -np.inf)
        idx = np.argmax(masked, axis=0)
        best = masked[idx, np.arange(len(grid))]
        total += best
        per_group.append(idx)
    if not np.isfinite(total).any():
        return None
    m = int(np.argmax(total))
    return [int(idx[m]) for idx in per_group]


@register_mitigator
class GroupThresholds(PostProcessor):
    name = "group_thresholds"
    needs_group_at_predict = True
    accepts_sample_weight = True

    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
    ) -> DecisionRule:
        return fit_group_thresholds(
            scores, y, groups, constraints, metric, slack=float(params.get("slack", 0.0)),
            sample_weight=sample_weight,
        )  # fmt: skip
