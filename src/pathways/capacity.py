"""Shared places (the 16 overnight places): who counts them and where.

The engine asks a :class:`Ledger` how many places are in use and tells it when a case
takes or releases one. :class:`MemoryLedger` counts in memory; a durable store provides
one that counts in the database so that many processes never exceed the capacity.
"""

from __future__ import annotations

from typing import Protocol

from .errors import CapacityError

__all__ = ["Ledger", "MemoryLedger"]


class Ledger(Protocol):
    """Counts places in use per resource."""

    def in_use(self, resource: str) -> int: ...

    def adjust(self, resource: str, delta: int, capacity: int) -> None:
        """Take (``delta > 0``) or release (``delta < 0``) places.

        Raises:
            NoCapacity: taking would exceed ``capacity``.
            CapacityError: releasing would go below zero.
        """


class MemoryLedger:
    """Places in use, counted in this process."""

    def __init__(self) -> None:
        self._in_use: dict[str, int] = {}

    def in_use(self, resource: str) -> int:
        return self._in_use.get(resource, 0)

    def adjust(self, resource: str, delta: int, capacity: int) -> None:
        from .errors import NoCapacity

        now = self._in_use.get(resource, 0) + delta
        if now > capacity:
            raise NoCapacity(f"all {capacity} places of {resource!r} are taken")
        if now < 0:
            raise CapacityError(f"released more places of {resource!r} than were taken")
        self._in_use[resource] = now
