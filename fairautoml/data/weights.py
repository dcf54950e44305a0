"""Row weights (``sample_weight``): checked as one finite weight per row, and groups
checked to carry weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.exceptions import InputError
from fairautoml.values import describe, is_number, ndim, plain

WEIGHTS_NOT_NUMERIC = (
    "sample_weight must hold one number per row; got {given}. Pass non-negative numbers "
    "(survey or frequency weights), e.g. sample_weight=df['weight'].to_numpy(dtype=float)."
)
WEIGHTS_NEGATIVE = (
    "sample_weight has {n} negative value(s) (e.g. {examples}). Weights count how many people "
    "a row stands for: pass values >= 0 (0 leaves a row out)."
)
WEIGHTS_NOT_FINITE = (
    "sample_weight has {n} missing or infinite value(s). Every row needs a finite weight: "
    "drop those rows or give them a weight."
)
WEIGHTS_ALL_ZERO = (
    "sample_weight is zero for every row, so nothing would be learned or measured. Pass "
    "positive weights for the rows that count."
)
WEIGHTS_EMPTY_CELL = (
    "Group {group!r} has zero total sample_weight{among}, so its rates cannot be measured. "
    "Give those rows positive weights, or leave the group out."
)


def check_sample_weight(sample_weight: object, n_rows: int) -> np.ndarray | None:
    """``sample_weight`` as a new float64 array of one finite weight >= 0 per row, not all
    zero (None stays None: every row counts once); a clear error otherwise. The user's
    object is not modified."""
    if sample_weight is None:
        return None
    given = sample_weight
    if isinstance(given, (str, bytes, Mapping, set, frozenset)) or ndim(given) == 0:
        raise InputError(WEIGHTS_NOT_NUMERIC.format(given=describe(given)))
    if isinstance(given, pd.DataFrame):
        if given.shape[1] != 1:
            shape = f"a table of {given.shape[1]} columns"
            raise InputError(WEIGHTS_NOT_NUMERIC.format(given=shape))
        given = given.iloc[:, 0]
    try:
        if isinstance(given, pd.Series) and pd.api.types.is_numeric_dtype(given):
            arr = given.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(given)
    except (TypeError, ValueError):
        raise InputError(WEIGHTS_NOT_NUMERIC.format(given=describe(given))) from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(WEIGHTS_NOT_NUMERIC.format(given=f"an array of shape {arr.shape}"))
    if arr.dtype.kind not in "biuf":
        odd = [v for v in arr if not (is_number(v) or v is None or isinstance(v, (bool, np.bool_)))]
        if odd:
            raise InputError(
                WEIGHTS_NOT_NUMERIC.format(given=f"{len(odd)} value(s) such as {plain(odd[0])!r}")
            )
        arr = np.array([np.nan if v is None else v for v in arr], dtype=np.float64)
    weight = np.array(arr, dtype=np.float64)  # a copy: the caller's array is never changed
    if len(weight) != n_rows:
        raise InputError(
            E.LENGTH_MISMATCH.format(n_x=n_rows, name="sample_weight", n_other=len(weight))
        )
    bad = ~np.isfinite(weight)
    if bad.any():
        raise InputError(WEIGHTS_NOT_FINITE.format(n=int(bad.sum())))
    negative = weight < 0
    if negative.any():
        examples = ", ".join(f"{v:g}" for v in weight[negative][:3])
        raise InputError(WEIGHTS_NEGATIVE.format(n=int(negative.sum()), examples=examples))
    if not np.any(weight > 0):
        raise InputError(WEIGHTS_ALL_ZERO)
    return weight


def check_weighted_groups(
    groups: np.ndarray,
    strata: np.ndarray | None,
    weight: np.ndarray | None,
    labels: Sequence[str],
    strata_names: Sequence[str] | None = None,
) -> None:
    """Every group (and with ``strata_names``, every group x class) must carry some weight,
    or its weighted rates are undefined."""
    if weight is None:
        return
    for code, label in enumerate(labels):
        member = groups == code
        if not weight[member].sum() > 0:
            raise InputError(WEIGHTS_EMPTY_CELL.format(group=label, among=""))
        if strata_names is None or strata is None:
            continue
        for k, name in enumerate(strata_names):
            cell = member & (strata == k)
            if cell.any() and not weight[cell].sum() > 0:
                among = f" among its {name} rows"
                raise InputError(WEIGHTS_EMPTY_CELL.format(group=label, among=among))
