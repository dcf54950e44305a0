"""The incumbent's approval volume kept (``same_approval_rate=True``): one cut-off on an
alternative's probabilities, chosen on the search's own rows so that it approves the
incumbent's share there, never on the evidence rows, which then test it unchanged. The
probabilities it is read from are the alternative's on rows its scores were not trained
on: its validation rows, out of fold under cross-validation (an in-sample score would
place the cut-off where new rows do not fall).

The cut-off is a :class:`~fairautoml.mitigators.cut.CutRule` (one threshold for every row)
after the alternative's own scores, or after its rule where that rule calibrates; the
model keeps it when it predicts and in its file. An alternative whose probabilities are
decisions rather than scores (a randomized rule, a rule that is not a calibration) or that
decides among several classes takes no cut-off: it keeps the filter on its approval rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fairautoml.alternatives import messages as M
from fairautoml.alternatives.incumbent import cutoff_for_rate
from fairautoml.mitigators.cut import CutRule


@dataclass(frozen=True)
class RateCut:
    """The alternative with its cut-off (``model``; None when it takes none, ``why``
    saying so), the cut-off, and the shares it and the incumbent approve on the rows it
    was chosen on (``rows``)."""

    model: Any
    cutoff: float | None
    approval: float
    incumbent_approval: float
    rows: int
    why: str = ""


def cannot_cut(model: Any) -> str:
    """Why a new cut-off on the model's probabilities is not a rule it can take ("" when
    it is): only yes/no scores, from no rule or a calibrating one, can be re-cut."""
    if not model.task.cut_off:
        return M.NO_CUT_CLASSES
    rule = model.rule
    if rule is not None and rule.draws:
        return M.NO_CUT_RANDOMIZED
    if rule is not None and not rule.calibrates:
        return M.NO_CUT_RULE.format(rule=type(rule).__name__)
    return ""


def at_incumbent_rate(
    model: Any, proba: np.ndarray | None, incumbent: np.ndarray, tolerance: float
) -> RateCut:
    """``model`` with the cut-off that approves, of the search's rows where ``proba``
    holds its probabilities out of its training rows (None: it has none there), the share
    ``incumbent`` (its 0/1 decisions on the same rows) approves; ``model`` None where it
    takes no cut-off, or where ties in its probabilities keep the share more than
    ``tolerance`` away."""
    target = float(np.mean(incumbent))
    why = cannot_cut(model) or ("" if proba is not None else M.NO_CUT_HELD_OUT)
    if why:
        return RateCut(None, None, float("nan"), target, len(incumbent), why)
    proba = np.asarray(proba, dtype=np.float64)
    cutoff = cutoff_for_rate(proba, target)
    approval = float(np.mean(proba >= cutoff))
    if abs(approval - target) > tolerance:
        why = M.NO_CUT_TIES.format(approval=approval, target=target)
        return RateCut(None, None, approval, target, len(proba), why)
    cut = CutRule(np.array([cutoff], dtype=np.float64), calibration=model.rule)
    return RateCut(replace(model, rule=cut), cutoff, approval, target, len(proba))
