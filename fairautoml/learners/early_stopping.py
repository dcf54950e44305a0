"""Early stopping for the gradient-boosting learners: ``n_estimators`` is a ceiling.

``fit`` holds back a share of its rows (``validation_fraction``; only rows with a positive
``sample_weight``, as a zero-weight row has no loss to watch), boosts on the rest with the
library's own early stopping on the held-back rows' weighted loss, and keeps the model at
its best round: nothing is refitted on all rows. Fitted attributes: ``n_estimators_used_``
(the rounds the predictions use) and ``inner_validation_rows_`` (the rows held back; 0 for
a plain fit).

The classifiers hold back a share stratified on the class and watch the log-loss. The
regressors hold back a plain random share (a continuous target has no classes to
stratify on) and watch the squared error: lightgbm's ``l2``, xgboost's ``rmse``, whose
best round is the same.

It is a plain fit of every round on every row when ``early_stopping_rounds`` is 0 or
None, or when the held-back share would have fewer than :data:`MIN_VALIDATION_ROWS` rows
(of some class, for a classifier). Every estimator subclasses the library's own, so
whatever takes an ``LGBMClassifier`` (the ``constrained_boosting`` mitigator) or an
``XGBClassifier`` still does. Search spaces set it with two fixed keys::

    fixed:
      early_stopping_rounds: 20  # rounds without a better held-back loss; 0 or null: off
      validation_fraction: 0.1
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import lightgbm
import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier, XGBRegressor

from fairautoml import exceptions as E

EARLY_STOPPING_SETTING = (
    "{name} must be {expected}; got {value!r}. Set it in the learner's search space, e.g. "
    "fixed: {{early_stopping_rounds: 20, validation_fraction: 0.1}} (early_stopping_rounds: 0 "
    "switches early stopping off)."
)

logger = logging.getLogger(__name__)

# rows in the held-back share (of every class, for a classifier); fewer: a plain fit, since
# on small tables the held-back rows cost more accuracy than stopping saves
# (docs/learners_and_mitigators.md)
MIN_VALIDATION_ROWS = 100
_OWN_PARAMS = ("early_stopping_rounds", "validation_fraction")
# lightgbm 4.7 deprecates eval_set for eval_X / eval_y; the 4.5 and 4.6 we support lack them
_LGBM_EVAL_XY = "eval_X" in inspect.signature(LGBMClassifier.fit).parameters

Part = tuple[Any, np.ndarray, np.ndarray | None]  # X, y, sample_weight


def inner_split(
    y: Any, sample_weight: Any, fraction: float, random_state: Any, *, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted row indices ``(fit, validation)`` of the held-back share, or None when it
    would hold fewer than :data:`MIN_VALIDATION_ROWS` rows (of some class, with
    ``stratify``).

    Stratified on the class with ``stratify`` (a continuous target: a plain random
    share); rows of weight 0 always stay with the fit rows.
    """
    y = np.asarray(y)
    eligible = np.arange(len(y))
    if sample_weight is not None:
        eligible = np.flatnonzero(np.asarray(sample_weight) > 0)
    if stratify:
        _, counts = np.unique(y[eligible], return_counts=True)
        if len(counts) < len(np.unique(y)):
            return None
    else:
        counts = np.array([len(eligible)])
    if counts.min() * fraction < MIN_VALIDATION_ROWS:
        return None
    _, val = train_test_split(
        eligible,
        test_size=fraction,
        stratify=y[eligible] if stratify else None,
        random_state=random_state,
    )
    val = np.sort(val)
    return np.setdiff1d(np.arange(len(y)), val, assume_unique=True), val


def _patience(rounds: Any, fraction: Any) -> int:
    """Rounds without improvement before stopping (0: off), after checking both settings."""
    if rounds is None or rounds == 0:
        return 0
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 0:
        raise E.ConfigurationError(
            EARLY_STOPPING_SETTING.format(
                name="early_stopping_rounds", expected="an integer >= 0 or None", value=rounds
            )
        )
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise E.ConfigurationError(
            EARLY_STOPPING_SETTING.format(
                name="validation_fraction", expected="a number in (0, 1)", value=fraction
            )
        )
    return int(rounds)


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


def _held_back(estimator: Any, X: Any, y: Any, sample_weight: Any) -> tuple[int, Part, Part] | None:
    """``(patience, fit part, validation part)``, or None for a plain fit."""
    rounds = _patience(estimator.early_stopping_rounds, estimator.validation_fraction)
    if rounds == 0:
        return None
    split = inner_split(
        y,
        sample_weight,
        estimator.validation_fraction,
        estimator.random_state,
        stratify=estimator.stratified_holdout,
    )
    if split is None:
        logger.debug(
            "early stopping skipped: fewer than %d rows would be held back", MIN_VALIDATION_ROWS
        )
        return None
    y = np.asarray(y)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    parts = tuple((_take(X, i), y[i], None if w is None else w[i]) for i in split)
    return rounds, parts[0], parts[1]


