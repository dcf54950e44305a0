"""Fairness of yes/no decisions measured with group membership probabilities (BISG,
BIFSG): each row belongs to each group with a probability, not to one known group.

Two estimators of every group's rates, reported side by side:

* **regression** (:func:`regression_means`): the least-squares fit, without an intercept,
  of the decision ``D`` on the probability vector ``P`` (weighted least squares under row
  weights). If the probabilities are calibrated and, given the true group, the decision does
  not depend on what the probabilities are computed from (:data:`ASSUMPTIONS`), then
  ``E[D | P] = sum_g P_g r_g``: the coefficients estimate the group rates ``r_g``
  consistently. This is the "linear estimator" of Elzayn, Smith, Hertz, Guage, Ramesh,
  Fisher, Ho and Goldin ("Measuring and Mitigating Racial Disparities in Tax Audits", QJE
  2024). Rates that condition on the label are ratios of two such fits over all rows:
  ``TPR_g = E[D Y | g] / E[Y | g]`` (``D Y`` and ``Y`` each regressed on ``P``), which
  needs the label, too, to be independent of the proxy's inputs given the group.
  Restricting to the rows of one label instead would need the probabilities calibrated
  among those rows, which fails whenever the groups' base rates differ.
* **plain weighted** (:func:`weighted_means`): each row counts toward each group by its
  probability, ``sum_i P_ig D_i / sum_i P_ig``. Its bias is the covariance of the
  decision with the true membership given the proxy's inputs (Chen, Kallus, Mao, Svacha
  and Udell, "Fairness under unawareness", FAT* 2019). On any sample it is exactly a mix
  of the regression estimates, ``r_w = M r`` with ``M = diag(P'w)^-1 P'WP`` whose rows
  sum to 1 (:func:`mixing_matrix`): each weighted rate lies among the groups' regression
  rates, so every gap reads smaller. It is the right one instead when, given the proxy's
  inputs, the decision is unrelated to the true group.

Without one of these assumptions a disparity is only partially identified (Kallus, Mao
and Zhou, "Assessing algorithmic fairness with unobserved protected class using data
combination", Management Science 2022). Elzayn et al. read the weighted and the linear
estimator as a lower and an upper end under conditions they checked on voter files with
self-reported race; that is not guaranteed in general, so both are shown.

Identification: the regression needs the probability vectors to vary independently. Each
group's *effective size* is the number of rows of known group that would measure its rate
as precisely (``1 / [(P'WP)^-1 (P'W^2P) (P'WP)^-1]_gg``; exactly the group's size when the
probabilities are 0/1); below ``min_effective_rows`` the measure refuses and says how to
fix it. Rates outside [0, 1], which a least-squares fit can give, are clipped and said.

Intervals: a Poisson bootstrap of the rows, both estimators on the same resamples. A row
is resampled with its decision, label and probabilities, so the intervals carry the
uncertainty of which group each row belongs to as far as the rows show it; not the error
of the probability model itself (its calibration on these rows), which no resample sees.
The percentile interval of a largest gap sits high when the true gap is near 0 or some
groups are small; its lower end is therefore no higher than a pairwise bound (the largest
of the pairs' Bonferroni lower quantiles, :func:`_interval`), as the known-group measures
do with Newcombe's (``rates_lower_bound``). A ratio's interval is the percentile one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.memberships import checked_memberships
from fairautoml.exceptions import InputError
from fairautoml.measures import messages as M
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.family import central_interval
from fairautoml.measures.membership_checks import (
    MIN_EFFECTIVE_ROWS,
    identified,
    membership_constraints,
    weighted_effective_sizes,
    zero_one,
)

ASSUMPTIONS = (
    "The probabilities are calibrated on these rows: among rows given probability p of a "
    "group, a share p belongs to it (BISG is calibrated to the census population; "
    "applicants may differ from it).",
    "Given the true group, the decision does not depend on what the probabilities are "
    "computed from (surname, first name, address): a model that reads the address, or "
    "features tied to the name within a group, breaks this.",
    "For true and false positive rates, the true outcome too does not depend on the "
    "probabilities' inputs given the group.",
    "The intervals resample the rows: they carry the uncertainty of which group each row "
    "belongs to, not the error of the probability model itself.",
)
WEIGHTED_NOTE = (
    "The plain weighted value counts each row toward each group by its probability; it "
    "understates every gap when the assumptions above hold (each group's weighted rate "
    "is a mix of all groups' rates), and is right instead when the decision, given the "
    "proxy's inputs, is unrelated to the true group."
)
_LABEL_RATES = ("tpr", "fpr", "fnr")


# --- the two estimators ---------------------------------------------------------------------


def outcome_columns(decisions: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """The columns whose group means the rates are made of: ``D``; with labels also
    ``D Y``, ``Y``, ``D (1 - Y)``, ``1 - Y`` (a TPR is the ratio of the second and third)."""
    d = np.asarray(decisions, dtype=np.float64)
    if labels is None:
        return d[:, None]
    y = np.asarray(labels, dtype=np.float64)
    return np.column_stack([d, d * y, y, d * (1 - y), 1 - y])


def _products(P: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Per row: ``P P'`` (G*G), ``P V'`` (G*K) and ``P`` (G), side by side: weighted sums
    of these give every estimator's inputs in one matrix product."""
    n, g = P.shape
    return np.concatenate(
        [(P[:, :, None] * P[:, None, :]).reshape(n, g * g),
         (P[:, :, None] * V[:, None, :]).reshape(n, g * V.shape[1]), P],
        axis=1,
    )  # fmt: skip


