"""Client-side throttling shared by every task on one client.

Three gates, passed in order before each request is sent:

1. a **pause**: after a 429 (or ``X-RateLimit-Remaining: 0``) every task waits until the
   server's window resets, not only the task that was refused;
2. a **rate limit** (aiolimiter's leaky bucket) of ``per_minute`` with a ``burst``;
3. a **concurrency cap** on requests in flight.

Waiting here is not a retry: it uses up no attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import attrs
from aiolimiter import AsyncLimiter

from ._events import Event, PauseEvent, Quota

__all__ = ["ClientStats", "RateLimit", "Throttle", "header_pause"]

logger = logging.getLogger("thoughtcredits")

_MAX_HEADER_PAUSE = 120.0


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


@attrs.define
class ClientStats:
    """Counters for one client; read them at any time (they only grow).

    Attributes:
        requests: HTTP exchanges completed (every attempt counts).
        retries: attempts that were retried.
        rate_limited: 429 responses received.
        throttle_wait: seconds spent waiting on the client-side limiter and 429 pauses.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    throttle_wait: float = 0.0


def header_pause(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` when ``X-RateLimit-Remaining`` is 0, else None."""
    remaining = headers.get("X-RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset")
    if remaining is None or reset is None or remaining.strip() != "0":
        return None
    try:
        delay = float(reset) - now
    except ValueError:
        return None
    return delay if 0 < delay < float("inf") else None


def _learned_limit(headers: Mapping[str, str]) -> RateLimit | None:
    try:
        per_minute = float(headers.get("X-RateLimit-Limit", ""))
    except ValueError:
        return None
    if not 1 <= per_minute <= 1_000_000:
        return None  # a nonsense quota teaches nothing
    # The server does not say its burst. A fresh bucket's Remaining shows it (plus the request
    # just made); another client's use only makes that smaller, which errs on the safe side.
    burst = max(1, int(per_minute) // 6)
    with contextlib.suppress(ValueError):
        burst = max(1, min(burst, int(headers.get("X-RateLimit-Remaining", "")) + 1))
    return RateLimit(per_minute=per_minute, burst=burst)


def _limiter(rate_limit: RateLimit) -> AsyncLimiter:
    # Requests reach the server with jitter, so two can arrive closer together than the
    # quota spaces them. Keeping one token of the burst in reserve absorbs that without
    # lowering the sustained rate; with a burst of 1 there is no reserve, so slow down 3%.
    if rate_limit.burst > 1:
        burst, per_minute = rate_limit.burst - 1, rate_limit.per_minute
    else:
        burst, per_minute = 1, rate_limit.per_minute * 0.97
    return AsyncLimiter(burst, burst * 60.0 / per_minute)


class Throttle:
    """The pause gate, rate limiter and concurrency cap of one client.

    It waits only through the ``wait`` it is given (the client's interruptible, budgeted
    sleep), and only *publishes* the shared pause: the retry loop decides every wait.
    """

    def __init__(
        self,
        rate_limit: RateLimit | Literal["auto"] | object | None,  # or a RedisRateLimit
        max_concurrency: int | None,
        *,
        emit: Callable[[Event], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency: must be at least 1, got {max_concurrency}")
        self._learn = rate_limit == "auto"
        self._rate_limit = rate_limit if isinstance(rate_limit, RateLimit) else None
        self._semaphore = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._emit = emit
        self._clock = clock
        self._resume_at = 0.0
        self._tat = 0.0
        self._quota = Quota()

    @property
    def rate_limit(self) -> RateLimit | None:
        """The limit in force (configured or learned)."""
        return self._rate_limit

    @property
    def quota(self) -> Quota:
        """The latest ``X-RateLimit-*`` headers, and the shared pause."""
        paused = self.paused_for()
        until = datetime.fromtimestamp(self._resume_at, UTC) if paused else None
        return attrs.evolve(self._quota, paused_until=until)

    def paused_for(self) -> float:
        """Seconds until the shared pause ends (0.0 when there is none)."""
        return max(0.0, self._resume_at - self._clock())

    def pause(self, seconds: float, reason: str = "429") -> None:
        """Publish a shared pause of ``seconds`` from now (the longest one wins)."""
        resume_at = self._clock() + seconds
        if seconds > 0 and resume_at > self._resume_at:
            self._resume_at = resume_at
            logger.info(
                "rate limited: pausing all requests on this client for %.2fs",
                seconds,
                extra={"tc_pause": seconds},
            )
            self._emit(PauseEvent(seconds, resume_at, reason))

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response's rate-limit headers."""
        self._quota = _quota(headers, self._quota)
        if self._learn:
            self._learn = False
            learned = _learned_limit(headers)
            if learned is not None:
                self._rate_limit = learned
        if status < 300 and self._rate_limit is None:
            delay = header_pause(headers, now=self._clock())
            # A window resets within a minute; a reset hours away is a bad header.
            if delay is not None and delay <= _MAX_HEADER_PAUSE:
                self.pause(delay, reason="X-RateLimit-Remaining: 0")

    async def acquire(self, wait: Callable[[float], Awaitable[None]]) -> float:
        """Wait for a concurrency slot, the rate limit and the pause; return seconds waited.

        The pause is checked last, right before sending: a 429 that arrived while this
        request waited for a slot or a token still holds it back.
        """
        if not self._resume_at and self._rate_limit is None and self._semaphore is None:
            return 0.0
        started = time.monotonic()
        while (delay := self.paused_for()) > 0:
            await wait(delay)
        if self._semaphore is not None:
            await self._semaphore.acquire()
        try:
            if self._rate_limit is not None:
                delay = self._reserve(self._rate_limit)
                if delay > 0:
                    await wait(delay)
            while (delay := self.paused_for()) > 0:
                await wait(delay)
        except BaseException:
            if self._semaphore is not None:
                self._semaphore.release()
            raise
        return time.monotonic() - started

    def _reserve(self, limit: RateLimit) -> float:
        # GCRA on the client's clock: each request takes the next slot of the leaky bucket
        # (one token of the burst in reserve, as _limiter explains); returns its delay.
        burst = limit.burst - 1 if limit.burst > 1 else 1
        per_minute = limit.per_minute if limit.burst > 1 else limit.per_minute * 0.97
        interval = 60.0 / per_minute
        now = self._clock()
        tat = max(self._tat, now)
        allowed_at = tat - (burst - 1) * interval
        self._tat = tat + interval
        return max(0.0, allowed_at - now)

    def release(self) -> None:
        """Give back the concurrency slot taken by :meth:`acquire`."""
        if self._semaphore is not None:
            self._semaphore.release()

    async def aclose(self) -> None:
        """Nothing to close for the in-process limiter."""


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return None
    return int(value)


def _quota(headers: Mapping[str, str], previous: Quota) -> Quota:
    limit = _int_header(headers, "X-RateLimit-Limit")
    remaining = _int_header(headers, "X-RateLimit-Remaining")
    reset = _int_header(headers, "X-RateLimit-Reset")
    if limit is None and remaining is None and reset is None:
        return previous
    reset_at = None
    if reset is not None and reset < 10**11:
        reset_at = datetime.fromtimestamp(reset, UTC)
    return Quota(limit=limit, remaining=remaining, reset_at=reset_at)
