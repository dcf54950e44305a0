"""The built-in learners; each one's space is ``search_spaces/<name>.yaml``."""

from __future__ import annotations

from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression

from fairautoml.learners import register_learner

register_learner("lightgbm", LGBMClassifier, "lightgbm.yaml", native_categorical=True)
register_learner(
    "logistic_regression",
    LogisticRegression,
    "logistic_regression.yaml",
    scale=True,
    threads_param=None,  # n_jobs has no effect since scikit-learn 1.8
)
