"""FairGBM-style constrained gradient boosting (proxy-Lagrangian on top of LightGBM).

The primal player boosts trees on the Lagrangian ``log-loss + sum(lambda * proxy constraints)``,
where the proxy of a group's rate is its mean predicted probability (a smooth, bounded stand-in
for the 0/1 decision rate that can be pushed both up and down). The dual player does projected
gradient ascent on the multipliers using the *hard* (threshold 0.5) group rates, as in the
proxy-Lagrangian of Cotter et al. (2019) and FairGBM (Cruz et al., ICLR 2023). Unlike FairGBM,
demographic parity is supported next to TPR/FPR parity and equalized odds.

A constraint ``max_g rate_g - min_g rate_g <= bound`` is written per group as two one-sided
constraints around the mid-range ``c = (max + min) / 2``: ``rate_g - c <= bound / 2`` and
``c - rate_g <= bound / 2``; this is exact for any number of groups. The primal player sees each
constraint scaled by its group's share of the rows and uses the share-weighted mean proxy (the
overall rate) as a smooth stand-in for ``c``. The gradient then tilts every row of group ``g`` by
``mu_g - mean(mu)`` log-odds units (``mu`` = net multiplier), whatever the group's size: without
the scaling a small group gets a push ~1 / share per unit multiplier and the dual oscillates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

__all__ = [
    "SUPPORTED_CONSTRAINTS",
    "ConstrainedBoostingResult",
    "fit_constrained_booster",
    "predict_margin",
    "predict_proba_positive",
]

# constraint kind -> rates it bounds: "sr" selection rate, "tpr", "fpr"
SUPPORTED_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("sr",),
    "true_positive_rate_parity": ("tpr",),
    "false_positive_rate_parity": ("fpr",),
    "equalized_odds": ("tpr", "fpr"),
}
# The dual aims at ``bound - slack``: slack is _SLACK_Z standard errors of the held-out disparity
# (so the bound also tends to hold on new data), capped at _MAX_SLACK_FRACTION * bound.
_SLACK_Z = 1.0
_MAX_SLACK_FRACTION = 0.5
# Upper cap on each multiplier: keeps the log-loss term in charge, so no collapse to a constant.
_MAX_MULTIPLIER = 10.0
# Share of rows (stratified by group and label) kept out of boosting to measure the dual rates.
_DUAL_HOLDOUT_FRACTION = 0.2
_MIN_HESSIAN = 1e-6


@dataclass(frozen=True)
class ConstrainedBoostingResult:
    """Trained booster plus the dual state; ``init_score`` is added to the raw tree output.

    ``multipliers`` has shape ``(n_rates, n_groups, 2)``: last axis is (rate above mid-range,
    rate below mid-range). ``history`` holds one dict per dual update plus one for the final model:
    hard (threshold 0.5) rates per group on the dual hold-out rows, their max - min ``disparity``
    per rate, ``violation`` = largest disparity - bound, and the multipliers after the update.
    """

    booster: lgb.Booster
    multipliers: np.ndarray
    n_rounds: int
    history: list[dict]
    init_score: float = 0.0


def _thread_kwargs(params: dict) -> dict:
    """``num_threads`` of the training params for ``Booster.predict``, which ignores them and
    otherwise starts one OpenMP thread per core (very slow when the cores are shared)."""
    aliases = ("num_threads", "num_thread", "nthread", "nthreads", "n_jobs")
    return next(({"num_threads": params[k]} for k in aliases if k in params), {})


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def _validate(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, w: np.ndarray | None, constraint: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if constraint not in SUPPORTED_CONSTRAINTS:
        raise ValueError(
            f"Unknown constraint {constraint!r}; supported: {', '.join(SUPPORTED_CONSTRAINTS)}."
        )
    if not isinstance(X, pd.DataFrame):
        raise TypeError("X must be a pandas DataFrame.")
    y = np.asarray(y)
    groups = np.asarray(groups)
    n = len(X)
    if y.shape != (n,) or groups.shape != (n,):
        raise ValueError("y and groups must be 1-D with one entry per row of X.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must contain only 0 and 1.")
    if not np.issubdtype(groups.dtype, np.integer) or groups.min() < 0:
        raise ValueError("groups must be non-negative integer codes 0..G-1.")
    if np.unique(groups).size < 2:
        raise ValueError("At least two groups are needed for a fairness constraint.")
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("sample_weight must be finite, non-negative, one per row, not all zero.")
    return y.astype(np.float64), groups.astype(np.int64), w


def _rate_masks(y: np.ndarray, rates: tuple[str, ...]) -> np.ndarray:
    """Row membership of the conditioning set of each rate, shape (n_rates, n)."""
    masks = {"sr": np.ones_like(y, dtype=bool), "tpr": y == 1, "fpr": y == 0}
    return np.stack([masks[r] for r in rates])


def _group_rates(
    values: np.ndarray, masks: np.ndarray, groups: np.ndarray, w: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of ``values`` per (rate, group) and the (rate, group) denominators."""
    wm = masks * w  # (n_rates, n)
    num = np.stack([np.bincount(groups, m * values, minlength=n_groups) for m in wm])
    den = np.stack([np.bincount(groups, m, minlength=n_groups) for m in wm])
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den, den


