"""Table cells shared by the interval-coverage scripts (``ks_interval_coverage``,
``rates_interval_coverage``): per true value, each interval's mean ends and how often
each end covers the truth, and how often an audit would say "violated"."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def interval_cells(rows: Sequence[dict], names: Sequence[str], truth: float) -> list[str]:
    """For each interval in ``names``: its mean [low, high], the share of draws whose upper
    end is at or above ``truth`` and whose lower end is at or below it."""
    cells = []
    for name in names:
        ends = np.array([r[name] for r in rows])
        cells += [
            f"[{ends[:, 0].mean():.3f}, {ends[:, 1].mean():.3f}]",
            f"{np.mean(ends[:, 1] >= truth):.2f}",
            f"{np.mean(ends[:, 0] <= truth):.2f}",
        ]
    return cells


def violated_cells(rows: Sequence[dict], names: Sequence[str], bound: float) -> list[str]:
    """For each interval in ``names``: the share of draws whose lower end is above
    ``bound``, where an audit reading it says "violated"."""
    return [f"{np.mean(np.array([r[name][0] for r in rows]) > bound):.2f}" for name in names]


def preamble(title: str, reps: int, level: float, legend: str) -> None:
    """The report's title, its draws and level, and what its columns mean."""
    print(f"# {title}\n")
    print(f"{reps} draws per row, intervals at level {level} (each end a 95% one-sided bound).")
    print(legend + "\n")


def table_header(columns: Sequence[str]) -> None:
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
