"""What kind of candidate a learner name stands for: one trained model, or a composite.

A composite (the search's ensembles, :mod:`fairautoml.search.ensemble`) is a candidate
made of other candidates, its *members*; it is a candidate like any other: its learner is
the name its kind is registered under and its ``learner_params`` hold its members and
whatever else the kind keeps. What a composite answers differently from one trained model
is asked of its :class:`CandidateKind` (:func:`kind_of`), never of its learner's name: how
it is described, its members, whether it is trained again on every row, whether it is one
trained model, how its trial is recorded and how it is trained. A learner registers
nothing: its kind is :data:`SINGLE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Params = Mapping[str, Any]


def _no_members(params: Params) -> list[Mapping[str, Any]]:
    return []


def _no_board_params(params: Params) -> dict[str, Any]:
    return {}


def _always(params: Params) -> bool:
    return True


@dataclass(frozen=True)
class CandidateKind:
    """What a candidate of one kind answers (the defaults: one trained model)."""

    # its members, each a member candidate's fields (at least ``learner``; ``mitigator``
    # and ``post`` when known), read from its ``learner_params`` or from its leaderboard
    # params column (:attr:`board_params` of them)
    members: Callable[[Params], list[Mapping[str, Any]]] = _no_members
    # the leaderboard's params column of its ``learner_params`` (a trial without
    # parameters of its own: one a controller did not draw)
    board_params: Callable[[Params], dict[str, Any]] = _no_board_params
    # whether its model is trained again on every row (the final refit; a post-processed
    # point never is, whatever its kind)
    refitted: Callable[[Params], bool] = _always
    # one trained model: what the report's policy comparison post-processes again
    trained_model: bool = True
    # its trial records a controller's parameters (False: built outside the controllers'
    # space, its record is its own)
    drawn: bool = True
    # trains it, with the signature of fairautoml.search.evaluate.fit_scoring_model (None:
    # its learner, with its mitigation)
    fit: Callable[..., Any] | None = None

    def member_learners(self, params: Params) -> list[str]:
        """Its members' learners, each once, in their order."""
        return list(dict.fromkeys(str(m["learner"]) for m in self.members(params)))

    def describe(self, learner: str, params: Params) -> str:
        """Its name, with its members' learners when it has members."""
        learners = self.member_learners(params)
        return f"{learner}({', '.join(learners)})" if learners else learner

    def member_mitigators(self, params: Params) -> list[str]:
        """Every mitigator its members are built with (``"none"`` included)."""
        out = []
        for m in self.members(params):
            out += [m.get("mitigator", "none"), m.get("post", "none")]
        return out


SINGLE = CandidateKind()  # one trained model: a learner with its mitigation
KINDS: dict[str, CandidateKind] = {}  # the composites, by learner name


def register_kind(name: str, kind: CandidateKind) -> CandidateKind:
    """Candidates whose learner is ``name`` are of ``kind`` (a composite's module registers
    it when imported; ``fairautoml.search`` imports them)."""
    KINDS[name] = kind
    return kind


def kind_of(learner: str) -> CandidateKind:
    """The kind of a candidate with this learner (:data:`SINGLE` unless registered)."""
    return KINDS.get(learner, SINGLE)


__all__ = ["KINDS", "SINGLE", "CandidateKind", "kind_of", "register_kind"]
