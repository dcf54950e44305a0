"""Per-group report of a fitted model, computed by fairlearn's ``MetricFrame``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score

from fairautoml.data import as_frame, sensitive_frame

REPORT_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "accuracy": accuracy_score,
}


def fairness_report(
    predict: Any, classes: np.ndarray, X: Any, y: Any, sensitive_features: Any
) -> MetricFrame:
    """Selection rate, TPR, FPR, accuracy and count per group of ``predict(X, s)``.

    ``sensitive_features`` is what ``predict`` accepts: values per row or column
    name(s) of X; several attributes give one row per intersection. Rates count
    ``classes[1]`` as the positive class.
    """
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
    y_arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y).ravel()
    y_true = (y_arr == classes[1]).astype(int)
    y_pred = (np.asarray(predict(X, sensitive_features)) == classes[1]).astype(int)
    return MetricFrame(
        metrics=REPORT_METRICS,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sens if sens.shape[1] > 1 else sens.iloc[:, 0],
    )
