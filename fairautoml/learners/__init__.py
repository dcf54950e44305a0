"""Learner registry: name -> :class:`Learner`. Built-ins register themselves on import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fairautoml.exceptions import unknown_name
from fairautoml.learners._base import EncodedClassifier, Learner
from fairautoml.spaces import SearchSpace, load_space

_LEARNERS: dict[str, Learner] = {}


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
    if name in _LEARNERS and not replace:
        raise ValueError(f"Learner {name!r} is already registered; pass replace=True.")
    learner = Learner(
        name, factory, load_space(space, name), native_categorical, scale, threads_param
    )
    _LEARNERS[name] = learner
    return learner


def get_learner(name: str) -> Learner:
    if name not in _LEARNERS:
        raise unknown_name("learner", name, _LEARNERS)
    return _LEARNERS[name]


def available_learners() -> list[str]:
    return list(_LEARNERS)


from fairautoml.learners import builtin as _builtin  # noqa: E402, F401  (registers built-ins)

__all__ = [
    "EncodedClassifier",
    "Learner",
    "available_learners",
    "get_learner",
    "register_learner",
]
