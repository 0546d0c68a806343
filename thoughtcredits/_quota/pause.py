"""The shared pause: every task of a client holds until a monotonic deadline.

A pause comes from a refusal whose ``Retry-After`` the client's model cannot explain (a
window that resets in 40 s, a server in maintenance), or from an answer that says nothing is
left until a reset the model did not expect. It is announced once (a log record and a
:class:`PauseEvent`); a pause seen again (the same window, on another task's answer) is not.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from .._events import Event, PauseEvent
from .clock import Clock

__all__ = ["Pause", "Wait"]

logger = logging.getLogger("thoughtcredits")

Wait = Callable[[float], Awaitable[None]]
# A pause that ends no later than this after the one in force is the same pause, seen again.
_SAME = 0.01
_NOISE = 0.001


class Pause:
    """The resume time of a client (or, through Redis, of every process sharing a key)."""

    def __init__(self, clock: Clock, emit: Callable[[Event], None]) -> None:
        self._clock = clock
        self._emit = emit
        self.until = -math.inf
        """Monotonic seconds; in the past when no pause is in force."""

    @property
    def active(self) -> bool:
        """Whether a pause may be in force (cheap: no clock read)."""
        return self.until != -math.inf

    def left(self) -> float:
        """Seconds until the pause ends; 0.0 when none is in force (or under a millisecond:
        what is left of a pause already waited out, read by another clock)."""
        if not self.active:
            return 0.0
        left = self.until - self._clock.now()
        return left if left > _NOISE else 0.0

    def resume_at(self) -> datetime | None:
        """When the pause ends, in UTC, if one is in force."""
        left = self.left()
        return datetime.fromtimestamp(self._clock.wall() + left, UTC) if left else None

    def extend(self, seconds: float, reason: str) -> float:
        """Hold every task for ``seconds`` from now; return how much later it now ends."""
        now = self._clock.now()
        until = now + seconds
        if until <= self.until + _SAME:
            return 0.0  # already paused at least that long (e.g. the same pause, seen again)
        longer = until - max(self.until, now)
        self.until = until
        logger.info(
            "rate limited: pausing all requests for %.2fs (%s)",
            seconds, reason, extra={"tc_pause": seconds},
        )  # fmt: skip
        self._emit(PauseEvent(seconds=seconds, resume_at=self._clock.wall() + seconds,
                              reason=reason))  # fmt: skip
        return longer

    async def serve(self, nap: Wait) -> float:
        """Wait until no pause is in force; return the seconds waited."""
        served = 0.0
        while (delay := self.left()) > 0:
            until = self.until
            await nap(delay)
            served += delay
            if self.until <= until:
                # This pause has been served; only a newer one waits again. (It also keeps a
                # test's instant, non-advancing wait from looping.)
                break
        if self.active and self.until <= self._clock.now():
            self.until = -math.inf
        return served
