"""Search controllers by name. Each records its trials in one Optuna study."""

from __future__ import annotations

from fairautoml.registry import Registry
from fairautoml.search import ensemble as _ensemble  # noqa: F401  (registers its kind)
from fairautoml.search._base import (
    Budget,
    Controller,
    SearchDomain,
    add_finished_trial,
    record_trial,
)
from fairautoml.search.admm import ADMMController
from fairautoml.search.flaml_cfo import FlamlController
from fairautoml.search.optuna_controller import SAMPLERS, OptunaController, with_sampler

CONTROLLERS: Registry[type[Controller]] = Registry("controller")


def register_controller(cls: type[Controller]) -> type[Controller]:
    return CONTROLLERS.add(cls.name, cls, replace=True)


def get_controller(name: str) -> type[Controller]:
    """A controller class by name; ``"optuna[KIND]"`` is ``optuna`` with sampler KIND
    (one of :data:`~fairautoml.search.optuna_controller.SAMPLERS`)."""
    if name not in CONTROLLERS and name.startswith("optuna[") and name.endswith("]"):
        kind = name[len("optuna[") : -1]
        if kind in SAMPLERS:
            register_controller(with_sampler(kind))
    return CONTROLLERS.get(name)


def available_controllers() -> list[str]:
    return CONTROLLERS.names()


register_controller(OptunaController)
register_controller(ADMMController)
register_controller(FlamlController)

__all__ = [
    "Budget",
    "Controller",
    "SearchDomain",
    "add_finished_trial",
    "available_controllers",
    "get_controller",
    "record_trial",
    "register_controller",
]
