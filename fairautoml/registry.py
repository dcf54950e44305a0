"""One small registry: names to things, with the same errors everywhere.

Learners, mitigators, controllers and metrics are each a :class:`Registry`; registering
a taken name needs ``replace=True``, and an unknown name is an error that lists the
known ones and suggests the closest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from fairautoml.exceptions import unknown_name

T = TypeVar("T")


class Registry(Generic[T]):
    """Things of one ``kind`` ("learner", "metric", ...) by name, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T, *, replace: bool = False) -> T:
        if not replace:
            self.check_new(name)
        self._items[name] = item
        return item

    def check_new(self, name: str) -> None:
        """An error if ``name`` is taken (before building what would be registered)."""
        if name in self._items:
            raise ValueError(
                f"{self.kind.capitalize()} {name!r} is already registered; pass replace=True."
            )

    def get(self, name: str) -> T:
        if name not in self._items:
            raise unknown_name(self.kind, name, self._items)
        return self._items[name]

    def names(self) -> list[str]:
        return list(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._items.items()))

    def snapshot(self) -> dict[str, T]:
        """A copy of the entries (sent to trial worker processes, which restore it)."""
        return dict(self._items)

    def restore(self, entries: dict[str, T]) -> None:
        """Make the entries exactly those of a :meth:`snapshot`."""
        self._items = dict(entries)

    def remove(self, name: str) -> None:
        """Forget ``name`` if registered (tests and plugins that clean up after themselves)."""
        self._items.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)
