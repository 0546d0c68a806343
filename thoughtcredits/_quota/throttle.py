"""Client-side throttling shared by every task on one client (or every process, via Redis).

Before each request a task passes, in order:

1. the **pause**: after a 429 every task waits until the server's window resets, not only
   the task that was refused (with Redis: every process);
2. the **probe**, while the limit is still unknown: at most ``PROBES`` requests in flight;
3. the **limiter** in force: a configured :class:`RateLimit` (a GCRA bucket), a
   :class:`~thoughtcredits.RedisRateLimit`, or by default the limit learned from
   ``X-RateLimit-Limit`` plus pacing by ``X-RateLimit-Remaining``/``Reset``;
4. a **concurrency cap** on requests in flight.

Every timed wait goes through the client's ``wait`` (so closing the client, or a request's
retry budget, ends it), and waiting here uses up no retry attempts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from .._events import Event, PauseEvent, Quota
from .pacing import (
    NO_QUOTA,
    PROVISIONAL,
    X_RATELIMIT_LIMIT,
    HeaderPacer,
    Learner,
    LocalLimiter,
    RateLimit,
    Reading,
    read_headers,
)
from .probe import Probe

if TYPE_CHECKING:
    from .redis_limit import RedisBackend, RedisRateLimit

__all__ = ["RateLimit", "Throttle"]

logger = logging.getLogger("thoughtcredits")

Wait = Callable[[float], Awaitable[None]]


class Throttle:
    """The pause, probe, limiter and concurrency cap of one client."""

    def __init__(
        self,
        rate_limit: RateLimit | Literal["auto"] | RedisRateLimit | None,
        max_concurrency: int | None,
        *,
        emit: Callable[[Event], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency: must be at least 1, got {max_concurrency}")
        if not (rate_limit is None or rate_limit == "auto" or isinstance(rate_limit, RateLimit)):
            from .redis_limit import RedisRateLimit

            if not isinstance(rate_limit, RedisRateLimit):
                raise TypeError(
                    "rate_limit: expected a RateLimit, a RedisRateLimit, 'auto' or None, got "
                    f"{rate_limit!r}"
                )
        self._emit = emit
        self._clock = clock
        self._semaphore = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._resume_at = 0.0
        self._reading = Reading()
        self._local: LocalLimiter | None = None
        self._redis: RedisBackend | None = None
        self._learner: Learner | None = None
        self._pacer: HeaderPacer | None = None
        self._fallback: LocalLimiter | None = None  # paces requests while Redis is down
        if isinstance(rate_limit, RateLimit):
            self._local = LocalLimiter(rate_limit, clock)
        elif rate_limit == "auto":
            self._learner, self._pacer = Learner(), HeaderPacer()
        elif rate_limit is not None:
            from .redis_limit import RedisBackend

            self._redis = RedisBackend(rate_limit, monotonic=time.monotonic)
            # The pacer and learner serve the fallback while Redis is down.
            self._pacer = HeaderPacer()
            self._learner = Learner() if rate_limit.limit is None else None
        # Redis runs its own shared probe (a provisional bucket), so only "auto" probes here.
        self._probe = Probe(active=rate_limit == "auto")

    @property
    def rate_limit(self) -> RateLimit | None:
        """The limit in force: configured, or learned (here or by another process)."""
        if self._redis is not None:
            return self._redis.spec.limit or self._redis.learned
        if self._local is not None:
            return self._local.rate_limit
        return None

    @property
    def quota(self) -> Quota:
        """The latest ``X-RateLimit-*`` headers, and the shared pause if one is in force."""
        reading = self._reading
        paused = self.paused_for()
        return Quota(
            limit=reading.limit,
            remaining=reading.remaining,
            reset_at=None if reading.reset is None else datetime.fromtimestamp(reading.reset, UTC),
            paused_until=datetime.fromtimestamp(self._resume_at, UTC) if paused else None,
        )

    def paused_for(self) -> float:
        """Seconds until the shared pause ends; 0.0 when none is in force."""
        return max(0.0, self._resume_at - self._clock())

    async def acquire(self, wait: Wait) -> float:
        """Pass the pause, the probe, the limiter and the concurrency cap; return seconds waited.

        Every timed wait is ``await wait(seconds)``; if it raises (client closed, retry budget
        spent) the exception propagates and nothing is held. Pair with :meth:`release`.
        """
        if not self.busy():
            return 0.0  # nothing configured, nothing paused: the common case costs nothing
        waited = 0.0

        async def nap(seconds: float) -> None:
            nonlocal waited
            await wait(seconds)
            waited += seconds

        started = time.monotonic()
        await self._serve_pause(nap)
        probe = await self._probe.take()
        slot = False
        try:
            await self._limit(nap)
            if self._semaphore is not None:
                await self._semaphore.acquire()
                slot = True
            # A 429 may have come while this task waited its turn: it holds the slot
            # through the pause, and the tasks queued behind it wait too.
            await self._serve_pause(nap)
        except BaseException:
            if slot:
                self._semaphore.release()  # type: ignore[union-attr]
            if probe:
                self._probe.give_back()
            raise
        # The probe and the concurrency cap wait on other requests, not through `wait`.
        elapsed = time.monotonic() - started
        return max(waited, elapsed) if elapsed > 1e-3 else waited

    def release(self) -> None:
        """Give back what :meth:`acquire` took. A probe without an answer hands its role on."""
        self._probe.give_back()
        if self._semaphore is not None:
            self._semaphore.release()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from every answer's rate-limit headers (call before :meth:`release`)."""
        now = self._clock()
        reading = read_headers(headers, now=now)
        if reading is NO_QUOTA and not self._probe.active:  # no quota headers: no news
            if self._pacer is not None:
                self._pacer.update(reading, now, None)
            return
        if not reading.empty:
            self._reading = reading
        if self._learner is not None:
            learned = self._learner.offer(reading)
            if learned is not None:
                self._adopt(learned, reading.remaining)
        if self._probe.active and (
            (self._learner is not None and self._learner.limit is not None)
            # An answer with no quota header at all: this server sets no quota.
            or (status < 500 and X_RATELIMIT_LIMIT not in headers)
        ):
            self._probe.end()
        # A refusal's Retry-After is the retry loop's to wait; its "Remaining: 0" is no news.
        if self._pacer is not None and (status < 300 or reading.remaining != 0):
            limit = self._learner.limit if self._learner is not None else self.rate_limit
            self._pacer.update(reading, now, limit)
        if (
            self._learner is not None
            and self._redis is None
            and status < 300
            and reading.remaining == 0
            and reading.reset is not None
        ):
            self.pause(reading.reset - now, reason="X-RateLimit-Remaining: 0")

    def pause(self, seconds: float, reason: str = "429") -> None:
        """Hold every task (with Redis: every process) for ``seconds``, e.g. after a 429.

        The retry loop has already capped ``seconds``; this only publishes the resume time.
        """
        if not 0 < seconds < math.inf:
            return
        self._hold(seconds, reason)
        if self._redis is not None:
            self._redis.publish_pause(seconds)

    async def aclose(self) -> None:
        """Close what the throttle owns (a Redis connection made from a URL)."""
        if self._redis is not None:
            await self._redis.aclose()

    def busy(self) -> bool:
        """Whether any gate is in force; when not, :meth:`acquire` would return at once."""
        # An idle pacer (nothing to pace by, and no hold) lets a request straight through.
        return bool(
            self._resume_at or self._probe.active or self._local or self._redis
            or not (self._pacer is None or self._pacer.idle) or self._semaphore
        )  # fmt: skip

    def _hold(self, seconds: float, reason: str) -> None:
        resume_at = self._clock() + seconds
        if resume_at <= self._resume_at + 0.01:
            return  # already paused at least that long (e.g. the same pause, seen again)
        self._resume_at = resume_at
        logger.info(
            "rate limited: pausing all requests for %.2fs (%s)",
            seconds, reason, extra={"tc_pause": seconds},
        )  # fmt: skip
        self._emit(PauseEvent(seconds=seconds, resume_at=resume_at, reason=reason))

    async def _serve_pause(self, nap: Wait) -> None:
        while (delay := self.paused_for()) > 0:
            resume_at = self._resume_at
            await nap(delay)
            if self._resume_at <= resume_at:
                # This pause has been served; only a newer one waits again. (It also keeps a
                # test's instant, non-advancing wait from looping.)
                return

    def _adopt(self, limit: RateLimit, remaining: int | None) -> None:
        logger.info(
            "rate limit learned from the server: %g requests a minute",
            limit.per_minute, extra={"tc_rate_limit": limit.per_minute},
        )  # fmt: skip
        if self._redis is not None:
            self._redis.publish_limit(limit)
        else:
            # What the server has left, less the other probes still on their way (the one
            # whose answer this is has been counted already), less the reserve.
            in_flight = max(0, self._probe.holders - 1) if self._probe.active else 0
            available = None if remaining is None else remaining - in_flight - 1
            self._local = LocalLimiter(limit, self._clock, available=available)

    async def _limit(self, nap: Wait) -> None:
        while True:
            if self._redis is not None:
                reservation = await self._redis.reserve()
                if reservation is None:  # Redis is down: this process paces itself
                    reservation = self._fallback_limiter().reserve()
                if self._learner is not None and self._redis.learned is not None:
                    self._learner.adopt(self._redis.learned)
            elif self._local is not None:
                reservation = self._local.reserve()
            else:
                break
            if reservation.pause:
                self._hold(reservation.pause, "429")
                await self._serve_pause(nap)
                continue
            if reservation.delay > 0:
                await nap(reservation.delay)
            if reservation.reserved:
                break
        if self._pacer is not None and (self._redis is None or self._redis.down):
            await self._pace(nap)

    async def _pace(self, nap: Wait) -> None:
        assert self._pacer is not None
        # Time has passed at least as much as was waited, whatever the clock says (a test's
        # instant wait included), so asking again always ends.
        started, waited = self._clock(), 0.0
        while not (ask := self._pacer.reserve(max(self._clock(), started + waited))).reserved:
            await nap(ask.delay)
            waited += ask.delay

    def _fallback_limiter(self) -> LocalLimiter:
        limit = self.rate_limit or PROVISIONAL
        if self._fallback is None or self._fallback.rate_limit != limit:
            self._fallback = LocalLimiter(limit, self._clock)
        return self._fallback
