"""Tasks: binary classification, several classes and regression, behind one seam
(:class:`Task`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairautoml.exceptions import ConfigurationError
from fairautoml.tasks._base import Task
from fairautoml.tasks.binary import BinaryTask
from fairautoml.tasks.multiclass import MAX_CLASSES, MIN_CLASSES, MulticlassTask
from fairautoml.tasks.regression import RegressionTask

TASK_UNKNOWN = "Unknown task {task!r}. Available: {tasks}."

TASKS: dict[str, Task] = {
    "binary": BinaryTask(),
    "multiclass": MulticlassTask(),
    "regression": RegressionTask(),
}
# what users type (CLI --task, fairautoml.fit(task=...)) -> the task; "classification" is
# read off the target: two classes are binary, 3 to MAX_CLASSES multiclass
ALIASES = {
    "classification": "binary",
    "binary": "binary",
    "multiclass": "multiclass",
    "regression": "regression",
}
# a numeric target with at least this many distinct values, not all whole numbers, is an amount
MIN_DISTINCT_AMOUNTS = 10


def get_task(name: str | Task) -> Task:
    """The task called ``name`` ("binary", "classification", "multiclass" or "regression")."""
    if isinstance(name, Task):
        return name
    key = ALIASES.get(name) if isinstance(name, str) else None
    if key is None:
        raise ConfigurationError(TASK_UNKNOWN.format(task=name, tasks=", ".join(sorted(ALIASES))))
    return TASKS[key]


def infer_task(y: object) -> Task:
    """Regression for a numeric target with many distinct values that are not all whole
    numbers; classification otherwise (:func:`classification_task`: its own checks then
    name what is wrong)."""
    values = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y)
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        return classification_task(values)
    known = values.dropna().to_numpy(dtype=np.float64)
    distinct = np.unique(known)
    if len(distinct) >= MIN_DISTINCT_AMOUNTS and not np.all(np.mod(distinct, 1) == 0):
        return TASKS["regression"]
    return classification_task(values)


def classification_task(y: object) -> Task:
    """Multiclass for a target of :data:`MIN_CLASSES` to :data:`MAX_CLASSES` distinct labels
    (missing values aside), binary otherwise (whose checks name what is wrong)."""
    values = pd.Series(np.asarray(y, dtype=object).ravel() if not isinstance(y, pd.Series) else y)
    n = values.dropna().nunique()
    return TASKS["multiclass"] if MIN_CLASSES <= n <= MAX_CLASSES else TASKS["binary"]


__all__ = [
    "TASKS",
    "BinaryTask",
    "MulticlassTask",
    "RegressionTask",
    "Task",
    "classification_task",
    "get_task",
    "infer_task",
]
