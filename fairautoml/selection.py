"""The final pick: a model that meets the constraints on validation *and* is likely to
meet them on new data.

A point estimate on validation rows that only just passes fails on new data about half
the time, and the best of many trials is the luckiest. So among the feasible trials, in
order of validation metric, the pick is the first whose constraints also hold at the
pessimistic end of a bootstrap interval (resampling validation rows within each group,
at level ``confidence``). If none of the top trials does, the best feasible one is taken
and marked not robust; if none is feasible, the least-violating one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from fairautoml.evaluate import Evaluation, SearchContext

MAX_CHECKED = 10


def robust_to_noise(evaluation: Evaluation, ctx: SearchContext, confidence: float) -> bool:
    """Do all constraints hold at the pessimistic end of their bootstrap interval?"""
    if evaluation.val_pred is None:
        return False
    _, y, g = ctx.val
    for c in ctx.constraints:
        lo, hi = c.interval(
            y, evaluation.val_pred, g, level=confidence, random_state=ctx.random_state
        )
        if c.violation(lo if c.is_ratio else hi) > 0:
            return False
    return True


def select_trial(
    board: pd.DataFrame,
    evaluations: Mapping[int, Evaluation],
    ctx: SearchContext,
    confidence: float | None,
) -> tuple[int, bool]:
    """Trial number of the pick, and whether it passed the robustness check."""
    ok = board[board["status"] == "ok"]
    metric = ctx.metric.name
    feasible = ok[ok["feasible"]].sort_values([metric, "trial"], ascending=[False, True])
    if feasible.empty:
        least = ok.sort_values(["violation", metric], ascending=[True, False])
        return int(least.iloc[0]["trial"]), False
    if confidence is None or not ctx.constraints:
        return int(feasible.iloc[0]["trial"]), False
    for number in feasible["trial"].head(MAX_CHECKED):
        evaluation = evaluations.get(int(number))
        if evaluation is not None and robust_to_noise(evaluation, ctx, confidence):
            return int(number), True
    return int(feasible.iloc[0]["trial"]), False
