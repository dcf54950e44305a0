"""The shared part of fairlearn's reductions (``exponentiated_gradient``, ``grid_search``).

Both retrain the learner on reweighted, relabelled copies of the training rows under the
fairlearn moment that matches the user's constraints (see :mod:`._targets`). fairlearn's
moments bound each group's rate against the overall rate; the bound is set so that the
user's between-group bound holds on the training rows, times ``bound_scale`` (< 1 leaves
a margin, since the reductions meet their bound on training rows only).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.reductions import (
    DemographicParity,
    EqualizedOdds,
    FalsePositiveRateParity,
    TruePositiveRateParity,
)
from fairlearn.reductions import Moment as FairlearnMoment
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from threadpoolctl import threadpool_limits

from fairautoml.constraints import Constraint
from fairautoml.learners._base import EncodedClassifier, make_encoder
from fairautoml.mitigators._base import ScoringModel, TrainingMitigator, time_left
from fairautoml.mitigators._targets import DP, EO, FPR, NOTIONS, TPR, deviation_bound, target_of

_MOMENTS = {
    DP: DemographicParity,
    TPR: TruePositiveRateParity,
    FPR: FalsePositiveRateParity,
    EO: EqualizedOdds,
}


def make_moment(
    constraints: Sequence[Constraint], y: np.ndarray, groups: np.ndarray, bound_scale: float
) -> FairlearnMoment:
    """The fairlearn moment for ``constraints``, bounded so they hold on these rows."""
    target = target_of(constraints)
    if target is None:
        raise ValueError(
            f"fairlearn's reductions enforce one notion at a time; "
            f"{', '.join(map(str, constraints)) or 'no constraint'} cannot be expressed as one. "
            "Use group_thresholds, or constrain one notion."
        )
    moment = _MOMENTS[target.notion]
    if target.is_ratio:
        # each group's rate is kept within [rho * r, r / rho]: a between-group ratio of rho**2
        rho = float(np.sqrt(target.bound))
        return moment(ratio_bound=1.0 - bound_scale * (1.0 - rho))
    return moment(difference_bound=bound_scale * deviation_bound(target, y, groups))


class EncodedModel(ScoringModel):
    """A scoring model fitted on once-encoded features (see ``Reduction.run``)."""

    def __init__(self, encoder: Any, scoring: ScoringModel) -> None:
        self.encoder = encoder
        self.scoring = scoring

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return self.scoring.predict_proba(self.encoder.transform(X), groups)


class RemembersTrainingPredictions(ClassifierMixin, BaseEstimator):
    """``estimator`` that keeps its predictions on the rows it was fitted on.

    fairlearn's reductions predict every model they fit on the training rows twice (once
    for the error, once for the moment); for boosted trees a prediction on the training
    rows costs a good part of a fit, so keeping the first saves a share of the reduction's
    seconds (``results/exponentiated_gradient_cost.md``), its result unchanged.
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RemembersTrainingPredictions:
        self.fitted_ = clone(self.estimator).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.fitted_.classes_
        self._rows, self._predicted = X, self.fitted_.predict(X)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self._predicted if X is self._rows else self.fitted_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.fitted_.predict_proba(X)


def fitted_learner(predictor: Any) -> Any:
    """A reduction's fitted model without :class:`RemembersTrainingPredictions` (and the
    training rows it holds); fairlearn's constant stand-ins come back as they are."""
    return predictor.fitted_ if isinstance(predictor, RemembersTrainingPredictions) else predictor


class Reduction(TrainingMitigator):
    stage = "in"
    supported_constraints = frozenset(NOTIONS)

    def supports(self, constraints: Sequence[Constraint]) -> bool:
        return target_of(constraints) is not None

    def run(
        self,
        reduction: Callable[[Any], Any],
        to_model: Callable[[Any], ScoringModel],
        estimator: Any,
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        n_fits: float,
    ) -> ScoringModel:
        """Fit ``reduction(estimator)``, which fits the learner about ``n_fits`` times;
        ``to_model`` reads the fitted models through :func:`fitted_learner`.

        A learner that one-hot encodes its input is encoded once here, not at each of the
        reduction's fits and predictions. Within a search, one probe fit times the learner
        and the trial fails fast if the reduction would not end before the deadline.
        """
        encoder = None
        if isinstance(estimator, EncodedClassifier):
            encoder = make_encoder(estimator.scale).fit(X)
            X, estimator = encoder.transform(X), estimator.estimator
        left = time_left()
        if math.isfinite(left):
            start = time.monotonic()
            clone(estimator).fit(X, y)
            needed = (time.monotonic() - start) * n_fits
            if needed > left - (time.monotonic() - start):
                raise TimeoutError(
                    f"{self.name} would need about {needed:.0f} s ({n_fits:.0f} learner fits) "
                    f"but the search has {max(left, 0):.0f} s left; skipped. Raise time_budget, "
                    "or search a cheaper learner or fewer iterations."
                )
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            # fairlearn's own pandas deprecations; nothing a user can act on
            warnings.filterwarnings("ignore", module=r"fairlearn\.")
            fitted = reduction(RemembersTrainingPredictions(estimator))
            fitted.fit(X, y, sensitive_features=groups)
        model = to_model(fitted)
        return model if encoder is None else EncodedModel(encoder, model)
