"""The incumbent: the model a lender already has, or its scores with the rule that turns
them into decisions, checked once and read as 0/1 decisions (1 the favourable outcome)
and scores on any of the table's rows."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.alternatives import messages as M
from fairautoml.estimators.base import FairSearchEstimator
from fairautoml.exceptions import InputError


@dataclass(frozen=True)
class Incumbent:
    """The incumbent's score (P(favourable)) and decision on every row of the table it was
    read on, and how it was given (``kind``: "model" or "scores"; ``rule``: the cutoff
    applied to scores, in words). ``model`` is kept to explain it (None for scores)."""

    scores: np.ndarray
    decisions: np.ndarray
    kind: str
    rule: str
    model: Any = None
    description: str = ""

    @property
    def approval_rate(self) -> float:
        return float(np.mean(self.decisions))


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def read_incumbent(
    incumbent: Any,
    X: pd.DataFrame,
    positive: Any,
    *,
    incumbent_scores: Any = None,
    cutoff: Any = None,
    approval_rate: Any = None,
) -> Incumbent:
    """The incumbent's scores and decisions on ``X``'s rows (``positive``: the target's
    favourable label), from a fitted model or from ``incumbent_scores`` (values per row, or
    the name of a column of X) with ``cutoff`` or ``approval_rate``; each bad input raises
    :class:`InputError` naming its fix."""
    if incumbent is None and incumbent_scores is None:
        raise InputError(M.NO_INCUMBENT)
    if incumbent is not None and incumbent_scores is not None:
        raise InputError(M.BOTH_INCUMBENTS)
    if incumbent is not None:
        if cutoff is not None or approval_rate is not None:
            raise InputError(M.CUTOFF_WITH_MODEL)
        return _from_model(incumbent, X, positive)
    return _from_scores(incumbent_scores, X, cutoff, approval_rate)


def model_columns(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``X`` the model was trained on, in its order (all of X when it does
    not say); a column it needs that X lacks is an error naming it."""
    names = getattr(model, "feature_names_in_", None)
    if names is None or isinstance(model, FairSearchEstimator):  # ours drops what it skips
        return X
    names = [str(n) for n in names]
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise InputError(M.MISSING_COLUMNS.format(missing=missing, columns=list(X.columns)))
    return X[names]


def _from_model(model: Any, X: pd.DataFrame, positive: Any) -> Incumbent:
    kind = type(model).__name__
    if not callable(getattr(model, "predict_proba", None)):
        raise InputError(M.NO_PREDICT_PROBA.format(kind=kind))
    rows = model_columns(model, X)
    if isinstance(model, FairSearchEstimator):
        missing = [str(n) for n in model.feature_names_in_ if str(n) not in X.columns]
        if missing:
            raise InputError(M.MISSING_COLUMNS.format(missing=missing, columns=list(X.columns)))
    try:
        proba = np.asarray(model.predict_proba(rows), dtype=np.float64)
        predicted = np.asarray(model.predict(rows))
    except InputError:
        raise
    except Exception as exc:  # a user's model: unfitted, or on other columns
        raise InputError(
            M.NOT_FITTED.format(kind=kind, error=f"{type(exc).__name__}: {exc}")
        ) from None
    classes = list(getattr(model, "classes_", [0, 1]))
    at = _class_index(classes, positive)
    scores = proba[:, at] if proba.ndim == 2 else proba
    decisions = np.array([_same(p, positive) for p in predicted], dtype=np.int64)
    return Incumbent(scores, decisions, "model", "its own predict", model, kind)


def _class_index(classes: list[Any], positive: Any) -> int:
    """Where the favourable label is among the model's classes (the last one when none of
    them equals it: a model trained on 0/1 codes of the same target)."""
    for i, c in enumerate(classes):
        if _same(c, positive):
            return i
    return len(classes) - 1


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a) == str(b)


def _from_scores(given: Any, X: pd.DataFrame, cutoff: Any, approval_rate: Any) -> Incumbent:
    if isinstance(given, str):
        if given not in X.columns:
            raise InputError(M.SCORES_COLUMN.format(name=given, columns=list(X.columns)))
        given = X[given]
    values = pd.to_numeric(pd.Series(np.asarray(given, dtype=object).ravel()), errors="coerce")
    if len(values) != len(X):
        raise InputError(M.SCORES_LENGTH.format(given=len(values), rows=len(X)))
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=np.float64)))
    if len(bad):
        raise InputError(M.SCORES_MISSING.format(count=len(bad), rows=bad[:5].tolist()))
    scores = values.to_numpy(dtype=np.float64)
    if cutoff is None and approval_rate is None:
        raise InputError(M.CUTOFF_NEEDED)
    if cutoff is not None and approval_rate is not None:
        raise InputError(M.CUTOFF_BOTH)
    if approval_rate is not None:
        if not (_real(approval_rate) and 0 < approval_rate < 1):
            raise InputError(M.APPROVAL_RATE.format(given=approval_rate))
        cutoff = cutoff_for_rate(scores, float(approval_rate))
        rule = f"approve the {approval_rate:.1%} highest scores (score >= {cutoff:.6g})"
    else:
        if not _real(cutoff):
            raise InputError(M.CUTOFF_VALUE.format(given=cutoff))
        rule = f"approve a score >= {float(cutoff):.6g}"
    decisions = (scores >= float(cutoff)).astype(np.int64)
    return Incumbent(scores, decisions, "scores", rule, None, "scores")


def cutoff_for_rate(scores: np.ndarray, rate: float) -> float:
    """The cutoff that approves ``rate`` of the rows, highest scores first (ties at the
    cutoff are all approved)."""
    k = min(max(round(rate * len(scores)), 1), len(scores))
    return float(np.sort(scores)[::-1][k - 1])
