"""Benchmark sweeps: fairautoml against the anchors (``fairautoml bench FILE.yaml``).

Methods and report sections from outside the package join through
:func:`register_method`, :func:`register_section` and :func:`register_plot`
(``plugins.py``)."""

from __future__ import annotations

from fairautoml.bench.cells_file import read_records
from fairautoml.bench.config import load_config, parse_config
from fairautoml.bench.plugins import register_method, register_plot, register_section
from fairautoml.bench.report import write_report
from fairautoml.bench.rows import make_synthetic, split_rows
from fairautoml.bench.runner import make_cells, run_cell, run_sweep
from fairautoml.bench.specs import SweepConfig

__all__ = [
    "SweepConfig",
    "load_config",
    "make_cells",
    "make_synthetic",
    "parse_config",
    "read_records",
    "register_method",
    "register_plot",
    "register_section",
    "run_cell",
    "run_sweep",
    "split_rows",
    "write_report",
]