class _LGBMEarlyStopping:
    """Early stopping for a LightGBM estimator (see the module docstring); mixed in
    before ``LGBMClassifier`` or ``LGBMRegressor``.

    Parameters
    ----------
    early_stopping_rounds : int or None, default=20
        Stop after this many rounds without a lower held-back loss; 0 or None: off.
    validation_fraction : float, default=0.1
        Share of the rows (of positive weight) held back.
    **kwargs
        The LightGBM estimator's parameters.
    """

    def __init__(
        self,
        *,
        early_stopping_rounds: int | None = 20,
        validation_fraction: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction

    def _process_params(self, stage: str) -> dict[str, Any]:
        # LightGBM hands every constructor parameter to its booster and has no public hook
        # to keep one back; ``early_stopping_rounds`` is even an alias of its own
        # ``early_stopping_round``, which would start a second, unasked-for early stopping
        params = super()._process_params(stage)  # type: ignore[misc]
        for key in _OWN_PARAMS:
            params.pop(key, None)
        return params

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> Any:
        """Fit on ``X, y``; ``fit_params`` go to the LightGBM estimator's ``fit``."""
        held = _held_back(self, X, y, sample_weight)
        if held is None:
            super().fit(X, y, sample_weight=sample_weight, **fit_params)  # type: ignore[misc]
            self.inner_validation_rows_ = 0
        else:
            rounds, (X_fit, y_fit, w_fit), (X_val, y_val, w_val) = held
            callbacks = [
                *(fit_params.pop("callbacks", None) or []),
                lightgbm.early_stopping(rounds, verbose=False),
            ]
            if _LGBM_EVAL_XY:
                fit_params.update(eval_X=X_val, eval_y=y_val)
            else:
                fit_params.update(eval_set=[(X_val, y_val)])
            super().fit(  # type: ignore[misc]
                X_fit,
                y_fit,
                sample_weight=w_fit,
                eval_sample_weight=None if w_val is None else [w_val],
                callbacks=callbacks,
                **fit_params,
            )
            self.inner_validation_rows_ = len(y_val)
        # best_iteration_ is 1-based, 0 without early stopping
        self.n_estimators_used_ = int(self.best_iteration_ or self.n_iter_)  # type: ignore[attr-defined]
        return self


class _XGBEarlyStopping:
    """Early stopping for an XGBoost estimator (see the module docstring); mixed in
    before ``XGBClassifier`` or ``XGBRegressor``.

    Parameters
    ----------
    early_stopping_rounds : int or None, default=20
        Stop after this many rounds without a lower held-back loss; 0 or None: off.
    validation_fraction : float, default=0.1
        Share of the rows (of positive weight) held back.
    **kwargs
        The XGBoost estimator's parameters.
    """

    def __init__(
        self,
        *,
        early_stopping_rounds: int | None = 20,
        validation_fraction: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(early_stopping_rounds=early_stopping_rounds, **kwargs)  # type: ignore[call-arg]
        self.validation_fraction = validation_fraction

    def get_xgb_params(self) -> dict[str, Any]:
        params = super().get_xgb_params()  # type: ignore[misc]
        params.pop("validation_fraction", None)
        return params

    def fit(self, X: Any, y: Any, *, sample_weight: Any = None, **fit_params: Any) -> Any:
        """Fit on ``X, y``; ``fit_params`` go to the XGBoost estimator's ``fit``."""
        held = _held_back(self, X, y, sample_weight)
        if held is None:
            # XGBoost reads early stopping from the constructor parameter and refuses it
            # without an evaluation set; it is switched off for this fit only
            rounds, self.early_stopping_rounds = self.early_stopping_rounds, None
            try:
                super().fit(X, y, sample_weight=sample_weight, **fit_params)  # type: ignore[misc]
            finally:
                self.early_stopping_rounds = rounds
            self.inner_validation_rows_ = 0
            self.n_estimators_used_ = int(self.get_booster().num_boosted_rounds())  # type: ignore[attr-defined]
        else:
            _, (X_fit, y_fit, w_fit), (X_val, y_val, w_val) = held
            fit_params.setdefault("verbose", False)
            super().fit(  # type: ignore[misc]
                X_fit,
                y_fit,
                sample_weight=w_fit,
                eval_set=[(X_val, y_val)],
                sample_weight_eval_set=None if w_val is None else [w_val],
                **fit_params,
            )
            self.inner_validation_rows_ = len(y_val)
            # predictions use the rounds up to best_iteration (0-based); the patience
            # rounds after it stay in the booster unused
            self.n_estimators_used_ = int(self.best_iteration) + 1  # type: ignore[attr-defined]
        return self


class EarlyStoppingLGBMClassifier(_LGBMEarlyStopping, LGBMClassifier):
    """``LGBMClassifier`` whose ``n_estimators`` is a ceiling; it watches the held-back
    log-loss on a share stratified on the class (parameters: :class:`_LGBMEarlyStopping`)."""

    stratified_holdout = True  # the held-back share keeps the classes' proportions


class EarlyStoppingLGBMRegressor(_LGBMEarlyStopping, LGBMRegressor):
    """``LGBMRegressor`` whose ``n_estimators`` is a ceiling; it watches the held-back
    ``l2`` on a random share (parameters: :class:`_LGBMEarlyStopping`)."""

    stratified_holdout = False  # a random held-back share: amounts have no classes


class EarlyStoppingXGBClassifier(_XGBEarlyStopping, XGBClassifier):
    """``XGBClassifier`` whose ``n_estimators`` is a ceiling; it watches the held-back
    log-loss on a share stratified on the class (parameters: :class:`_XGBEarlyStopping`)."""

    stratified_holdout = True  # the held-back share keeps the classes' proportions


class EarlyStoppingXGBRegressor(_XGBEarlyStopping, XGBRegressor):
    """``XGBRegressor`` whose ``n_estimators`` is a ceiling; it watches the held-back
    ``rmse`` on a random share (parameters: :class:`_XGBEarlyStopping`). Predictions are
    float64, as every regressor's."""

    stratified_holdout = False  # a random held-back share: amounts have no classes

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:  # type: ignore[override]
        return np.asarray(super().predict(X, **kwargs), dtype=np.float64)


__all__ = [
    "MIN_VALIDATION_ROWS",
    "EarlyStoppingLGBMClassifier",
    "EarlyStoppingLGBMRegressor",
    "EarlyStoppingXGBClassifier",
    "EarlyStoppingXGBRegressor",
    "inner_split",
]
