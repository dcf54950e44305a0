"""Successive halving over training rows: cheap judgements first, all rows for the leaders.

On a big table most configurations the sampler proposes are not worth training on every
search row. With rungs, a new configuration trains first on a stratified sample of the
training rows (the lowest rung: ``rows / eta**k``, at least ``min_rows``); each time it ends
a rung, it is trained again on ``eta`` times as many rows only if its score is among the
top ``1 / eta`` of every score recorded at that rung so far (asynchronous successive
halving, as ASHA: no waiting for a full bracket, so parallel workers stay busy). Every
rung's model is scored on all the validation rows and recorded with its points, so a
model trained on a sample is a candidate like any other; the sampler learns from the
lowest rung only, where every configuration it proposed was measured alike. Below the
top rung a model is screened: its raw point and each cheap post-processor's default
setting (every setting, and the costly post-processors gated on the top models, would
cost many times its training on a big validation set); the top rung gets them all.

The score is the best validation metric among the points the pick could take
(:attr:`~fairautoml.search.allocator.Outcome.fair_metric`); a model with no such point scores
below every model with one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ETA = 3  # each rung trains on this many times the rows of the one below; 1 / ETA go up


@dataclass
class RowRungs:
    """The training rows of each rung (ascending; the last is every search training row)
    and the scores recorded at each so far."""

    sizes: tuple[int, ...]
    eta: int = ETA
    scores: list[list[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.scores:
            self.scores = [[] for _ in self.sizes]

    @classmethod
    def for_rows(cls, n_rows: int, min_rows: int | None, eta: int = ETA) -> RowRungs | None:
        """Rungs down from ``n_rows`` by factors of ``eta`` while a rung keeps at least
        ``min_rows`` (None when that leaves one rung, or ``min_rows`` is None: off)."""
        if min_rows is None:
            return None
        sizes = [n_rows]
        while sizes[-1] // eta >= min_rows:
            sizes.append(sizes[-1] // eta)
        if len(sizes) == 1:
            return None
        return cls(tuple(reversed(sizes)), eta)

    @property
    def first(self) -> int:
        """Rows a new configuration trains on."""
        return self.sizes[0]

    def rung(self, train_rows: int | None) -> int:
        """The rung of a model trained on ``train_rows`` (None: every row, the top)."""
        if train_rows is None or train_rows >= self.sizes[-1]:
            return len(self.sizes) - 1
        return self.sizes.index(train_rows) if train_rows in self.sizes else 0

    def below_top(self, train_rows: int | None) -> bool:
        """Whether a model trained on ``train_rows`` is on a rung below the top."""
        return self.rung(train_rows) < len(self.sizes) - 1

    def rows_above(self, train_rows: int | None) -> int | None:
        """The training rows of the rung above a model's (None: every row, the top)."""
        above = min(self.rung(train_rows) + 1, len(self.sizes) - 1)
        return None if above == len(self.sizes) - 1 else self.sizes[above]

    def promote(self, train_rows: int | None, score: float | None) -> bool:
        """Record a model's score at its rung; whether it goes up: below the top and among
        the first ``ceil(n / eta)`` of the ``n`` scores recorded at that rung (ties go up)."""
        rung = self.rung(train_rows)
        value = -math.inf if score is None else float(score)
        self.scores[rung].append(value)
        if rung == len(self.sizes) - 1:
            return False
        seen = self.scores[rung]
        better = sum(s > value for s in seen)
        return better < math.ceil(len(seen) / self.eta)


__all__ = ["ETA", "RowRungs"]
