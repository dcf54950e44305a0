"""``gap_reweighing`` (in): the learner refitted on rows reweighed against each group's
rate gap, the weights' size found in three or four fits.

At a fixed set of Lagrange multipliers a reduction's best response is one fit of the
learner on rows reweighed (and relabelled) per group x label cell; fairlearn's
exponentiated gradient around a boosted learner typically ends at a single such model,
found in many fits. This mitigator finds the cell weights directly:

1. Fit the learner unweighted and measure each group's rate on the training rows, per
   stratum of the constraint (DP: all rows; TPR parity: positives; FPR parity:
   negatives; equalized odds: both). A model whose gaps are within the aim
   (``bound_scale`` x the bound) is returned as it is.
2. Move each group's log-weights against its gap: ``d_g = (mean rate - rate_g) / spread``
   in [-1, 1]; in a stratum scaled by ``t``, a row's weight is ``exp(+t d_g)`` for a
   positive and ``exp(-t d_g)`` for a negative (a low-rate group's positives count more,
   its negatives less, so the learner predicts it positive more often).
3. Refit at a probe ``t``, then where the straight line through the last two measured
   gaps meets the aim (a secant step per stratum); once more if that fit's gap is still
   over the bound itself (a gap far from linear in ``t``: strong unfairness).

Three fits, at most four (one where the unweighted model is already within the aim), where
exponentiated gradient takes one per iteration plus its own work. The model keeps its cells'
weights: the pick's refit on every row trains them once (:meth:`GapReweighing.refit`)
rather than stepping again on other rows to other weights. Like the reductions it
meets its aim on the training rows only, so ``bound_scale`` < 1 leaves a margin for new
rows. ``predict_proba`` is the learner's own; the group is not used at predict time.
Differences only (DP, TPR, FPR parity or equalized odds, one notion), any number of groups.

Searched by default only without the group at predict time (``blind_default``): with the
group, post-processing reaches the same trade-off for less time, so the runs spent here
would buy nothing (``docs/benchmarks.md``). Named in ``mitigators``, it runs either way.

In a weighted fit (``sample_weight``) the groups' rates are weighted, every fit trains on
the cells' weights times the rows' (scaled to the rows' total weight), and the refit
likewise: on integer weights, what the rows repeated that many times give.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.measures.constraints import Constraint
from fairautoml.mitigators._base import (
    EstimatorScoringModel,
    ScoringModel,
    TrainingMitigator,
    time_left,
    trained_parts,
    weight_kwargs,
)
from fairautoml.mitigators._targets import STRATA, OneDifference, difference_target
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task

PROBE = 0.5  # the probe fit's log-weight scale: weights within exp(+-0.5) of the others'
MAX_SCALE = 6.0  # the secant step's ceiling (weights within exp(+-6))
MAX_FITS = 4  # the unweighted fit, the probe, the secant step and one more


def stratum_rows(y: np.ndarray, label: int | None) -> np.ndarray:
    """The rows a stratum's rates are taken over (``None``: every row)."""
    return np.ones(len(y), dtype=bool) if label is None else y == label


def group_rates(
    decisions: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    label: int | None,
    sample_weight: np.ndarray | None = None,
) -> dict[Any, float]:
    """Each group's share of positive decisions among its rows of the stratum, rows counted
    by ``sample_weight`` when given (NaN: no rows, or no weight)."""
    rows = stratum_rows(y, label)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    out: dict[Any, float] = {}
    for g in np.unique(groups):
        in_cell = rows & (groups == g)
        total = float(np.sum(w[in_cell]))
        out[g] = float(np.sum(w[in_cell] * decisions[in_cell])) / total if total > 0 else math.nan
    return out


