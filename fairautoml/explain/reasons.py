"""Reasons for each decision: the features that most lowered a row's score, as phrases a
notice can carry ("debt_ratio = 0.62 lowered the score").

A reason is a feature whose contribution (:mod:`.contributions`) is negative: relative to
the reference (the usual applicant), the row's value of it lowered the score. The ``k``
most negative are the row's reasons, most negative first; a row with fewer negative
contributions has fewer reasons (the rest are missing). What they mean depends on the
model (docs/regulated_decisions.md, "Reasons for each decision"): they explain the score,
not a decision rule after it (per-group thresholds, a randomized band), and for an
ensemble or fold models the score of the model that scored the row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairautoml.exceptions import InputError
from fairautoml.explain import messages as M
from fairautoml.explain.contributions import AMOUNT, Contributions, contributions

WHAT = {AMOUNT: "the predicted amount"}  # anything else: "the score"
LONG_COLUMNS = ["row", "rank", "feature", "value", "contribution", "reason"]


def check_k(k: object) -> int:
    """``k`` as an int of at least 1; an :class:`InputError` naming the fix otherwise."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(M.BAD_K.format(given=repr(k)))
    return int(k)


def shown(value: object) -> str:
    """A value as the user gave it: text as it is, whole numbers without a decimal point,
    other numbers to 6 significant digits, missing values as 'missing'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "missing"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return str(value)


def phrase(feature: str, value: object, scale: str) -> str:
    """One reason in words: ``"<feature> = <value> lowered the score"``."""
    return f"{feature} = {shown(value)} lowered {WHAT.get(scale, 'the score')}"


def reasons_long(contrib: Contributions, k: int) -> pd.DataFrame:
    """One row per reason: the explained row's label, the reason's rank (1: lowered the
    score most), the feature, its value as given, its contribution and the phrase."""
    k = check_k(k)
    values = contrib.values.to_numpy()
    order = np.argsort(values, axis=1, kind="stable")[:, :k]
    records = []
    for i, label in enumerate(contrib.values.index):
        for rank, j in enumerate(order[i], start=1):
            if values[i, j] >= 0:
                break
            feature = contrib.features[j]
            value = contrib.data.iat[i, contrib.data.columns.get_loc(feature)]
            records.append(
                (label, rank, feature, value, float(values[i, j]),
                 phrase(feature, value, contrib.scale))
            )  # fmt: skip
    return pd.DataFrame.from_records(records, columns=LONG_COLUMNS)


def reasons_table(contrib: Contributions, k: int) -> pd.DataFrame:
    """One row per explained row (its index kept), columns ``reason_1`` .. ``reason_k``:
    the phrases, most negative contribution first; missing where the row has fewer."""
    k = check_k(k)
    columns = [f"reason_{r}" for r in range(1, k + 1)]
    table = pd.DataFrame(None, index=contrib.values.index, columns=columns, dtype=object)
    long = reasons_long(contrib, k)
    positions = pd.Index(contrib.values.index)
    for row, rank, text in zip(long["row"], long["rank"], long["reason"], strict=True):
        table.iat[positions.get_loc(row), rank - 1] = text
    return table


def reasons(
    model: object,
    X: object,
    k: int = 4,
    *,
    sensitive_features: object = None,
    reference: object = None,
    pos_label: object = None,
    long: bool = False,
) -> pd.DataFrame:
    """The ``k`` reasons of each row of ``X`` for any model :func:`contributions` explains
    (a fair model, a fitted search, a user's scikit-learn model): :func:`reasons_table`,
    or with ``long=True`` :func:`reasons_long`."""
    k = check_k(k)
    contrib = contributions(
        model, X, sensitive_features=sensitive_features, reference=reference, pos_label=pos_label
    )
    return reasons_long(contrib, k) if long else reasons_table(contrib, k)
