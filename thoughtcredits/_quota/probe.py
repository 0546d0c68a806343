"""The probe: while the limit is unknown, only a few requests go; once it is learned, one
more request confirms it before everyone goes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .hints import Reading

__all__ = ["PROBES", "SETTLE", "Probe"]

PROBES = 5
"""Requests that go while the limit is unknown: fewer than any documented burst."""
SETTLE = 0.25
"""After the limit is learned, the longest the probe waits for one of its answers."""


class Probe:
    """At most ``PROBES`` requests until the limit is learned, then one more until its
    answer; then nobody waits.

    An answered probe keeps its place spent until the phase ends, so the probe is a handful
    of requests in all, not a handful at a time. A probe that ends without an answer (it
    failed, or was cancelled) gives its place back, and the next waiting request takes it:
    nobody is released without a limit.

    Once the probe's answers are in, ``confirm`` is called with what the server has left (the
    lowest ``Remaining`` they showed, less the probes still out) and one request goes alone:
    clients that start together each see a bucket that looks their own, and the first answer
    after the probe shows whether someone else took part of it. A slow answer holds the
    others ``SETTLE`` seconds at most.

    Args:
        active: False when there is nothing to learn (no limiter).
        confirm: called once the limit is learned, with the tokens the server has left
            (None if no answer said).
    """

    def __init__(self, active: bool, confirm: Callable[[int | None], None]) -> None:
        self.active = active
        self.in_flight = 0
        """Probes sent and not answered (nor given up on) yet."""
        self.confirming = False
        self._confirm = confirm
        self._answered = 0
        self._places = PROBES
        self._low: int | None = None
        self._timer: asyncio.TimerHandle | None = None
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

    def give_back(self) -> None:
        """A probe ended without an answer: its place goes to the next request."""
        if self.active and self.in_flight:
            self.in_flight -= 1
            self._wake()

    def answered(self, reading: Reading) -> bool:
        """A probe's answer is in; True when it said something (its place stays spent)."""
        if not self.active or not self.in_flight or reading.empty:
            return False
        self.in_flight -= 1
        self._answered += 1
        return True

    def settle(self, reading: Reading, *, mine: bool, refused: bool, learned: bool) -> None:
        """Take an answer's news (after :meth:`answered` and learning from it)."""
        if not self.active:
            return
        if self.confirming:
            if mine:
                self.end()  # the confirming answer (or a refusal: someone else spends too)
            return
        if not refused and reading.remaining is not None:
            low = self._low
            self._low = reading.remaining if low is None else min(low, reading.remaining)
        if not learned:
            return
        if self.in_flight == 0:  # this answer's probe was the last one out
            self._to_confirming()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(SETTLE, self._to_confirming)

    def _to_confirming(self) -> None:
        if not self.active or self.confirming:
            return
        self._confirm(None if self._low is None else self._low - self.in_flight)
        self.confirming, self._answered, self._places = True, 0, self.in_flight + 1
        self._wake()
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(SETTLE, self.end)

    def end(self) -> None:
        """The limit is known (or the server has none): release everyone."""
        self._cancel_timer()
        if self.active:
            self.active = False
            self._wake()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
