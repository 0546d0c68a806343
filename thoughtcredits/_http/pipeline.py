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
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from .._exceptions import (
    CHANGING_METHODS,
    APIConnectionError,
    AuthenticationError,
    ClientClosedError,
    RateLimitError,
)
from .._logs import log_exchange
from .._serde.exact_json import dumps
from .._transports.base import HTTPRequest, RequestContext, case_insensitive
from .endpoint import Endpoint
from .failures import new_key, retry_plan, settle
from .interpreter import Expect, Listing, Unparsed, decipher
from .raw import raw_response
from .retry import Budget, BudgetExceeded, RetryPlan, RetryPolicy, refused
from .state import View

if TYPE_CHECKING:
    from .._telemetry.spans import ListingTrace, Operation

__all__ = ["call"]

R = TypeVar("R")

_DEFAULT_POLICY = RetryPolicy()


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
    core = request.core
    core.check_open()
    policy = request.view.retry
    # The budget starts when the request does (a prefetch may be created a moment earlier).
    request.budget = Budget(policy.timeout if policy is not None else math.inf)
    if core.telemetry is not None:  # its API is installed; no operation while no provider is set
        request.op = core.telemetry.operation(
            request.endpoint, core.base_url, core.base_path, request.listing
        )
    plan: RetryPlan | None = None  # made at the first failure: most requests never need one
    try:
        while True:
            try:
                value = await request.attempt()
            except Exception as error:
                if getattr(error, "applied", False) is None and request.outcome is False:
                    request.outcome = None  # this attempt may have landed, whatever comes next
                if request.new_key(error):
                    continue  # a 401 did nothing: resend at once with the callable's key
                plan = plan or request.plan()
                delay = plan.after(error)
                if delay is None:
                    raise
                if refused(error):  # one wait covers the pause its 429 began (read a moment apart)
                    delay = max(delay, core.throttle.paused_for())
            else:
                if request.op is not None:
                    request.op.end(None)
                return value
            await request.wait(delay, pause=False)
    except BaseException as error:  # a cancellation too: what the request did is said once
        applied = settle(error, request.method, request.path, request.outcome, request.in_flight)
        if request.op is not None:
            request.op.end(error, applied)
        raise


class _Request:
    """One request: its row, its URL and body, and what its attempts have seen so far."""

    __slots__ = ("attempts", "body", "budget", "core", "endpoint", "expect", "in_flight", "key",
                 "last_error", "listing", "method", "op", "outcome", "path", "refused", "sent",
                 "url", "view")  # fmt: skip

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
        self.attempts = 0
        self.last_error: Exception | None = None
        self.sent = False
        # What any attempt has shown the request did: False nothing, None maybe (an answer
        # lost after sending), True done (a 2xx whose body broke off); and whether its bytes
        # are with the transport now (a cancellation then may have landed).
        self.outcome: bool | None = False
        self.in_flight = False
        self.key: str | None = None  # the Authorization sent, when a callable gives the key
        self.refused: tuple[str, Exception] | None = None  # a 401's key and error, once asked again
        telemetry = self.core.telemetry
        # The listing this page belongs to is known only now, while the page is created.
        self.listing: ListingTrace | None = None if telemetry is None else telemetry.parent()
        self.op: Operation | None = None

    def plan(self) -> RetryPlan:
        """The request's retry plan, made at its first failure."""
        return retry_plan(self.core, self.view.retry, self.endpoint, self.path, self.budget)

    def new_key(self, error: Exception) -> bool:
        """After a 401, when the key comes from a callable: resend once, asking it again."""
        if self.core.keys is None or self.refused is not None:
            return False
        if not isinstance(error, AuthenticationError):
            return False
        self.refused = (self.key or "", error)  # (set once: a request resends once)
        new_key(self.core, self.method, self.path, self.attempts, self.budget.waited, error)
        return True

    async def wait(self, seconds: float, *, pause: bool) -> None:
        """Wait through the budget and the client's interruptible sleep."""
        if self.op is not None:  # an event of the operation's span: why, and how long
            paused = pause and self.core.throttle.quota.paused_until is not None
            why = "pause" if paused else "rate_limit" if pause else "retry"
            self.op.waited(seconds, why, None if pause else self.last_error)
        try:
            await self.budget.wait(seconds, self.core.sleep)
        except ClientClosedError:
            doing = "waited to retry" if self.last_error else "waited"
            raise self._closed(doing, self.sent) from self.last_error
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

    async def attempt(self) -> Any:
        """One attempt: the throttle's gate, the transport, the interpreter; the answer's value."""
        core, method, view = self.core, self.method, self.view
        self.attempts = number = self.attempts + 1
        throttle = core.throttle
        headers = view.json_headers if self.body is not None else view.headers
        permit = None
        if throttle.busy():  # most requests pass no gate at all: build no wait for them
            permit = await throttle.acquire(partial(self.wait, pause=True))
            core.stats.throttle_wait += permit.waited
        try:
            if core.keys is not None:  # asked now, after any wait, within the attempt's time
                limit = self._timeout().total
                self.key = key = await core.keys.authorization(limit, method, self.url)
                if self.refused is not None and key == self.refused[0]:
                    raise self.refused[1]  # the key a 401 refused: it would be refused again
                headers = {**headers, "Authorization": key}
            if core.closed:  # closed while it waited for a slot or its key: nothing is sent
                raise self._closed("waited", self.sent) from self.last_error
            request = HTTPRequest(
                method, self.url, headers, self.body, self._timeout(), core.max_response_size,
                RequestContext(method, self.path, number),
            )  # fmt: skip
            self.in_flight = True
            trace = None if self.op is None else self.op.attempt(self.url)
            if trace is None:
                response = await core.transport.send(request)
            else:  # the attempt's span, current while aiohttp sends (and ended if it raises)
                response = await trace.send(core.transport, request)
            self.in_flight = False
            if response.body_error and response.status < 300 and method in CHANGING_METHODS:
                self.outcome = True  # the status line says it was made; the body broke off
            response = case_insensitive(response)  # a custom transport may answer with a dict
            # A 429 refused the request: it was not acted on, whatever came before.
            self.sent = self.sent or response.status != 429
            throttle.observe(
                response.status, response.headers, permit,
                max_hold=(view.retry or _DEFAULT_POLICY).max_retry_after,
            )  # fmt: skip
        except APIConnectionError as exc:
            self.in_flight = False
            self.last_error = exc
            self.sent = self.sent or exc.request_sent
            if not core.closed or isinstance(exc, ClientClosedError):
                raise
            raise self._closed("was in flight", exc.request_sent) from exc
        finally:
            throttle.release(permit)
        core.stats.requests += 1
        log_exchange(method, self.path, number, response)
        expect = self.expect
        try:
            value = decipher(
                response.status, response.headers, response.body, expect, method=method,
                url=self.url, complete=response.complete, max_body=core.max_response_size,
                body_error=response.body_error, resend=self.endpoint.resend, sent=headers,
            )  # fmt: skip
        except Exception as error:
            if isinstance(error, RateLimitError):
                core.stats.rate_limited += 1
            self._pause(error)
            self.last_error = error
            if trace is not None:
                trace.end(response, error)
            raise
        if trace is not None:
            trace.end(response, None)
        if type(expect) is Unparsed:
            return raw_response(response, expect.inner, method=method, url=self.url)
        return value

    def _closed(self, doing: str, request_sent: bool) -> ClientClosedError:
        return ClientClosedError(
            f"the client was closed while this request {doing}",
            method=self.method,
            url=self.url,
            request_sent=request_sent,
        )

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