def _split(sums: np.ndarray, g: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = sums.shape[0]
    gram = sums[:, : g * g].reshape(b, g, g)
    cross = sums[:, g * g : g * g + g * k].reshape(b, g, k)
    return gram, cross, sums[:, g * g + g * k :]


def _solve(gram: np.ndarray, cross: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(gram, cross)
    except np.linalg.LinAlgError:  # a resample without a direction: least norm
        return np.linalg.pinv(gram) @ cross


def regression_means(P: np.ndarray, V: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Each group's mean of each column of ``V`` (G x K): the least-squares coefficients of
    ``V`` on ``P`` without an intercept (weighted by ``weight``)."""
    w = np.ones(len(P)) if weight is None else np.asarray(weight, dtype=np.float64)
    gram, cross, _ = _split(w[None, :] @ _products(P, V), P.shape[1], V.shape[1])
    return _solve(gram, cross)[0]


def resampled_regression_means(P: np.ndarray, V: np.ndarray, W: np.ndarray) -> np.ndarray:
    """:func:`regression_means` under each row of the resample weights ``W`` (B x n), shape
    (B, G, K): one draw of the rows gives every column's estimate, so columns of two models
    side by side in ``V`` are measured on the same draw (a paired bootstrap)."""
    gram, cross, _ = _split(W @ _products(P, V), P.shape[1], V.shape[1])
    return _solve(gram, cross)


def weighted_means(P: np.ndarray, V: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Each group's mean of each column of ``V`` (G x K), each row counted toward each group
    by its probability: ``sum_i w_i P_ig V_ik / sum_i w_i P_ig``."""
    w = np.ones(len(P)) if weight is None else np.asarray(weight, dtype=np.float64)
    pw = P * w[:, None]
    return (pw.T @ V) / pw.sum(axis=0)[:, None]


def mixing_matrix(P: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """``M = diag(P'w)^-1 P'WP``, rows summing to 1: the plain weighted means are ``M``
    times the regression means, exactly, on any sample."""
    w = np.ones(len(P)) if weight is None else np.asarray(weight, dtype=np.float64)
    pw = P * w[:, None]
    return (pw.T @ P) / pw.sum(axis=0)[:, None]


def rates_of_means(means: np.ndarray, has_labels: bool) -> dict[str, np.ndarray]:
    """Selection rate (and TPR, FPR, FNR with labels) per group from group means of
    :func:`outcome_columns` (shape (..., G, K)), clipped to [0, 1]; NaN where a ratio's
    denominator is not positive."""

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    rates = {"selection": means[..., 0]}
    if has_labels:
        rates["tpr"] = ratio(means[..., 1], means[..., 2])
        rates["fpr"] = ratio(means[..., 3], means[..., 4])
    rates = {k: np.clip(v, 0.0, 1.0) for k, v in rates.items()}
    if has_labels:
        rates["fnr"] = 1.0 - rates["tpr"]
    return rates


def _both(W: np.ndarray, products: np.ndarray, g: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Regression and weighted group means, (B, G, K) each, under row weights ``W`` (B, n)."""
    gram, cross, mass = _split(W @ products, g, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        weighted = cross / mass[:, :, None]
    return _solve(gram, cross), weighted


# --- the measure -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipEstimate:
    """One measure by both estimators: the regression value, its central interval and
    bootstrap standard error; the plain weighted value and its interval."""

    key: str
    regression: float
    regression_interval: tuple[float, float]
    regression_se: float
    weighted: float
    weighted_interval: tuple[float, float]


@dataclass(frozen=True)
class MembershipMeasures:
    """What :func:`membership_measures` found: one :class:`MembershipEstimate` per
    constraint; ``rates``: one row per (group, rate) with both estimates and intervals;
    ``identification``: per group its probability mass and effective sizes; the Gram
    matrix's condition number; which rates were clipped to [0, 1]."""

    estimates: tuple[MembershipEstimate, ...]
    rates: pd.DataFrame
    identification: pd.DataFrame
    condition_number: float
    clipped: tuple[str, ...]
    level: float
    n_boot: int
    n_rows: int
    groups: tuple[str, ...]

    def estimate(self, key: str) -> MembershipEstimate:
        """The estimate of the constraint keyed ``key``."""
        for e in self.estimates:
            if e.key == key:
                return e
        raise KeyError(f"{key!r}; measured: {[e.key for e in self.estimates]}")


def membership_measures(
    y_true: Any,
    y_pred: Any,
    probabilities: Any,
    constraints: str | Constraint | Iterable[str | Constraint] | None = None,
    *,
    sample_weight: Any = None,
    level: float = 0.9,
    n_boot: int = 500,
    random_state: int | None = None,
    min_effective_rows: float = MIN_EFFECTIVE_ROWS,
) -> MembershipMeasures:
    """Each group's rates and each constraint's disparity, by the regression and the plain
    weighted estimator (module docstring), with bootstrap intervals at ``level``.

    ``y_true``: 0/1 labels (1 the favourable outcome), or None (then only selection rates:
    demographic parity). ``y_pred``: 0/1 decisions. ``probabilities``: one row per row, one
    column per group (:func:`checked_memberships`). ``constraints``: yes/no decision
    measures; only their measures are read, not their bounds. The assumptions under which
    the regression estimate is unbiased: :data:`ASSUMPTIONS`.
    """
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise InputError(M.MEMBERSHIP_SETTING.format(name="level", want="in (0, 1)", given=level))
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 10:
        raise InputError(
            M.MEMBERSHIP_SETTING.format(name="n_boot", want="a whole number >= 10", given=n_boot)
        )
    memberships = checked_memberships(probabilities)
    P, n = memberships.values, len(memberships.values)
    decisions = zero_one(y_pred, "y_pred", n)
    labels = None if y_true is None else zero_one(y_true, "y_true", n)
    weight = None if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    if weight is not None and (len(weight) != n or not np.all(np.isfinite(weight) & (weight >= 0))):
        raise InputError(
            M.MEMBERSHIP_SETTING.format(
                name="sample_weight", want=f"{n} finite non-negative numbers", given=weight
            )
        )
    parsed = membership_constraints(constraints, memberships.attribute)
    for c in parsed:
        if labels is None and any(r in _LABEL_RATES for r in c.rates):
            raise InputError(M.MEMBERSHIP_NEEDS_LABELS.format(constraint=c))

    sizes, condition = identified(P, memberships.groups, weight, min_effective_rows)
    V = outcome_columns(decisions, labels)
    g, k = P.shape[1], V.shape[1]
    products = _products(P, V)
    w = np.ones(n) if weight is None else weight
    reg_means, wtd_means = (m[0] for m in _both(w[None, :], products, g, k))
    if labels is not None:
        _check_label_shares(parsed, reg_means, sizes, memberships.groups)
    has_labels = labels is not None
    point = {"regression": rates_of_means(reg_means, has_labels),
             "weighted": rates_of_means(wtd_means, has_labels)}  # fmt: skip
    boot = _bootstrap(products, w, g, k, has_labels, n_boot, random_state)

    estimates = []
    for c in parsed:
        values = {name: c.from_rates(boot[name]) for name in boot}
        intervals = {name: _interval(c, values[name], boot[name], level) for name in boot}
        estimates.append(
            MembershipEstimate(
                c.key,
                float(c.from_rates(point["regression"])),
                intervals["regression"],
                float(np.nanstd(values["regression"])),
                float(c.from_rates(point["weighted"])),
                intervals["weighted"],
            )
        )
    rates = _rate_table(point, boot, memberships.groups, level)
    identification = pd.DataFrame(
        {
            "probability_mass": (P * w[:, None]).sum(axis=0),
            "effective_rows_regression": sizes,
            "effective_rows_weighted": weighted_effective_sizes(P, weight),
        },
        index=pd.Index(memberships.groups, name="group"),
    )
    return MembershipMeasures(
        tuple(estimates), rates, identification, condition,
        _clipped(reg_means, has_labels, memberships.groups), float(level), int(n_boot), n,
        memberships.groups,
    )  # fmt: skip


def _interval(
    c: Constraint, values: np.ndarray, rates: dict[str, np.ndarray], level: float
) -> tuple[float, float]:
    """The central interval of a constraint's bootstrap ``values``; for a largest gap its
    lower end no higher than a pairwise bound: the true largest gap is at least every pair
    of groups' signed difference, so the largest of their lower quantiles at ``(1 -
    level) / 2`` shared out over the pairs and rates (Bonferroni) keeps the level where
    the percentile's lower end sits high (a gap near 0, several small groups)."""
    low, high = central_interval(values, level)
    if c.is_ratio:
        return low, high
    g = next(iter(rates.values())).shape[1]
    alpha = (1 - level) / 2 / (len(c.rates) * g * (g - 1))
    pairwise = max(
        float(np.nanmax(np.nanquantile(r[:, :, None] - r[:, None, :], alpha, axis=0)))
        for r in (rates[name] for name in c.rates)
    )
    return min(low, max(pairwise, 0.0)), high


def _check_label_shares(
    constraints: Sequence[Constraint], means: np.ndarray, sizes: np.ndarray, groups: tuple
) -> None:
    """A TPR (FPR) needs each group's positive (negative) rows: refuse where the
    regression's estimate of their share is under one effective row."""
    for c in constraints:
        needed = {"tpr": (2, 1), "fnr": (2, 1), "fpr": (4, 0)}
        for rate in c.rates:
            if rate not in needed:
                continue
            column, outcome = needed[rate]
            for j, group in enumerate(groups):
                if means[j, column] * sizes[j] < 1.0:
                    raise InputError(
                        M.MEMBERSHIP_NO_POSITIVES.format(
                            constraint=c, group=group, outcome=outcome, share=means[j, column]
                        )
                    )


def _bootstrap(
    products: np.ndarray, w: np.ndarray, g: int, k: int, has_labels: bool, n_boot: int,
    random_state: int | None,
) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    """Both estimators' rates per group on ``n_boot`` Poisson resamples of the rows, drawn
    in chunks that keep the resample weights under ~16 MB."""
    rng = np.random.default_rng(random_state)
    n = len(w)
    chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    parts: dict[str, list[np.ndarray]] = {"regression": [], "weighted": []}
    for start in range(0, n_boot, chunk):
        W = rng.poisson(1.0, size=(min(chunk, n_boot - start), n)) * w[None, :]
        regression, weighted = _both(W, products, g, k)
        parts["regression"].append(regression)
        parts["weighted"].append(weighted)
    return {name: rates_of_means(np.concatenate(p), has_labels) for name, p in parts.items()}


def _rate_table(
    point: dict[str, dict[str, np.ndarray]], boot: dict[str, dict[str, np.ndarray]],
    groups: tuple[str, ...], level: float,
) -> pd.DataFrame:  # fmt: skip
    rows = []
    for rate in point["regression"]:
        for j, group in enumerate(groups):
            row: dict[str, Any] = {"group": group, "rate": rate}
            for name in ("regression", "weighted"):
                low, high = central_interval(boot[name][rate][:, j], level)
                row |= {name: float(point[name][rate][j]), f"{name}_low": low,
                        f"{name}_high": high}  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows).set_index(["group", "rate"])


def _clipped(means: np.ndarray, has_labels: bool, groups: tuple[str, ...]) -> tuple[str, ...]:
    """The regression's rates outside [0, 1] before clipping, in words."""
    raw = {"selection": means[:, 0]}
    if has_labels:
        with np.errstate(divide="ignore", invalid="ignore"):
            raw |= {"tpr": means[:, 1] / means[:, 2], "fpr": means[:, 3] / means[:, 4]}
    return tuple(
        f"{rate} of {group!r}: {v:.3f} clipped to {min(max(v, 0.0), 1.0):g}"
        for rate, values in raw.items()
        for group, v in zip(groups, values, strict=True)
        if np.isfinite(v) and not 0.0 <= v <= 1.0
    )


def regression_values(
    constraints: Sequence[Constraint],
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    P: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Each constraint's regression estimate, keyed by its key, without checks or
    intervals: what a search reads per trial once :func:`membership_measures` has checked
    the rows and the probabilities."""
    return _values_by(regression_means, constraints, y_true, y_pred, P, sample_weight)


def weighted_values(
    constraints: Sequence[Constraint],
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    P: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Each constraint's plain weighted value, keyed by its key, without checks or
    intervals: what is shown beside :func:`regression_values`, never decided on."""
    return _values_by(weighted_means, constraints, y_true, y_pred, P, sample_weight)


def _values_by(
    means: Callable[..., np.ndarray],
    constraints: Sequence[Constraint],
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    P: np.ndarray,
    sample_weight: np.ndarray | None,
) -> dict[str, float]:
    """Each constraint's value from the groups' outcome means that ``means(P, V, w)``
    estimates (the regression's, or the plain weighted ones)."""
    V = outcome_columns(y_pred, y_true)
    rates = rates_of_means(means(P, V, sample_weight), y_true is not None)
    return {c.key: float(c.from_rates(rates)) for c in constraints}


def regression_rates(
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    P: np.ndarray,
    groups: Sequence[str],
    sample_weight: np.ndarray | None = None,
    *,
    n_boot: int = 200,
    random_state: int | None = 0,
) -> dict[str, dict[str, list[float]]]:
    """Each group's rates by the regression estimator with their bootstrap standard errors,
    ``{rate: {group: [estimate, standard error]}}``, without checks: what a fit given
    probabilities keeps of its validation rows, and what an audit of new rows compares
    with it (:func:`fairautoml.measures.drift.estimate_drift`)."""
    V = outcome_columns(y_pred, y_true)
    g, k = P.shape[1], V.shape[1]
    products = _products(P, V)
    w = np.ones(len(P)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    has_labels = y_true is not None
    point = rates_of_means(_solve(*_split(w[None, :] @ products, g, k)[:2])[0], has_labels)
    boot = _bootstrap(products, w, g, k, has_labels, n_boot, random_state)["regression"]
    return {
        rate: {
            str(group): [float(point[rate][j]), float(np.nanstd(boot[rate][:, j], ddof=1))]
            for j, group in enumerate(groups)
        }
        for rate in point
    }


def regression_point(
    constraints: Sequence[Constraint],
    y_true: np.ndarray | None,
    y_pred: np.ndarray,
    P: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    level: float = 0.8,
    n_boot: int = 200,
    random_state: int | None = None,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Each constraint's regression estimate and its bootstrap interval at ``level``
    (:func:`membership_measures`' interval), keyed by its key, without checks: a search's
    point on validation rows whose groups are membership probabilities."""
    V = outcome_columns(y_pred, y_true)
    g, k = P.shape[1], V.shape[1]
    products = _products(P, V)
    w = np.ones(len(P)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    has_labels = y_true is not None
    rates = rates_of_means(_solve(*_split(w[None, :] @ products, g, k)[:2])[0], has_labels)
    boot = _bootstrap(products, w, g, k, has_labels, n_boot, random_state)["regression"]
    values, intervals = {}, {}
    for c in constraints:
        values[c.key] = float(c.from_rates(rates))
        intervals[c.key] = _interval(c, c.from_rates(boot), boot, level)
    return values, intervals


__all__ = [
    "ASSUMPTIONS",
    "WEIGHTED_NOTE",
    "MembershipEstimate",
    "MembershipMeasures",
    "membership_measures",
    "mixing_matrix",
    "outcome_columns",
    "rates_of_means",
    "regression_means",
    "regression_point",
    "regression_rates",
    "regression_values",
    "resampled_regression_means",
    "weighted_means",
    "weighted_values",
]
