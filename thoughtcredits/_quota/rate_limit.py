"""``RateLimit``, and the :class:`Learner` that reads the server's from its answers."""

from __future__ import annotations

import math
from typing import Any

import attrs

from .hints import Reading

__all__ = ["CONFIRMATIONS", "PLAUSIBLE_PER_MINUTE", "PROVISIONAL", "Learner", "RateLimit"]

# Answers below this many requests a minute, or above the next figure, are taken for a broken
# header until several answers in a row agree: a single ``X-RateLimit-Limit: 1`` must not pin
# a client to one request a minute. Documented plans run from 60 to 600 a minute.
PLAUSIBLE_PER_MINUTE = (10, 100_000)
CONFIRMATIONS = 3


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not value > 0 or value == float("inf"):
        raise ValueError(f"RateLimit.{attribute.name}: must be positive, got {value!r}")


@attrs.frozen
class RateLimit:
    """A client-side request rate shared by every task on a client.

    It is an upper bound: when the server's ``X-RateLimit-*`` headers show a lower limit, the
    client keeps to that one.

    Args:
        per_minute: the sustained rate, e.g. 120 (standard plan) or 600 (enterprise).
        burst: how many requests may go at once before the sustained rate applies.
            Defaults to one sixth of ``per_minute`` (TI's plans: 120/20, 600/100).
    """

    per_minute: float = attrs.field(validator=_positive)
    burst: int = attrs.field(validator=_positive)

    @burst.default
    def _default_burst(self) -> int:
        if not math.isfinite(self.per_minute):
            return 1  # the validator then refuses per_minute by name (int() raised here first)
        return max(1, min(int(self.per_minute) // 6, 10**9))


# While nothing is known, five requests (one of six is the reserve) go at once: fewer than
# any documented burst (20).
PROVISIONAL = RateLimit(per_minute=60, burst=6)


class Learner:
    """The limit the server's headers say: ``X-RateLimit-Limit`` a minute, and a burst.

    A plausible new figure is taken from the first answer that says it; an implausible one
    (see ``PLAUSIBLE_PER_MINUTE``) only once ``CONFIRMATIONS`` answers in a row agree.

    The server does not say its burst. ``Remaining`` shows it on a fresh window (plus the
    request just made), so the burst is the largest ``Remaining + 1`` seen, and at most a
    sixth of the rate (TI's plans); another client's use only makes it smaller, which errs
    on the safe side.
    """

    def __init__(self) -> None:
        self.limit: RateLimit | None = None
        self._candidate: int | None = None
        self._seen = 0

    def offer(self, reading: Reading, *, refused: bool = False) -> RateLimit | None:
        """Take one answer's reading; return the new limit when it changed, else None.

        A refusal's ``Remaining`` (0: nothing was spent) says nothing about the burst: a limit
        first learned from one starts with a burst of 1, and grows as answers show more.
        """
        figure = reading.limit
        if figure is None:
            return None
        remaining = None if refused else reading.remaining
        if self.limit is not None and figure == self.limit.per_minute:
            self._candidate = None
            if remaining is None or remaining < self.limit.burst:
                return None
            burst = min(remaining + 1, max(1, figure // 6))
            if burst <= self.limit.burst:
                return None
            self.limit = RateLimit(figure, burst)
            return self.limit
        if figure != self._candidate:
            self._candidate, self._seen = figure, 0
        self._seen += 1
        low, high = PLAUSIBLE_PER_MINUTE
        if not (low <= figure <= high or self._seen >= CONFIRMATIONS):
            return None
        burst = max(1, figure // 6)
        if refused:
            burst = 1  # an empty bucket shows nothing of its size: assume the least
        elif remaining is not None:
            burst = max(1, min(burst, remaining + 1))
        self.limit = RateLimit(figure, burst)
        self._candidate = None
        return self.limit

    def adopt(self, limit: RateLimit) -> None:
        """Take a limit learned elsewhere (another process, through Redis)."""
        self.limit = limit
        self._candidate = None
