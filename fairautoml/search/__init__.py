"""Search controllers by name. Each records its trials in one Optuna study."""

from __future__ import annotations

from fairautoml.exceptions import unknown_name
from fairautoml.search._base import (
    DIRECTIONS,
    Budget,
    Controller,
    SearchDomain,
    record_trial,
)
from fairautoml.search.admm import ADMMController
from fairautoml.search.flaml_cfo import FlamlController
from fairautoml.search.optuna_mo import SAMPLERS, OptunaController, with_sampler

_CONTROLLERS: dict[str, type[Controller]] = {}


def register_controller(cls: type[Controller]) -> type[Controller]:
    _CONTROLLERS[cls.name] = cls
    return cls


def get_controller(name: str) -> type[Controller]:
    """A controller class by name; ``"optuna[KIND]"`` is ``optuna`` with sampler KIND
    (one of :data:`~fairautoml.search.optuna_mo.SAMPLERS`)."""
    if name not in _CONTROLLERS and name.startswith("optuna[") and name.endswith("]"):
        kind = name[len("optuna[") : -1]
        if kind in SAMPLERS:
            register_controller(with_sampler(kind))
    if name not in _CONTROLLERS:
        raise unknown_name("controller", name, _CONTROLLERS)
    return _CONTROLLERS[name]


def available_controllers() -> list[str]:
    return list(_CONTROLLERS)


register_controller(OptunaController)
register_controller(ADMMController)
register_controller(FlamlController)

__all__ = [
    "DIRECTIONS",
    "Budget",
    "Controller",
    "SearchDomain",
    "available_controllers",
    "get_controller",
    "record_trial",
    "register_controller",
]
