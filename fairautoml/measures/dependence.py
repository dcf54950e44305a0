"""Dependence of decisions (or amounts) on a numeric sensitive attribute, without bins:
generalized disparate impact (GeDI).

Why this measure. Binning an age or an income makes small groups and moves the answer
with the cut points. Giuliani, Misino and Lombardi (2023), "Generalized Disparate Impact
for Configurable Fairness Solutions in ML" (ICML), measure the dependence of an outcome
``y`` on a continuous attribute ``a`` by the least-squares coefficients of ``y`` on a
polynomial kernel of ``a``, ``[1, a, a^2, ..., a^d]``. Of degree 1 it is the slope of
the decision rate along the attribute: for a 0/1 attribute, exactly the difference of
the two groups' rates (demographic parity difference, their DIDI). Unlike the HGR maximal
correlation (the other measure for continuous attributes), it has a meaning a user can
bound ("the fitted decision rate changes by at most 5 points from the lowest to the
highest age"), it is a closed form that is stable on finite samples, and it is cheap
enough to measure every trial and to bootstrap. No maintained library implements it
(fairlearn measures groups only; the authors' code is a research repository), and it is
a few lines of numpy, so it is written here.

Definition here (a choice, stated in ``docs/sensitive_attributes.md``):

* The attribute is scaled to [0, 1] by the lowest and highest value of the fit's rows
  (fixed at fit time, so validation, test and new rows share the scale): ``u``.
* The outcome is the yes/no decision (0/1), or, for amounts, the predicted amount
  divided by the standard deviation of the true amounts on the measured rows, so a
  bound reads the same at any amount's scale (in target standard deviations).
* The value is the L1 norm of the least-squares coefficients of the outcome on
  ``[u, u^2, ..., u^d]`` with an intercept (degree 1: the absolute slope: how much the
  fitted decision rate changes from the lowest to the highest value). For degree > 1 the
  L1 norm bounds the largest fitted change from the lowest value.
* Row weights (``sample_weight``) make it weighted least squares.
* Interval: Poisson bootstrap of the rows (weighted least squares per resample, solved
  from the normal equations in one batch). Of degree 1 the interval of ``|slope|`` is
  read off the signed slope's central interval (0 at its lower end when that interval
  holds 0), so the lower end does not sit above zero as the bootstrap of an absolute
  value does; of higher degree, the central interval of the norms.

Limits: it measures dependence the polynomial can express (degree 1: a monotone trend);
a rate that is high at both ends of the attribute and low in the middle reads near zero
at degree 1. It is demographic parity's analogue (decisions alone), not an error-rate
parity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairautoml.exceptions import ConstraintError
from fairautoml.measures.family import MeasureFamily, central_interval

# metric name -> polynomial degree
DEPENDENCE_METRICS: dict[str, int] = {
    "generalized_disparate_impact": 1,
    "generalized_disparate_impact_2": 2,
}

DEPENDENCE_UNBOUND = (
    "Constraint '{constraint}' has not been bound to the numeric values of its attribute: "
    "bind it to the fit's groups first (Constraint.bind)."
)
DEPENDENCE_NOT_NUMERIC = (
    "Constraint '{constraint}' reads the attribute '{attribute}' as numbers, but its group "
    "{label!r} is not a number. Pass the attribute's numeric values (an age, an income)."
)
DEPENDENCE_ONE_ATTRIBUTE = (
    "Constraint '{constraint}' measures the dependence of decisions on one numeric "
    "attribute: name it in brackets, e.g. '{metric}[age] <= 0.05'."
)


def is_dependence(metric: str) -> bool:
    """Whether ``metric`` measures dependence on a numeric attribute (no groups)."""
    return metric in DEPENDENCE_METRICS


def continuous_attributes(constraints: Sequence[Any]) -> list[str]:
    """The attributes that dependence constraints read as numbers (in brackets)."""
    out: list[str] = []
    for c in constraints or ():
        if is_dependence(getattr(c, "metric", "")):
            out.extend(a for a in c.attributes if a not in out)
    return out


def scaled(values: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    """``values`` on [0, 1] by ``span`` (the fit's lowest and highest value)."""
    low, high = span
    width = high - low if high > low else 1.0
    return (np.asarray(values, dtype=np.float64) - low) / width


def kernel(u: np.ndarray, degree: int) -> np.ndarray:
    """``[1, u, u^2, ..., u^degree]``, shape (n, degree + 1)."""
    u = np.asarray(u, dtype=np.float64)
    return np.column_stack([u**j for j in range(degree + 1)])


def coefficients(
    u: np.ndarray, outcome: np.ndarray, degree: int = 1, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """The least-squares coefficients of ``outcome`` on ``u, ..., u^degree`` (intercept
    fitted, not returned); weighted least squares with ``sample_weight``."""
    V = kernel(u, degree)
    y = np.asarray(outcome, dtype=np.float64)
    if sample_weight is not None:
        root = np.sqrt(np.asarray(sample_weight, dtype=np.float64))
        V, y = V * root[:, None], y * root
    beta = np.linalg.lstsq(V, y, rcond=None)[0]
    return beta[1:]


def generalized_disparate_impact(
    u: np.ndarray, outcome: np.ndarray, degree: int = 1, sample_weight: np.ndarray | None = None
) -> float:
    """GeDI: the L1 norm of :func:`coefficients` (degree 1: the absolute slope)."""
    return float(np.abs(coefficients(u, outcome, degree, sample_weight)).sum())


def bootstrap_coefficients(
    u: np.ndarray,
    outcome: np.ndarray,
    degree: int,
    n_boot: int,
    random_state: int | None,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`coefficients` under ``n_boot`` Poisson bootstrap resamples of the rows,
    shape (n_boot, degree): the normal equations of every resample solved at once."""
    rng = np.random.default_rng(random_state)
    V = kernel(u, degree)
    y = np.asarray(outcome, dtype=np.float64)
    W = rng.poisson(1.0, size=(n_boot, len(y))).astype(np.float64)
    if sample_weight is not None:
        W *= np.asarray(sample_weight, dtype=np.float64)[None, :]
    k = degree + 1
    products = (V[:, :, None] * V[:, None, :]).reshape(len(y), k * k)
    gram = (W @ products).reshape(n_boot, k, k)
    moments = W @ (V * y[:, None])
    beta = np.einsum("bij,bj->bi", np.linalg.pinv(gram), moments)
    return beta[:, 1:]


class AttributeDependence(MeasureFamily):
    """The family of dependence on a numeric attribute (see the module docstring).

    A constraint of this family carries, once bound to the fit's groups, ``levels``: the
    attribute's numeric value of each of its groups' codes (every distinct value the fit
    saw is one code, so nothing is binned), and ``span``, the fit's lowest and highest
    value, which scale it to [0, 1]."""

    metrics = tuple(DEPENDENCE_METRICS)

    def value(
        self,
        constraint: Any,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        return self.values([constraint], y_true, y_pred, groups, sample_weight)[constraint.metric]

    def values(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        codes: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> dict[str, float]:
        out = {}
        for c in constraints:
            u, outcome, w = _rows(c, y_true, y_pred, codes, sample_weight)
            if len(np.unique(u)) < 2:
                out[c.metric] = float("nan")
                continue
            out[c.metric] = generalized_disparate_impact(
                u, outcome, DEPENDENCE_METRICS[c.metric], w
            )
        return out

    def intervals(
        self,
        constraints: Sequence[Any],
        y_true: np.ndarray,
        y_pred: np.ndarray,
        groups: np.ndarray,
        level: float,
        random_state: int | None,
        n_boot: int,
        sample_weight: np.ndarray | None = None,
        membership: np.ndarray | None = None,
    ) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for c in constraints:
            u, outcome, w = _rows(c, y_true, y_pred, groups, sample_weight)
            degree = DEPENDENCE_METRICS[c.metric]
            if len(np.unique(u)) < 2:
                out[c.key] = (float("nan"), float("nan"))
                continue
            beta = bootstrap_coefficients(u, outcome, degree, n_boot, random_state, w)
            out[c.key] = interval_of(beta, level)
        return out


def interval_of(beta: np.ndarray, level: float) -> tuple[float, float]:
    """The ``level`` interval of GeDI from bootstrap coefficients ``beta`` (B, degree):
    of degree 1, from the signed slope's central interval; else the norms' central one."""
    if beta.shape[1] == 1:
        low, high = central_interval(beta[:, 0], level)
        if low <= 0.0 <= high:
            return 0.0, max(-low, high)
        return min(abs(low), abs(high)), max(abs(low), abs(high))
    return central_interval(np.abs(beta).sum(axis=1), level)


def _rows(
    c: Any,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    sample_weight: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The scaled attribute, the outcome and the weights of the rows whose value is known
    (``codes``: the cell codes, or the constraint's own group codes once applied; a level
    that is NaN, a missing value on new rows, is not known)."""
    levels = getattr(c, "levels", None)
    if levels is None:
        raise ConstraintError(DEPENDENCE_UNBOUND.format(constraint=str(c)))
    codes = np.asarray(c.groups_of(np.asarray(codes)))
    values = np.asarray(levels, dtype=np.float64)
    known = codes >= 0
    known[known] = np.isfinite(values[codes[known]])  # a value that is not a number: left out
    u = scaled(values[codes[known]], c.span)
    pred = np.asarray(y_pred, dtype=np.float64)[known]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[known]
    if c.task == "regression":
        pred = pred / amount_scale(np.asarray(y_true, dtype=np.float64)[known], w)
    return u, pred, w


def amount_scale(y_true: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """The (weighted) standard deviation of the true amounts (1 where they do not vary)."""
    if len(y_true) == 0:
        return 1.0
    mean = np.average(y_true, weights=sample_weight)
    sd = float(np.sqrt(np.average((y_true - mean) ** 2, weights=sample_weight)))
    return sd if sd > 0 else 1.0


__all__ = [
    "DEPENDENCE_METRICS",
    "AttributeDependence",
    "amount_scale",
    "bootstrap_coefficients",
    "coefficients",
    "continuous_attributes",
    "generalized_disparate_impact",
    "interval_of",
    "is_dependence",
    "kernel",
    "scaled",
]
