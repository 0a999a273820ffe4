"""Bounded label values, so a stream of new model names cannot grow the metric series."""

from __future__ import annotations

OTHER = "_other"


class BoundedLabels:
    """Passes the first ``limit`` distinct values through; later ones become ``_other``."""

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def get(self, value: str, admit: bool = True) -> str:
        """The label for ``value``; ``admit=False`` only looks, never takes a free place."""
        seen = self._seen
        if value in seen:
            return value
        if admit and len(seen) < self._limit:
            # Racing threads may admit one or two extra names; the set stays bounded.
            seen.add(value)
            return value
        return OTHER
