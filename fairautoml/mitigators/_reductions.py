"""The shared part of fairlearn's reductions (``exponentiated_gradient``, ``grid_search``).

Both retrain the learner on reweighted copies of the training rows under the fairlearn
moment that matches the user's constraints:

* yes/no decisions (:mod:`._targets`), the rows also relabelled: fairlearn's moments bound
  each group's rate against the overall rate; the bound is set so that the user's
  between-group bound holds on the training rows, times ``bound_scale`` (< 1 leaves a
  margin, since the reductions meet their bound on training rows only);
* amounts (:mod:`._loss_bounds`): ``BoundedGroupLoss`` bounds every group's mean absolute
  or squared error. The reduction sees the target mapped onto [0, 1]
  (:class:`TargetScale`), and its models' predictions are mapped back: fairlearn's
  losses, its tolerance ``eps`` and its step sizes assume losses in [0, 1], whatever the
  target's units.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.reductions import (
    AbsoluteLoss,
    BoundedGroupLoss,
    DemographicParity,
    EqualizedOdds,
    FalsePositiveRateParity,
    SquareLoss,
    TruePositiveRateParity,
)
from fairlearn.reductions import Moment as FairlearnMoment
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from threadpoolctl import threadpool_limits

from fairautoml.exceptions import ConstraintError
from fairautoml.learners import EncodedClassifier, EncodedRegressor, make_encoder
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.regression import REGRESSION_MEASURES
from fairautoml.mitigators._base import ScoringModel, TrainingMitigator, time_left
from fairautoml.mitigators._loss_bounds import (
    GROUP_LOSS_METRICS,
    group_loss_bound,
    loss_of,
    needs_reference,
)
from fairautoml.mitigators._targets import DP, EO, FPR, NOTIONS, TPR, deviation_bound, target_of
from fairautoml.tasks import Task

# --- regression in-processing
REDUCTION_ONE_GROUP_LOSS = (
    "fairlearn's reductions bound one group loss for a regressor (every group's mean absolute "
    "or squared error); {constraints} cannot be expressed that way. Constrain "
    "mean_absolute_error_* or (root_)mean_squared_error_*, not both, or use "
    "barycenter_transport for demographic_parity_ks."
)

_MOMENTS = {
    DP: DemographicParity,
    TPR: TruePositiveRateParity,
    FPR: FalsePositiveRateParity,
    EO: EqualizedOdds,
}
_LOSSES = {"absolute": AbsoluteLoss, "squared": SquareLoss}


@dataclass(frozen=True)
class TargetScale:
    """The affine map of an amount onto [0, 1]: ``(y - low) / span``."""

    low: float
    span: float

    @classmethod
    def of(cls, y: np.ndarray) -> TargetScale:
        low, high = float(np.min(y)), float(np.max(y))
        return cls(low, high - low if high > low else 1.0)

    def forward(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=np.float64) - self.low) / self.span

    def back(self, scaled: np.ndarray) -> np.ndarray:
        return self.low + self.span * np.asarray(scaled, dtype=np.float64)

    def loss_unit(self, loss: str) -> float:
        """One unit of the scaled loss, in the target's units (squared for "squared")."""
        return self.span if loss == "absolute" else self.span**2


def make_moment(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    groups: np.ndarray,
    bound_scale: float,
    reference: np.ndarray | None = None,
) -> FairlearnMoment:
    """The fairlearn moment for ``constraints``, bounded so they hold on these rows.

    For regression constraints, ``y`` is the amount and the moment is for the amount
    mapped by ``TargetScale.of(y)``; ``reference`` holds the unmitigated learner's
    predictions (amounts) when a constraint compares groups
    (:func:`~._loss_bounds.needs_reference`).
    """
    if constraints and all(c.metric in REGRESSION_MEASURES for c in constraints):  # amounts
        return _loss_moment(constraints, y, groups, bound_scale, reference)
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


def _loss_moment(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    groups: np.ndarray,
    bound_scale: float,
    reference: np.ndarray | None,
) -> BoundedGroupLoss:
    loss = loss_of(constraints)
    if loss is None:
        raise ConstraintError(
            REDUCTION_ONE_GROUP_LOSS.format(constraints=", ".join(map(str, constraints)))
        )
    bound = group_loss_bound(constraints, y, groups, bound_scale, reference)
    unit = TargetScale.of(y).loss_unit(loss)
    return BoundedGroupLoss(_LOSSES[loss](0.0, 1.0), upper_bound=bound / unit)


class EncodedModel(ScoringModel):
    """A scoring model fitted on once-encoded features (see ``Reduction.run``)."""

    def __init__(self, encoder: Any, scoring: ScoringModel) -> None:
        self.encoder = encoder
        self.scoring = scoring

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return self.scoring.predict_proba(self.encoder.transform(X), groups)