class _Stratum:
    """One stratum's direction (fixed by the unweighted fit) and its measured gap."""

    def __init__(self, label: int | None, rates: dict[Any, float]) -> None:
        self.label = label
        known = {g: r for g, r in rates.items() if not math.isnan(r)}
        self.high = max(known, key=known.__getitem__)
        self.low = min(known, key=known.__getitem__)
        self.gap0 = spread(rates)
        mean = float(np.mean(list(known.values())))
        width = max(self.gap0, 1e-12)
        self.direction = {g: (mean - known[g]) / width if g in known else 0.0 for g in rates}

    def gap(self, rates: dict[Any, float]) -> float:
        """The signed gap between the unweighted fit's highest- and lowest-rate groups."""
        return rates[self.high] - rates[self.low]

    def secant(self, last: tuple[float, float], before: tuple[float, float], aim: float) -> float:
        """The scale where the line through two measured (scale, gap) points meets ``aim``;
        twice the last scale where the last step did not narrow the gap."""
        run = last[0] - before[0]
        slope = (last[1] - before[1]) / run if run else 0.0
        scale = 2 * last[0] if slope > -1e-9 else last[0] + (aim - last[1]) / slope
        return float(np.clip(scale, 0.0, MAX_SCALE))


LogWeights = dict[tuple[Any, int], float]  # (group, label) -> the cell's log-weight


def cell_log_weights(strata: Sequence[_Stratum], scales: Sequence[float]) -> LogWeights:
    """Each (group, label) cell's log-weight: ``+-t d_g`` summed over the strata the label
    is in, + for positives."""
    table: LogWeights = {}
    for stratum, scale in zip(strata, scales, strict=True):
        for label in (0, 1):
            if stratum.label is not None and stratum.label != label:
                continue
            sign = 1.0 if label == 1 else -1.0
            for g, d in stratum.direction.items():
                table[(g, label)] = table.get((g, label), 0.0) + scale * d * sign
    return table


