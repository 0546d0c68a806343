"""The probe: while the limit is unknown, only a few requests are in flight at once."""

from __future__ import annotations

import asyncio

__all__ = ["PROBES", "Probe"]

PROBES = 5
"""Requests in flight at once while the limit is unknown: fewer than any documented burst."""


class Probe:
    """At most ``PROBES`` requests in flight until :meth:`end`; then nobody waits.

    A probe that ends without teaching the limit (it failed, or was cancelled) gives its
    place back, and the next waiting request takes it: nobody is released without a limit.
    """

    def __init__(self, active: bool) -> None:
        self.active = active
        self.holders = 0
        self._changed = asyncio.Event()

    async def take(self) -> bool:
        """Wait for a place; True if one was taken (give it back with :meth:`give_back`)."""
        while self.active:
            if self.holders < PROBES:
                self.holders += 1
                return True
            changed = self._changed
            await changed.wait()
        return False

    def give_back(self) -> None:
        """Return a place (a no-op once the probe has ended)."""
        if self.active and self.holders:
            self.holders -= 1
            self._wake()

    def end(self) -> None:
        """The limit is known (or the server has none): release everyone."""
        if self.active:
            self.active = False
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
