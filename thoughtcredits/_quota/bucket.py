"""The GCRA bucket: the client's model of the server's token bucket, in monotonic seconds.

``tat`` (the theoretical arrival time) says how full the server's bucket is: at time ``t`` it
holds ``burst - (tat - t) / interval`` tokens. A request may go once :meth:`Bucket.wait`
says 0; it then takes its token (:meth:`Bucket.book`), advancing ``tat`` by one interval.
Requests wait in line for it (the throttle's), so only the first waits on the clock and
every change to the model applies at once to all the others.

Each answer's ``X-RateLimit-Remaining`` then corrects the model (:meth:`Bucket.correct`):
the server's bucket after that request lies between two bounds, and ``tat`` is moved into
them. Someone else spending the key shows up as a ``Remaining`` lower than the model's;
a fresh window as a higher one.
"""

from __future__ import annotations

import bisect

import attrs

from .rate_limit import RateLimit

__all__ = ["Booking", "Bucket"]

# With a burst of 1 there is no token to keep in reserve against jitter: go 3% slower.
_NO_RESERVE_SLOWDOWN = 0.97
# From this burst on, two tokens are kept in reserve.
_TWO_IN_RESERVE = 8
# Refused bookings remembered (more than are ever in flight at once).
_KEEP_REFUSALS = 256


@attrs.define
class Booking:
    """The model as it stood when one request took its token, to check its answer by."""

    tat: float
    """The bucket's ``tat`` right after this request took its token."""
    shifted: float
    """The bucket's total shift (corrections) by then."""
    index: int
    """How many tokens the bucket had handed out before this one."""
    settled: bool = False
    """Answered (or given up on): no longer in flight."""


class Bucket:
    """A GCRA bucket for one :class:`RateLimit`, keeping a token or two in reserve.

    Requests reach the server with jitter, so two can arrive closer together than the quota
    spaces them. Keeping one token of the burst in reserve absorbs that without lowering the
    sustained rate. With a burst of 1 there is no reserve: it goes 3% slower, and never
    before the previous answer's upper bound (see :meth:`correct`). From a burst of 8 on, a
    second token is kept: ``Remaining`` is rounded down, so a token taken by someone else
    hides in the rounding, and two show it (the client then shares).

    Args:
        limit: the server's rate and burst as the client knows them.
        now: monotonic seconds.
        available: tokens the server has left (a limit learned mid-stream starts as full as
            the server's bucket is, not fuller); None for a full bucket.
    """

    def __init__(self, limit: RateLimit, now: float, *, available: int | None = None) -> None:
        self.limit = limit
        self.factor = 1.0
        self.interval = 60.0 / limit.per_minute
        self.shifted = 0.0
        self.booked = 0
        """Tokens handed out so far."""
        self.in_flight = 0
        """Tokens handed out whose request is not settled yet."""
        self._refusals: list[int] = []  # the latest refused bookings, by index
        self.tat = now
        self._step = self._room = 0.0
        self.restart(limit, now, available)

    def _configure(self) -> None:
        burst, interval = self.limit.burst, self.interval
        self._step = interval / self.factor
        if burst >= 2:
            reserve = 2 if burst >= _TWO_IN_RESERVE else 1
            self._room = (burst - 1 - reserve) * interval  # how far ahead the queue may run
        else:
            self._room, self._step = 0.0, self._step / _NO_RESERVE_SLOWDOWN

    def restart(self, limit: RateLimit, now: float, available: int | None) -> None:
        """Start over from what the server says it has left (a limit learned at last)."""
        self.limit, self.interval = limit, 60.0 / limit.per_minute
        spent = 0 if available is None else limit.burst - max(0, min(limit.burst, available))
        self.shift(now + spent * self.interval - self.tat)
        self._configure()

    def rescale(self, limit: RateLimit, now: float) -> None:
        """Take a new limit; what is spent is rescaled, so it takes effect at once."""
        interval = 60.0 / limit.per_minute
        if self.tat > now:
            self.tat = now + (self.tat - now) * interval / self.interval
        self.limit, self.interval = limit, interval
        self._configure()

    def slow(self, factor: float) -> None:
        """Space requests ``1 / factor`` times the limit's interval (after a refusal)."""
        self.factor = factor
        self._configure()

    def wait(self, now: float) -> float:
        """Seconds until the next request may go."""
        return max(0.0, max(self.tat, now) - self._room - now)

    def book(self, now: float) -> Booking:
        """Take a token now (call when :meth:`wait` says 0)."""
        self.tat = max(self.tat, now) + self._step
        booking = Booking(self.tat, self.shifted, self.booked)
        self.booked += 1
        self.in_flight += 1
        return booking

    def settle(self, booking: Booking) -> None:
        """The request is answered or given up on: it is no longer in flight."""
        if not booking.settled:
            booking.settled = True
            self.in_flight -= 1

    def shift(self, seconds: float) -> None:
        """Move ``tat`` by ``seconds`` (negative: sooner)."""
        self.tat += seconds
        self.shifted += seconds

    def correct(self, booking: Booking, sent: float, answered: float, remaining: int) -> float:
        """Move ``tat`` to agree with a 2xx answer's ``Remaining``; return the shift made.

        After the request the server held between ``remaining`` and ``remaining + 1`` tokens,
        at some moment between ``sent`` and ``answered``: that bounds its ``tat``, give or
        take the client's own requests it may have counted in another order (those sent
        after this one, those still in flight). The model, as it stood for this request
        (``booking.tat`` plus the shifts made since), must not hold more than that; above the
        upper bound by more than one interval (a fresh window, a neighbour gone quiet), it
        comes down to one interval above it. Jitter moves neither bound, so it changes nothing;
        someone else taking even one token moves the model down.
        """
        burst, interval = self.limit.burst, self.interval
        remaining = min(remaining, burst - 1)
        self.settle(booking)
        model = booking.tat + self.shifted - booking.shifted
        later = self.booked - booking.index - 1  # may have been counted before this one
        # Remaining is rounded down: the server held ``remaining + 0.5`` tokens, give or take
        # half a token. (A model exactly right never reads lower: requests arrive after they
        # are sent, to a bucket that has only refilled meanwhile.)
        low = sent + (burst - remaining - 0.5 - later) * interval
        if burst == 1:
            # No token in reserve: go by the upper bound (the answer came after the server
            # counted the request), so the next cannot reach it early, however late this one
            # travelled. The next request then waits for this answer if it comes late.
            low = max(low, answered + interval)
        if low > model:
            self.shift(low - model)
            return low - model
        # Still in flight (sent before or after): the server may not have counted them yet.
        high = answered + (burst - remaining + self.in_flight + 1) * interval
        if model > high:
            self.shift(high - model)
            return high - model
        return 0.0

    def refused(self, booking: Booking, sent: float, answered: float) -> float:
        """A 429: the server had no token when the request came; return the tokens the model
        had thought were left (beyond any this client sent since, and not refused), and
        correct it."""
        self.settle(booking)
        model = booking.tat + self.shifted - booking.shifted
        refusals = self._refusals
        later = self.booked - booking.index - 1
        later -= len(refusals) - bisect.bisect_right(refusals, booking.index)
        bisect.insort(refusals, booking.index)
        if len(refusals) > _KEEP_REFUSALS:
            del refusals[0]
        spare = self.limit.burst - (model - sent) / self.interval - later
        low = sent + (self.limit.burst - 1 - later) * self.interval
        if self.limit.burst == 1:
            low = max(low, answered + self.interval)
        if low > model:
            self.shift(low - model)
        return spare