def row_weights(
    table: LogWeights, y: np.ndarray, groups: np.ndarray, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Per-row weights (mean 1) from the cells' log-weights (a cell not in ``table``: 0);
    with ``sample_weight``, times the rows' weights, scaled to their total."""
    log_w = np.zeros(len(y))
    codes, row_code = np.unique(groups, return_inverse=True)  # per group, not per row
    for label in (0, 1):
        per_group = np.array([table.get((g, label), 0.0) for g in codes])
        log_w = np.where(y == label, per_group[row_code], log_w)
    weights = np.exp(log_w)
    if sample_weight is None:
        return weights / weights.mean()
    weighted = weights * np.asarray(sample_weight, dtype=np.float64)
    return weighted * (float(np.sum(sample_weight)) / float(np.sum(weighted)))


def cell_weights(
    y: np.ndarray, groups: np.ndarray, strata: Sequence[_Stratum], scales: Sequence[float]
) -> np.ndarray:
    """Per-row weights (mean 1): ``exp(+-t d_g)`` per stratum, + for positives."""
    return row_weights(cell_log_weights(strata, scales), y, groups)


class ReweighedModel(EstimatorScoringModel):
    """The learner fitted on reweighed rows, with the cells' log-weights it was fitted
    with (empty: unweighted), which a refit on more rows reuses."""

    def __init__(self, estimator: Any, log_weights: LogWeights, task: Task) -> None:
        super().__init__(estimator, task)
        self.log_weights = log_weights

    def __getstate__(self) -> dict[str, Any]:
        """The cells as ``[group, label, log-weight]`` triples: a skops model file stores
        dicts with text or number keys only, not tuples."""
        state = dict(self.__dict__)
        state["log_weights"] = [[g, label, w] for (g, label), w in self.log_weights.items()]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        cells = state["log_weights"]
        if isinstance(cells, list):
            state["log_weights"] = {(g, int(label)): float(w) for g, label, w in cells}
        self.__dict__.update(state)


def mean_log_weights(tables: Sequence[LogWeights]) -> LogWeights:
    """The cells' mean log-weight over several fits (a cell missing from one counts 0)."""
    cells = {cell for table in tables for cell in table}
    return {cell: float(np.mean([t.get(cell, 0.0) for t in tables])) for cell in cells}


@register_mitigator
class GapReweighing(OneDifference, TrainingMitigator):
    name = "gap_reweighing"
    stage = "in"
    blind_default = True
    accepts_sample_weight = True

    def fit(
        self,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
        *,
        task: Task,
    ) -> ScoringModel:
        target = difference_target(constraints, self.name)
        y, groups, sw = np.asarray(y), np.asarray(groups), sample_weight
        aim = float(params.get("bound_scale", 0.6)) * target.bound
        start = time.monotonic()
        estimator = make_estimator().fit(X, y, **weight_kwargs(sw))
        decisions = decide(estimator, X, task)
        rates = [group_rates(decisions, y, groups, s, sw) for s in STRATA[target.notion]]
        strata = [_Stratum(s, r) for s, r in zip(STRATA[target.notion], rates, strict=True)]
        if all(s.gap0 <= aim for s in strata):
            return ReweighedModel(estimator, {}, task)
        one_fit = time.monotonic() - start
        if 2 * one_fit > time_left():
            raise TimeoutError(
                f"gap_reweighing would need about {2 * one_fit:.0f} s more (two learner fits) "
                f"but the search has {max(time_left(), 0):.0f} s left; skipped. Raise "
                "time_budget, or search a cheaper learner."
            )
        # strata already within the aim keep their weights; the others' (scale, gap) points
        points: list[list[tuple[float, float]]] = [[(0.0, s.gap0)] for s in strata]
        scales = [PROBE if s.gap0 > aim else 0.0 for s in strata]
        fits = 1
        while True:  # the probe, the secant step, perhaps one more
            table = cell_log_weights(strata, scales)
            weights = row_weights(table, y, groups, sw)
            estimator = make_estimator().fit(X, y, sample_weight=weights)
            fits += 1
            decisions = decide(estimator, X, task)
            rates = [group_rates(decisions, y, groups, s.label, sw) for s in strata]
            done = fits > 2 and all(spread(r) <= target.bound for r in rates)
            if done or fits == MAX_FITS or one_fit > time_left():
                return ReweighedModel(estimator, table, task)
            for i, stratum in enumerate(strata):
                if stratum.gap0 > aim:
                    points[i].append((scales[i], stratum.gap(rates[i])))
                    scales[i] = stratum.secant(points[i][-1], points[i][-2], aim)

    def refit(
        self,
        fitted: ScoringModel,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
        *,
        task: Task,
    ) -> ScoringModel:
        """One fit on these rows with the cells' weights the measured model was fitted
        with (their mean over cross-validation's fold models): searched again on other
        rows, the secant steps can land on other weights, and the refitted model would
        not be the one whose fairness was measured."""
        parts = trained_parts(fitted)
        if not all(isinstance(p, ReweighedModel) for p in parts):
            return self.fit(
                make_estimator, X, y, groups, constraints, params, random_state,
                **weight_kwargs(sample_weight), task=task,
            )  # fmt: skip
        table = mean_log_weights([p.log_weights for p in parts])  # type: ignore[attr-defined]
        y, groups = np.asarray(y), np.asarray(groups)
        if not any(table.values()):
            estimator = make_estimator().fit(X, y, **weight_kwargs(sample_weight))
            return ReweighedModel(estimator, {}, task)
        weights = row_weights(table, y, groups, sample_weight)
        return ReweighedModel(make_estimator().fit(X, y, sample_weight=weights), table, task)


def spread(rates: dict[Any, float]) -> float:
    """The largest between-group difference of the rates (groups without rows left out)."""
    known = [r for r in rates.values() if not math.isnan(r)]
    return max(known) - min(known)


def decide(estimator: Any, X: pd.DataFrame, task: Task) -> np.ndarray:
    """The fitted learner's decisions, as the raw model's point is scored."""
    return task.decide(task.scores_of(estimator, X))
