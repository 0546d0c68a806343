"""The throttle: one owner for the key's quota, shared by every task on one client.

Before each request a task passes, in order:

1. the **pause**: a refusal (or an answer) that says "not before T", T later than the model
   expects, holds every task until then (with Redis: every process);
2. the **probe**, while the limit is still unknown: at most ``PROBES`` requests, then one
   to confirm what they showed;
3. the **model** of the server's limiter (:mod:`.model`): a GCRA bucket at the lower of the
   configured and the learned limit, corrected by every answer, or the shared Redis bucket;
   and, while others spend the same key, the share pacing (:mod:`.share`);
4. a **concurrency cap** on requests in flight.

Every timed wait goes through the caller's ``wait`` (so closing the client, or a request's
time budget, ends it), and waiting here uses up no retry attempts. Every wait and deadline is
monotonic (:class:`~.clock.Clock`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal

import attrs

from .._events import Event, Quota
from .bucket import Booking
from .clock import Clock
from .hints import NO_QUOTA, X_RATELIMIT_LIMIT, Delay, Reading, read_quota, server_delay
from .line import Line
from .model import Model
from .pause import Pause, Wait
from .probe import Probe
from .rate_limit import RateLimit
from .redis_backend import RedisBackend
from .redis_limit import RedisRateLimit

__all__ = ["Permit", "RateLimit", "Throttle"]

logger = logging.getLogger("thoughtcredits")

DEFAULT_MAX_HOLD = 90.0
"""The longest hint waited out by everyone (``RetryPolicy.max_retry_after``'s default)."""


@attrs.define
class Permit:
    """What :meth:`Throttle.acquire` gave one request; hand it back to ``observe``/``release``."""

    waited: float = 0.0
    """Seconds spent at the gates."""
    booking: Booking | None = None
    generation: int = 0
    sent: float = 0.0
    """Monotonic seconds when the request was let go."""
    probe: bool = False
    slot: bool = False
    number: int = 0
    """The request's place in the order the client let requests go."""
    answered: bool = False
    """A probe whose answer taught the limit (its place is not given back)."""


FREE = Permit()
"""The permit of a request that passed no gate."""


class Throttle:
    """The pause, probe, model (or Redis bucket) and concurrency cap of one client."""

    def __init__(
        self,
        rate_limit: RateLimit | Literal["auto"] | RedisRateLimit | None,
        max_concurrency: int | None,
        *,
        emit: Callable[[Event], None],
        clock: Clock | None = None,
        scope: tuple[str, str | None] = ("", ""),
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency: must be at least 1, got {max_concurrency}")
        redis_spec = None
        if not (rate_limit is None or rate_limit == "auto" or isinstance(rate_limit, RateLimit)):
            if not isinstance(rate_limit, RedisRateLimit):
                raise TypeError(
                    "rate_limit: expected a RateLimit, a RedisRateLimit, 'auto' or None, got "
                    f"{rate_limit!r}"
                )
            redis_spec = rate_limit
        self._clock = clock = clock or Clock()
        self._pause = Pause(clock, emit)
        self._semaphore = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._sent = 0
        self._reading = NO_QUOTA
        self._redis: RedisBackend | None = None
        self._model: Model | None = None
        if redis_spec is not None:
            self._redis = RedisBackend(redis_spec, clock=clock, scope=scope)
            self._model = Model(redis_spec.limit, clock.now())  # learns; paces the fallback
        elif rate_limit is not None:
            self._model = Model(rate_limit if isinstance(rate_limit, RateLimit) else None,
                                clock.now())  # fmt: skip
        # Until a limit is learned, a few requests at most go. (Redis also runs a shared
        # probe across processes: a provisional bucket.)
        self._probe = Probe(self._model is not None, self._start_from)
        self._line = None
        if self._model is not None:
            self._line = Line(self._model, self._redis, pause=self._pause, probe=self._probe,
                              clock=clock)  # fmt: skip

    @property
    def rate_limit(self) -> RateLimit | None:
        """The limit in force: the lower of the configured and the learned one."""
        return None if self._model is None else self._model.limit

    @property
    def quota(self) -> Quota:
        """The latest ``X-RateLimit-*`` headers, and the shared pause if one is in force."""
        reading, reset_at = self._reading, None
        if reading.reset_at is not None:
            reset_at = datetime.fromtimestamp(reading.reset_at, UTC)
        return Quota(reading.limit, reading.remaining, reset_at, self._pause.resume_at())

    def paused_for(self) -> float:
        """Seconds until the shared pause ends; 0.0 when none is in force."""
        return self._pause.left()

    def busy(self) -> bool:
        """Whether any gate is in force (else :meth:`acquire` returns at once). The model is
        one only once it has something to go by: a server without quota headers costs nothing."""
        model = self._model
        return (
            self._pause.active
            or self._semaphore is not None
            or self._redis is not None
            or (model is not None and (self._probe.active or not model.idle))
        )

    async def acquire(self, wait: Wait) -> Permit:
        """Pass the pause, the probe, the model and the concurrency cap.

        Every timed wait is ``await wait(seconds)``; if it raises (client closed, time budget
        spent) the exception propagates and nothing is held. Pair with :meth:`release`.
        """
        if not self.busy():
            return FREE  # nothing configured, nothing paused: the common case costs nothing
        waited = 0.0

        async def nap(seconds: float) -> None:
            nonlocal waited
            await wait(seconds)
            waited += seconds

        clock = self._clock
        started = clock.now()
        await self._pause.serve(nap)
        probe = await self._probe.take()
        slot = False
        booking: Booking | None = None
        try:
            generation = 0
            if self._line is not None:
                booking, generation = await self._line.turn(nap)
            if self._semaphore is not None:
                await self._semaphore.acquire()
                slot = True
            # A refusal may have come while this task waited for the slot: it holds the
            # slot through the pause, and the tasks queued behind it wait too.
            await self._pause.serve(nap)
        except BaseException:
            if slot:
                self._semaphore.release()  # type: ignore[union-attr]
            if probe:
                self._probe.give_back()
            if booking is not None and self._model is not None:
                self._model.settle(booking)  # taken, never sent: not in flight
            raise
        # The probe and the concurrency cap wait on other requests, not through `wait`.
        now = clock.now()
        elapsed = now - started
        waited = max(waited, elapsed) if elapsed > 1e-3 else waited
        self._sent += 1
        return Permit(waited, booking, generation, now, probe, slot, self._sent)

    def release(self, permit: Permit | None = None) -> None:
        """Give back what :meth:`acquire` took. A probe without an answer hands its role on."""
        if permit is None:
            return
        if permit.booking is not None and self._model is not None:
            self._model.settle(permit.booking)  # not in flight (a no-op once answered)
        if permit.probe and not permit.answered:
            self._probe.give_back()
        if permit.slot:
            self._semaphore.release()  # type: ignore[union-attr]

    def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        permit: Permit | None = None,
        *,
        max_hold: float = DEFAULT_MAX_HOLD,
    ) -> None:
        """Learn from an answer's headers (call before :meth:`release`).

        ``max_hold``: the longest server hint that holds every task (the request's
        ``RetryPolicy.max_retry_after``); a longer one holds no one.
        """
        clock = self._clock
        wall = clock.wall()
        reading = read_quota(headers, wall=wall)
        model, refused = self._model, status == 429
        if reading is NO_QUOTA and not refused and not self._probe.active:
            if model is not None:
                model.share.update(reading, None)  # no quota headers: no news
            return
        now = clock.now()
        if not reading.empty:
            self._reading = reading
        permit = permit or FREE
        if model is not None:
            probe = self._probe
            if permit.probe and probe.answered(reading):
                permit.answered = True
            self._learn(model, reading, now, refused)
            if status < 500 and X_RATELIMIT_LIMIT not in headers:
                probe.end()  # an answer with no quota header at all: this server sets none
            learned = model.learner.limit is not None
            probe.settle(reading, mine=permit.probe, refused=refused, learned=learned)
            if refused:
                model.refused(permit.booking, permit.sent, permit.generation, now)
            elif reading.remaining is not None and permit is FREE:
                model.share.update(reading, model.limit)  # sent ungated: no place in the order
            elif reading.remaining is not None:
                model.answered(permit.booking, permit.sent, permit.number, now, reading)
        if refused:
            self._refused(server_delay(headers, wall=wall), now, max_hold)
        elif model is not None and reading.remaining == 0 and reading.reset is not None:
            # Nothing left: if the reset is later than the model expects (a window), hold.
            # (The shared Redis bucket goes by refusals: each one pauses every process.)
            hint = Delay(reading.reset, reading.slack)
            if self._paced_here() and hint.seconds <= max_hold and not model.explains(hint, now):
                self.pause(hint.seconds, "X-RateLimit-Remaining: 0")

    def _paced_here(self) -> bool:
        """Whether this process's own bucket paces requests (not the shared Redis one)."""
        return self._redis is None or self._redis.down

    def _refused(self, hint: Delay | None, now: float, max_hold: float) -> None:
        """A 429 holds every task: as long as the model says the bucket needs to refill when
        the hint allows that, else as long as the hint says (a window, a server's pause).
        With the shared Redis bucket, the pause goes to every process."""
        model = self._model
        local = model is not None and model.bucket is not None and self._paced_here()
        if local and model is not None and (hint is None or model.explains(hint, now)):
            wait = model.wait(now)  # the bucket has moved already: only announce the wait
            if 0 < wait <= max_hold:
                self._pause.extend(wait, "429")
        elif hint is not None and hint.seconds <= max_hold:
            self.pause(hint.seconds, "429")

    def _start_from(self, available: int | None) -> None:
        """The probe's answers are in: the bucket starts from what the server has left."""
        model = self._model
        if model is not None and model.bucket is not None and model.limit is not None:
            model.bucket.restart(model.limit, self._clock.now(), available)

    def _learn(self, model: Model, reading: Reading, now: float, refused: bool) -> None:
        in_flight = self._probe.in_flight if self._probe.active else 0
        if not model.learn(reading, now, refused=refused, in_flight=in_flight):
            return
        limit = model.learner.limit
        assert limit is not None
        logger.info(
            "rate limit learned from the server: %g requests a minute, burst %d",
            limit.per_minute, limit.burst, extra={"tc_rate_limit": limit.per_minute},
        )  # fmt: skip
        if self._redis is not None:
            self._redis.publish_limit(limit)

    def pause(self, seconds: float, reason: str = "429") -> None:
        """Hold every task (with Redis: every process) for ``seconds``, e.g. after a 503.

        The requests waiting meanwhile then go as the bucket allows, not all at once.
        """
        if not 0 < seconds < float("inf"):
            return
        longer = self._pause.extend(seconds, reason)
        if longer and self._redis is not None:
            self._redis.publish_pause(seconds)

    async def aclose(self) -> None:
        """Close what the throttle owns (a Redis connection made from a URL)."""
        self._probe.end()
        if self._redis is not None:
            await self._redis.aclose()
