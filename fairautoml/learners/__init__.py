"""Learner registry: name -> :class:`Learner`. Built-ins register themselves on import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fairautoml.learners._base import EncodedClassifier, Learner
from fairautoml.registry import Registry
from fairautoml.spaces import SearchSpace, load_space

LEARNERS: Registry[Learner] = Registry("learner")


def register_learner(
    name: str,
    factory: Callable[..., Any],
    space: str | Path | dict[str, Any] | SearchSpace | None = None,
    *,
    native_categorical: bool = False,
    scale: bool = False,
    threads_param: str | None = "n_jobs",
    replace: bool = False,
) -> Learner:
    """Register a learner so every controller can search it.

    ``factory(**params)`` returns an unfitted scikit-learn classifier with
    ``predict_proba``; ``space`` is a YAML file name/path or a dict in the same format.
    """
    if not replace:
        LEARNERS.check_new(name)
    learner = Learner(
        name, factory, load_space(space, name), native_categorical, scale, threads_param
    )
    return LEARNERS.add(name, learner, replace=replace)


def get_learner(name: str) -> Learner:
    return LEARNERS.get(name)


def available_learners() -> list[str]:
    return LEARNERS.names()


from fairautoml.learners import builtin as _builtin  # noqa: E402, F401  (registers built-ins)

__all__ = [
    "LEARNERS",
    "EncodedClassifier",
    "Learner",
    "available_learners",
    "get_learner",
    "register_learner",
]
