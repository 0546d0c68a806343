"""The client's one clock: monotonic seconds for every wait and deadline.

The wall clock is read only to turn a server's epoch timestamp (``X-RateLimit-Reset``, a
``Retry-After`` date) into seconds from now, once, when the header is read. Stepping the wall
clock (NTP, a restored VM) then moves no deadline already set.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock"]


class Clock:
    """Monotonic seconds as the client's sleeps see them, and epoch seconds for headers.

    A test's injected sleep returns at once; this clock then moves on to the moment the sleep
    was meant to end, so a pause that a request has waited out is over for everyone, as it
    would be for real (sleeps that overlap end together). With the real sleep they agree.

    Args:
        monotonic: the monotonic source (``time.monotonic``); a test may inject one.
        wall: the epoch source; None reads ``time.time()`` at each call.
    """

    __slots__ = ("_monotonic", "_offset", "_wall")

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._offset = 0.0

    def now(self) -> float:
        """Monotonic seconds: what every wait and deadline is measured in."""
        return self._monotonic() + self._offset

    def wall(self) -> float:
        """Epoch seconds (may jump): only for reading and showing the server's timestamps."""
        return (time.time() if self._wall is None else self._wall()) + self._offset

    def woke(self, wake_at: float) -> None:
        """A sleep meant to end at monotonic ``wake_at`` has returned: time is at least that."""
        late = wake_at - self.now()
        if late > 0:
            self._offset += late
