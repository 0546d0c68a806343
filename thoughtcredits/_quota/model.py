"""The client's model of the server's limiter for one key: a rate, a burst, a bucket.

- The rate is ``X-RateLimit-Limit`` a minute, and the burst what ``Remaining`` shows on a
  fresh window (:class:`~.rate_limit.Learner`). A configured :class:`RateLimit` is an upper
  bound: the limit in force is the lower of the two.
- A GCRA :class:`~.bucket.Bucket` paces requests at that limit, and every answer's
  ``Remaining`` corrects it.
- A refusal lowers the rate multiplicatively (AWS-adaptive style), once per round of
  requests; answers that agree with the model raise it back.
- A server hint (a ``Retry-After``, a ``Reset`` with nothing remaining) is an upper bound
  when in whole seconds: the model's own wait is kept whenever the hint allows it
  (:meth:`Model.explains`); only a hint that says "later than the model thinks" holds
  everyone.
- When answers show someone else spending the key (:class:`~.share.Neighbours`, a refusal
  with a token in reserve, a correction of a whole token), the share pacing
  (:class:`~.share.SharePacer`) applies too, for ``SHARE_MEMORY`` seconds after the last sign.
"""

from __future__ import annotations

import math

from .bucket import Booking, Bucket
from .hints import Delay, Reading
from .rate_limit import Learner, RateLimit
from .share import Neighbours, SharePacer

__all__ = ["Model"]

# After a refusal the rate is multiplied by this, at most once per round of requests, and
# each answer that agrees with the model multiplies it back up by the next figure.
DECREASE = 0.8
RECOVER = 1.02
FLOOR = 0.05
# Answers showing someone else spending the key keep the share pacing on this long.
SHARE_MEMORY = 5.0
# Tokens spent by others within about a second that show someone else shares the key (fewer
# can be rounding: Remaining is whole tokens, and answers come back in any order).
NEIGHBOURS = 4.0
# Hints and the model agree within this (event-loop lateness, rounding).
_TOLERANCE = 0.02


class Model:
    """Learned and configured limits, the bucket pacing by them, and the share pacing."""

    def __init__(self, configured: RateLimit | None, now: float) -> None:
        self.configured = configured
        self.learner = Learner()
        self.bucket = None if configured is None else Bucket(configured, now)
        self.share = SharePacer()
        self.neighbours = Neighbours()
        self.factor = 1.0
        self.generation = 0
        """Bumped by each decrease: a refusal of a request booked before it is old news."""
        self._sharing_until = -math.inf

    @property
    def limit(self) -> RateLimit | None:
        """The limit in force: the lower of the configured and the learned one."""
        configured, learned = self.configured, self.learner.limit
        if configured is None or learned is None:
            return configured or learned
        if configured.per_minute <= learned.per_minute and configured.burst <= learned.burst:
            return configured
        return RateLimit(
            min(configured.per_minute, learned.per_minute), min(configured.burst, learned.burst)
        )

    def learn(self, reading: Reading, now: float, *, refused: bool, in_flight: int) -> bool:
        """Learn from one answer's reading; True when the limit in force changed.

        ``in_flight``: other requests sent before the bucket existed and not yet answered
        (the first probes): the server has counted them, or soon will.
        """
        before, first = self.limit, self.learner.limit is None
        if self.learner.offer(reading, refused=refused) is None:
            return False
        limit = self.limit
        if limit is None or limit == before:
            return False
        self.generation += 1  # refusals of requests sent under the old limit are old news
        available = None if reading.remaining is None else reading.remaining - in_flight
        if refused:
            available = 0
        if self.bucket is None:
            self.bucket = Bucket(limit, now, available=available)
        elif first:  # a configured limit until now: start from what the server shows
            self.bucket.restart(limit, now, available)
        else:
            self.bucket.rescale(limit, now)
        return True

    def adopt(self, limit: RateLimit, now: float) -> None:
        """Take a limit learned by another process."""
        if limit != self.learner.limit:
            self.learner.adopt(limit)
            if self.bucket is not None and self.limit is not None:
                self.bucket.rescale(self.limit, now)

    def book(self, now: float) -> Booking | None:
        """Take a token (None: no limit known, nothing to pace)."""
        return None if self.bucket is None else self.bucket.book(now)

    def answered(
        self, booking: Booking | None, sent: float, number: int, now: float, reading: Reading
    ) -> None:
        """A 2xx (or any answer that spent a token): correct the bucket by ``Remaining``.

        ``number``: the request's place in the order this client sent its requests.
        """
        bucket, limit, remaining = self.bucket, self.limit, reading.remaining
        others = 0.0
        if limit is not None and remaining is not None:
            others = self.neighbours.spent(sent, remaining, number, limit)
        if others >= NEIGHBOURS:
            self._sharing_until = now + SHARE_MEMORY  # someone else spends this key
        if bucket is not None and booking is not None and remaining is not None:
            moved = bucket.correct(booking, sent, now, remaining)
            if moved >= bucket.interval and bucket.limit.burst > 1:  # (1: a late answer)
                self._sharing_until = now + SHARE_MEMORY
            elif moved <= 0 and self.factor < 1.0:
                self.factor = min(1.0, self.factor * RECOVER)
                bucket.slow(self.factor)
        self.share.update(reading, limit)

    @property
    def idle(self) -> bool:
        """No limit known and nothing to pace by: a server that sets no quota headers."""
        return self.bucket is None and self.share.idle

    def settle(self, booking: Booking) -> None:
        """A request is done, with or without an answer."""
        if self.bucket is not None:
            self.bucket.settle(booking)

    def refused(self, booking: Booking | None, sent: float, generation: int, now: float) -> None:
        """A 429: the bucket was empty when the request came; slow down once per round.

        Refused with a token to spare in the model (the reserve against jitter): someone else
        took it.
        """
        bucket = self.bucket
        if bucket is None or booking is None:
            return
        if self.sharing(now):
            self.share.refused()
        if bucket.refused(booking, sent, now) >= 1:
            self._sharing_until = now + SHARE_MEMORY
        if generation == self.generation:
            self.generation += 1
            self.factor = max(FLOOR, self.factor * DECREASE)
            bucket.slow(self.factor)

    def wait(self, now: float) -> float:
        """Seconds until the model lets the next request go."""
        return 0.0 if self.bucket is None else self.bucket.wait(now)

    def explains(self, hint: Delay, now: float) -> bool:
        """Whether the model's own wait fits the hint: then the model's wait is kept.

        A whole-second hint is up to a second long, so "come back in 1 s" fits a bucket that
        refills in 0.1 s; "in 40 s" does not (a window, a pause the server decided).
        """
        return self.bucket is not None and hint.seconds - hint.slack <= (
            self.bucket.wait(now) + _TOLERANCE
        )

    def sharing(self, now: float) -> bool:
        """Whether answers lately showed someone else spending the key."""
        return now < self._sharing_until
