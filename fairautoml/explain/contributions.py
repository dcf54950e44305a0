"""Per-row, per-column contributions to a model's score on its margin, for a fair model
(the scoring model, by kind) and for any fitted scikit-learn model.

The margin is the log-odds of the favourable outcome for yes/no decisions and the amount
itself for amounts. Which method serves which model (:mod:`.methods`):

* LightGBM and XGBoost (a learner's estimator, constrained boosting's booster, a user's
  model): the libraries' own TreeSHAP, relative to the training rows as the trees record
  them (or to ``reference`` rows when given);
* a logistic regression or linear regressor, plain or behind fairautoml's column-wise
  encoding: exact, ``coef . (x - mean of the reference rows)`` summed per column;
* cross-validation's fold models: each row by the fold model that scores it (the score
  its decision read), so the contributions add up to that score;
* anything else (ensembles, reductions' mixtures, correlation removal, a user's model
  with only ``predict_proba``): interventional Shapley values against reference rows.

Contributions are per column of the user's table; a learner's one-hot columns are never
exposed. A decision rule after the score (thresholds per group, randomized bands) is not
explained: these explain the score the rule reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge

from fairautoml.data.features import as_frame
from fairautoml.exceptions import InputError
from fairautoml.explain import messages as M
from fairautoml.explain.methods import (
    additive_contributions,
    centre,
    interventional_contributions,
    lightgbm_contributions,
    xgboost_contributions,
)
from fairautoml.learners import EncodedClassifier, EncodedRegressor
from fairautoml.mitigators import EstimatorScoringModel, FoldModels, GroupPredictingModel
from fairautoml.mitigators.constrained_boosting import BoosterModel

LOG_ODDS, AMOUNT = "log-odds", "amount"
TREESHAP, LINEAR, INTERVENTIONAL = "TreeSHAP", "linear (exact)", "interventional Shapley"
_CLIP = 1e-9  # probabilities of 0 and 1 read as +-20.7 on the log-odds scale


@dataclass
class Contributions:
    """Each explained row's contributions to its margin, one column per feature.

    ``values.sum(axis=1) + base`` is the row's margin (:attr:`margin`): the log-odds of
    the favourable outcome (``scale == "log-odds"``) or the amount. A negative value
    lowered the score relative to ``relative_to``. ``data`` holds the explained rows'
    values as the user gave them (same rows and columns as ``values``).
    """

    values: pd.DataFrame
    base: np.ndarray
    data: pd.DataFrame
    method: str
    scale: str
    relative_to: str

    @property
    def margin(self) -> np.ndarray:
        return self.base + self.values.to_numpy().sum(axis=1)

    @property
    def features(self) -> list[str]:
        return list(self.values.columns)


@dataclass
class _Job:
    """What every method needs besides the model: the scale, the reference rows (None: the
    method's own default), the rows a reference defaults to, and the sampling settings."""

    regression: bool
    reference: pd.DataFrame | None
    batch: pd.DataFrame
    n_samples: int
    random_state: int | None

    def reference_for(self, method: str) -> pd.DataFrame:
        rows = self.batch if self.reference is None else self.reference
        if len(rows) < 2:
            raise InputError(M.SMALL_REFERENCE.format(method=method, given=len(rows)))
        return rows


def to_margin(scores: np.ndarray, regression: bool) -> np.ndarray:
    """Scores on the margin: log-odds of a probability, an amount as it is."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if regression:
        return scores
    p = np.clip(scores, _CLIP, 1 - _CLIP)
    return np.log(p) - np.log1p(-p)


def linear_margin(estimator: Any) -> Any:
    """The margin function of a binary linear classifier or a linear regressor, plain or
    behind fairautoml's column-wise encoding (and its thread limiter); None otherwise."""
    encoder = None
    if isinstance(estimator, (EncodedClassifier, EncodedRegressor)):
        encoder, estimator = (
            getattr(estimator, "encoder_", None),
            getattr(estimator, "estimator_", None),
        )
    inner = getattr(estimator, "estimator_", None)  # ThreadLimited*
    core = (
        inner
        if isinstance(inner, (LogisticRegression, LinearRegression, Ridge, Lasso, ElasticNet))
        else estimator
    )
    if isinstance(core, LogisticRegression):
        if np.shape(core.coef_)[0] != 1:
            return None
        method = core.decision_function
    elif isinstance(core, (LinearRegression, Ridge, Lasso, ElasticNet)):
        if np.ndim(core.coef_) != 1:
            return None
        method = core.predict
    else:
        return None

    def margin(X: pd.DataFrame) -> np.ndarray:
        Z = X if encoder is None else encoder.transform(X)
        return np.asarray(method(Z), dtype=np.float64).reshape(-1)

    return margin


def _is_lightgbm(estimator: Any) -> bool:
    import lightgbm

    return isinstance(estimator, (lightgbm.LGBMModel, lightgbm.Booster))


def _is_xgboost(estimator: Any) -> bool:
    import xgboost

    return isinstance(estimator, xgboost.XGBModel)


def _trees(values: np.ndarray, base: np.ndarray, reference: Any, job: _Job) -> tuple:
    if job.reference is not None:
        values, base = centre(values, base, reference(job.reference)[0])
    return values, base


def explain_estimator(
    estimator: Any, X: pd.DataFrame, job: _Job, *, positive: int = 1
) -> tuple[np.ndarray, np.ndarray, str]:
    """(values, base, method) of a fitted estimator on the frame it reads; ``positive``:
    the column of ``predict_proba`` that is the score (trees and linear models give the
    margin of the second class; for the first it is negated)."""
    sign = -1.0 if positive == 0 and not job.regression else 1.0
    if _is_lightgbm(estimator) or _is_xgboost(estimator):
        explain = lightgbm_contributions if _is_lightgbm(estimator) else xgboost_contributions
        values, base = _trees(*explain(estimator, X), lambda R: explain(estimator, R), job)
        name = "LightGBM" if _is_lightgbm(estimator) else "XGBoost"
        return sign * values, sign * base, f"{TREESHAP} ({name})"
    margin = linear_margin(estimator)
    if margin is not None:
        reference = job.reference_for(LINEAR)
        pool = pd.concat([X, reference], ignore_index=True)
        values, base = additive_contributions(margin, pool)
        values, base = centre(values[: len(X)], base[: len(X)], values[len(X) :])
        return sign * values, sign * base, LINEAR
    reference = job.reference_for(INTERVENTIONAL)

    def score(rows: pd.DataFrame, _who: np.ndarray) -> np.ndarray:
        if job.regression:
            return to_margin(estimator.predict(rows), True)
        return to_margin(np.asarray(estimator.predict_proba(rows))[:, positive], False)

    values, base = interventional_contributions(
        score, X, reference, n_samples=job.n_samples, random_state=job.random_state
    )
    return values, base, INTERVENTIONAL


def explain_scoring(
    scoring: Any, X: pd.DataFrame, groups: np.ndarray | None, job: _Job
) -> tuple[np.ndarray, np.ndarray, str]:
    """(values, base, method) of a fair model's scoring model on prepared features."""
    if isinstance(scoring, GroupPredictingModel):  # the group classifier does not score
        return explain_scoring(scoring.scoring, X, groups, job)
    if isinstance(scoring, FoldModels):
        which = scoring.route(X)
        values, base, methods = np.zeros(X.shape), np.zeros(len(X)), []
        for k, model in enumerate(scoring.models):
            rows = np.flatnonzero(which == k)
            if len(rows):
                part = None if groups is None else groups[rows]
                v, b, m = explain_scoring(model, X.iloc[rows].reset_index(drop=True), part, job)
                values[rows], base[rows] = v, b
                methods.append(m)
        return values, base, " + ".join(dict.fromkeys(methods)) + " (each row's fold model)"
    if isinstance(scoring, EstimatorScoringModel):
        return explain_estimator(scoring.estimator, X, job)
    if isinstance(scoring, BoosterModel):
        booster, offset = scoring.result.booster, float(scoring.result.init_score)
        values, base = _trees(
            *lightgbm_contributions(booster, X), lambda R: lightgbm_contributions(booster, R), job
        )
        return values, base + offset, f"{TREESHAP} (LightGBM, constrained)"
    reference = job.reference_for(INTERVENTIONAL)

    def score(rows: pd.DataFrame, who: np.ndarray) -> np.ndarray:
        part = None if groups is None else groups[who]
        return to_margin(scoring.predict_proba(rows, part), job.regression)

    values, base = interventional_contributions(
        score, X, reference, n_samples=job.n_samples, random_state=job.random_state
    )
    return values, base, INTERVENTIONAL


def _relative_to(method: str, job: _Job) -> str:
    if job.reference is not None:
        return f"the mean of the {len(job.reference)} reference rows"
    if TREESHAP in method and INTERVENTIONAL not in method and LINEAR not in method:
        return "the training rows (as the trees record them)"
    return f"the mean of the {len(job.batch)} rows explained"


def _check_n_samples(n_samples: object) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InputError(M.BAD_N_SAMPLES.format(given=repr(n_samples)))
    return int(n_samples)


def _user_frame(X: object) -> pd.DataFrame:
    frame = as_frame(X)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def fair_model_contributions(
    model: Any,
    X: object,
    sensitive_features: object = None,
    *,
    reference: object = None,
    n_samples: int = 32,
    random_state: int | None = 0,
) -> Contributions:
    """:class:`Contributions` of a :class:`~fairautoml.model.fair_model.FairModel`'s score
    (see :meth:`FairModel.contributions <fairautoml.model.fair_model.FairModel.contributions>`)."""
    n_samples = _check_n_samples(n_samples)
    if model.task.name not in ("binary", "regression"):
        raise InputError(M.SEVERAL_CLASSES.format(n_classes=len(model.classes_)))
    Xp, groups = model.prepare(X, sensitive_features, method="contributions")
    raw = _user_frame(X)
    ref = None
    if reference is not None:
        frame = _user_frame(reference).reset_index(drop=True)
        drop = [] if model.keep_sensitive_as_feature else model.sensitive_columns
        frame = frame.drop(columns=[c for c in drop if c in frame.columns])
        ref = model.schema.transform(frame)
    job = _Job(model.task.name == "regression", ref, Xp, n_samples, random_state)
    values, base, method = explain_scoring(model.scoring, Xp, groups, job)
    return Contributions(
        values=pd.DataFrame(values, columns=list(Xp.columns), index=raw.index),
        base=base,
        data=raw[list(Xp.columns)],
        method=method,
        scale=AMOUNT if job.regression else LOG_ODDS,
        relative_to=_relative_to(method, job),
    )


def contributions(
    model: Any,
    X: object,
    *,
    sensitive_features: object = None,
    reference: object = None,
    pos_label: object = None,
    n_samples: int = 32,
    random_state: int | None = 0,
) -> Contributions:
    """Per-row, per-column contributions to ``model``'s score on its margin.

    Parameters
    ----------
    model : FairModel, FairAutoML, or any fitted scikit-learn model
        A fair model (or a fitted search: its best model), or a user's model with
        ``predict_proba`` (two classes) or ``predict`` (amounts).
    X : table
        The rows to explain, with the model's columns.
    sensitive_features : for a fair model that reads the group: the group of each row
        (or column names of X).
    reference : table or None
        Rows the contributions are relative to (their mean). None: the rows explained, for
        the linear and interventional methods (at least 2); the training rows, for trees.
    pos_label : a class of a user's model: the one whose probability is the score (None:
        its second class, ``classes_[1]``). A fair model's score is the favourable class's.
    n_samples : int
        Pairs (reference row, order of the columns) of the interventional method.
    random_state : int or None
        Seeds the interventional method's draws.
    """
    if hasattr(model, "best_estimator_"):
        model = model.best_estimator_
    if callable(getattr(model, "contributions", None)):
        return model.contributions(
            X, sensitive_features, reference=reference, n_samples=n_samples,
            random_state=random_state,
        )  # fmt: skip
    return estimator_contributions(
        model, X, reference=reference, pos_label=pos_label, n_samples=n_samples,
        random_state=random_state,
    )  # fmt: skip


def _model_columns(model: Any, frame: pd.DataFrame, table: str) -> pd.DataFrame:
    needed = getattr(model, "feature_names_in_", None)
    if needed is None:
        return frame
    needed = [str(c) for c in needed]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(
            M.MISSING_COLUMNS.format(table=table, missing=missing, model=type(model).__name__)
        )
    return frame[needed]


def estimator_contributions(
    model: Any,
    X: object,
    *,
    reference: object = None,
    pos_label: object = None,
    n_samples: int = 32,
    random_state: int | None = 0,
) -> Contributions:
    """:func:`contributions` of a user's fitted scikit-learn model, on the columns it reads."""
    n_samples = _check_n_samples(n_samples)
    regression = not hasattr(model, "predict_proba")
    if regression and not hasattr(model, "predict"):
        raise InputError(M.NO_PROBA.format(model=type(model).__name__))
    positive = 1
    if not regression:
        classes = list(getattr(model, "classes_", [0, 1]))
        if len(classes) != 2:
            raise InputError(M.SEVERAL_CLASSES.format(n_classes=len(classes)))
        if pos_label is not None:
            if pos_label not in classes:
                raise InputError(M.POS_LABEL_UNKNOWN.format(given=pos_label, classes=classes))
            positive = classes.index(pos_label)
    raw = _model_columns(model, _user_frame(X), "X")
    frame = raw.reset_index(drop=True)
    ref = None
    if reference is not None:
        ref = _model_columns(model, _user_frame(reference), "reference").reset_index(drop=True)
    job = _Job(regression, ref, frame, n_samples, random_state)
    values, base, method = explain_estimator(model, frame, job, positive=positive)
    return Contributions(
        values=pd.DataFrame(values, columns=list(frame.columns), index=raw.index),
        base=base,
        data=raw,
        method=method,
        scale=AMOUNT if regression else LOG_ODDS,
        relative_to=_relative_to(method, job),
    )
