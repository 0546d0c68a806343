"""Server-side rate limiting: one token bucket per API key, and the ``X-RateLimit-*`` headers.

A bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` tokens a second;
each request takes one. The clock (epoch seconds) is injectable so tests never sleep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one request: allowed or not, and the headers to send with it."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Epoch seconds: the next token if none remain, else when the bucket is full."""
    retry_after: int
    """Whole seconds until a token is available (0 when allowed)."""

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` headers, plus ``Retry-After`` on a refusal."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def body(self) -> dict[str, object]:
        """The documented 429 body."""
        return {
            "error": "rate_limit_exceeded",
            "message": f"Request rate limit reached. Retry after {self.retry_after} seconds.",
            "retryAfter": self.retry_after,
        }


class RateLimiter:
    """Token buckets keyed by API key.

    Args:
        per_minute: refill rate, and the ``X-RateLimit-Limit`` value.
        burst: bucket capacity (a full bucket allows ``burst`` requests at once).
        clock: epoch seconds; inject a fake one in tests.
    """

    def __init__(
        self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("rate_limit: per_minute and burst must be at least 1")
        self.per_minute = per_minute
        self.burst = burst
        self.clock = clock
        self._rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str | None) -> Decision:
        """Spend one token of ``key``'s bucket if there is one.

        ``None`` (a key the server does not know) gets a full bucket that is not kept, so
        unknown keys can never make the limiter grow.
        """
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now)) if key else (
            float(self.burst), now)  # fmt: skip
        tokens = min(float(self.burst), tokens + max(0.0, now - last) * self._rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key is not None:
            self._buckets[key] = (tokens, now)
        remaining = math.floor(tokens + 1e-9)
        if remaining >= 1:
            reset = now + (self.burst - tokens) / self._rate
        else:
            reset = now + (1.0 - tokens) / self._rate
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self._rate - 1e-9))
        return Decision(allowed, self.per_minute, remaining, math.ceil(reset), retry_after)

    def __len__(self) -> int:
        """How many buckets are kept."""
        return len(self._buckets)

    def reset(self) -> None:
        """Refill every bucket."""
        self._buckets.clear()
