"""fairautoml: search learners, hyperparameters and fairness mitigations together."""

from __future__ import annotations

from fairautoml import datasets
from fairautoml.automl import FairAutoML, FairAutoMLRegressor, fit
from fairautoml.constraints import Constraint, parse_constraint, parse_constraints
from fairautoml.learners import available_learners, register_learner
from fairautoml.mitigators import available_mitigators, register_mitigator
from fairautoml.model_file import load
from fairautoml.search_builder import build_search

__version__ = "0.1.0"

__all__ = [
    "Constraint",
    "FairAutoML",
    "FairAutoMLRegressor",
    "available_learners",
    "available_mitigators",
    "build_search",
    "datasets",
    "fit",
    "load",
    "parse_constraint",
    "parse_constraints",
    "register_learner",
    "register_mitigator",
]
