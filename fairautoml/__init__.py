"""fairautoml: search learners, hyperparameters and fairness mitigations together."""

from __future__ import annotations

from importlib.metadata import version

from fairautoml import datasets
from fairautoml.alternatives import AlternativesResult, find_alternatives
from fairautoml.audit.probabilities import audit_with_probabilities
from fairautoml.estimators.automl import FairAutoML, FairAutoMLRegressor, fit
from fairautoml.estimators.build import build_search
from fairautoml.estimators.load import load
from fairautoml.estimators.update import UpdateResult, update
from fairautoml.learners import available_learners, register_learner
from fairautoml.measures.constraints import Constraint, parse_constraint, parse_constraints
from fairautoml.mitigators import available_mitigators, register_mitigator

__version__ = version("fairautoml")  # pyproject.toml's, the one place it is written

__all__ = [
    "AlternativesResult",
    "Constraint",
    "FairAutoML",
    "FairAutoMLRegressor",
    "UpdateResult",
    "__version__",
    "audit_with_probabilities",
    "available_learners",
    "available_mitigators",
    "build_search",
    "datasets",
    "find_alternatives",
    "fit",
    "load",
    "parse_constraint",
    "parse_constraints",
    "register_learner",
    "register_mitigator",
    "update",
]
