"""The mitigators by name: registering one (what a user calls to add one, and what the
built-ins call), finding one, and what a model's mitigators read of the group."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fairautoml.exceptions import ConfigurationError
from fairautoml.mitigators._base import (
    DECISION_RULES,
    GROUP_FREE,
    STAGES,
    Mitigator,
    TrainingMitigator,
)
from fairautoml.registry import Registry
from fairautoml.spaces import SearchSpace, load_space, spaces_dir

MITIGATOR_NO_TASK = (
    "Mitigator {name!r}: its {method}() takes no task: a training mitigator receives the "
    "target's task as task= (a fairautoml.tasks.Task: how its model's scores are read, "
    "the target's strata). Add a keyword-only parameter `*, task` to {method}() and build "
    "its scoring model with it (e.g. EstimatorScoringModel(estimator, task))."
)

MITIGATORS: Registry[Mitigator] = Registry("mitigator")


def register_mitigator(
    mitigator: type[Mitigator] | Mitigator,
    space: str | Path | dict[str, Any] | SearchSpace | None = None,
    *,
    replace: bool = False,
) -> Mitigator:
    """Register a mitigator (class or instance) under its ``name``; usable as a decorator."""
    instance = mitigator() if isinstance(mitigator, type) else mitigator
    name = instance.name
    if instance.stage not in STAGES:
        raise ValueError(f"Mitigator {name!r} has stage {instance.stage!r}; use one of {STAGES}.")
    if not replace:
        MITIGATORS.check_new(name)
    if space is None and (spaces_dir() / f"mitigator_{name}.yaml").exists():
        space = f"mitigator_{name}.yaml"
    if space is not None:
        instance.space = load_space(space, name)
    _check_takes_task(instance)
    MITIGATORS.add(name, instance, replace=replace)
    return mitigator  # type: ignore[return-value]


def _check_takes_task(mitigator: Mitigator) -> None:
    """A training mitigator's ``fit`` (and ``refit``) receives the target's ``task=``: one
    written before it did is refused at registration, with the fix, not in every trial."""
    if not isinstance(mitigator, TrainingMitigator):
        return
    for method in ("fit", "refit"):
        parameters = inspect.signature(getattr(mitigator, method)).parameters
        takes = "task" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
        )
        if not takes:
            raise ConfigurationError(MITIGATOR_NO_TASK.format(name=mitigator.name, method=method))


def get_mitigator(name: str) -> Mitigator:
    return MITIGATORS.get(name)


def available_mitigators(stage: str | None = None) -> list[str]:
    return [n for n, m in MITIGATORS.items() if stage is None or m.stage == stage]


def decision_rule_of(names: Iterable[str]) -> str:
    """The decision rule of a model built with these mitigators: the most the group is
    read by any of them (:data:`DECISION_RULES`; an unknown name reads nothing)."""
    kinds = {get_mitigator(n).decision_rule for n in names if n in MITIGATORS}
    return max(kinds | {GROUP_FREE}, key=DECISION_RULES.index)


def randomized_of(names: Iterable[str]) -> bool:
    """Whether a model built with these mitigators draws some decisions at random."""
    return any(get_mitigator(n).randomized for n in names if n in MITIGATORS)
