"""Read a fitted estimator back from the file ``FairAutoML.save`` wrote.

Its own module so that the estimator does not import what loads it: ``fairautoml.load``
and the CLI's ``predict`` and ``audit`` come here. The formats and what is trusted are
:mod:`fairautoml.model.files`'s.
"""

from __future__ import annotations

from pathlib import Path

from fairautoml.estimators.base import FairSearchEstimator
from fairautoml.exceptions import ConfigurationError
from fairautoml.model.files import Trusted, read_model

NOT_A_MODEL = (
    "{path} holds a {kind}, not a fitted FairAutoML or FairAutoMLRegressor; write it with "
    "automl.save(path)."
)


def load(path: str | Path, trusted: Trusted = False) -> FairSearchEstimator:
    """Read an estimator written by ``FairAutoML.save`` (or ``FairAutoMLRegressor.save``).

    Parameters
    ----------
    path : str or Path
        A ``.skops`` file (safe: only the types of fairautoml and its dependencies are
        built) or a joblib pickle (opened only with ``trusted=True``: unpickling runs
        whatever code the file holds).
    trusted : bool or list of str
        False: refuse a pickle and any skops type outside fairautoml's and its
        dependencies'. A list of type names (as the refusal names them): trust those too.
        True: trust the file (open a pickle; build any type of a skops file).
    """
    obj = read_model(path, trusted)
    if not isinstance(obj, FairSearchEstimator):
        raise ConfigurationError(NOT_A_MODEL.format(path=path, kind=type(obj).__name__))
    return obj
