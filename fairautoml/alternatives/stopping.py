"""The stopping statement: how the best alternative's validation disparity improved over
the search, and what continuing would still gain, with the assumption that says so.

The history is the leaderboard's points in the order their trials completed: after each,
the least validation disparity among the deployable points whose validation metric
reaches the floor (the incumbent's, less the tolerance). The estimate assumes that
improvements keep arriving no faster than in the second half of the trials, and no
larger: another search as long as that half would gain at most what it gained.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

ASSUMPTION = (
    "improvements keep arriving at the rate, and of the size, seen in the second half of "
    "the trials (searches usually slow down, so this tends to overstate what is left)"
)


@dataclass(frozen=True)
class StoppingStatement:
    """The best validation disparity at the floor after the first half of the trials and
    at the end (None where no point reached the floor), the improvements of the second
    half, the estimate of what as many more trials would gain, and the statement in
    words."""

    measure: str
    trials: int
    seconds: float
    best_after_first_half: float | None
    best_at_end: float | None
    second_half_gain: float | None
    second_half_improvements: int
    estimated_gain_if_continued: float | None
    assumption: str
    statement: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def stopping_statement(
    history: pd.DataFrame, measure: str, *, lower_is_better: bool, seconds: float
) -> StoppingStatement:
    """The statement from ``history``: one row per point (a leaderboard row), with
    ``order`` (when its trial completed), ``eligible`` (deployable and at the floor) and
    ``measure`` (its validation disparity); the halves are halves of the points."""
    ordered = history.sort_values("order")
    trials = len(ordered)
    sign = 1.0 if lower_is_better else -1.0  # running minimum of the signed disparity
    values = np.where(ordered["eligible"], sign * ordered[measure].astype(float), np.inf)
    running = np.minimum.accumulate(values) if len(values) else np.array([])
    half = trials // 2
    first = running[half - 1] if half else math.inf
    end = running[-1] if len(running) else math.inf
    later = running[half - 1 :] if half else running
    steps = int(np.sum(np.diff(later) < 0)) if len(later) > 1 else 0
    gain = first - end if math.isfinite(first) and math.isfinite(end) else math.nan
    estimate = gain if math.isfinite(gain) else math.nan
    best_first, best_end = _finite(sign * first), _finite(sign * end)
    words = _words(measure, trials, seconds, best_first, best_end, gain, steps)
    return StoppingStatement(
        measure=measure,
        trials=trials,
        seconds=float(seconds),
        best_after_first_half=best_first,
        best_at_end=best_end,
        second_half_gain=_finite(gain),
        second_half_improvements=steps,
        estimated_gain_if_continued=_finite(estimate),
        assumption=ASSUMPTION,
        statement=words,
    )


def _words(
    measure: str,
    trials: int,
    seconds: float,
    first: float | None,
    end: float | None,
    gain: float,
    steps: int,
) -> str:
    searched = (
        f"The search measured {trials} points (trained models under each post-processor) "
        f"in {seconds:.0f} s."
    )
    if end is None:
        return (
            f"{searched} No point reached the accuracy floor, so there is no history of the "
            "best alternative to extrapolate; a longer search or a larger tolerance may "
            "find one, and nothing here bounds what it would gain."
        )
    if first is None:
        return (
            f"{searched} The first point at the accuracy floor came in the second half of the "
            f"trials ({measure} {end:.4f} at the end), so the search had not settled: "
            "continuing is likely to gain more, by an amount this history cannot bound."
        )
    if steps == 0 or not gain > 0:
        return (
            f"{searched} The best {measure} at the accuracy floor was {end:.4f} after the "
            "first half of the trials and did not improve in the second half. Assuming "
            f"{ASSUMPTION}, searching as long again would gain little: no improvement was "
            "seen at this rate."
        )
    return (
        f"{searched} The best {measure} at the accuracy floor went from {first:.4f} after "
        f"the first half of the trials to {end:.4f} at the end ({steps} improvement"
        f"{'s' if steps != 1 else ''}, {gain:.4f} in all). Assuming {ASSUMPTION}, "
        f"searching as long again would gain at most about {gain:.4f} more."
    )
