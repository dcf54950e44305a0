"""Less discriminatory alternatives: search against the model a lender already has, and
show on rows the search never saw whether an alternative of the same accuracy is less
discriminatory (:func:`find_alternatives`; docs/alternatives.md).

May import ``report``, ``estimators``, ``audit``, ``explain``, ``measures``, ``data`` and
every layer below; nothing below imports it.
"""

from __future__ import annotations

from fairautoml.alternatives.incumbent import Incumbent, read_incumbent
from fairautoml.alternatives.result import NOTHING_TO_REDUCE, AlternativesResult
from fairautoml.alternatives.search import MIN_DIFFERING_ROWS, find_alternatives
from fairautoml.alternatives.stopping import StoppingStatement

EXIT_FOUND = 0  # a less discriminatory alternative found with confidence
EXIT_NONE_FOUND = 1  # none found with confidence
EXIT_NOTHING_TO_REDUCE = 3  # the incumbent already meets every bound given

__all__ = [
    "EXIT_FOUND", "EXIT_NONE_FOUND", "EXIT_NOTHING_TO_REDUCE", "MIN_DIFFERING_ROWS",
    "NOTHING_TO_REDUCE", "AlternativesResult", "Incumbent", "StoppingStatement",
    "find_alternatives", "read_incumbent",
]  # fmt: skip
