"""One API request from start to answer: limiter, transport, interpreter and retry loop.

The only waiting happens in ``Core.sleep`` (through the request's ``Budget``), which
``Core.close`` interrupts.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, NamedTuple

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from tenacity import RetryCallState

from .._events import RetryEvent, emit
from .._exceptions import APIConnectionError, ClientClosedError, RateLimitError, ThoughtCreditsError
from .._logs import log_exchange, log_final_failure, log_retry
from .._models import Page
from .._transports.base import HTTPRequest, HTTPResponse, RequestContext
from .interpreter import Expect, Listing, decipher
from .retry import Budget, BudgetExceeded, RetryPolicy, reason, retrying, should_retry
from .state import Core, Options

__all__ = ["Exchange", "execute", "execute_value"]

_DEFAULT_POLICY = RetryPolicy()
_MULTIDICTS = (CIMultiDict, CIMultiDictProxy)


class Exchange(NamedTuple):
    """What one successful request produced: the parsed value and the response behind it."""

    value: Any
    response: HTTPResponse
    url: str


def execute(
    core: Core,
    options: Options,
    method: str,
    url: str,
    path: str,
    body: bytes | None,
    expect: Expect,
) -> Coroutine[Any, Any, Exchange]:
    """Send one API request with the view's retries; await it for the interpreted answer."""
    return _run(_Attempt(core, options, method, url, path, body, expect, unwrap=False))


def execute_value(
    core: Core, options: Options, method: str, url: str, path: str, expect: Listing[Any]
) -> Coroutine[Any, Any, Page[Any]]:
    """:func:`execute` for a listing: the coroutine gives the :class:`Page` alone.

    A page carries its response's headers already, so the pager awaits this directly: no
    frame of its own for every suspension to pass through, and no Exchange to build.
    """
    return _run(_Attempt(core, options, method, url, path, None, expect, unwrap=True))


async def _run(attempt: _Attempt) -> Any:
    core, options, method, path = attempt.core, attempt.options, attempt.method, attempt.path
    core.check_open()
    policy = options.retry
    # The budget starts when the request does (a prefetch may be created a moment earlier).
    attempt.budget = budget = Budget(policy.timeout if policy is not None else float("inf"))
    # Most requests succeed at once, so the first attempt skips building a tenacity loop.
    try:
        return await attempt(1)
    except Exception as error:
        if policy is None or core.closed or not should_retry(error, method, policy):
            log_final_failure(error, method, path)
            raise
        first = error
    number = 0

    def on_retry(state: RetryCallState, error: BaseException, wait: float) -> None:
        core.stats.retries += 1
        log_retry(method, path, state.attempt_number, policy.attempts, error, wait)
        if isinstance(error, ThoughtCreditsError):
            emit(
                core.hooks,
                RetryEvent(method, path, state.attempt_number, wait, budget.waited, reason(error),
                           error),
            )  # fmt: skip

    try:
        async for retry in retrying(
            policy,
            method,
            budget=budget,
            sleep=lambda seconds: attempt.wait(seconds, pause=False),
            describe=f"{method} {path}",
            on_retry=on_retry,
            active=lambda: not core.closed,
        ):
            with retry:
                number += 1
                if number == 1:
                    raise first  # replay attempt 1's failure: tenacity waits, then retries
                return await attempt(number)
    except BudgetExceeded:  # pragma: no cover - the loop stops before an over-budget wait
        raise attempt.last_error or first from None
    except Exception as error:
        log_final_failure(error, method, path)
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


