"""Search spaces as data: read ``search_spaces/*.yaml`` into :class:`SearchSpace`.

A space file declares, per hyperparameter, its type, range, log scale, default and an
optional low-cost start (for cost-frugal search), plus fixed parameters and the
component's relative cost. Controllers only read spaces; none hard-codes a range.

```yaml
name: lightgbm
cost: 1.0
fixed: {verbosity: -1}
params:
  n_estimators: {type: int, low: 16, high: 1024, log: true, default: 100, low_cost: 16}
  boosting: {type: categorical, choices: [gbdt, dart], default: gbdt}
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from fairautoml.exceptions import ConfigurationError

_TYPES = ("int", "float", "categorical")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    default: Any = None
    low_cost: Any = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ConfigurationError(
                f"Parameter {self.name!r} has type {self.type!r}; use one of {', '.join(_TYPES)}."
            )
        if self.type == "categorical":
            if not self.choices:
                raise ConfigurationError(f"Categorical parameter {self.name!r} needs choices.")
        elif self.low is None or self.high is None or self.low > self.high:
            raise ConfigurationError(
                f"Parameter {self.name!r} needs low <= high; got {self.low}, {self.high}."
            )
        elif self.log and self.low <= 0:
            raise ConfigurationError(f"Log-scale parameter {self.name!r} needs low > 0.")

    @property
    def start(self) -> Any:
        """Default value, falling back to the range's (geometric) middle."""
        if self.default is not None:
            return self.default
        if self.type == "categorical":
            return self.choices[0]
        assert self.low is not None and self.high is not None
        mid = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
        return round(mid) if self.type == "int" else mid


@dataclass(frozen=True)
class SearchSpace:
    name: str
    params: tuple[Param, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)
    cost: float = 1.0

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str | None = None) -> SearchSpace:
        params = []
        for pname, spec in (data.get("params") or {}).items():
            spec = dict(spec)
            if "choices" in spec:
                spec["choices"] = tuple(spec["choices"])
            params.append(Param(name=pname, **spec))
        return cls(
            name=data.get("name", name or "custom"),
            params=tuple(params),
            fixed=dict(data.get("fixed") or {}),
            cost=float(data.get("cost", 1.0)),
        )

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.start for p in self.params}

    def low_cost(self) -> dict[str, Any]:
        """Cheapest sensible start: declared low-cost values, defaults elsewhere."""
        return {p.name: p.low_cost if p.low_cost is not None else p.start for p in self.params}

    def suggest(self, trial: Any, prefix: str = "") -> dict[str, Any]:
        """Sample a configuration with an Optuna trial; names are ``prefix + param``."""
        config = {}
        for p in self.params:
            key = prefix + p.name
            if p.type == "categorical":
                config[p.name] = trial.suggest_categorical(key, list(p.choices))
            elif p.type == "int":
                config[p.name] = trial.suggest_int(key, int(p.low), int(p.high), log=p.log)
            else:
                config[p.name] = trial.suggest_float(key, float(p.low), float(p.high), log=p.log)
        return config

    def distributions(self, prefix: str = "") -> dict[str, Any]:
        """Optuna distributions of the space, for ``add_trial`` records."""
        from optuna import distributions as d

        out: dict[str, Any] = {}
        for p in self.params:
            if p.type == "categorical":
                out[prefix + p.name] = d.CategoricalDistribution(list(p.choices))
            elif p.type == "int":
                out[prefix + p.name] = d.IntDistribution(int(p.low), int(p.high), log=p.log)
            else:
                out[prefix + p.name] = d.FloatDistribution(p.low, p.high, log=p.log)
        return out


def spaces_dir() -> Path:
    """Where the bundled space files live: inside the wheel, or the source checkout."""
    packaged = Path(str(resources.files("fairautoml"))) / "search_spaces"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "search_spaces"


def load_space(source: str | Path | dict[str, Any] | SearchSpace | None, name: str) -> SearchSpace:
    """Turn what a registration gives (file name, path, dict, space, None) into a space."""
    if source is None:
        return SearchSpace(name=name)
    if isinstance(source, SearchSpace):
        return source
    if isinstance(source, dict):
        return SearchSpace.from_dict(source, name)
    path = Path(source)
    if not path.is_absolute() and not path.exists():
        path = spaces_dir() / path
    if not path.exists():
        raise ConfigurationError(f"Search space file {str(source)!r} not found (looked in {path}).")
    with path.open() as fh:
        return SearchSpace.from_dict(yaml.safe_load(fh) or {}, name)
