"""The final pick: a model that meets the constraints on validation *and* is likely to
meet them on new data.

Why: a trial that only just passes on validation fails on new data about half the time,
and the best of many trials is the luckiest one — its validation violation is biased
down. How: every trial's record carries a bootstrap interval of each constraint's value
on its (cross-fitted) validation predictions: 200 Poisson resamples of the validation
rows, the central interval at level ``confidence`` (``Constraint.interval``). Among the
trials feasible on validation, in order of validation metric, the pick is the first
whose constraints also hold at the unfavourable end of that interval (the upper end for
a difference, the lower end for a ratio): the leaderboard's ``robust`` column. If no
feasible trial is robust, the best feasible one is taken and marked not robust; if none
is feasible, the least-violating one. ``confidence=None`` takes the best feasible trial.

Measured effect: ``experiments/selection_check.py``, output in
``results/selection_check.md`` (share of picks whose violation on held-out test rows
stays within the bound, and their test accuracy, with and without the interval).
"""

from __future__ import annotations

import pandas as pd


def select_trial(board: pd.DataFrame, metric: str, confidence: float | None) -> tuple[int, bool]:
    """Trial number of the pick and whether it is robust, from leaderboard rows.

    ``board`` is a :func:`~fairautoml.leaderboard.leaderboard_frame`; its intervals were
    computed at the search's ``confidence`` level when the trials were recorded.
    """
    ok = board[board["status"] == "ok"]
    feasible = ok[ok["feasible"]].sort_values([metric, "trial"], ascending=[False, True])
    if feasible.empty:
        least = ok.sort_values(["violation", metric, "trial"], ascending=[True, False, True])
        return int(least.iloc[0]["trial"]), False
    if confidence is not None:
        robust = feasible[feasible["robust"]]
        if not robust.empty:
            return int(robust.iloc[0]["trial"]), True
    return int(feasible.iloc[0]["trial"]), False
