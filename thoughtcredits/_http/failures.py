"""What a failed attempt leads to: the retry plan's hook, a 401's new key, and what the request
did when it ends.

After an attempt fails, the request's :class:`RetryPlan` (made at its first failure) decides;
each retry it grants is counted, logged and handed to the hooks. A 401 when the key comes from
a callable is resent at once, once, with the key the callable returns then (a 401 did nothing).

When the request ends in an error, the error's ``applied`` says what it did (True made, False
not, None maybe); a request whose earlier attempt knew more than its last one (a PUT whose 200
broke off and whose resend then failed, a create resent on the caller's word after a timeout)
says the stronger thing. A create or update that ends while its change may have been made, a
cancellation after its bytes left included, logs one WARNING; a cancellation stays a
``CancelledError``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tenacity import RetryCallState

from .._events import RetryEvent, emit
from .._exceptions import (
    CHANGING_METHODS,
    ResponseValidationError,
    ThoughtCreditsError,
    mark_applied,
)
from .._logs import log_new_key, log_retry, log_unsettled
from .endpoint import Endpoint
from .retry import Budget, RetryPlan, RetryPolicy, reason, refused
from .state import Core

__all__ = ["new_key", "retry_plan", "settle"]


def retry_plan(
    core: Core, policy: RetryPolicy | None, endpoint: Endpoint[Any], path: str, budget: Budget
) -> RetryPlan:
    """A request's retry plan, made at its first failure: each retry counted, logged, emitted."""
    method = endpoint.method
    attempts = policy.attempts if policy is not None else 1

    def on_retry(state: RetryCallState, error: BaseException, wait: float) -> None:
        core.stats.retries += 1
        number, why = state.attempt_number, reason(error)
        log_retry(method, path, number, attempts, why, wait, refused=refused(error))
        if isinstance(error, ThoughtCreditsError):
            emit(core.hooks, RetryEvent(method, path, number, wait, budget.waited, why, error))

    return RetryPlan(
        policy, endpoint.resend, budget, on_retry=on_retry, active=lambda: not core.closed
    )


def new_key(
    core: Core, method: str, path: str, attempt: int, waited: float, error: Exception
) -> None:
    """A 401 is resent with the key callable's key of the moment: a retry, counted and said."""
    core.stats.retries += 1
    log_new_key(method, path)
    if isinstance(error, ThoughtCreditsError):
        emit(core.hooks, RetryEvent(method, path, attempt, 0.0, waited, "HTTP 401", error))


def settle(
    error: BaseException, method: str, path: str, outcome: bool | None, in_flight: bool
) -> bool | None:
    """What the request did, given the error it ended with and what its attempts showed.

    Args:
        error: what ended the request (an SDK error, a cancellation, anything else).
        method, path: the request, for the log.
        outcome: the most any attempt showed: True made, None maybe, False nothing.
        in_flight: its bytes were with the transport when it ended.
    """
    if method not in CHANGING_METHODS:
        return False  # a read changed nothing, whatever happened to it
    if not isinstance(error, Exception):  # a cancellation (or an interrupt) mid-request
        applied = True if outcome is True else None if in_flight or outcome is None else False
        if applied is not False:
            why = "cancelled" if isinstance(error, asyncio.CancelledError) else type(error).__name__
            log_unsettled(method, path, f"{why} after it was sent", applied=applied)
        return applied
    said = error.applied if isinstance(error, ThoughtCreditsError) else False
    applied = outcome if outcome is True or (outcome is None and said is False) else said
    if isinstance(error, ThoughtCreditsError) and applied is not said:
        mark_applied(error, applied)
    logged = isinstance(error, ResponseValidationError) and said is True  # by the interpreter
    if applied is None or (applied is True and not logged):
        log_unsettled(method, path, reason(error), applied=applied)
    return applied
