"""Retry policy, the pure decisions behind it, and the time budget; tenacity decides the retries.

Retry safety comes from the endpoint's row (``Endpoint.resend``; the API has no idempotency
key, ``research/ti-api.md`` §6):

* a resendable request (GET, and PUT, which sets absolute values) retries on 408, 429, 5xx,
  timeouts and connection errors;
* POST creates credits, so it retries only when the server provably did not act on it: a 429,
  or a connection that failed before the request was sent. A 5xx, timeout or drop after
  sending surfaces at once unless ``RetryPolicy(retry_unsafe_methods=True)``.

A 429 is a refusal, not a failure: the server did nothing. It is retried for every method and
spends none of ``RetryPolicy.attempts``; ``RetryPolicy.timeout`` alone bounds how long a request
keeps being refused.

Waits (the request's loop sleeps every one of them):

* the wait before the next attempt is the server's delay (``Retry-After``, then
  ``X-RateLimit-Reset``, then the body's ``retryAfter``) when it gave one, else the back-off.
  A delay below ``wait_initial`` (0 included), or a date or reset in the past, counts as
  "no delay given": back off;
* a server delay over ``max_retry_after`` is not waited out: the error is raised at once;
* every wait (retry waits, and waits for the client's shared pause or rate limiter) is
  counted against ``timeout`` **before** it is slept, so the cap holds whatever the server asks.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from tenacity import (
    DoSleep,
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_never,
    stop_any,
)
from tenacity.stop import stop_base

from .._exceptions import APIConnectionError, APIStatusError
from .._quota.hints import at_least

__all__ = [
    "Budget",
    "BudgetExceeded",
    "RetryPlan",
    "RetryPolicy",
    "backoff",
    "planned_wait",
    "reason",
    "refused",
    "server_delay",
    "should_retry",
]

logger = logging.getLogger("thoughtcredits")

_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"RetryPolicy.{attribute.name}: must be positive, got {value!r}")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not value >= 0 or not math.isfinite(value):
        raise ValueError(f"RetryPolicy.{attribute.name}: must not be negative, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """How failed requests are retried. Pass ``retry=None`` to a client to never retry.

    Args:
        attempts: total tries per request, the first included; a try the server refused
            with 429 (it did nothing) is not counted.
        timeout: cap in seconds on the time one request may spend, retries and waits
            included; a wait that would cross it is not made (the last error is raised).
            It alone bounds a request the server keeps refusing with 429.
        wait_initial: first backoff delay in seconds when the server gives none.
        wait_max: largest backoff delay in seconds.
        wait_jitter: up to this many random seconds added to each backoff delay.
        max_retry_after: the longest server-requested delay (``Retry-After``) honoured by
            waiting; a longer one raises ``RateLimitError`` at once.
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
    """The delay the server asked for (positive seconds), if the error carries one."""
    if isinstance(error, APIStatusError) and error.retry_after is not None:
        return error.retry_after if error.retry_after > 0 else None
    return None


def refused(error: BaseException) -> bool:
    """Whether ``error`` is the server's refusal (429): nothing was done, nothing spent."""
    return isinstance(error, APIStatusError) and error.status == 429


def should_retry(error: BaseException, resend: bool, policy: RetryPolicy) -> bool:
    """Whether ``error`` may be retried under ``policy``.

    ``resend`` is the endpoint row's word that sending its request twice does no harm.
    """
    delay = server_delay(error)
    if delay is not None and delay > policy.max_retry_after:
        return False
    unsafe_ok = resend or policy.retry_unsafe_methods
    if isinstance(error, APIStatusError):
        if error.status == 429:
            return True  # refused by the rate limiter, so not acted on: safe for every method
        return error.status in _RETRYABLE_STATUSES and unsafe_ok
    if isinstance(error, APIConnectionError):
        return not error.request_sent or unsafe_ok
    return False


