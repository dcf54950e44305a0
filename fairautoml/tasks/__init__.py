"""Tasks: binary classification and regression, behind one seam (:class:`Task`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.exceptions import ConfigurationError
from fairautoml.tasks._base import Task
from fairautoml.tasks.binary import BinaryTask
from fairautoml.tasks.regression import RegressionTask

TASKS: dict[str, Task] = {"binary": BinaryTask(), "regression": RegressionTask()}
# what users type (CLI --task, fairautoml.fit(task=...)) -> the task
ALIASES = {"classification": "binary", "binary": "binary", "regression": "regression"}
# a numeric target with at least this many distinct values, not all whole numbers, is an amount
MIN_DISTINCT_AMOUNTS = 10


def get_task(name: str | Task) -> Task:
    """The task called ``name`` ("binary", "classification" or "regression")."""
    if isinstance(name, Task):
        return name
    key = ALIASES.get(name) if isinstance(name, str) else None
    if key is None:
        raise ConfigurationError(E.TASK_UNKNOWN.format(task=name, tasks=", ".join(sorted(ALIASES))))
    return TASKS[key]


def infer_task(y: object) -> Task:
    """Regression for a numeric target with many distinct values that are not all whole
    numbers; classification otherwise (its own checks then name what is wrong)."""
    values = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y)
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        return TASKS["binary"]
    known = values.dropna().to_numpy(dtype=np.float64)
    distinct = np.unique(known)
    if len(distinct) >= MIN_DISTINCT_AMOUNTS and not np.all(np.mod(distinct, 1) == 0):
        return TASKS["regression"]
    return TASKS["binary"]


__all__ = ["TASKS", "BinaryTask", "RegressionTask", "Task", "get_task", "infer_task"]
