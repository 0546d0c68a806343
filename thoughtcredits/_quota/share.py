"""Sharing a key with clients the model cannot see: pace by what ``Remaining`` says is left.

Every client of a key, this SDK or not, spends from the same ``X-RateLimit-Remaining``. Once
answers show someone else spending (the model had to move its bucket forward), the client also
spreads what remains over one refill of the burst: when others spend, ``Remaining`` falls and
this client slows down, so uncoordinated clients settle together under the quota, each near a
``1/N`` share of the burst, instead of all racing for the last token.
"""

from __future__ import annotations

import math
from collections import deque

from .hints import Reading
from .rate_limit import RateLimit

__all__ = ["Neighbours", "SharePacer"]


class SharePacer:
    """Spaces requests by the latest ``Remaining``; nothing is booked ahead.

    A request due later is told to ask again soon (``POLL``), so the pace follows the latest
    answer instead of a queue planned on an older one.
    """

    POLL = 0.05
    BACKOFF = 16
    """The most the interval grows after refusals in a row (doubling each time)."""

    def __init__(self) -> None:
        self._last = -math.inf
        self._interval = 0.0
        self._backoff = 1

    def refused(self) -> None:
        """A refusal while sharing: someone takes every token as it comes; space out more."""
        self._backoff = min(self.BACKOFF, 2 * self._backoff)

    def update(self, reading: Reading, limit: RateLimit | None) -> None:
        """Take the latest answer's reading, and the limit in force (if one is known).

        The pace is the faster of two ways to spend ``Remaining``: over the time until
        ``Reset`` (exact for a fixed window), and over one refill of the whole burst at the
        limit's rate (a token bucket's ``Reset`` in whole seconds says far too much time is
        left when the bucket refills in a second).
        """
        remaining = reading.remaining
        self._backoff = 1
        if remaining is None:
            self._interval = 0.0  # the server said nothing to pace by
            return
        left = max(1, remaining)  # none left: the bucket model holds requests meanwhile
        intervals = []
        if reading.reset is not None:
            intervals.append(reading.reset / left)
        if limit is not None:
            intervals.append(limit.burst * 60.0 / limit.per_minute / left)
        self._interval = min(intervals, default=0.0)

    @property
    def idle(self) -> bool:
        """Nothing to pace by: the server has shown no ``Remaining``."""
        return self._interval == 0.0

    def wait(self, now: float) -> float:
        """0.0: go now (and be counted); else seconds to wait before asking again."""
        due = self._last + self._interval * self._backoff
        if due > now:
            return min(due - now, self.POLL)
        self._last = now
        return 0.0


class Neighbours:
    """How much of the key others spend, from ``Remaining`` against this client's requests.

    Take two answers, to requests numbered ``n1 < n2`` in the order they were sent. Between
    them the server's bucket lost ``R1 - R2`` tokens and refilled ``elapsed * rate``; this
    client spent ``n2 - n1``. The rest is someone else's. Answers to requests sent at once
    (the first ones) show it at once: alone, their ``Remaining`` values are consecutive.
    Over more than a token's refill, only answers with the bucket at most half full count: a
    fuller one may have wasted its refill. Answers that come back in another order than sent
    only lower the estimate.
    """

    WINDOW = 2.0
    KEEP = 32

    def __init__(self) -> None:
        self._seen: deque[tuple[float, int, int]] = deque(maxlen=self.KEEP)

    def spent(self, sent: float, remaining: int, number: int, limit: RateLimit) -> float:
        """Record one answer; return the most tokens others spent meanwhile, by any pair."""
        seen = self._seen
        rate, half = limit.per_minute / 60.0, limit.burst // 2
        most = 0.0
        for then, left, was in seen:
            refill = (sent - then) * rate
            # Over more than a token's refill, a fuller bucket may have wasted some of it.
            if was < number and refill >= 0 and (refill <= 1 or max(left, remaining) <= half):
                most = max(most, left - remaining - (number - was) + refill)
        while seen and seen[0][0] < sent - self.WINDOW:
            seen.popleft()
        seen.append((sent, remaining, number))
        return most
