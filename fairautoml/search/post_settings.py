"""Which post-processors a trained model is measured under, and with which settings:
every registered post-processor at each level of its searched settings, the costly ones
gated by their declared cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fairautoml.mitigators import (
    available_mitigators,
    get_mitigator,
)

COSTLY_POST = 0.1  # declared cost (one learner fit = 1) from which a post-processor is gated


def is_costly_post(name: str) -> bool:
    """A post-processor whose declared cost reaches :data:`COSTLY_POST` (unknown: cheap)."""
    return name in available_mitigators() and get_mitigator(name).cost >= COSTLY_POST


def post_variants(posts: Sequence[str]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The ``(post, params)`` settings tried on every trained model.

    Per post-processor: its defaults, then each parameter moved alone to the low end, the
    middle and the high end of its range (each choice, for a categorical one); repeats
    are dropped. A one-parameter rule such as ``group_thresholds`` gets four settings.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    for name in posts:
        if name == "none":
            continue
        space = get_mitigator(name).space
        defaults = space.defaults()
        settings = [defaults]
        for p in space.params:
            for value in _levels(p):
                settings.append({**defaults, p.name: value})
        for params in settings:
            if (name, params) not in out:
                out.append((name, params))
    return tuple(out)


def default_settings(
    variants: Sequence[tuple[str, dict[str, Any]]],
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Each post-processor's first setting in ``variants`` (:func:`post_variants` puts its
    defaults first): a cheap screening of a trained model."""
    seen: set[str] = set()
    out = []
    for name, params in variants:
        if name not in seen:
            seen.add(name)
            out.append((name, params))
    return tuple(out)


def _levels(p: Any) -> list[Any]:
    if p.type == "categorical":
        return list(p.choices)
    lo, hi = float(p.low), float(p.high)
    mid = (lo * hi) ** 0.5 if p.log else (lo + hi) / 2
    values = [lo, mid, hi]
    return [round(v) for v in values] if p.type == "int" else values
