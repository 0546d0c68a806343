"""Typed signals from a client: instrumentation hooks, the quota snapshot and the counters.

A hook is any callable that takes one event; pass hooks as ``Client(hooks=[...])``. Hooks run
synchronously in the task that made the request, so they must be quick and must not raise
(an exception from a hook is logged and dropped: instrumentation never breaks a request).
This is stamina's instrumentation idea, typed: match on the event class, not on log text.

    def on_event(event: tc.Event) -> None:
        if isinstance(event, tc.RetryEvent):
            print(f"retrying {event.path} in {event.wait:.1f}s: {event.reason}")
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeAlias

import attrs

from ._exceptions import ThoughtCreditsError

__all__ = ["ClientStats", "Event", "Hook", "PauseEvent", "Quota", "RetryEvent", "emit"]

logger = logging.getLogger("thoughtcredits")


@attrs.frozen
class RetryEvent:
    """A request failed and will be tried again after ``wait`` seconds.

    Attributes:
        method: the HTTP method.
        path: the URL path, e.g. ``/incoming/v2/clients/…/creditBatches``.
        attempt: the attempt that failed (1 for the first try).
        wait: seconds until the next attempt (the server's delay, or the back-off).
        waited_so_far: seconds this request has already spent waiting between attempts.
        reason: a short reason, e.g. ``"HTTP 503"`` or ``"APITimeoutError"``.
        error: the error of the failed attempt.
    """

    method: str
    path: str
    attempt: int
    wait: float
    waited_so_far: float
    reason: str
    error: ThoughtCreditsError


@attrs.frozen
class PauseEvent:
    """Every request on the client (or on the shared limiter) holds until ``resume_at``.

    Attributes:
        seconds: how long the pause lasts from now.
        resume_at: when requests may go again, in epoch seconds.
        reason: ``"429"`` (the server refused a request), ``"503"`` (it asked for time with
            ``Retry-After``) or ``"X-RateLimit-Remaining: 0"`` (nothing left until a reset
            later than the client's model of the limiter expects).
    """

    seconds: float
    resume_at: float
    reason: str


Event: TypeAlias = RetryEvent | PauseEvent
"""Every event a hook may receive."""

Hook: TypeAlias = Callable[[Event], None]
"""An instrumentation hook: called with each event, synchronously."""


@attrs.frozen
class Quota:
    """The key's rate-limit quota as the server's latest ``X-RateLimit-*`` headers said.

    Any field is None when the server has not said it (yet).

    Attributes:
        limit: requests allowed per window (``X-RateLimit-Limit``).
        remaining: requests left in the window (``X-RateLimit-Remaining``).
        reset_at: when the window resets (``X-RateLimit-Reset``), in UTC.
        paused_until: when the client's shared pause after a 429 ends, in UTC; None when no
            pause is in force.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    paused_until: datetime | None = None


def emit(hooks: Sequence[Hook], event: Event) -> None:
    """Call every hook with ``event``; a failing hook is logged, never raised."""
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            logger.exception("thoughtcredits hook %r raised; ignored", hook)


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