class _Attempt:
    """The attempts of one request, and the waits between them."""

    __slots__ = ("body", "budget", "core", "expect", "last_error", "method", "options", "path",
                 "sent", "unwrap", "url")  # fmt: skip

    def __init__(
        self,
        core: Core,
        options: Options,
        method: str,
        url: str,
        path: str,
        body: bytes | None,
        expect: Expect,
        *,
        unwrap: bool,
    ) -> None:
        self.core, self.options = core, options
        self.budget: Budget  # set by _run when the request starts
        self.method, self.url, self.path, self.body, self.expect = method, url, path, body, expect
        self.unwrap = unwrap
        self.last_error: Exception | None = None
        self.sent = False

    async def wait(self, seconds: float, *, pause: bool) -> None:
        """Wait through the budget and the client's interruptible sleep."""
        try:
            await self.budget.wait(seconds, self.core.sleep)
        except ClientClosedError:
            raise ClientClosedError(
                "the client was closed while this request waited"
                + (" to retry" if self.last_error else ""),
                method=self.method,
                url=self.url,
                request_sent=self.sent,
            ) from self.last_error
        except BudgetExceeded:
            if self.last_error is not None:
                raise self.last_error from None
            if not pause:
                raise
            raise RateLimitError(
                f"not sent: waiting {seconds:.1f}s for the client's rate limit or pause would "
                f"exceed RetryPolicy.timeout ({self.budget.timeout:g}s)",
                status=429,
                body=None,
                headers={},
                method=self.method,
                url=self.url,
                retry_after=seconds,
            ) from None

    async def _wait_for_gate(self, seconds: float) -> None:
        await self.wait(seconds, pause=True)

    async def __call__(self, number: int) -> Any:  # an Exchange; with unwrap, its value alone
        core, method = self.core, self.method
        throttle = core.throttle
        headers = self.options.json_headers if self.body is not None else self.options.headers
        permit = None
        if throttle.busy():  # most requests pass no gate at all: build no wait for them
            permit = await throttle.acquire(self._wait_for_gate)
            core.stats.throttle_wait += permit.waited
        try:
            if core.closed:  # it waited for a slot while the client closed
                raise ClientClosedError(
                    "the client was closed while this request waited",
                    method=method,
                    url=self.url,
                    request_sent=self.sent,
                ) from self.last_error
            request = HTTPRequest(
                method, self.url, headers, self.body, self._timeout(), core.max_response_size,
                RequestContext(method, self.path, number),
            )  # fmt: skip
            response = await core.transport.send(request)
            if type(response.headers) is not CIMultiDictProxy and not isinstance(
                response.headers, _MULTIDICTS
            ):
                # A custom transport may answer with a plain dict: headers are case-insensitive.
                response = attrs.evolve(
                    response, headers=CIMultiDictProxy(CIMultiDict(response.headers))
                )
            # A 429 refused the request: it was not acted on, whatever came before.
            self.sent = self.sent or response.status != 429
            throttle.observe(
                response.status, response.headers, permit,
                max_hold=(self.options.retry or _DEFAULT_POLICY).max_retry_after,
            )  # fmt: skip
        except APIConnectionError as exc:
            self.last_error = exc
            self.sent = self.sent or exc.request_sent
            if not core.closed or isinstance(exc, ClientClosedError):
                raise
            raise ClientClosedError(
                "the client was closed while this request was in flight",
                method=method,
                url=self.url,
                request_sent=exc.request_sent,
            ) from exc
        finally:
            throttle.release(permit)
        core.stats.requests += 1
        log_exchange(method, self.path, number, response)
        try:
            value = decipher(
                response.status, response.headers, response.body, self.expect, method=method,
                url=self.url, complete=response.complete, max_body=core.max_response_size,
            )  # fmt: skip
        except Exception as error:
            if isinstance(error, RateLimitError):
                core.stats.rate_limited += 1
            self._pause(error)
            self.last_error = error
            raise
        return value if self.unwrap else Exchange(value, response, self.url)

    def _timeout(self) -> aiohttp.ClientTimeout:
        """The attempt's timeout, cut to what is left of the request's budget."""
        timeout = self.options.timeout
        left = self.budget.timeout - self.budget.spent()
        if left <= 0 and self.last_error is not None:
            raise self.last_error  # a retry with no time left is not started
        if left == float("inf") or (timeout.total is not None and timeout.total <= left):
            return timeout
        return aiohttp.ClientTimeout(
            total=max(left, 0.001), connect=timeout.connect, sock_read=timeout.sock_read,
            sock_connect=timeout.sock_connect,
        )  # fmt: skip

    def _pause(self, error: Exception) -> None:
        # A 503 with Retry-After holds every task until then (the throttle weighs a 429's
        # hints itself); a delay over the cap is not waited out by anyone.
        delay = getattr(error, "retry_after", None)
        cap = (self.options.retry or _DEFAULT_POLICY).max_retry_after
        if getattr(error, "status", None) == 503 and delay is not None and 0 < delay <= cap:
            self.core.throttle.pause(delay, reason="503")
