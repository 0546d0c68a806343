"""One API request from start to answer: the entry, the attempt loop, and one attempt.

:func:`call` is the one entry: every typed method, every listing page, every raw call and
``Client.request`` (on the client or any ``with_options`` view) hands it a row of the endpoint
table plus path values, query and body, and awaits the coroutine it returns.

:func:`_run` is one operation: it makes every attempt, the first included, in one loop, and
after a failure waits what the request's :class:`RetryPlan` says (tenacity decides).
:meth:`_Request.attempt` is one attempt: the throttle's gate, the transport, the interpreter.
The only waiting happens in ``Core.sleep`` (through the request's ``Budget``), which
``Core.close`` interrupts.
"""

from __future__ import annotations

import math
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from tenacity import RetryCallState

from .._events import RetryEvent, emit
from .._exceptions import APIConnectionError, ClientClosedError, RateLimitError, ThoughtCreditsError
from .._logs import log_exchange, log_final_failure, log_retry
from .._serde.exact_json import dumps
from .._transports.base import HTTPRequest, RequestContext
from .endpoint import Endpoint
from .interpreter import Expect, Listing, Unparsed, decipher
from .raw import raw_response
from .retry import Budget, BudgetExceeded, RetryPlan, RetryPolicy, reason, refused
from .state import View

__all__ = ["call"]

R = TypeVar("R")

_DEFAULT_POLICY = RetryPolicy()
_MULTIDICTS = (CIMultiDict, CIMultiDictProxy)


def call(
    view: View,
    endpoint: Endpoint[R],
    values: tuple[str, ...] = (),
    *,
    query: Mapping[str, str] | None = None,
    body: object = None,
    expect: Listing[Any] | None = None,
) -> Coroutine[Any, Any, R]:
    """Call ``endpoint`` through ``view``; await the coroutine for its answer.

    Args:
        view: the client or ``with_options`` view (its timeout, retries and headers).
        endpoint: the endpoint's row.
        values: the path values, in the order of the row's ``:name`` segments.
        query: query parameters.
        body: the JSON body (``Decimal`` amounts are written exactly).
        expect: how to read a listing's later page (the row says how to read the first).

    A plain function handing over the pipeline's coroutine: the caller awaits it directly, so
    no frame of the entry sits under every suspension of every request.
    """
    core = view.core
    url, path = endpoint.target(core.base_url, core.base_path, values, query)
    answer: Expect = endpoint.answer if expect is None else expect
    if view.raw:
        answer = Unparsed(endpoint.answer)
    data = None if body is None else dumps(body)
    return _run(_Request(view, endpoint, url, path, data, answer))


async def _run(request: _Request) -> Any:
    """One operation: attempt, and after a failure wait as the retry plan says, until done."""
    request.core.check_open()
    policy = request.view.retry
    # The budget starts when the request does (a prefetch may be created a moment earlier).
    request.budget = Budget(policy.timeout if policy is not None else math.inf)
    plan: RetryPlan | None = None  # made at the first failure: most requests never need one
    while True:
        try:
            return await request.attempt()
        except Exception as error:
            plan = plan or request.plan()
            delay = plan.after(error)
            if delay is None:
                log_final_failure(error, request.method, request.path)
                raise
        await request.wait(delay, pause=False)


class _Request:
    """One request: its row, its URL and body, and what its attempts have seen so far."""

    __slots__ = ("body", "budget", "core", "endpoint", "expect", "last_error", "method",
                 "number", "path", "sent", "url", "view")  # fmt: skip

    def __init__(
        self,
        view: View,
        endpoint: Endpoint[Any],
        url: str,
        path: str,
        body: bytes | None,
        expect: Expect,
    ) -> None:
        self.view, self.core, self.endpoint = view, view.core, endpoint
        self.budget: Budget  # set by _run when the request starts
        self.method, self.url, self.path, self.body, self.expect = (
            endpoint.method, url, path, body, expect
        )  # fmt: skip
        self.number = 0  # attempts made so far
        self.last_error: Exception | None = None
        self.sent = False

    def plan(self) -> RetryPlan:
        """The request's retry plan, made at its first failure."""
        core, method, path, budget = self.core, self.method, self.path, self.budget
        policy = self.view.retry
        attempts = policy.attempts if policy is not None else 1

        def on_retry(state: RetryCallState, error: BaseException, wait: float) -> None:
            core.stats.retries += 1
            number, why = state.attempt_number, reason(error)
            log_retry(method, path, number, attempts, why, wait, refused=refused(error))
            if isinstance(error, ThoughtCreditsError):
                emit(
                    core.hooks,
                    RetryEvent(method, path, number, wait, budget.waited, why, error),
                )

        return RetryPlan(
            policy, self.endpoint.resend, budget, on_retry=on_retry, active=lambda: not core.closed
        )

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

    async def attempt(self) -> Any:
        """One attempt: the throttle's gate, the transport, the interpreter; the answer's value."""
        core, method, view = self.core, self.method, self.view
        self.number = number = self.number + 1
        throttle = core.throttle
        headers = view.json_headers if self.body is not None else view.headers
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
                max_hold=(view.retry or _DEFAULT_POLICY).max_retry_after,
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
        expect = self.expect
        try:
            value = decipher(
                response.status, response.headers, response.body, expect, method=method,
                url=self.url, complete=response.complete, max_body=core.max_response_size,
            )  # fmt: skip
        except Exception as error:
            if isinstance(error, RateLimitError):
                core.stats.rate_limited += 1
            self._pause(error)
            self.last_error = error
            raise
        if type(expect) is Unparsed:
            return raw_response(response, expect.inner, method=method, url=self.url)
        return value

    def _timeout(self) -> aiohttp.ClientTimeout:
        """The attempt's timeout, cut to what is left of the request's budget."""
        timeout = self.view.timeout
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
        cap = (self.view.retry or _DEFAULT_POLICY).max_retry_after
        if getattr(error, "status", None) == 503 and delay is not None and 0 < delay <= cap:
            self.core.throttle.pause(delay, reason="503")
