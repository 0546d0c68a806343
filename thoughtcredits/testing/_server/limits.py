"""Server-side rate limiting: three models of a limiter, per API key, with TI's headers.

- :class:`TokenBucket`: holds up to ``burst`` tokens and refills at ``per_minute / 60`` a
  second; each request takes one;
- :class:`FixedWindow`: at most ``limit`` requests in each window of the clock (for 60 s:
  each calendar minute), counted afresh when the next window starts;
- :class:`SlidingWindow`: at most ``limit`` requests in any ``seconds`` (an exact log).

Each answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (epoch seconds, rounded up to a whole second, as TI sends them), and a
refusal ``Retry-After`` in whole seconds. The clock (epoch seconds) is injectable so tests
never sleep.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "Decision",
    "FixedWindow",
    "Limiter",
    "LimiterSpec",
    "SlidingWindow",
    "TokenBucket",
    "limiter_for",
    "parse_limit",
]

# Sizes the server accepts: a bigger figure is a typo, and a window longer than a day is
# not a rate limit a test can wait out.
_MAX_COUNT = 10**9
_MAX_WINDOW = 86_400.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one request: allowed or not, and the headers to send with it."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Epoch seconds: when the next request is allowed if none remain, else when all are."""
    retry_after: int
    """Whole seconds until a request is allowed again (0 when allowed)."""

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


def _count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_COUNT:
        raise ValueError(
            f"rate_limit: {name} must be a whole number, at least 1 and at most 10**9, got "
            f"{value!r}"
        )


def _window(seconds: float) -> None:
    if isinstance(seconds, bool) or not 0.001 <= seconds <= _MAX_WINDOW:
        raise ValueError(f"rate_limit: seconds must be from 0.001 to 86400, got {seconds!r}")


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """A bucket of ``burst`` tokens refilled at ``per_minute`` a minute (``X-RateLimit-Limit``)."""

    per_minute: int
    burst: int

    def __post_init__(self) -> None:
        _count("per_minute", self.per_minute)
        _count("burst", self.burst)

    def allowance(self, seconds: float) -> float:
        """Requests a perfect client gets in ``seconds`` from a full bucket."""
        return self.burst + self.per_minute / 60.0 * max(0.0, seconds)

    def __str__(self) -> str:
        return f"token bucket, {self.per_minute}/min, burst {self.burst}"


@dataclass(frozen=True, slots=True)
class _Window:
    limit: int
    seconds: float = 60.0

    def __post_init__(self) -> None:
        _count("limit", self.limit)
        _window(self.seconds)


@dataclass(frozen=True, slots=True)
class FixedWindow(_Window):
    """At most ``limit`` requests in each ``seconds`` of the clock (``X-RateLimit-Limit``)."""

    def allowance(self, seconds: float, *, start: float) -> float:
        """Requests a perfect client gets from epoch ``start`` on: ``limit`` per window touched."""
        first = math.floor(start / self.seconds)
        last = math.floor((start + max(0.0, seconds)) / self.seconds)
        return float(self.limit * (last - first + 1))

    def __str__(self) -> str:
        return f"fixed window, {self.limit} per {self.seconds:g} s"


@dataclass(frozen=True, slots=True)
class SlidingWindow(_Window):
    """At most ``limit`` requests in any ``seconds`` (``X-RateLimit-Limit``)."""

    def allowance(self, seconds: float) -> float:
        """Requests a perfect client gets in ``seconds``: ``limit`` at once, again each window."""
        return float(self.limit * (math.floor(max(0.0, seconds) / self.seconds) + 1))

    def __str__(self) -> str:
        return f"sliding window, {self.limit} per {self.seconds:g} s"


LimiterSpec: TypeAlias = TokenBucket | FixedWindow | SlidingWindow
"""What ``FakeCreditsServer(rate_limit=...)`` and ``serve-fake --rate-limit`` accept."""

# ASCII digits only: \d would also read fullwidth or Arabic-Indic digits, as int() does.
_SPEC_RE = re.compile(
    r"(?:(token-bucket|fixed-window|sliding-window):)?([0-9]{1,10})(?:/([0-9]{1,10}))?"
)


