"""Helpers for tests of fairautoml and of user plug-ins: synthetic biased tables, the
command line in another process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding this fairautoml


def start_cli(*args: str, **popen: Any) -> subprocess.Popen:
    """``fairautoml ARGS`` started in a new process running this very fairautoml, one
    thread per library (several such processes share the cores); output piped as text
    unless ``popen`` says otherwise."""
    env = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT), "OMP_NUM_THREADS": "1"}
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    return subprocess.Popen(
        [sys.executable, "-m", "fairautoml.cli", *args],
        env=env,
        text=True,
        **{**options, **popen},
    )


def make_biased(n: int = 600, n_groups: int = 2, seed: int = 0, bias: float = 1.0):
    """A small table with numeric, string and missing values whose label depends on group."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=n)
    x1 = rng.normal(size=n) + 0.5 * groups
    x2 = rng.normal(size=n)
    logits = 1.5 * x1 + x2 + bias * (groups - (n_groups - 1) / 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(int)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    colour[rng.random(n) < 0.05] = None
    x2 = np.where(rng.random(n) < 0.05, np.nan, x2)
    X = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour})
    s = pd.Series(np.array(["a", "b", "c", "d"])[groups], name="group")
    return X, pd.Series(y, name="label"), s


__all__ = ["make_biased", "start_cli"]
