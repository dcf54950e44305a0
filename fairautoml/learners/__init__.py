"""Learners by name: :class:`Learner` (``_base``), :func:`register_learner` (``registry``)
and the built-ins (``builtin``), which register on import.

May import the base modules only.
"""

from __future__ import annotations

from fairautoml.learners import builtin as _builtin  # noqa: F401  (registers the built-ins)
from fairautoml.learners._base import (
    CLASSIFIER,
    LEARNERS,
    REGRESSOR,
    TASKS,
    EncodedClassifier,
    EncodedRegressor,
    Learner,
    Variant,
    available_learners,
    get_learner,
    make_encoder,
    takes_sample_weight,
)
from fairautoml.learners.registry import register_learner

__all__ = [
    "CLASSIFIER",
    "LEARNERS",
    "REGRESSOR",
    "TASKS",
    "EncodedClassifier",
    "EncodedRegressor",
    "Learner",
    "Variant",
    "available_learners",
    "get_learner",
    "make_encoder",
    "register_learner",
    "takes_sample_weight",
]
