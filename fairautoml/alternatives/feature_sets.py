"""The business need's levers on the features, and the feature sets searched.

``required_features`` are kept by every alternative; ``forbidden_features`` reach none
(each search is given a table without them, so no model it builds can read them). Besides
the search on every allowed feature, :func:`feature_sets` adds one search per K = 1 ..
``drop_drivers``, each without the K features that the incumbent's disparity attribution
(:func:`fairautoml.explain.attribute_disparity`, on the search rows: never the evidence
rows) names as driving the gap in score between the groups, a required feature never
among them. The time budget (and ``n_trials``) is split by :func:`shares`: half to the
search on every allowed feature, the other half shared equally by the feature-set searches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.alternatives import messages as M
from fairautoml.alternatives.incumbent import Incumbent, model_columns
from fairautoml.exceptions import InputError
from fairautoml.explain import attribute_disparity

logger = logging.getLogger("fairautoml")

ALL_ALLOWED = "all allowed features"
DRIVER_ROWS = 2000  # search rows the incumbent's attribution reads at most (Shapley's cost)


@dataclass(frozen=True)
class FeatureSet:
    """The columns one search is given (``columns``: features, with the sensitive columns
    named in ``sensitive_features`` kept for their groups) and the drivers it leaves out."""

    name: str
    columns: list[str]
    features: list[str]
    dropped: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "dropped": list(self.dropped), "features": self.features}


def named(value: Any, option: str) -> list[str]:
    """The column names of a lever: None, one name, or several (strings)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    bad = [v for v in items if not isinstance(v, str) or not v]
    if bad:
        raise InputError(M.FEATURE_NAMES.format(option=option, given=bad))
    return list(dict.fromkeys(items))


def check_levers(
    required: list[str],
    forbidden: list[str],
    columns: Sequence[str],
    sensitive: Sequence[str],
    keep_sensitive: bool,
) -> list[str]:
    """The feature columns every search may use (``columns`` less the forbidden, the
    sensitive columns when they are no features); each bad lever raises with its fix."""
    both = [c for c in required if c in forbidden]
    if both:
        raise InputError(M.REQUIRED_AND_FORBIDDEN.format(names=both))
    for option, names in (("required_features", required), ("forbidden_features", forbidden)):
        missing = [c for c in names if c not in columns]
        if missing:
            shown = list(columns)
            raise InputError(
                M.FEATURES_NOT_IN_TABLE.format(option=option, missing=missing, columns=shown)
            )
    if keep_sensitive:
        blocked = [c for c in forbidden if c in sensitive]
        if blocked:
            raise InputError(M.FORBIDDEN_SENSITIVE.format(names=blocked))
        features = list(columns)
    else:
        not_features = [c for c in required if c in sensitive]
        if not_features:
            raise InputError(M.REQUIRED_SENSITIVE.format(names=not_features))
        features = [c for c in columns if c not in sensitive]
    allowed = [c for c in features if c not in forbidden]
    if not allowed:
        raise InputError(M.NO_FEATURE_LEFT.format(forbidden=forbidden))
    return allowed


def drivers(
    held: Incumbent,
    frame: pd.DataFrame,
    rows: np.ndarray,
    sens: pd.DataFrame | None,
    random_state: int | None,
    probabilities: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, str]:
    """The incumbent's attribution on (at most :data:`DRIVER_ROWS` of) ``rows``: one row per
    feature whose term widens the gap in score (``feature``, ``gap``, ``low``, ``high``,
    ``share``), largest first; None, with the reason, where there is none to read. The
    groups are ``sens``, or each row's membership ``probabilities`` (the gap then the
    regression's: :func:`fairautoml.explain.attribute_disparity`)."""
    if held.model is None:
        return None, M.NO_DRIVERS_FROM_SCORES
    rng = np.random.default_rng(0 if random_state is None else random_state)
    at = np.sort(rng.permutation(rows)[:DRIVER_ROWS])
    explained = model_columns(held.model, frame.iloc[at].reset_index(drop=True))
    try:
        found = attribute_disparity(
            held.model, explained, **groups_of(sens, probabilities, at), random_state=0
        )
    except Exception as exc:  # the search on every allowed feature runs without it
        logger.warning("the incumbent's disparity attribution failed: %s", exc)
        return None, M.NO_DRIVERS_FAILED.format(error=f"{type(exc).__name__}: {exc}")
    table = found.table
    widening = table[table["gap"] * np.sign(found.gap) > 0]
    return widening.reset_index(drop=True), ""


def groups_of(
    sens: pd.DataFrame | None, probabilities: pd.DataFrame | None, at: np.ndarray
) -> dict[str, Any]:
    """What :func:`~fairautoml.explain.attribute_disparity` is given as the groups of the
    rows ``at``: the sensitive values (one attribute: its column), or the membership
    probabilities."""
    if probabilities is not None:
        return {"group_probabilities": probabilities.iloc[at].reset_index(drop=True)}
    groups = sens.iloc[at].reset_index(drop=True)
    return {"sensitive_features": groups.iloc[:, 0] if groups.shape[1] == 1 else groups}


def feature_sets(
    order: Sequence[str],
    allowed: list[str],
    sensitive: Sequence[str],
    required: list[str],
    driving: pd.DataFrame | None,
    drop_drivers: int,
) -> list[FeatureSet]:
    """The search on every allowed feature, then one per K = 1 .. ``drop_drivers``
    without the K allowed features that drive the incumbent's gap most (never a required
    one, nor a sensitive column, which names the groups); columns in the table's
    ``order``."""

    def feature_set(name: str, features: list[str], dropped: tuple[str, ...]) -> FeatureSet:
        given = set(features) | set(sensitive)
        return FeatureSet(name, [c for c in order if c in given], features, dropped)

    sets = [feature_set(ALL_ALLOWED, list(allowed), ())]
    if driving is None or drop_drivers < 1:
        return sets
    droppable = [
        f
        for f in driving["feature"].astype(str)
        if f in allowed and f not in required and f not in sensitive
    ]
    for k in range(1, min(int(drop_drivers), len(droppable)) + 1):
        dropped = tuple(droppable[:k])
        features = [c for c in allowed if c not in dropped]
        if not features:
            break
        sets.append(feature_set("without " + ", ".join(dropped), features, dropped))
    return sets


def shares(n_sets: int, n_trials: int | None) -> list[dict[str, Any]]:
    """Each search's weight and ``n_trials``: the search on every allowed feature weighs as
    much as all feature-set searches together, each of which weighs 1 (the time budget is
    split by the same weights as each search starts: :func:`next_budget`)."""
    weights = [max(n_sets - 1, 1), *([1] * (n_sets - 1))]
    total = sum(weights)
    return [
        {"weight": w, "n_trials": None if n_trials is None else max(1, round(n_trials * w / total))}
        for w in weights
    ]


def next_budget(time_left: float | None, weights_left: Sequence[int]) -> float | None:
    """The next search's seconds: its weight's share of the time left (None: no budget)."""
    if time_left is None:
        return None
    return max(float(time_left), 1.0) * weights_left[0] / sum(weights_left)
