"""A progress bar for searches: trials done, the best fair score so far, time left.

*Fair* is what the pick would take as it stands (its top tier: within the constraints
with the margin asked for, useful), so the number shown is the pick's metric had the
search stopped there.

Drawn with tqdm on stderr, only when ``verbose > 0``; ``verbose=0`` prints nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


class SearchProgress:
    """Progress of a search (``fit``) or a sweep (``bench``).

    Parameters
    ----------
    n_trials : int or None
        Number of trials (or runs) expected; the bar counts them when there is no
        time budget.
    time_budget : float or None
        Seconds available; the bar then fills with time and shows the time left.
    metric : str
        Name of the score shown as ``best``.
    verbose : int
        0: no bar at all.
    remaining : callable or None
        Seconds left, when something else (a shared budget) knows it better.
    file : file-like or None
        Where to draw (None: stderr, and only when it is a terminal).
    """

    def __init__(
        self,
        n_trials: int | None = None,
        time_budget: float | None = None,
        *,
        metric: str = "score",
        desc: str = "fairautoml",
        verbose: int = 1,
        remaining: Callable[[], float] | None = None,
        file: Any = None,
    ) -> None:
        self.n_trials = n_trials
        self.time_budget = time_budget
        self.metric = metric
        self.enabled = verbose > 0
        self.n_done = 0
        self.best: float | None = None
        self._started = time.monotonic()
        self._remaining = remaining
        self._bar: Any = None
        if self.enabled:
            from tqdm.auto import tqdm

            by_time = time_budget is not None
            self._bar = tqdm(
                total=round(time_budget) if by_time else n_trials,
                desc=desc,
                unit="s" if by_time else "trial",
                leave=True,
                dynamic_ncols=True,
                file=file,
                disable=None if file is None else False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}|{postfix}"
                if by_time
                else "{l_bar}{bar}| {n_fmt}/{total_fmt}{postfix}",
            )
            self._refresh()

    def time_left(self) -> float:
        if self._remaining is not None:
            return max(self._remaining(), 0.0)
        if self.time_budget is None:
            return math.inf
        return max(self.time_budget - (time.monotonic() - self._started), 0.0)

    def update(self, score: float | None = None, fair: bool = True) -> None:
        """One more trial done; ``score`` counts towards the best when ``fair`` (the pick
        could take the point)."""
        self.n_done += 1
        if score is not None and fair and not math.isnan(score):
            self.best = score if self.best is None else max(self.best, score)
        if self._bar is not None:
            self._refresh()

    def _refresh(self) -> None:
        bar = self._bar
        if self.time_budget is not None:
            bar.n = max(min(round(self.time_budget - self.time_left()), bar.total), 0)
        elif bar.total is not None:
            bar.n = min(self.n_done, bar.total)
        else:
            bar.n = self.n_done
        best = "none yet" if self.best is None else f"{self.best:.4f}"
        postfix = f"trials={self.n_done} best fair {self.metric}={best}"
        left = self.time_left()
        if math.isfinite(left):
            postfix += f" left={left:.0f}s"
        bar.set_postfix_str(postfix, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._refresh()
            self._bar.close()
            self._bar = None

    def __enter__(self) -> SearchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
