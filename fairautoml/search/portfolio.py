"""A portfolio: configurations known to do well across tabular tasks, tried first in a
fixed order after the cheap starts (the idea of auto-sklearn 2.0's portfolio and
AutoGluon's zero-shot presets).

The portfolio is data beside the search spaces (``search_spaces/portfolio.yaml``), keyed
by task name: an ordered list of ``{learner, params, seconds_per_1k_rows}``. It is learned
offline by ``benchmarks/scripts/learn_portfolio.py``: a pool of configurations is trained on the
bundled tables and valued as the search values a trained model, and the portfolio is
chosen from it greedily (:func:`greedy_portfolio`). A search tries each entry whose
learner it searches, whose parameters lie in that learner's space and whose time estimate
fits the time left (:func:`fits_in`); the sampler takes over after it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import yaml

from fairautoml.search._base import SearchDomain
from fairautoml.spaces import Param, SearchSpace, spaces_dir
from fairautoml.study.trial import Candidate, SearchContext

PORTFOLIO_FILE = "portfolio.yaml"
BIG_TABLE_SUFFIX = "_big_tables"  # the key of a task's portfolio for big tables
# an entry is tried only when this many times its estimated seconds fit the time left:
# the estimate was measured on other tables and machines
SAFETY = 2.0
# A search whose models train on this many rows or more tries a big table's portfolio:
# the big tables' one was learned on 100,000-row samples, and on the 100k scale table
# (60,000 training rows) it gave the more accurate pick (results/big_table_portfolio_100k/);
# the bundled tables train on at most 36,000 (Dutch), where the first portfolio was learned.
BIG_TABLE_TRAINING_ROWS = 50_000


@dataclass(frozen=True)
class PortfolioEntry:
    """One configuration of the portfolio: a learner's parameters, untreated, and its
    seconds per 1,000 training rows fitted (the estimate a search checks its time left by)."""

    learner: str
    params: dict[str, Any] = field(default_factory=dict)
    seconds_per_1k_rows: float = 0.0

    def seconds(self, rows: int) -> float:
        """Estimated seconds of one trial that fits ``rows`` training rows in all."""
        return self.seconds_per_1k_rows * rows / 1000


def big_table_key(task: str) -> str:
    """The portfolio file's key of ``task``'s portfolio for big tables."""
    return f"{task}{BIG_TABLE_SUFFIX}"


def is_big_table(ctx: SearchContext) -> bool:
    """Whether the search's models train on a big table's rows: a sample of a table above
    ``max_search_rows``, or at least :data:`BIG_TABLE_TRAINING_ROWS` training rows (a
    fold's, under cross-validation)."""
    rows = len(ctx.cv_folds[0][0]) if ctx.cv_folds else len(ctx.train_idx)
    return ctx.trains_on_sample or rows >= BIG_TABLE_TRAINING_ROWS


def portfolio_for(task: str, big_table: bool = False) -> tuple[PortfolioEntry, ...]:
    """The bundled portfolio of ``task`` (empty when it has none). ``big_table``
    (:func:`is_big_table`): the search tries the portfolio learned on big tables where the
    file has one (:func:`big_table_key`). Why a second one: the first is learned on the
    bundled tables (at most 60,000 rows), where a configuration that needs many rows to
    pay never wins, and a big table's search tries only its first few entries."""
    bundled = _bundled()
    if big_table and big_table_key(task) in bundled:
        return bundled[big_table_key(task)]
    return bundled.get(task, ())


@lru_cache(maxsize=1)
def _bundled() -> dict[str, tuple[PortfolioEntry, ...]]:
    path = spaces_dir() / PORTFOLIO_FILE
    if not path.exists():
        return {}
    with path.open() as fh:
        return read_portfolio(yaml.safe_load(fh) or {})


def read_portfolio(data: dict[str, Any]) -> dict[str, tuple[PortfolioEntry, ...]]:
    """Portfolios by task name from the file's mapping."""
    return {
        task: tuple(
            PortfolioEntry(
                e["learner"], dict(e.get("params") or {}), float(e.get("seconds_per_1k_rows", 0))
            )
            for e in entries or ()
        )
        for task, entries in data.items()
    }


def params_in_space(params: dict[str, Any], space: SearchSpace) -> dict[str, Any] | None:
    """``params`` completed with the space's defaults, or None when one of them is not in
    ``space`` (unknown name, value outside its range or choices): a user's own space
    rules the entry out."""
    known = {p.name: p for p in space.params}
    if any(name not in known for name in params):
        return None
    out = {}
    for name, p in known.items():
        value = params.get(name, p.start)
        if not _allowed(p, value):
            return None
        out[name] = int(value) if p.type == "int" else value
    return out


def _allowed(p: Param, value: Any) -> bool:
    """Whether ``value`` is one the parameter's space could sample."""
    if p.type == "categorical":
        return value in p.choices
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if p.type == "int" and value != int(value):
        return False
    return p.low <= value <= p.high  # type: ignore[operator]


def usable_entries(
    entries: Sequence[PortfolioEntry], domain: SearchDomain
) -> list[tuple[PortfolioEntry, Candidate]]:
    """The entries a search over ``domain`` may try, in order, each as the untreated
    candidate it trains: its learner searched, its parameters in the learner's space."""
    out = []
    for entry in entries:
        if entry.learner not in domain.learners:
            continue
        params = params_in_space(entry.params, domain.learner(entry.learner).space)
        if params is not None:
            out.append((entry, Candidate(entry.learner, params)))
    return out


def rows_fitted(ctx: SearchContext, train_rows: int | None = None) -> int:
    """Training rows one trial fits in all: every fold's under cross-validation, else the
    (sampled) training rows."""
    if ctx.cv_folds:
        return sum(len(fit) for fit, _ in ctx.cv_folds)
    return ctx.n_training_rows(Candidate("", train_rows=train_rows))


def fits_in(
    entry: PortfolioEntry, rows: int, remaining: float, trial_limit: float | None = None
) -> bool:
    """Whether :data:`SAFETY` times the entry's estimated seconds on ``rows`` fit both the
    time left and the limit of one trial (either may be infinite or None)."""
    need = SAFETY * entry.seconds(rows)
    limit = math.inf if trial_limit is None else trial_limit
    return need <= remaining and need <= limit


# --- learning the portfolio offline -----------------------------------------------------


def normalized_values(values: np.ndarray, misses: np.ndarray | None = None) -> np.ndarray:
    """Each task's values (columns; rows: configurations) relative to that task's best and
    worst: 1 for the best, 0 for the worst.

    ``values`` holds each configuration's metric at its best point the pick could take
    (NaN: none), ``misses`` how far its nearest point is from one (the sampler's ranking
    of the others, :meth:`~fairautoml.study.pick.PickPolicy.miss`). In a task where some
    configuration has such a point, the others score 0, worth no more than the worst; in
    a task where none has, the configurations are scored by their miss instead, the
    nearest 1 (an infinite miss, a failure, 0). A task where every value is equal scores
    them 1."""
    values = np.asarray(values, dtype=float)
    out = np.zeros_like(values)
    for j in range(values.shape[1]):
        column = values[:, j]
        if not np.isfinite(column).any() and misses is not None:
            column = -np.asarray(misses, dtype=float)[:, j]
        finite = np.isfinite(column)
        if not finite.any():
            continue
        best, worst = column[finite].max(), column[finite].min()
        span = best - worst
        out[finite, j] = 1.0 if span <= 0 else (column[finite] - worst) / span
    return out


def portfolio_score(scores: np.ndarray, chosen: Sequence[int], baseline: np.ndarray) -> float:
    """Mean over tasks of the best normalized value among ``chosen`` rows and ``baseline``
    (what the search has before the portfolio: the cheap starts' values)."""
    best = np.asarray(baseline, dtype=float)
    if len(chosen):
        best = np.maximum(best, scores[list(chosen)].max(axis=0))
    return float(best.mean())


def greedy_portfolio(
    scores: np.ndarray,
    size: int,
    baseline: np.ndarray | None = None,
    cost: Sequence[float] | None = None,
    min_gain: float = 1e-6,
) -> list[int]:
    """Rows of ``scores`` (configurations x tasks, normalized) in the order to try them:
    each step adds the row that most raises :func:`portfolio_score` (on a tie, the
    cheaper by ``cost``, then the first), until ``size`` rows or a gain below
    ``min_gain``.

    Why greedy: the score is a mean of maxima, monotone and submodular in the set, so
    greedy gets within 1 - 1/e of the best set of its size, and its order puts the
    configurations that help most first, which is what a short search tries."""
    n, tasks = scores.shape
    baseline = np.zeros(tasks) if baseline is None else np.asarray(baseline, dtype=float)
    cost = [0.0] * n if cost is None else list(cost)
    chosen: list[int] = []
    current = portfolio_score(scores, chosen, baseline)
    while len(chosen) < size:
        left = [i for i in range(n) if i not in chosen]
        if not left:
            break
        gains = {i: portfolio_score(scores, [*chosen, i], baseline) - current for i in left}
        pick = max(left, key=lambda i: (gains[i], -cost[i], -i))
        if gains[pick] < min_gain:
            break
        chosen.append(pick)
        current += gains[pick]
    return chosen


__all__ = [
    "PortfolioEntry",
    "big_table_key",
    "fits_in",
    "greedy_portfolio",
    "is_big_table",
    "normalized_values",
    "params_in_space",
    "portfolio_for",
    "portfolio_score",
    "read_portfolio",
    "rows_fitted",
    "usable_entries",
]
