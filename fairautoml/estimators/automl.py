"""``FairAutoML`` and ``FairAutoMLRegressor``: the scikit-learn estimators users fit.

Both are one search (:class:`FairSearchEstimator`) for a task: yes/no decisions or amounts.
What differs lives in the task (:mod:`fairautoml.tasks`); the estimators only add what
scikit-learn expects of a classifier or a regressor.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from fairautoml.data.weights import check_sample_weight
from fairautoml.estimators.base import FairSearchEstimator
from fairautoml.measures.metrics import get_metric
from fairautoml.tasks import classification_task, get_task, infer_task

logger = logging.getLogger("fairautoml")


class FairAutoML(ClassifierMixin, FairSearchEstimator):
    """The fair search for decisions: a target of two classes, one favourable, or of 3 to
    20 classes (multiclass: :mod:`fairautoml.tasks.multiclass`), read off the target.

    Parameters: see :class:`FairSearchEstimator`; for several classes ``pos_label`` may
    name one or more favourable classes (default: every class). Fitted, it has
    ``classes_`` (two classes: the positive class second; several: sorted),
    ``predict_proba`` (a column per class, in ``classes_`` order) and a per-group
    ``fairness_report``.
    """

    _task = "binary"

    def fit(
        self,
        X: Any,
        y: Any,
        sensitive_features: Any = None,
        sample_weight: Any = None,
        target_X: Any = None,
        group_probabilities: Any = None,
        shift_robust: bool = False,
    ) -> FairAutoML:
        """See :meth:`FairSearchEstimator.fit`; the task (two classes or several) is read
        off ``y``."""
        self._fit_task = classification_task(y).name
        logger.info("FairAutoML: the task read off the target: %s", self._fit_task)
        fitted = super().fit(
            X, y, sensitive_features, sample_weight, target_X, group_probabilities, shift_robust
        )
        return fitted  # type: ignore[return-value]

    def predict_proba(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2), consistent with ``predict``."""
        return self._fitted().predict_proba(X, sensitive_features)

    def fairness_report(
        self, X: Any, y: Any, sensitive_features: Any = None, sample_weight: Any = None
    ) -> Any:
        """Per-group selection rate, TPR, FPR, accuracy and count of the chosen model.

        For several classes: a DataFrame with one row per (group, class), the one-vs-rest
        selection rate, recall and false positive rate with intervals at the fit's level
        (``best_config_["interval_level"]``, FairAutoML's ``confidence``)
        (:meth:`~fairautoml.tasks.multiclass.MulticlassTask.group_table`).

        Returns a ``fairlearn.metrics.MetricFrame``: ``.by_group`` is the table (one row
        per group or intersection), ``.overall`` the whole data, ``.difference()`` the
        largest gap per metric. Pass rows the search never saw for an honest report.
        With ``sample_weight`` the rates are weighted and ``count`` is the total weight.
        """
        model = self._fitted()
        return model.task.fairness_report(
            self.predict, self.classes_, X, y, sensitive_features, model.group_encoder,
            self.best_config_["interval_level"], sample_weight=sample_weight,
        )  # fmt: skip

    def score(
        self, X: Any, y: Any, sample_weight: Any = None, sensitive_features: Any = None
    ) -> float:
        """The fitted ``metric`` on (X, y) (higher is better; rows weighted by
        ``sample_weight`` when given)."""
        metric = get_metric(self.metric_)
        task = self._fitted().task
        proba = self.predict_proba(X, sensitive_features)
        proba = task.scores_from_proba(proba)
        y_arr = task.encode_labels(y, self.classes_, len(proba))
        weight = check_sample_weight(sample_weight, len(proba))
        return metric.measure(y_arr, task.decide(proba), proba, weight)


class FairAutoMLRegressor(RegressorMixin, FairSearchEstimator):
    """The fair search for amounts and scores (a credit limit, a wage, a health cost).

    Parameters: see :class:`FairSearchEstimator` (``pos_label`` does not apply). The
    constraints are regression's: ``demographic_parity_ks`` (strong demographic parity:
    the largest Kolmogorov-Smirnov distance between two groups' predictions) and group
    losses (``mean_absolute_error_ratio >= 0.9``, ``mean_squared_error_group_max <= b``, ...).
    """

    _task = "regression"

    def fairness_report(self, X: Any, y: Any, sensitive_features: Any = None) -> Any:
        """Per-group count, mean prediction, mean target, MAE and RMSE of the chosen
        model, each with an interval (a DataFrame, one row per group). Pass rows the
        search never saw for an honest report."""
        model = self._fitted()
        return model.task.fairness_report(
            self.predict, None, X, y, sensitive_features, model.group_encoder,
            self.best_config_["interval_level"],
        )  # fmt: skip

    def score(
        self, X: Any, y: Any, sample_weight: Any = None, sensitive_features: Any = None
    ) -> float:
        """The fitted ``metric`` on (X, y) (higher is better; losses negated; rows
        weighted by ``sample_weight`` when given)."""
        metric = get_metric(self.metric_)
        pred = self.predict(X, sensitive_features)
        y_arr, _ = self._fitted().task.prepare_target(y, len(pred))
        weight = check_sample_weight(sample_weight, len(pred))
        return metric.measure(y_arr, pred, pred, weight)


ESTIMATORS: dict[str, type[FairSearchEstimator]] = {
    "binary": FairAutoML,
    "multiclass": FairAutoML,
    "regression": FairAutoMLRegressor,
}


def estimator_for(task: str | None) -> type[FairSearchEstimator]:
    """The estimator class of a task (what a worker rebuilds a recorded search with)."""
    return ESTIMATORS[get_task(task or "binary").name]


def fit(
    X: Any,
    y: Any,
    sensitive_features: Any = None,
    task: str | None = None,
    sample_weight: Any = None,
    target_X: Any = None,
    group_probabilities: Any = None,
    shift_robust: bool = False,
    **options: Any,
) -> FairSearchEstimator:
    """Fit the estimator of the target's task with ``options`` and return it.

    ``task``: "classification" or "regression"; None infers it from ``y`` (numeric with
    many distinct values that are not all whole numbers: regression) and logs which.
    The groups are ``sensitive_features`` or, instead, ``group_probabilities``
    (:meth:`FairSearchEstimator.fit`).
    """
    chosen = get_task(task) if task is not None else infer_task(y)
    if task is None:
        logger.info("fairautoml.fit: the target looks like %s", chosen.name)
    estimator = estimator_for(chosen.name)(**options)
    return estimator.fit(
        X, y, sensitive_features=sensitive_features, sample_weight=sample_weight,
        target_X=target_X, group_probabilities=group_probabilities, shift_robust=shift_robust,
    )  # fmt: skip


__all__ = ["FairAutoML", "FairAutoMLRegressor", "FairSearchEstimator", "estimator_for", "fit"]