def backoff(attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter for the ``attempt``-th failure (1-based), capped."""
    base = min(policy.wait_initial * 2.0 ** min(attempt - 1, 64), policy.wait_max)
    return min(base + policy.wait_jitter * rng(), policy.wait_max + policy.wait_jitter)


def planned_wait(error: BaseException, attempt: int, policy: RetryPolicy) -> float:
    """The wait before retrying after ``error`` on ``attempt``: the server's, else back-off.

    A server delay below the back-off's floor (``wait_initial``) is the back-off: a
    ``Retry-After: 0.001`` must not bring back a retry storm.
    """
    delay = at_least(server_delay(error), policy.wait_initial)
    return delay if delay is not None else backoff(attempt, policy)


class BudgetExceeded(Exception):  # noqa: N818 - a signal between the budget and the loop
    """A wait of ``seconds`` would cross the request's time budget; nothing was slept."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Budget:
    """The time one request may spend: real time, with injected sleeps counted as asked.

    A test's injected sleep returns at once; counting what was *asked* keeps the cap
    meaningful there too. Waits are refused before they are slept.
    """

    __slots__ = ("_clock", "_slept_real", "_start", "timeout", "waited")

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self._start = clock()
        self._slept_real = 0.0
        self.waited = 0.0
        """Seconds of waits asked for so far."""

    def spent(self) -> float:
        """Seconds used so far."""
        return self._clock() - self._start - self._slept_real + self.waited

    def allows(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` stays within the budget."""
        return self.spent() + seconds <= self.timeout

    async def wait(self, seconds: float, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Sleep ``seconds`` through ``sleep`` if the budget allows, else raise."""
        if not self.allows(seconds):
            raise BudgetExceeded(seconds)
        started = self._clock()
        try:
            await sleep(seconds)
        finally:
            self._slept_real += self._clock() - started
            self.waited += seconds


class _OverBudget(stop_base):
    """Stop when the next wait would cross the request's time budget (checked before it)."""

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self._budget.allows(retry_state.upcoming_sleep)


class _AttemptsSpent(stop_base):
    """Stop once ``attempts`` tries have failed; a refused one (429) spends no attempt."""

    def __init__(self, attempts: int) -> None:
        self._left = attempts

    def __call__(self, retry_state: RetryCallState) -> bool:
        # Tenacity asks once per failed try that its retry rule would retry.
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if error is None or not refused(error):
            self._left -= 1
        return self._left <= 0


class RetryPlan:
    """Tenacity's verdict after each failed attempt of one request: wait this long, or stop.

    The request's own loop makes every attempt, the first one included, and sleeps every wait;
    after each failure it asks :meth:`after`, where tenacity's retry, stop and wait rules and
    its before-sleep hook decide. A plan is made at a request's first failure, so a request
    that succeeds at once builds none.

    Args:
        policy: the view's policy; None never retries.
        resend: the endpoint's row says sending its request twice does no harm.
        budget: the request's time budget, read before every wait.
        on_retry: called before each wait with tenacity's state, the error and the wait.
        active: turns False when the client is closed, after which nothing is retried.
    """

    __slots__ = ("_retrying", "_state")

    def __init__(
        self,
        policy: RetryPolicy | None,
        resend: bool,
        budget: Budget,
        *,
        on_retry: Callable[[RetryCallState, BaseException, float], None],
        active: Callable[[], bool],
    ) -> None:
        if policy is None:
            retrying = Retrying(retry=retry_never, reraise=True)
        else:

            def wait(state: RetryCallState) -> float:
                error = state.outcome.exception() if state.outcome else None
                return 0.0 if error is None else planned_wait(error, state.attempt_number, policy)

            def before_sleep(state: RetryCallState) -> None:
                error = state.outcome.exception() if state.outcome else None
                if error is not None:
                    on_retry(state, error, state.upcoming_sleep)

            retrying = Retrying(
                stop=stop_any(_AttemptsSpent(policy.attempts), _OverBudget(budget)),
                wait=wait,
                retry=retry_if_exception(
                    lambda error: active() and should_retry(error, resend, policy)
                ),
                reraise=True,  # users see our errors, never tenacity's RetryError
                before_sleep=before_sleep,
            )
        retrying.begin()
        self._retrying = retrying
        self._state = RetryCallState(retrying, fn=None, args=(), kwargs={})

    def after(self, error: Exception) -> float | None:
        """Seconds to wait before the next attempt, or None when ``error`` ends the request."""
        state, traceback = self._state, error.__traceback__
        state.set_exception((type(error), error, traceback))
        try:
            action = self._retrying.iter(state)  # stop or no retry: tenacity raises ``error``
        except Exception as verdict:
            if verdict is not error:
                raise  # one of our hooks failed: that is a bug to see, not the request's error
            # The caller raises it; its traceback stays the attempt's, not tenacity's re-raise.
            error.__traceback__ = traceback
            return None
        state.prepare_for_next_attempt()
        assert isinstance(action, DoSleep)  # with an outcome, tenacity sleeps or raises
        return float(action)


def reason(error: BaseException | None) -> str:
    """A short reason for logs and events: ``"HTTP 503"`` or the error's class name."""
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status}"
    if error is None:  # pragma: no cover - tenacity only sleeps after a failure
        return "unknown"
    return type(error).__name__