def _constraint_gaps(rates: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Signed gaps (rate - mid, mid - rate) per (rate, group), shape (n_rates, n_groups, 2)."""
    hi = np.where(valid, rates, -np.inf).max(axis=1, keepdims=True)
    lo = np.where(valid, rates, np.inf).min(axis=1, keepdims=True)
    d = np.where(valid, rates - 0.5 * (hi + lo), 0.0)
    return np.stack([d, -d], axis=-1)


def _dual_split(
    y: np.ndarray, groups: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (group x label) split into boosting rows and rows the dual player measures on.

    With too few rows to hold any out, the dual falls back to the (optimistic) training rates.
    """
    strata = groups * 2 + y.astype(np.int64)
    hold = np.zeros(len(y), dtype=bool)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        hold[rng.permutation(rows)[: int(_DUAL_HOLDOUT_FRACTION * len(rows))]] = True
    if not hold.any():
        return np.arange(len(y)), np.arange(len(y))
    return np.flatnonzero(~hold), np.flatnonzero(hold)


def fit_constrained_booster(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    constraint: str,
    bound: float,
    params: dict | None = None,
    num_boost_round: int = 100,
    dual_lr: float = 1.0,
    dual_every: int = 5,
    sample_weight: np.ndarray | None = None,
    random_state: int | None = None,
) -> ConstrainedBoostingResult:
    """Boost a binary classifier whose group rates differ by at most ``bound`` (max - min).

    Trees are grown on ``1 - _DUAL_HOLDOUT_FRACTION`` of the rows; the dual player measures the
    hard rates on the rest (Cotter et al., 2019), because in-sample rates of an overfitting booster
    look fair (e.g. TPR = 1 everywhere) and so never activate the constraint. It aims at
    ``bound`` minus about one standard error of that estimate, so that new data tend to meet it.
    Every ``dual_every`` rounds the multipliers move by ``dual_lr * dual_every * violation`` (so
    ``dual_lr`` is a rate per boosting round) and are projected to ``[0, _MAX_MULTIPLIER]``.
    ``params`` are LightGBM parameters; ``objective`` and ``metric`` are always set here.
    """
    y, groups, w = _validate(X, y, groups, sample_weight, constraint)
    if not (np.isfinite(bound) and bound >= 0):
        raise ValueError(f"bound must be a finite number >= 0, got {bound!r}.")
    if num_boost_round < 1 or dual_every < 1 or dual_lr < 0:
        raise ValueError("Need num_boost_round >= 1, dual_every >= 1 and dual_lr >= 0.")
    n_groups = int(groups.max()) + 1
    rates_kind = SUPPORTED_CONSTRAINTS[constraint]
    fit, hold = _dual_split(y, groups, np.random.default_rng(random_state))
    y_fit, g_fit, w_fit = y[fit], groups[fit], w[fit]
    y_hold, g_hold, w_hold = y[hold], groups[hold], w[hold]
    X_hold = X.iloc[hold]
    masks_fit, masks_hold = _rate_masks(y_fit, rates_kind), _rate_masks(y_hold, rates_kind)
    _, den_fit = _group_rates(y_fit, masks_fit, g_fit, w_fit, n_groups)
    _, den_hold = _group_rates(y_hold, masks_hold, g_hold, w_hold, n_groups)
    valid = (den_fit > 0) & (den_hold > 0)  # e.g. no positives -> no TPR: leave unconstrained
    share = np.where(valid, den_fit, 0.0) + 1e-300  # weight of each group within each rate
    wm_hold = masks_hold * w_hold
    n_eff = np.stack([np.bincount(g_hold, m, minlength=n_groups) for m in wm_hold]) ** 2
    n_eff /= np.maximum(np.stack([np.bincount(g_hold, m**2, n_groups) for m in wm_hold]), 1e-300)
    lam = np.zeros((len(rates_kind), n_groups, 2))
    history: list[dict] = []

    p0 = float(np.clip(np.average(y_fit, weights=w_fit), 1e-6, 1 - 1e-6))
    init_score = float(np.log(p0 / (1.0 - p0)))
    hold_margin = np.full(len(hold), init_score)

    def dual_step(env: lgb.callback.CallbackEnv) -> None:
        """Projected ascent on held-out hard-decision constraints (proxy-Lagrangian dual)."""
        done = env.iteration + 1
        if done % dual_every and done != env.end_iteration:
            return
        start = done - ((done - 1) % dual_every + 1)  # first tree not yet in hold_margin
        hold_margin[:] += env.model.predict(
            X_hold, start_iteration=start, num_iteration=done - start, raw_score=True, **threads
        )
        hard = (hold_margin > 0).astype(np.float64)
        rates, _ = _group_rates(hard, masks_hold, g_hold, w_hold, n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            gaps = _constraint_gaps(rates, valid)
            var = np.where(valid, rates * (1.0 - rates) / n_eff, 0.0)
        rows = np.arange(len(rates))
        hi, lo = gaps[..., 0].argmax(axis=1), gaps[..., 1].argmax(axis=1)
        slack = np.minimum(
            _SLACK_Z * np.sqrt(var[rows, hi] + var[rows, lo]), _MAX_SLACK_FRACTION * bound
        )
        half_target = 0.5 * (bound - slack)[:, None, None]
        disparity = 2.0 * gaps[..., 0].max(axis=1)  # max - min per rate
        if done < env.end_iteration:  # the last check only records the final model
            step = np.where(valid[..., None], gaps - half_target, 0.0)
            np.clip(lam + dual_lr * dual_every * step, 0.0, _MAX_MULTIPLIER, out=lam)
        history.append(
            {
                "round": done,
                "rates": np.where(valid, rates, np.nan).tolist(),
                "disparity": disparity.tolist(),
                "violation": float(disparity.max() - bound),
                "multipliers": lam.copy(),
            }
        )

    def objective(preds: np.ndarray, _: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        """Gradient/Hessian of W * (mean log-loss + sum lambda * share-scaled proxy constraints)."""
        p = _sigmoid(preds)
        mu = np.where(valid, lam[..., 0] - lam[..., 1], 0.0)
        # d/d(proxy) of sum_g mu_g * share_g * (proxy_g - sum_h share_h * proxy_h / sum share):
        # every row of group g gets its margin tilted by (mu_g - share-weighted mean of mu).
        mu_bar = (mu * share).sum(axis=1, keepdims=True) / share.sum(axis=1, keepdims=True)
        coef = np.where(valid, mu - mu_bar, 0.0)  # (n_rates, n_groups), in log-odds units
        per_row = (masks_fit * coef[:, g_fit]).sum(axis=0)
        grad = w_fit * (p - y_fit) + w_fit * p * (1.0 - p) * per_row
        hess = w_fit * np.maximum(p * (1.0 - p), _MIN_HESSIAN)
        return grad, hess

    train_params = {"verbosity": -1, "deterministic": True, "force_col_wise": True}
    train_params |= dict(params or {})
    if random_state is not None:
        train_params["seed"] = random_state
    train_params |= {"objective": objective, "metric": "None"}
    threads = _thread_kwargs(train_params)
    # weights enter through grad/hess only: LightGBM does not apply them to custom gradients
    dataset = lgb.Dataset(X.iloc[fit], label=y_fit, init_score=np.full(len(fit), init_score))
    booster = lgb.train(train_params, dataset, num_boost_round, callbacks=[dual_step])

    if np.ptp(hold_margin) < 1e-9:
        warnings.warn("Constrained booster predicts a constant score.", RuntimeWarning, 2)
    return ConstrainedBoostingResult(
        booster, lam.copy(), booster.current_iteration(), history, init_score
    )


def predict_margin(result: ConstrainedBoostingResult, X: pd.DataFrame) -> np.ndarray:
    """Raw score (log-odds), including the base score the trees were boosted from."""
    raw = result.booster.predict(X, raw_score=True, **_thread_kwargs(result.booster.params))
    return np.asarray(raw, dtype=np.float64) + result.init_score


def predict_proba_positive(result: ConstrainedBoostingResult, X: pd.DataFrame) -> np.ndarray:
    """Probability of the positive class as float64."""
    return _sigmoid(predict_margin(result, X))
