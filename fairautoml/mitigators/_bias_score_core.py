"""Post-hoc bias-score rule of Chen, Klochkov & Liu (ICLR 2024), for two groups.

Why it works: accuracy is ``E[f(x) b(x)] + const`` with the base margin ``b = w1*eta - w0*(1-eta)``
(``eta = P(Y=1|x)``; ``w = (1, 1)`` for accuracy, inverse class priors for balanced accuracy), and
each group-rate gap is linear in ``f`` too: ``rate_1 - rate_0 = E[f(x) c_k(x)]`` with

* selection rate (DP):  ``c(x) = q1(x)/P(A=1) - q0(x)/P(A=0)``,
* TPR (EOp):            ``c(x) = eta(x) * (q1(x)/P(A=1,Y=1) - q0(x)/P(A=0,Y=1))``,
* FPR:                  ``c(x) = (1-eta(x)) * (q1(x)/P(A=1,Y=0) - q0(x)/P(A=0,Y=0))``,

where ``q_a(x) = P(A=a|x)``. The Lagrangian optimum is ``f(x) = 1[b(x) >= sum_k lam_k c_k(x)]``:
the unconstrained decision is flipped exactly where ``sum_k lam_k s_k(x) > 1`` for the *bias
scores* ``s_k = c_k / b`` (bias removed per unit of accuracy given up). DP and TPR/FPR parity
threshold one score (``t = 1/lam``; the sign of ``lam`` picks which group is favoured); equalized
odds is a linear rule in two scores. ``params`` holds the multipliers ``lam``.

Fitting sweeps, for each direction ``d`` of ``lam`` (two signs for one score, ``grid_size`` angles
for two), every distinct cut of ``u = d . s`` exactly with cumulative sums, then re-checks the
best cuts on the rule's actual decisions (exact counts, tested against ``fairlearn.metrics``;
the trial's reported values come from fairlearn). The TPR/FPR scores use ``P(A=a, Y=y|x) = q_a(x) *
P(Y=y|x)``, exact when the group is known (one-hot ``p_group``) and ``p_y`` conditions on it, an
approximation otherwise (the paper fits a joint (A, Y) model instead).
With ``sample_weight`` every expectation above is weighted (the priors, the sweep's metric
and gaps, the re-check): on integer weights, the rule of the rows repeated that many times.
More than two groups would need a (G-1)-dimensional (2(G-1) for EO) rule search; it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from fairautoml.measures.decisions import confusion_counts, rates_from_counts

__all__ = [
    "SUPPORTED_CONSTRAINTS",
    "SUPPORTED_METRICS",
    "BiasScoreRule",
    "fit_bias_score_rule",
]

# constraint -> rates whose group gap it bounds: "sr" selection rate, "tpr", "fpr"
SUPPORTED_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("sr",),
    "true_positive_rate_parity": ("tpr",),
    "false_positive_rate_parity": ("fpr",),
    "equalized_odds": ("tpr", "fpr"),
}
SUPPORTED_METRICS = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score}
_TOL = 1e-12  # slack on "violation <= bound" against float noise in rate differences
_N_CONFIRM = 10  # best sweep candidates re-checked on the rule's actual decisions


def _check_scores(p_y: np.ndarray, p_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p_y = np.asarray(p_y, dtype=np.float64)
    p_group = np.asarray(p_group, dtype=np.float64)
    if p_y.ndim != 1:
        raise ValueError(f"p_y must be 1-D (one P(Y=1|x) per row); got shape {p_y.shape}.")
    if p_group.ndim != 2 or p_group.shape[0] != p_y.shape[0]:
        raise ValueError(
            f"p_group must have shape (n_rows, n_groups) = ({p_y.shape[0]}, 2); "
            f"got {p_group.shape}."
        )
    if p_group.shape[1] != 2:
        raise ValueError(
            f"The bias-score rule supports exactly 2 groups; p_group has {p_group.shape[1]} "
            "columns. More groups need a (G-1)-parameter rule search, which is not implemented: "
            "merge groups into two (e.g. privileged vs rest)."
        )
    for name, a in (("p_y", p_y), ("p_group", p_group)):
        if not (np.isfinite(a).all() and (a >= 0).all() and (a <= 1).all()):
            raise ValueError(f"{name} must hold finite probabilities in [0, 1].")
    if not np.allclose(p_group.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("Each row of p_group must sum to 1 (probabilities or one-hot groups).")
    return p_y, p_group


@dataclass(frozen=True)
class BiasScoreRule:
    """Fitted rule ``f(x) = 1[b(x) - sum_k params[k] * c_k(x) >= 0]`` (see the module docstring).

    ``priors[k] = (P(A=0, S_k), P(A=1, S_k))`` with ``S_k`` the rows rate ``k`` is taken over (all
    rows, ``Y=1`` or ``Y=0``); ``class_weights = (w0, w1)`` define the base margin. ``fit_*`` are
    fairlearn/sklearn measurements on the fitting rows.
    """

    constraint: str
    params: tuple[float, ...]
    priors: tuple[tuple[float, float], ...]
    class_weights: tuple[float, float] = (1.0, 1.0)
    metric: str = "accuracy"
    bound: float = 0.0
    feasible: bool = True
    fit_violation: float = float("nan")
    fit_metric: float = float("nan")

    @property
    def thresholds(self) -> tuple[float, ...]:
        """Paper's form: flip where ``s_k(x) > 1/params[k]`` (one score; ``inf`` = no flip)."""
        return tuple(np.inf if lam == 0 else 1.0 / lam for lam in self.params)

    def _components(self, p_y: np.ndarray, p_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Base margin ``b`` (n,) and rate-gap contributions ``c`` (n, K)."""
        w0, w1 = self.class_weights
        b = w1 * p_y - w0 * (1.0 - p_y)
        factor = {"sr": np.ones_like(p_y), "tpr": p_y, "fpr": 1.0 - p_y}
        kinds = SUPPORTED_CONSTRAINTS[self.constraint]
        c = np.column_stack(
            [
                factor[kind] * (p_group[:, 1] / pi1 - p_group[:, 0] / pi0)
                for kind, (pi0, pi1) in zip(kinds, self.priors, strict=True)
            ]
        )
        return b, c

    def bias_scores(self, p_y: np.ndarray, p_group: np.ndarray) -> np.ndarray:
        """Bias scores ``s_k = c_k / b`` (n, K): the instance-level measure the rule thresholds."""
        b, c = self._components(*_check_scores(p_y, p_group))
        b = np.where(b == 0, np.finfo(np.float64).eps, b)  # b == 0: flipping is free
        return c / b[:, None]

    def predict_proba(self, p_y: np.ndarray, p_group: np.ndarray) -> np.ndarray:
        """Adjusted score ``0.5 + 0.5 * m / M`` with fair margin ``m = b - c @ params``.

        ``M`` bounds ``|m|`` (so the score lies in [0, 1]) and is a per-rule constant, so the score
        is affine in ``m``: increasing in ``p_y`` for fixed ``p_group``. With ``params == 0`` and
        metric accuracy it equals ``p_y``.
        """
        b, c = self._components(*_check_scores(p_y, p_group))
        lam = np.asarray(self.params, dtype=np.float64)
        c_max = np.array([max(1.0 / pi0, 1.0 / pi1) for pi0, pi1 in self.priors])
        scale = max(self.class_weights) + float(np.abs(lam) @ c_max)
        return np.clip(0.5 + 0.5 * (b - c @ lam) / scale, 0.0, 1.0)

    def predict(self, p_y: np.ndarray, p_group: np.ndarray) -> np.ndarray:
        """0/1 decisions, defined as ``predict_proba >= 0.5`` so the two always agree."""
        return (self.predict_proba(p_y, p_group) >= 0.5).astype(np.int64)


def _sweep(
    u: np.ndarray,
    pred0: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    kinds: tuple[str, ...],
    metric: str,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric, violation and threshold of "flip every row with ``u > t``" for each distinct cut
    (rows counted by ``weight`` when given).

    Vectorised fast path (cumulative sums over rows sorted by ``u``); checked against fairlearn in
    the tests and on the selected rule.
    """
    idx = np.flatnonzero(u > 0)
    idx = idx[np.argsort(-u[idx], kind="stable")]
    w = np.ones(y.size) if weight is None else weight
    us, yi, gi, wi = u[idx], y[idx], groups[idx], w[idx]
    delta = (1 - 2 * pred0[idx]) * wi  # +w flips 0 -> 1, -w flips 1 -> 0

    def cum(start: float, step: np.ndarray) -> np.ndarray:
        return start + np.concatenate(([0.0], np.cumsum(step, dtype=np.float64)))

    n1 = np.sum(w * y)
    n0 = np.sum(w) - n1
    tp = cum(np.sum(w * pred0 * y), delta * yi)
    tn = cum(np.sum(w * (1 - pred0) * (1 - y)), -delta * (1 - yi))
    score = (tp + tn) / (n0 + n1) if metric == "accuracy" else 0.5 * (tp / n1 + tn / n0)
    viol = np.zeros_like(score)
    stratum = {"sr": np.ones_like(y), "tpr": y, "fpr": 1 - y}
    for kind in kinds:
        in_s, step = stratum[kind], delta * stratum[kind][idx]
        r0, r1 = (
            cum(np.sum(w * pred0 * in_s * (groups == g)), step * (gi == g))
            / np.sum(w * in_s * (groups == g))
            for g in (0, 1)
        )
        viol = np.maximum(viol, np.abs(r1 - r0))
    if us.size == 0:
        return score, viol, np.array([np.inf])
    cut = np.concatenate(([True], us[:-1] > us[1:], [True]))  # only cuts between distinct u
    t = np.concatenate(([np.inf], 0.5 * (us[:-1] + us[1:]), [0.5 * us[-1]]))
    return score[cut], viol[cut], t[cut]


_RATE = {"sr": "selection", "tpr": "tpr", "fpr": "fpr"}  # kind -> key of rates_from_counts


def _gap(
    y: np.ndarray,
    pred: np.ndarray,
    groups: np.ndarray,
    kinds: tuple[str, ...],
    weight: np.ndarray | None = None,
) -> float:
    """The two-group gap of the rule's actual decisions, from exact (weighted) per-group counts
    (``confusion_counts``, tested against fairlearn; fairlearn's MetricFrame costs more)."""
    rates = rates_from_counts(*confusion_counts(y, pred, groups, weight))
    return max(float(np.ptp(rates[_RATE[kind]][0])) for kind in kinds)


def fit_bias_score_rule(
    p_y: np.ndarray,
    p_group: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    constraint: str,
    bound: float,
    metric: str = "accuracy",
    grid_size: int = 64,
    sample_weight: np.ndarray | None = None,
) -> BiasScoreRule:
    """Choose the multipliers maximising ``metric`` on these rows subject to gap <= ``bound``.

    ``groups`` (true codes 0/1) measure the constraint; ``p_group`` is what the rule sees (one-hot
    true groups or predicted probabilities). Thresholds are swept exactly; ``grid_size`` is the
    number of directions tried for the two-score (equalized-odds) rule (64, 5.6 degrees apart: a
    finer grid costs more time and gains accuracy within the noise: ``docs/decisions.md``). If
    no rule meets the bound, the least-violating one is returned with ``feasible=False``. With
    ``balanced_accuracy`` the unconstrained decision (``params == 0``) is ``p_y >= P(Y=1)``
    (its Bayes rule), not 0.5. ``sample_weight`` weighs every row in the priors, the metric
    and the gaps.
    """
    if constraint not in SUPPORTED_CONSTRAINTS:
        raise ValueError(
            f"Unknown constraint {constraint!r}; supported: {', '.join(SUPPORTED_CONSTRAINTS)}."
        )
    if metric not in SUPPORTED_METRICS:
        raise ValueError(f"Unknown metric {metric!r}; supported: {', '.join(SUPPORTED_METRICS)}.")
    try:
        ok_bound = bool(np.isfinite(float(bound)) and float(bound) >= 0)
    except (TypeError, ValueError):
        ok_bound = False
    if not ok_bound:
        raise ValueError(f"bound must be a finite number >= 0, got {bound!r}.")
    if int(grid_size) < 4:
        raise ValueError(f"grid_size must be an integer >= 4, got {grid_size!r}.")
    p_y, p_group = _check_scores(p_y, p_group)
    y, groups = np.asarray(y), np.asarray(groups)
    n = p_y.shape[0]
    if y.shape != (n,) or groups.shape != (n,):
        raise ValueError(
            f"y and groups must be 1-D with one entry per row of p_y ({n}); "
            f"got shapes {y.shape} and {groups.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must contain only 0 and 1.")
    if not np.isin(groups, (0, 1)).all():
        raise ValueError("groups must be the true group codes 0/1 (column order of p_group).")
    y, groups = y.astype(np.int64), groups.astype(np.int64)
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.shape != (n,) or not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise ValueError(f"sample_weight must be {n} finite weights >= 0, not all zero.")
    kinds = SUPPORTED_CONSTRAINTS[constraint]
    stratum = {"sr": np.ones(n, dtype=bool), "tpr": y == 1, "fpr": y == 0}
    priors = tuple(
        (
            float(np.average(stratum[k] & (groups == 0), weights=w)),
            float(np.average(stratum[k] & (groups == 1), weights=w)),
        )
        for k in kinds
    )
    if min(min(p) for p in priors) == 0:
        raise ValueError(
            f"Each group needs rows in every stratum the {constraint!r} rates use "
            f"(both classes for TPR/FPR); got P(A=a, stratum) = {priors}."
        )
    pi1 = float(np.average(y, weights=w))
    if metric == "balanced_accuracy" and pi1 in (0, 1):
        raise ValueError("balanced_accuracy needs both classes in y.")
    weights = (1.0, 1.0) if metric == "accuracy" else (0.5 / (1 - pi1), 0.5 / pi1)
    base = BiasScoreRule(constraint, (0.0,) * len(kinds), priors, weights, metric, float(bound))
    pred0 = base.predict(p_y, p_group)
    s = base.bias_scores(p_y, p_group)
    if len(kinds) == 1:
        dirs = np.array([[1.0], [-1.0]])
    else:
        ang = np.linspace(0.0, 2 * np.pi, int(grid_size), endpoint=False)
        dirs = np.column_stack((np.cos(ang), np.sin(ang)))

    cands = []  # (infeasible, key2, key3, lam)
    for d in dirs:
        score, viol, t = _sweep(s @ d, pred0, y, groups, kinds, metric, w)
        ok = viol <= bound + _TOL
        keys = (~ok, np.where(ok, -score, viol), np.where(ok, viol, -score))
        for i in np.lexsort(keys[::-1])[:3]:
            lam = tuple(float(v) for v in (d / t[i] if np.isfinite(t[i]) else 0.0 * d))
            cands.append((bool(keys[0][i]), float(keys[1][i]), float(keys[2][i]), lam))
    cands.sort(key=lambda c: c[:3])

    metric_fn = SUPPORTED_METRICS[metric]
    checked = []
    for *_, lam in cands[:_N_CONFIRM]:
        rule = BiasScoreRule(constraint, lam, priors, weights, metric, float(bound))
        pred = rule.predict(p_y, p_group)
        gap = _gap(y, pred, groups, kinds, w)
        checked.append((gap > bound + _TOL, gap, -float(metric_fn(y, pred, sample_weight=w)), lam))
        if gap <= bound + _TOL:
            break
    infeasible, gap, neg_metric, lam = min(checked, key=lambda c: c[:3])
    return BiasScoreRule(
        constraint, lam, priors, weights, metric, float(bound), not infeasible, gap, -neg_metric
    )
