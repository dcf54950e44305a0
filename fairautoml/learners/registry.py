"""Registering a learner: what a user calls to add one, and what the built-ins call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fairautoml import exceptions as E
from fairautoml.learners._base import (
    AMOUNTS,
    CLASSIFIER,
    LEARNERS,
    REGRESSOR,
    SEVERAL_CLASSES,
    TWO_CLASSES,
    Learner,
    Variant,
)
from fairautoml.spaces import SearchSpace, load_space

SpaceSource = str | Path | dict[str, Any] | SearchSpace | None


def register_learner(
    name: str,
    factory: Callable[..., Any] | None = None,
    space: SpaceSource = None,
    *,
    native_categorical: bool = False,
    scale: bool = False,
    threads_param: str | None = "n_jobs",
    replace: bool = False,
    regressor: Callable[..., Any] | None = None,
    regressor_space: SpaceSource = None,
    multiclass: bool = False,
) -> Learner:
    """Register a learner so every controller can search it.

    ``factory(**params)`` returns an unfitted scikit-learn classifier with
    ``predict_proba``, serving "binary" (and "multiclass" with ``multiclass=True``);
    ``regressor(**params)`` an unfitted regressor, serving "regression". Give either or
    both. ``space`` and ``regressor_space`` are YAML file names/paths or dicts in the same
    format; a regressor without a space of its own searches the classifier's, as the
    boosting libraries take the same parameters for both. The encoding settings hold for
    both estimators.

    Returns
    -------
    Learner
        The registered learner, as its classifier's tasks see it (as "regression" sees
        it when it has no classifier).
    """
    if not replace:
        LEARNERS.check_new(name)
    if factory is None and regressor is None:
        raise E.ConfigurationError(
            f"Learner {name!r} needs a classifier factory, a regressor, or both; got neither."
        )
    variants: dict[str, Variant] = {}
    if factory is not None:
        classifier = Variant(factory, load_space(space, name), CLASSIFIER)
        for task in (TWO_CLASSES, SEVERAL_CLASSES) if multiclass else (TWO_CLASSES,):
            variants[task] = classifier
    if regressor is not None:
        own = regressor_space if regressor_space is not None else space
        variants[AMOUNTS] = Variant(regressor, load_space(own, name), REGRESSOR)
    first = next(iter(variants.values()))
    learner = Learner(
        name,
        first.factory,
        first.space,
        native_categorical,
        scale,
        threads_param,
        first.estimator_type,
        variants,
    )
    return LEARNERS.add(name, learner, replace=replace)
