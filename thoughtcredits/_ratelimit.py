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
from typing import Any, Literal

import attrs
from aiolimiter import AsyncLimiter

__all__ = ["ClientStats", "RateLimit", "Throttle", "header_pause"]

logger = logging.getLogger("thoughtcredits")


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
    """The pause gate, rate limiter and concurrency cap of one client."""

    def __init__(
        self,
        rate_limit: RateLimit | Literal["auto"] | None,
        max_concurrency: int | None,
        *,
        sleep: Callable[[float], Awaitable[None]],
        max_pause: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency: must be at least 1, got {max_concurrency}")
        self._learn = rate_limit == "auto"
        # Until the first answer teaches the quota, one request goes alone: a burst of
        # concurrent first requests would otherwise land in 429s.
        self._probe: asyncio.Event | None = asyncio.Event() if self._learn else None
        self._probing = False
        self.rate_limit = rate_limit if isinstance(rate_limit, RateLimit) else None
        self._limiter = _limiter(self.rate_limit) if self.rate_limit is not None else None
        self._semaphore = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._sleep = sleep
        # A bad clock or a hostile header must not freeze a job for hours; a request whose
        # server delay is over the cap fails instead (RetryPolicy.max_retry_after).
        self._max_pause = max_pause
        self._clock = clock
        self._resume_at = 0.0
        self._generation = 0

    def pause(self, seconds: float | None) -> None:
        """Hold every task on this client for ``seconds``, e.g. after a 429.

        A delay over the cap is not waited out by anyone: the request that got it fails
        with ``RateLimitError``, and so will the others, each on its own server answer.
        """
        if seconds is None or seconds <= 0 or seconds > self._max_pause:
            return
        resume_at = self._clock() + seconds
        if resume_at > self._resume_at:
            self._resume_at = resume_at
            self._generation += 1
            logger.info(
                "rate limited: pausing all requests on this client for %.2fs",
                seconds,
                extra={"tc_pause": seconds},
            )

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response's rate-limit headers.

        In ``auto`` mode the first answer's ``X-RateLimit-Limit`` (the per-minute quota, S4) becomes
        the client's limiter, so concurrent tasks are spaced at the quota instead of bursting
        into 429s. Without a limiter, ``X-RateLimit-Remaining: 0`` pauses every task until
        ``X-RateLimit-Reset``; with one, the limiter already spaces requests, and a
        whole-second ``Reset`` would only stall it. A 429 always pauses everyone.
        """
        self._end_probe()
        if self._learn:
            self._learn = False  # the first answer teaches it, or the server has no quota
            learned = _learned_limit(headers)
            if learned is not None:
                self.rate_limit = learned
                self._limiter = _limiter(learned)
                logger.info(
                    "rate limit learned from the server: %g requests a minute",
                    learned.per_minute,
                    extra={"tc_rate_limit": learned.per_minute},
                )
        if status < 300 and self._limiter is None:
            self.pause(header_pause(headers, now=time.time()))

    async def _wait_for_pause(self) -> None:
        while (delay := self._resume_at - self._clock()) > 0:
            generation = self._generation
            await self._sleep(delay)
            if generation == self._generation:
                # This pause has been served; a new 429 starts a new one. Clearing it here
                # also keeps an injected, non-advancing test sleep from waiting twice.
                self._resume_at = 0.0
                return

    async def acquire(self, stats: ClientStats) -> None:
        """Wait for the pause, the rate limit and a concurrency slot; then hold the slot.

        Every ``acquire`` must be paired with :meth:`release`.
        """
        idle = not self._resume_at and self._limiter is None and self._semaphore is None
        if idle and self._probe is None:
            return  # nothing configured, nothing paused: the common case costs nothing
        started = time.monotonic()
        if self._probe is not None:
            if self._probing:
                await self._probe.wait()
            else:
                self._probing = True
        if self._resume_at:
            await self._wait_for_pause()
        if self._limiter is not None:
            await self._limiter.acquire()
        if self._semaphore is not None:
            await self._semaphore.acquire()
        stats.throttle_wait += time.monotonic() - started

    def release(self) -> None:
        """Give back the concurrency slot taken by :meth:`acquire`."""
        self._end_probe()  # a probe that failed without an answer must not block the rest
        if self._semaphore is not None:
            self._semaphore.release()

    def _end_probe(self) -> None:
        if self._probe is not None:
            self._probe.set()
            self._probe = None