def parse_limit(text: str) -> LimiterSpec:
    """``120/20`` or ``token-bucket:120/20`` (a minute's rate / burst; the burst defaults to a
    sixth), ``fixed-window:300/60`` or ``sliding-window:300/60`` (requests / seconds; 60 s by
    default). Raises ``ValueError`` naming what is wrong.
    """
    match = _SPEC_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"expected PER_MIN[/BURST], fixed-window:N[/SECONDS] or sliding-window:N[/SECONDS], "
            f"got {text[:60]!r}"
        )
    kind, first, second = match[1] or "token-bucket", int(match[2]), match[3]
    if kind == "token-bucket":
        return TokenBucket(first, int(second) if second else max(1, first // 6))
    seconds = float(second) if second else 60.0
    return FixedWindow(first, seconds) if kind == "fixed-window" else SlidingWindow(first, seconds)


class Limiter:
    """One model's state per API key. ``None`` (a key the server does not know) gets a fresh
    state that is not kept, so unknown keys can never make the limiter grow.
    """

    def __init__(self, spec: LimiterSpec, clock: Callable[[], float]) -> None:
        self.spec = spec
        self.clock = clock
        self._state: dict[str, object] = {}

    def take(self, key: str | None) -> Decision:
        """Let one request of ``key`` through if the model allows it."""
        raise NotImplementedError

    def __len__(self) -> int:
        """How many keys have state."""
        return len(self._state)

    def reset(self) -> None:
        """Forget every key's use (a full bucket, a fresh window)."""
        self._state.clear()


class _TokenBucketLimiter(Limiter):
    spec: TokenBucket

    def take(self, key: str | None) -> Decision:
        spec, now = self.spec, self.clock()
        rate, burst = spec.per_minute / 60.0, float(spec.burst)
        last = self._state.get(key) if key is not None else None
        tokens, then = last if isinstance(last, tuple) else (burst, now)
        tokens = min(burst, tokens + max(0.0, now - then) * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key is not None:
            self._state[key] = (tokens, now)
        remaining = math.floor(tokens + 1e-9)
        wait = (1.0 - tokens) / rate
        reset = now + ((burst - tokens) / rate if remaining >= 1 else wait)
        retry_after = 0 if allowed else max(1, math.ceil(wait - 1e-9))
        return Decision(allowed, spec.per_minute, remaining, math.ceil(reset), retry_after)


class _FixedWindowLimiter(Limiter):
    spec: FixedWindow

    def take(self, key: str | None) -> Decision:
        spec, now = self.spec, self.clock()
        window = math.floor(now / spec.seconds)
        last = self._state.get(key) if key is not None else None
        used = last[1] if isinstance(last, tuple) and last[0] == window else 0
        allowed = used < spec.limit
        used += allowed
        if key is not None:
            self._state[key] = (window, used)
        ends = (window + 1) * spec.seconds
        retry_after = 0 if allowed else max(1, math.ceil(ends - now - 1e-9))
        return Decision(allowed, spec.limit, spec.limit - used, math.ceil(ends), retry_after)


class _SlidingWindowLimiter(Limiter):
    spec: SlidingWindow

    def take(self, key: str | None) -> Decision:
        spec, now = self.spec, self.clock()
        kept = self._state.get(key) if key is not None else None
        log: deque[float] = kept if isinstance(kept, deque) else deque()
        while log and log[-1] > now:  # the clock went back: a request "later" than now
            log.pop()  # would hold its slot until the clock caught up again, maybe hours
        while log and log[0] <= now - spec.seconds:
            log.popleft()
        allowed = len(log) < spec.limit
        if allowed:
            log.append(now)
        if key is not None:
            self._state[key] = log
        remaining = spec.limit - len(log)
        # With none left, the next request may go when the oldest leaves the window.
        frees = (log[0] if remaining == 0 else log[-1]) + spec.seconds if log else now
        retry_after = 0 if allowed else max(1, math.ceil(log[0] + spec.seconds - now - 1e-9))
        return Decision(allowed, spec.limit, remaining, math.ceil(frees), retry_after)


def limiter_for(
    spec: LimiterSpec | tuple[int, int], *, clock: Callable[[], float] = time.time
) -> Limiter:
    """The limiter of a model; ``(per_minute, burst)`` is a :class:`TokenBucket`."""
    if isinstance(spec, tuple):
        spec = TokenBucket(*spec)
    if isinstance(spec, TokenBucket):
        return _TokenBucketLimiter(spec, clock)
    if isinstance(spec, FixedWindow):
        return _FixedWindowLimiter(spec, clock)
    if isinstance(spec, SlidingWindow):
        return _SlidingWindowLimiter(spec, clock)
    raise TypeError(
        "rate_limit: expected (per_minute, burst), TokenBucket, FixedWindow or SlidingWindow, "
        f"got {type(spec).__name__}"
    )
