"""The held-out rows of a paired comparison (:mod:`fairautoml.measures.paired`), checked
once: one label, two models' decisions (and scores), a group (or each group's membership
probability) and a weight per row, with an error that names the problem and the fix for
anything else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.memberships import Memberships, checked_memberships
from fairautoml.data.weights import check_sample_weight
from fairautoml.exceptions import InputError
from fairautoml.measures import messages as M
from fairautoml.measures.metrics import Metric


@dataclass(frozen=True)
class Predictions:
    """One model's predictions on the held-out rows: its yes/no ``decisions`` (0/1, what
    the fairness measures read) and, for a metric that reads scores (``roc_auc``,
    ``log_loss``), its ``scores``: the probability of the favourable outcome per row.
    A plain array passed where Predictions go stands for the decisions alone."""

    decisions: Any
    scores: Any = None


@dataclass(frozen=True)
class HeldOutRows:
    """The held-out rows, checked: labels, both models' decisions (and scores), groups,
    weights. Given membership probabilities instead of groups (``memberships``), every
    row's group code is 0: the rows are drawn as one stratum, no group being known."""

    y_true: np.ndarray
    incumbent: np.ndarray
    alternative: np.ndarray
    groups: np.ndarray
    weight: np.ndarray | None
    scores: dict[str, np.ndarray]
    memberships: Memberships | None = None

    @classmethod
    def checked(
        cls, y_true: Any, incumbent: Any, alternative: Any, groups: Any, sample_weight: Any,
        scorer: Metric, probabilities: Any = None,
    ) -> HeldOutRows:  # fmt: skip
        memberships = None
        if probabilities is not None:
            if groups is not None:
                raise InputError(M.PAIRED_GROUPS_AND_PROBABILITIES)
            memberships = checked_memberships(probabilities, len(_flat(y_true)))
            groups = np.zeros(len(memberships.values), dtype=np.int64)
        models = {
            side: given if isinstance(given, Predictions) else Predictions(given)
            for side, given in (("incumbent", incumbent), ("alternative", alternative))
        }
        arrays = {"y_true": _flat(y_true), "groups": _flat(groups)}
        arrays |= {side: _flat(p.decisions) for side, p in models.items()}
        arrays |= {
            f"{s} scores": _flat(p.scores) for s, p in models.items() if p.scores is not None
        }
        if sample_weight is not None:
            arrays["sample_weight"] = _flat(sample_weight)
        lengths = {name: len(a) for name, a in arrays.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{name}: {n} rows" for name, n in lengths.items())
            raise InputError(M.PAIRED_LENGTHS.format(lengths=shown))
        for name, values in arrays.items():
            _no_missing(values, name)
        scores: dict[str, np.ndarray] = {}
        if scorer.uses_proba:
            for side, p in models.items():
                if p.scores is None:
                    raise InputError(M.PAIRED_NO_SCORES.format(metric=scorer.name, model=side))
                try:
                    scores[side] = np.asarray(arrays[f"{side} scores"], dtype=np.float64)
                except (TypeError, ValueError):
                    given = f"values such as {arrays[f'{side} scores'][:3].tolist()}"
                    raise InputError(
                        M.PAIRED_SCORES_SHAPE.format(model=side, given=given)
                    ) from None
        return cls(
            y_true=_zero_one(arrays["y_true"], "y_true"),
            incumbent=_zero_one(arrays["incumbent"], "The incumbent's decisions"),
            alternative=_zero_one(arrays["alternative"], "The alternative's decisions"),
            groups=arrays["groups"],
            weight=check_sample_weight(sample_weight, lengths["y_true"]),
            scores=scores,
            memberships=memberships,
        )

    def score(self, scorer: Metric, side: str, weight: np.ndarray | None = None) -> float:
        """One model's ``scorer`` on the rows (weighted by ``weight``, else the rows' own)."""
        decisions = self.incumbent if side == "incumbent" else self.alternative
        scores = self.scores.get(side, decisions.astype(np.float64))
        if weight is None:
            weight = self.weight
        return scorer.measure(self.y_true, decisions, scores, weight)


def _flat(values: Any) -> np.ndarray:
    """``values`` as a one-dimensional array (a one-column table or a column vector too)."""
    if isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    return arr.reshape(-1) if arr.ndim != 1 else arr


def _no_missing(values: np.ndarray, what: str) -> None:
    missing = np.flatnonzero(pd.isna(values))
    if missing.size:
        raise InputError(
            M.PAIRED_MISSING.format(what=what, count=missing.size, row=int(missing[0]))
        )


def _zero_one(values: np.ndarray, what: str) -> np.ndarray:
    """0/1 values as integers; anything else is an error that shows what was given."""
    distinct = pd.unique(values)
    if not set(distinct.tolist()) <= {0, 1}:
        shown = sorted(map(repr, distinct.tolist()))[:5]
        raise InputError(M.PAIRED_NOT_BINARY.format(what=what, values=", ".join(shown)))
    return values.astype(np.int64)


def checked_level(level: Any) -> float:
    if (
        isinstance(level, bool)
        or not isinstance(level, (int, float, np.number))
        or not (0.0 < float(level) < 1.0)
    ):
        raise InputError(M.PAIRED_LEVEL.format(given=level))
    return float(level)


__all__ = ["HeldOutRows", "Predictions", "checked_level"]
