"""Sharing a key with clients the model cannot see: pace by what ``Remaining`` says is left.

Every client of a key, this SDK or not, spends from the same ``X-RateLimit-Remaining``. Once
answers show someone else spending (the model had to move its bucket forward), the client also
spreads what remains over one refill of the burst: when others spend, ``Remaining`` falls and
this client slows down, so uncoordinated clients settle together under the quota, each near a
``1/N`` share of the burst, instead of all racing for the last token.
"""

from __future__ import annotations

import math

from .hints import Reading
from .rate_limit import RateLimit

__all__ = ["SharePacer"]


class SharePacer:
    """Spaces requests by the latest ``Remaining``; nothing is booked ahead.

    A request due later is told to ask again soon (``POLL``), so the pace follows the latest
    answer instead of a queue planned on an older one.
    """

    POLL = 0.05

    def __init__(self) -> None:
        self._last = -math.inf
        self._interval = 0.0

    def update(self, reading: Reading, limit: RateLimit | None) -> None:
        """Take the latest answer's reading, and the limit in force (if one is known).

        The pace is the faster of two ways to spend ``Remaining``: over the time until
        ``Reset`` (exact for a fixed window), and over one refill of the whole burst at the
        limit's rate (a token bucket's ``Reset`` in whole seconds says far too much time is
        left when the bucket refills in a second).
        """
        remaining = reading.remaining
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

    def wait(self, now: float) -> float:
        """0.0: go now (and be counted); else seconds to wait before asking again."""
        due = self._last + self._interval
        if due > now:
            return min(due - now, self.POLL)
        self._last = now
        return 0.0
