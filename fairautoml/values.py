"""Small facts about the values a user passes, for checks and messages."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd


def ndim(value: object) -> int:
    """Number of dimensions; -1 for ragged nested lists (which numpy refuses)."""
    try:  # np.asarray, not np.ndim: array-likes may refuse numpy's functions
        return int(np.asarray(value).ndim)
    except ValueError:
        return -1


def describe(value: object) -> str:
    """A short description of what the user passed, for error messages."""
    if hasattr(value, "shape"):
        return f"{type(value).__name__} of shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def plain(value: object) -> object:
    """numpy scalars as Python ones, so messages read 1000 rather than np.int64(1000)."""
    return value.item() if isinstance(value, np.generic) else value


def json_safe(value: object, other: Callable[[object], object] | None = None) -> object:
    """``value`` for JSON: dicts and sequences walked, numpy scalars as Python ones, NaN and
    infinities as None; ``other`` turns any other leaf (not str, number, bool or None) into
    something JSON takes (None: left as it is)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v, other) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, other) for v in value]
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if other is None or value is None or isinstance(value, (str, int, float, bool)):
        return value
    return other(value)


def is_number(value: object) -> bool:
    return isinstance(value, (numbers.Number, np.bool_)) and not isinstance(value, complex)


def is_scalar(value: object) -> bool:
    return isinstance(value, (str, bytes, numbers.Number, np.generic)) or (
        pd.api.types.is_scalar(value) and not isinstance(value, (list, dict, set, tuple))
    )
