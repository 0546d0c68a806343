"""The in-process limiter and the pacing read from the server's ``X-RateLimit-*`` headers.

Three small parts, each usable alone:

- :func:`read_headers` checks one answer's headers and drops what is implausible;
- :class:`Learner` turns ``X-RateLimit-Limit`` into the :class:`RateLimit` in force, re-learning
  when the server's figure changes;
- :class:`LocalLimiter` (a GCRA bucket) and :class:`HeaderPacer` say how long the next
  request must wait. Neither sleeps: the throttle does every wait through the client.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from multidict import istr

__all__ = [
    "NO_QUOTA",
    "PROVISIONAL",
    "X_RATELIMIT_LIMIT",
    "HeaderPacer",
    "Learner",
    "LocalLimiter",
    "Reading",
    "Reservation",
    "limit_from",
    "read_headers",
]

# Answers below this many requests a minute, or above the next figure, are taken for a broken
# header until several answers in a row agree: a single ``X-RateLimit-Limit: 1`` must not pin
# a client to one request a minute. Documented plans run from 60 to 600 a minute.
PLAUSIBLE_PER_MINUTE = (10, 100_000)
CONFIRMATIONS = 3
# A reset further out than this is a broken header, not a window.
MAX_RESET_AHEAD = 24 * 3600.0


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"RateLimit.{attribute.name}: must be positive, got {value!r}")


@attrs.frozen
class RateLimit:
    """A client-side request rate shared by every task on a client.

    Args:
        per_minute: the sustained rate, e.g. 120 (standard plan) or 600 (enterprise).
        burst: how many requests may go at once before the sustained rate applies.
            Defaults to one sixth of ``per_minute`` (TI's plans: 120/20, 600/100).
    """

    per_minute: float = attrs.field(validator=_positive)
    burst: int = attrs.field(validator=_positive)

    @burst.default
    def _default_burst(self) -> int:
        return max(1, int(self.per_minute) // 6)


# While nothing is known, five requests (one of six is the reserve) go at once: fewer than
# any documented burst (20).
PROVISIONAL = RateLimit(per_minute=60, burst=6)


@attrs.frozen
class Reservation:
    """What a limiter answered: wait ``delay`` seconds; go then if ``reserved``, else ask again.

    ``pause`` > 0 means a shared pause is in force for that long: nothing was reserved.
    """

    delay: float = 0.0
    reserved: bool = True
    pause: float = 0.0


@attrs.frozen
class Reading:
    """One answer's ``X-RateLimit-*`` headers, each None when absent or implausible."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    """Epoch seconds."""

    @property
    def empty(self) -> bool:
        """True when the answer said nothing usable about the quota."""
        return self.limit is None and self.remaining is None and self.reset is None


# istr keys: a case-insensitive lookup that needs no case folding, on every answer.
X_RATELIMIT_LIMIT = istr("X-RateLimit-Limit")
_REMAINING, _RESET = istr("X-RateLimit-Remaining"), istr("X-RateLimit-Reset")
NO_QUOTA = Reading()
"""What :func:`read_headers` returns (this very object) for an answer with no quota header."""


def _whole(text: str | None, high: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if 0 <= value <= high else None


def read_headers(headers: Mapping[str, str], *, now: float) -> Reading:
    """Parse ``X-RateLimit-Limit/Remaining/Reset``, dropping values that cannot be true.

    A ``Remaining`` over the ``Limit`` contradicts itself, so neither is believed. A ``Reset``
    under 10^8 is read as seconds from now (some servers send a delta, not a timestamp); one
    in the past says nothing.
    """
    limit_text = headers.get(X_RATELIMIT_LIMIT)
    remaining_text = headers.get(_REMAINING)
    text = headers.get(_RESET)
    if limit_text is None and remaining_text is None and text is None:
        return NO_QUOTA  # a server that sets no quota: the common case stays cheap
    limit = _whole(limit_text, 10**9)
    remaining = _whole(remaining_text, 10**9)
    if limit == 0:
        limit = None
    if limit is not None and remaining is not None and remaining > limit:
        limit = remaining = None
    reset: float | None = None
    if text is not None:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if 0 <= value < 1e8:
            value += now
        if now < value <= now + MAX_RESET_AHEAD:
            reset = value
    return Reading(limit, remaining, reset)


def limit_from(per_minute: int, remaining: int | None) -> RateLimit:
    """The :class:`RateLimit` a server's quota implies.

    The server does not say its burst. A fresh bucket's ``Remaining`` shows it (plus the
    request just made); another client's use only makes that smaller, which errs on the
    safe side.
    """
    burst = max(1, per_minute // 6)
    if remaining is not None:
        burst = max(1, min(burst, remaining + 1))
    return RateLimit(per_minute=per_minute, burst=burst)


class Learner:
    """The limit the server's ``X-RateLimit-Limit`` says, re-learned when that changes.

    A plausible new figure is taken from the first answer that says it; an implausible one
    (see ``PLAUSIBLE_PER_MINUTE``) only once ``CONFIRMATIONS`` answers in a row agree.
    """

    def __init__(self) -> None:
        self.limit: RateLimit | None = None
        self._candidate: int | None = None
        self._seen = 0

    def offer(self, reading: Reading) -> RateLimit | None:
        """Take one answer's reading; return the new limit when it changed, else None."""
        figure = reading.limit
        if figure is None:
            return None
        if self.limit is not None and figure == self.limit.per_minute:
            self._candidate = None
            return None
        if figure != self._candidate:
            self._candidate, self._seen = figure, 0
        self._seen += 1
        low, high = PLAUSIBLE_PER_MINUTE
        if not (low <= figure <= high or self._seen >= CONFIRMATIONS):
            return None
        self.limit = limit_from(figure, reading.remaining)
        self._candidate = None
        return self.limit

    def adopt(self, limit: RateLimit) -> None:
        """Take a limit learned elsewhere (another process, through Redis)."""
        self.limit = limit
        self._candidate = None


class LocalLimiter:
    """One :class:`RateLimit` in this process: the same GCRA as the shared Redis bucket.

    Each request books the next free moment and is told how long to wait for it, so one
    ``wait(delay)`` suffices, whoever provides the waiting (a test's fake clock included).

    Requests reach the server with jitter, so two can arrive closer together than the quota
    spaces them. Keeping one token of the burst in reserve absorbs that without lowering the
    sustained rate; with a burst of 1 there is no reserve, so it slows down 3% instead.
    """

    def __init__(
        self,
        rate_limit: RateLimit,
        clock: Callable[[], float],
        *,
        available: int | None = None,
    ) -> None:
        self.rate_limit = rate_limit
        self._clock = clock
        burst, interval = rate_limit.burst - 1, 60.0 / rate_limit.per_minute
        if burst < 1:
            burst, interval = 1, interval / 0.97
        self._interval = interval
        self._room = (burst - 1) * interval  # how far ahead of now the booked queue may run
        # A limit learned mid-stream starts as full as the server's bucket is, not fuller:
        # the probes already sent have spent some of it.
        spent = 0 if available is None else burst - max(0, min(burst, available))
        self._tat = clock() + spent * interval

    def reserve(self) -> Reservation:
        """Book this request's moment; the caller goes after ``delay``."""
        now = self._clock()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        return Reservation(max(0.0, tat - self._room - now))


class HeaderPacer:
    """Spreads what ``X-RateLimit-Remaining`` says is left over the time until the reset.

    Every client of a key, this SDK or not, spends from the same ``Remaining``: when others
    spend, it falls and this client slows down, so uncoordinated clients settle together
    under the quota. ``Remaining: 0`` holds requests until the reset. Nothing is booked
    ahead: a request due later is told to ask again soon (``POLL``), so the pace follows the
    latest answer instead of a queue planned on an older one.
    """

    POLL = 0.05

    def __init__(self) -> None:
        self._last = -math.inf
        self._interval = 0.0
        self._hold_until = 0.0

    def update(self, reading: Reading, now: float, limit: RateLimit | None) -> None:
        """Take the latest answer's reading, and the limit in force (if one is known).

        The pace is the faster of two ways to spend ``Remaining``: over the time until
        ``Reset`` (exact for a fixed window), and over one refill of the whole burst at the
        limit's rate (a token bucket's ``Reset`` in whole seconds says far too much time is
        left when the bucket refills in a second). Either way a client alone on its key runs
        at the full rate, and ``N`` clients settle where ``Remaining`` is about a ``1/N``
        share of the burst.
        """
        remaining = reading.remaining
        if remaining is None:
            self._interval = 0.0  # the server said nothing to pace by
        elif remaining == 0:
            if reading.reset is not None:
                self._hold_until = max(self._hold_until, reading.reset)
        else:
            intervals = []
            if reading.reset is not None:
                intervals.append((reading.reset - now) / remaining)
            if limit is not None:
                intervals.append(limit.burst * 60.0 / limit.per_minute / remaining)
            self._interval = min(intervals, default=0.0)

    @property
    def idle(self) -> bool:
        """True when no request has to wait: nothing to pace by, and no hold in force."""
        return self._interval == 0.0 and self._hold_until == 0.0

    def reserve(self, now: float) -> Reservation:
        """Go at ``now``, or say how long to wait before asking again."""
        if self._hold_until > now:
            return Reservation(self._hold_until - now, reserved=False)
        self._hold_until = 0.0  # served: the pacer can be idle again
        due = self._last + self._interval
        if due > now:
            return Reservation(min(due - now, self.POLL), reserved=False)
        self._last = now
        return Reservation()
