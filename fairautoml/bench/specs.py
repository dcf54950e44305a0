"""What a sweep is made of: datasets, methods, blocks and the sweep itself, as values.

``config.py`` reads them from a sweep file; the runner, the report and the targets use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairautoml.measures.constraints import Constraint

ANCHORS = (
    "unconstrained",
    "flaml_threshold",
    "eg_lightgbm",
    "optuna_hpo",
    "oxonfair",
    "barycenter",  # regression: FLAML's regressor + barycenter transport (transport_anchors.py)
    "barycenter_oracle",  # regression: the same, fitted on the test rows (a limit)
    "class_offsets",  # multiclass: FLAML + per-group class offsets by hand (class_anchors.py)
    "multiclass_lp_oracle",  # multiclass: FLAML + our LP fitted on the test rows (a limit)
    "thresholds_oracle",  # binary: FLAML + our relaxed thresholds fitted on the test rows
)
METHOD_FAMILIES = ("fairautoml", *ANCHORS)  # plug-ins add theirs: ``plugins.py``
# Method options the bench reads itself (never passed to the method):
MAX_FIT_ROWS = "max_fit_rows"  # train + validation rows kept: the data side of multi-fidelity
# The model is used without the group at decision time; the runner scores it on test rows
# with ``sensitive_features=None``, so a method that reads the group fails loudly.
BLIND = "blind"
# Rows whose group the dataset's ``hide_groups`` hid are dropped before the method sees them
# (what a user does today without ``missing_groups``).
DROP_UNKNOWN_GROUPS = "drop_unknown_groups"
BENCH_OPTIONS = (MAX_FIT_ROWS, BLIND, DROP_UNKNOWN_GROUPS)


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from: a bundled name, a CSV file or a synthetic generator."""

    name: str
    bundled: str | None = None
    csv: str | None = None
    target: str | None = None
    sensitive: tuple[str, ...] = ()
    synthetic: tuple[tuple[str, Any], ...] | None = None  # generator options, sorted
    drop: tuple[str, ...] = ()  # feature columns left out (e.g. the group's proxies)
    max_rows: int | None = None  # stratified subsample before the split (None: all rows)
    # the groups of some training and validation rows hidden (test rows keep theirs):
    # ("share", s), ("more_in", group or None), ("factor", f), sorted (rows.hide_groups)
    hide_groups: tuple[tuple[str, Any], ...] | None = None


@dataclass(frozen=True)
class MethodSpec:
    """One method of the sweep: ``family`` (fairautoml or an anchor), its options, a label."""

    label: str
    family: str
    controller: str | None = None  # fairautoml only
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def blind(self) -> bool:
        """Whether the method must decide without the group (``options: {blind: true}``)."""
        return bool(self.options.get(BLIND, False))


@dataclass(frozen=True)
class Block:
    """One product of the sweep: datasets (by name) x constraint sets x budgets x seeds,
    run with the sweep's methods of these labels (None: all)."""

    datasets: tuple[str, ...]
    constraint_sets: tuple[tuple[Constraint, ...], ...]
    budgets: tuple[float, ...]
    seeds: tuple[int, ...]
    methods: tuple[str, ...] | None = None

    def runs(self, method: MethodSpec) -> bool:
        return self.methods is None or method.label in self.methods


@dataclass(frozen=True)
class SweepConfig:
    """A sweep; ``datasets``, ``constraint_sets``, ``budgets`` and ``seeds`` are the union
    over ``blocks`` (cells come only from the blocks; none given: the one full product)."""

    name: str
    datasets: tuple[DatasetSpec, ...]
    constraint_sets: tuple[tuple[Constraint, ...], ...]
    budgets: tuple[float, ...]
    seeds: tuple[int, ...]
    methods: tuple[MethodSpec, ...]
    n_jobs: int = 1
    threads: int = 1
    front_points: int = 12  # Pareto-front models scored on test per cell (0: none)
    source: str = "<dict>"
    blocks: tuple[Block, ...] = ()

    def products(self) -> tuple[Block, ...]:
        """The blocks, or the one product of everything when there are none."""
        if self.blocks:
            return self.blocks
        names = tuple(d.name for d in self.datasets)
        return (Block(names, self.constraint_sets, self.budgets, self.seeds),)
