"""Retry policy and the pure decisions behind it; tenacity runs the loop.

Retry safety per method (the API has no idempotency key, ``research/ti-api.md`` §6):

* GET and PUT (PUT sets absolute values) retry on 408, 429, 5xx, timeouts and connection errors.
* POST creates credits, so it retries only when the server provably did not act on it: a 429,
  or a connection that failed before the request was sent. A 5xx, timeout or drop after
  sending surfaces at once unless ``RetryPolicy(retry_unsafe_methods=True)``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from ._exceptions import APIConnectionError, APIStatusError

__all__ = ["RetryPolicy", "backoff", "retrying", "server_delay", "should_retry"]

logger = logging.getLogger("thoughtcredits")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"RetryPolicy.{attribute.name}: must be positive, got {value!r}")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"RetryPolicy.{attribute.name}: must not be negative, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """How failed requests are retried. Pass ``retry=None`` to a client to never retry.

    Args:
        attempts: total tries per request, the first included.
        timeout: cap in seconds on the time one request may spend retrying; a retry whose
            wait would cross it is not made.
        wait_initial: first backoff delay in seconds when the server gives none.
        wait_max: largest backoff delay in seconds.
        wait_jitter: up to this many random seconds added to each backoff delay.
        max_retry_after: the longest server-requested delay (``Retry-After``) honoured by
            sleeping; a longer one raises ``RateLimitError`` at once.
        retry_unsafe_methods: also retry POST after a 5xx, timeout or a drop after sending.
            The API has no idempotency key, so this can create a batch or account twice.
    """

    attempts: int = attrs.field(default=4, validator=_positive)
    timeout: float = attrs.field(default=120.0, validator=_positive)
    wait_initial: float = attrs.field(default=0.5, validator=_non_negative)
    wait_max: float = attrs.field(default=8.0, validator=_non_negative)
    wait_jitter: float = attrs.field(default=1.0, validator=_non_negative)
    max_retry_after: float = attrs.field(default=90.0, validator=_non_negative)
    retry_unsafe_methods: bool = False


def server_delay(error: BaseException) -> float | None:
    """The delay the server asked for, if the error carries one."""
    if isinstance(error, APIStatusError):
        return error.retry_after
    return None


def should_retry(error: BaseException, method: str, policy: RetryPolicy) -> bool:
    """Whether ``error`` on ``method`` may be retried under ``policy``."""
    delay = server_delay(error)
    if delay is not None and delay > policy.max_retry_after:
        return False
    unsafe_ok = method in _SAFE_METHODS or policy.retry_unsafe_methods
    if isinstance(error, APIStatusError):
        if error.status == 429:
            return True  # refused by the rate limiter, so not acted on: safe for every method
        return error.status in _RETRYABLE_STATUSES and unsafe_ok
    if isinstance(error, APIConnectionError):
        return not error.request_sent or unsafe_ok
    return False


def backoff(attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter for the ``attempt``-th failure (1-based), capped."""
    base = min(policy.wait_initial * 2.0 ** (attempt - 1), policy.wait_max)
    return min(base + policy.wait_jitter * rng(), policy.wait_max + policy.wait_jitter)


def retrying(
    policy: RetryPolicy,
    method: str,
    *,
    sleep: Callable[[float], Awaitable[None]],
    describe: str,
    on_retry: Callable[[BaseException, float], None] | None = None,
    active: Callable[[], bool] = lambda: True,
) -> AsyncRetrying:
    """A fresh tenacity loop for one request; ``reraise`` so users see our errors only."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if error is not None and server_delay(error) is not None:
            # The client's shared pause already holds every task for the server's delay;
            # sleeping here too would wait twice.
            return 0.0
        return backoff(state.attempt_number, policy)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        server = server_delay(error) if error is not None else None
        delay = server if server is not None else state.upcoming_sleep
        logger.info(
            "retrying %s in %.2fs (attempt %d of %d failed: %s)",
            describe,
            delay,
            state.attempt_number,
            policy.attempts,
            _reason(error),
            extra={
                "tc_request": describe,
                "tc_attempt": state.attempt_number,
                "tc_wait": delay,
                "tc_reason": _reason(error),
            },
        )
        if on_retry is not None and error is not None:
            on_retry(error, delay)

    async def nap(seconds: float) -> None:
        # wait() returns 0 when the shared pause does the waiting: that is no sleep at all.
        if seconds > 0:
            await sleep(seconds)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.timeout),
        wait=wait,
        # ``active`` turns False when the client is closed: nothing is retried after that.
        retry=retry_if_exception(lambda error: active() and should_retry(error, method, policy)),
        reraise=True,
        sleep=nap,
        before_sleep=before_sleep,
    )


def _reason(error: BaseException | None) -> str:
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status}"
    if error is None:  # pragma: no cover - tenacity only sleeps after a failure
        return "unknown"
    return type(error).__name__
