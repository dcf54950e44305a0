"""The bench's one extension seam: methods and report sections registered from outside.

``fairautoml bench`` knows fairautoml and the anchors a user can install (``anchors.py``).
Code outside the package adds to a sweep through these calls, made when it is imported:

- :func:`register_method` a method family a sweep file may name (its fit, and a
  preparation run before the cell's clock starts, e.g. building an environment);
- :func:`register_section` a function of the sweep's records that returns report lines,
  placed after the report's header and before the per-method tables;
- :func:`register_plot` a function of the sweep's records and the report's folder that
  draws into its ``plots/`` and returns the files' names, shown with the report's plots.

The repository's ``benchmarks/`` package registers its pinned-environment anchors and its
acceptance targets this way (``python -m benchmarks SWEEP.yaml``). Registered fits are
pickled by reference into the worker processes, so they must be module-level functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fairautoml.exceptions import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

    from fairautoml.bench.methods import CellData, Fitted

FitMethod = Callable[["CellData"], "Fitted"]
Prepare = Callable[["CellData"], None]
Section = Callable[["pd.DataFrame"], list[str]]
Plot = Callable[["pd.DataFrame", Path], list[str]]


@dataclass(frozen=True)
class MethodPlugin:
    """A method family added to the bench: how to fit it and what to do before its clock."""

    fit: FitMethod
    prepare: Prepare | None = None
    tasks: tuple[str, ...] = ("binary",)  # the targets' tasks it has a mode for


METHODS: dict[str, MethodPlugin] = {}
SECTIONS: list[Section] = []
PLOTS: list[Plot] = []


def register_method(
    name: str,
    fit: FitMethod,
    *,
    prepare: Prepare | None = None,
    tasks: tuple[str, ...] = ("binary",),
) -> None:
    """Let sweep files name ``name``: cells of it run ``prepare(task)`` (if given) before
    the clock starts, then ``fit(task)`` on the clock; cells whose target's task is not
    among ``tasks`` are recorded as not applicable."""
    from fairautoml.bench.specs import METHOD_FAMILIES

    if name in METHOD_FAMILIES:
        raise ConfigurationError(
            f"bench method {name!r} is built in; register the plug-in under another name."
        )
    METHODS[name] = MethodPlugin(fit, prepare, tuple(tasks))


def register_section(section: Section) -> None:
    """Add ``section(frame)`` to every report (``frame``: one row per cell, as
    :func:`fairautoml.bench.summary.records_frame` makes it); registering twice adds once."""
    if section not in SECTIONS:
        SECTIONS.append(section)


def register_plot(plot: Plot) -> None:
    """Add ``plot(frame, out)`` to every report: it may write ``out/plots/NAME.png`` (the
    folder exists) and returns the names written, relative to ``out`` (``plots/NAME.png``),
    shown after the report's own plots; registering twice adds once."""
    if plot not in PLOTS:
        PLOTS.append(plot)


def tasks_of(family: str) -> tuple[str, ...] | None:
    """The tasks a plug-in method has a mode for (None: not a plug-in)."""
    plugin = METHODS.get(family)
    return plugin.tasks if plugin is not None else None


def prepare_of(family: str) -> Prepare | None:
    plugin = METHODS.get(family)
    return plugin.prepare if plugin is not None else None
