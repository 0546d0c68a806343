"""The probe: while the limit is unknown, only a few requests are in flight at once; once it
is learned, one more request confirms it before everyone goes."""

from __future__ import annotations

import asyncio

__all__ = ["PROBES", "Probe"]

PROBES = 5
"""Requests in flight at once while the limit is unknown: fewer than any documented burst."""


class Probe:
    """At most ``PROBES`` requests until the limit is learned (:meth:`confirm`), then one
    more until its answer (:meth:`end`); then nobody waits.

    An answered probe keeps its place spent until the phase ends, so the probe is a handful
    of requests in all, not a handful at a time. A probe that ends without an answer (it
    failed, or was cancelled) gives its place back, and the next waiting request takes it:
    nobody is released without a limit.
    """

    def __init__(self, active: bool) -> None:
        self.active = active
        self.in_flight = 0
        """Probes sent and not answered (nor given up on) yet."""
        self.confirming = False
        self._answered = 0
        self._places = PROBES
        self._changed = asyncio.Event()

    async def take(self) -> bool:
        """Wait for a place; True if one was taken (give it back with :meth:`give_back`)."""
        while self.active:
            if self.in_flight + self._answered < self._places:
                self.in_flight += 1
                return True
            changed = self._changed
            await changed.wait()
        return False

    def answered(self) -> None:
        """A probe's answer is in: its place stays spent while the phase lasts."""
        if self.active and self.in_flight:
            self.in_flight -= 1
            self._answered += 1

    def give_back(self) -> None:
        """A probe ended without an answer: its place goes to the next request."""
        if self.active and self.in_flight:
            self.in_flight -= 1
            self._wake()

    def confirm(self) -> None:
        """The limit is learned: one request goes to confirm it, the rest on its answer.

        Clients that start together each see a bucket that looks their own; the first
        answer after the probe shows whether someone else took part of it.
        """
        if self.active and not self.confirming:
            self.confirming, self._answered, self._places = True, 0, self.in_flight + 1
            self._wake()

    def end(self) -> None:
        """The limit is known (or the server has none): release everyone."""
        if self.active:
            self.active = False
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
