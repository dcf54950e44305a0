"""Amounts and scores: a numeric target, predicted as a number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.data.groups import check_group_sizes
from fairautoml.data.labels import target_array
from fairautoml.exceptions import ConfigurationError, InputError
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.group_tables import regression_groups, regression_report
from fairautoml.measures.regression import REGRESSION_MEASURES
from fairautoml.tasks._base import Task

TARGET_NOT_NUMERIC = (
    "A regression target must be numeric; got {n} value(s) that are not numbers, e.g. "
    "{examples}. Convert the column to numbers, or fit a classifier (task='classification')."
)
TARGET_CONSTANT = (
    "The regression target has a single value ({value!r}) in every row: there is nothing "
    "to predict. Check the target column."
)
GROUP_TOO_SMALL_REGRESSION = (
    "Group {group!r} has {n} rows; at least {min_size} are needed to measure its errors "
    "and prediction distribution. Merge it with another group, or lower min_group_size "
    "(the fairness claim on it will be noisy)."
)
AUDIT_NO_LABELS_AMOUNTS = (
    "Without the true amounts only mean predictions, the constraints on the predictions' "
    "distribution (demographic_parity_ks) and input drift can be measured: errors per group "
    "and the constraints on group losses cannot be checked (give the amounts with y, or "
    "--target COLUMN)."
)
AUDIT_AMOUNTS = (
    "The new rows' target must hold numbers (the amounts the model predicts); {n} value(s) "
    "are missing or not numbers, e.g. {examples}. Give the column the fit was trained on "
    "(CLI: --target COLUMN), without missing values, or leave it out to audit without it."
)

N_STRATA = 4  # quantile bins of the target that splits stratify on (with the group)


class RegressionTask(Task):
    """Scores are the predicted amounts; what is predicted is the score itself.

    A model is useful when it explains some of the target's variance on validation (R²
    above what predicting the mean gets, 0) and constant when its predictions do not vary
    (``prediction_spread``: their standard deviation over the target's, 0 for a constant).
    """

    name = "regression"
    estimator_kind = "regressor"
    inferred_from_target = False
    has_favourable_label = False
    default_metric = "r2"
    default_constraint = "demographic_parity_ks <= 0.1"
    usefulness = "r2"
    chance = 0.0
    min_usefulness = 0.02
    spread = "prediction_spread"
    constant_at = (0.0,)
    strata_names = tuple(f"target quartile {k + 1}" for k in range(N_STRATA))
    every_stratum = False
    report_columns = {  # noqa: RUF012 (class data, never mutated)
        "mean_prediction": "mean prediction",
        "mean_target": "mean target",
        "mae": "mean absolute error",
        "rmse": "root mean squared error",
    }
    side_effects = ("demographic_parity_ks <= 0.1", "mean_absolute_error_ratio >= 0.8")
    target_summary = "mean target"
    audit_caption = (
        "Means with their {level:.0%} intervals (normal approximation; the root mean squared "
        "error's is the square root of the mean squared error's). Amounts have no selection "
        "rate, so no impact ratio."
    )
    audit_no_labels = AUDIT_NO_LABELS_AMOUNTS

    def prepare_target(
        self, y: object, n_rows: int, pos_label: object = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        arr = target_array(y, n_rows)
        if arr.dtype.kind == "b":
            arr = arr.astype(np.float64)
        values = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            examples = ", ".join(repr(v) for v in pd.unique(arr[bad])[:3])
            raise InputError(TARGET_NOT_NUMERIC.format(n=int(bad.sum()), examples=examples))
        out = values.to_numpy(dtype=np.float64)
        if np.all(out == out[0]):
            raise InputError(TARGET_CONSTANT.format(value=float(out[0])))
        return out, None

    def check_groups(
        self,
        groups: np.ndarray,
        y: np.ndarray,
        labels: Sequence[str],
        min_size: int,
        by_class: bool = True,
        classes: np.ndarray | None = None,
    ) -> None:
        check_group_sizes(groups, labels, min_size, GROUP_TOO_SMALL_REGRESSION)

    def strata(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        edges = np.unique(np.quantile(y, np.linspace(0, 1, N_STRATA + 1)[1:-1]))
        return np.searchsorted(edges, y, side="right").astype(np.int64)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores, dtype=np.float64)

    def fairness_report(
        self,
        predict: Any,
        classes: np.ndarray | None,
        X: Any,
        y: Any,
        sensitive_features: Any,
        encoder: Any,
        level: float,
        sample_weight: Any = None,
    ) -> Any:
        """Per group: count, mean prediction and target, MAE and RMSE with intervals."""
        return regression_report(predict, X, y, sensitive_features, encoder)

    def scores_of(self, estimator: Any, X: Any) -> np.ndarray:
        """The predicted amounts."""
        return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1)

    def mixed(self, scores: np.ndarray) -> np.ndarray:
        """A weighted mean of amounts is an amount."""
        return scores

    def diagnostics(
        self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> dict[str, float]:
        y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
        if sample_weight is None:
            sd_y, sd_pred = float(np.std(y)), float(np.std(pred))
            residual = float(np.sum((y - pred) ** 2))
            total = float(np.sum((y - y.mean()) ** 2))
        else:
            w = np.asarray(sample_weight, dtype=np.float64)

            def sd(v: np.ndarray) -> float:
                return float(np.sqrt(np.average((v - np.average(v, weights=w)) ** 2, weights=w)))

            sd_y, sd_pred = sd(y), sd(pred)
            residual = float(np.sum(w * (y - pred) ** 2))
            total = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
        spread = sd_pred / sd_y if sd_y > 0 else 0.0
        if sd_pred <= 1e-9 * max(sd_y, 1e-300):
            spread = 0.0  # constant up to rounding
        r2 = 1.0 - residual / total if total > 0 else 0.0
        return {"prediction_spread": spread, "r2": r2}

    def group_table(
        self, y: np.ndarray, pred: np.ndarray, groups: np.ndarray, level: float
    ) -> pd.DataFrame:
        return regression_groups(y, pred, groups, level=level)

    def diagnostics_line(self, cfg: dict[str, Any]) -> str:
        return (
            f"R² {cfg['r2']:.3f}, prediction spread {cfg['prediction_spread']:.2f} (the "
            "predictions' standard deviation over the target's; validation)"
        )

    def audit_outcomes(
        self, classes: np.ndarray | None, y: object, pred: np.ndarray, pos_label: object
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """The amounts and the predictions as floats; a missing or non-numeric amount is
        an error naming it."""
        if pos_label is not None:
            raise ConfigurationError(E.POS_LABEL_REGRESSION.format(label=pos_label))
        pred = np.asarray(pred, dtype=np.float64)
        if y is None:
            return None, pred
        raw = pd.Series(np.asarray(y, dtype=object).ravel(), dtype=object)
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            examples = ", ".join(repr(v) for v in pd.unique(raw[bad])[:3])
            raise InputError(AUDIT_AMOUNTS.format(n=int(bad.sum()), examples=examples))
        return values.to_numpy(dtype=np.float64), pred

    def audit_table(
        self,
        y: np.ndarray | None,
        pred: np.ndarray,
        names: np.ndarray,
        level: float,
        classes: np.ndarray | None,
    ) -> pd.DataFrame:
        return regression_groups(y, pred, names, level=level)

    def drift_counts(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        groups: np.ndarray,
        labels: Sequence[str],
        classes: np.ndarray | None,
    ) -> dict[str, list[int]] | None:
        """None: the drift of amounts is read off the features only."""
        return None

    def needs_labels(self, constraint: Constraint) -> bool:
        """Group losses need the amounts; the KS distance reads the predictions only."""
        return REGRESSION_MEASURES[constraint.metric].loss is not None
