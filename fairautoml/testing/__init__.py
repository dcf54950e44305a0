"""Helpers for tests of fairautoml and of user plug-ins: synthetic biased tables."""

from __future__ import annotations

import numpy as np
import pandas as pd


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


__all__ = ["make_biased"]
