"""Read a fitted estimator back from the file ``FairAutoML.save`` wrote (joblib).

Its own module so that the estimator does not import what loads it: ``fairautoml.load``
and the CLI's ``predict`` come here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

from fairautoml.automl import FairAutoML
from fairautoml.exceptions import ConfigurationError


def load(path: str | Path) -> Any:
    """Read an estimator written by ``FairAutoML.save``."""
    path = Path(path)
    if not path.exists():
        raise ConfigurationError(f"No model file at {path}. Write one with automl.save(path).")
    obj = joblib.load(path)
    if not isinstance(obj, FairAutoML):
        raise ConfigurationError(
            f"{path} holds a {type(obj).__name__}, not a fitted FairAutoML; write it with "
            "automl.save(path)."
        )
    return obj