class AmountModel(ScoringModel):
    """A scoring model fitted on the amount mapped by ``scale``; predicts amounts."""

    def __init__(self, scale: TargetScale, scoring: ScoringModel) -> None:
        self.scale = scale
        self.scoring = scoring

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return self.scale.back(self.scoring.predict_proba(X, groups))


class _Remembers(BaseEstimator):
    """``estimator`` that keeps its predictions on the rows it was fitted on.

    fairlearn's reductions predict every model they fit on the training rows twice (once
    for the error, once for the moment); for boosted trees a prediction on the training
    rows costs a good part of a fit, so keeping the first saves part of the reduction's
    time and leaves its result unchanged.
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _Remembers:
        self.fitted_ = clone(self.estimator).fit(X, y, sample_weight=sample_weight)
        self._rows, self._predicted = X, self.fitted_.predict(X)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self._predicted if X is self._rows else self.fitted_.predict(X)


class RemembersTrainingPredictions(ClassifierMixin, _Remembers):
    """A classifier that keeps its predictions on its training rows (:class:`_Remembers`)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RemembersTrainingPredictions:
        super().fit(X, y, sample_weight)
        self.classes_ = self.fitted_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.fitted_.predict_proba(X)


class RemembersTrainingAmounts(RegressorMixin, _Remembers):
    """A regressor that keeps its predictions on its training rows (:class:`_Remembers`)."""


def remembering(estimator: Any, task: Task) -> _Remembers:
    """``estimator`` behind the wrapper of its task's kind (regressor or classifier)."""
    if task.estimator_kind == "regressor":
        return RemembersTrainingAmounts(estimator)
    return RemembersTrainingPredictions(estimator)


def fitted_learner(predictor: Any) -> Any:
    """A reduction's fitted model without its :class:`_Remembers` wrapper (and the training
    rows it holds); fairlearn's constant stand-ins come back as they are."""
    return predictor.fitted_ if isinstance(predictor, _Remembers) else predictor


class Reduction(TrainingMitigator):
    stage = "in"
    tasks = frozenset({"binary", "regression"})
    supported_constraints = frozenset(NOTIONS) | GROUP_LOSS_METRICS

    def supports(self, constraints: Sequence[Constraint]) -> bool:
        """One classification notion (:func:`~._targets.target_of`), or bounds on one group
        loss (:func:`~._loss_bounds.loss_of`); fairlearn has no moment for the
        Kolmogorov–Smirnov distance."""
        return target_of(constraints) is not None or loss_of(constraints) is not None

    def run(
        self,
        reduction: Callable[[Any, FairlearnMoment], Any],
        to_model: Callable[[Any], ScoringModel],
        estimator: Any,
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        bound_scale: float,
        n_fits: float,
        *,
        task: Task,
    ) -> ScoringModel:
        """Fit ``reduction(estimator, moment)``, which fits the learner about ``n_fits``
        times, under the moment of ``constraints`` (:func:`make_moment`); ``to_model``
        reads the fitted models through :func:`fitted_learner`.

        A learner that one-hot encodes its input is encoded once here, not at each of the
        reduction's fits and predictions. A regressor sees the amount mapped onto [0, 1]
        (module docstring). Within a search, one probe fit times the learner and the
        trial fails fast if the reduction would not end before the deadline; the same
        fit gives the unmitigated predictions a group-loss difference or ratio reads.
        """
        encoder = None
        if isinstance(estimator, (EncodedClassifier, EncodedRegressor)):
            encoder = make_encoder(estimator.scale).fit(X)
            X, estimator = encoder.transform(X), estimator.estimator
        scale = TargetScale.of(y) if task.estimator_kind == "regressor" else None
        y_fit = y if scale is None else scale.forward(y)
        left, reference = time_left(), None
        if math.isfinite(left) or needs_reference(constraints):
            start = time.monotonic()
            probe = clone(estimator).fit(X, y_fit)
            seconds = time.monotonic() - start
            needed = seconds * n_fits
            if needed > left - seconds:
                raise TimeoutError(
                    f"{self.name} would need about {needed:.0f} s ({n_fits:.0f} learner fits) "
                    f"but the search has {max(left, 0):.0f} s left; skipped. Raise time_budget, "
                    "or search a cheaper learner or fewer iterations."
                )
            if scale is not None and needs_reference(constraints):
                reference = scale.back(probe.predict(X))
        moment = make_moment(constraints, y, groups, bound_scale, reference)
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            # fairlearn's own pandas deprecations; nothing a user can act on
            warnings.filterwarnings("ignore", module=r"fairlearn\.")
            fitted = reduction(remembering(estimator, task), moment)
            fitted.fit(X, y_fit, sensitive_features=groups)
        model = to_model(fitted)
        if encoder is not None:
            model = EncodedModel(encoder, model)
        return model if scale is None else AmountModel(scale, model)
