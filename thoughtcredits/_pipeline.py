"""One API request from start to answer: limiter, transport, interpreter and retry loop.

:class:`Core` is what a client and all of its ``with_options`` views share (the transport, the
throttle, the stats, the closed state); :class:`Options` is what a view may change. The only
waiting happens in :meth:`Core.sleep`, which :meth:`Core.close` interrupts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
import attrs
from tenacity import RetryCallState

from ._events import Hook, RetryEvent, emit
from ._exceptions import APIConnectionError, ClientClosedError, RateLimitError, ThoughtCreditsError
from ._ratelimit import ClientStats, Throttle
from ._response import Expect, decipher
from ._retry import Budget, BudgetExceeded, RetryPolicy, reason, retrying, should_retry
from ._transport import HTTPRequest, HTTPResponse, RequestContext, Transport

__all__ = ["Clock", "Core", "Exchange", "Options", "execute"]

logger = logging.getLogger("thoughtcredits")

_DEFAULT_POLICY = RetryPolicy()


@attrs.frozen
class Options:
    """What a ``with_options`` view may set; headers are built once per view."""

    timeout: aiohttp.ClientTimeout
    retry: RetryPolicy | None
    headers: Mapping[str, str]
    json_headers: Mapping[str, str]


class Clock:
    """Epoch seconds as the client's sleeps see them.

    A test's injected sleep returns at once; this clock then moves on to the moment the sleep
    was meant to end, so a shared pause that a request has waited out is over for everyone, as
    it would be for real (sleeps that overlap end together). With the real sleep they agree.
    """

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """The current time in epoch seconds."""
        return time.time() + self._offset

    def woke(self, wake_at: float) -> None:
        """A sleep meant to end at ``wake_at`` has returned: time is at least that now."""
        late = wake_at - self.now()
        if late > 0:
            self._offset += late


class Core:
    """The state a client shares with its views."""

    def __init__(
        self,
        transport: Transport,
        throttle: Throttle,
        *,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]],
        hooks: Sequence[Hook],
        max_response_size: int,
    ) -> None:
        self.transport = transport
        self.throttle = throttle
        self.stats = ClientStats()
        self.hooks = tuple(hooks)
        self.max_response_size = max_response_size
        self._sleep = sleep
        self.clock = clock
        self.closed = False
        self._closed_event = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()

    def check_open(self) -> None:
        """Raise ``RuntimeError`` once the client is closed."""
        if self.closed:
            raise RuntimeError("this thoughtcredits.Client is closed; create a new one")

    def track(self, task: asyncio.Task[Any]) -> None:
        """Remember a background task (a page prefetch) so close() can cancel it."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`ClientClosedError` as soon as the client closes."""
        if self.closed:
            raise ClientClosedError("the client was closed", method="", url="")
        wake_at = self.clock.now() + seconds
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        closer = asyncio.ensure_future(self._closed_event.wait())
        try:
            await asyncio.wait((sleeper, closer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, closer):
                task.cancel()
        if self.closed:
            raise ClientClosedError("the client was closed", method="", url="")
        sleeper.result()
        self.clock.woke(wake_at)

    async def close(self) -> None:
        """Wake every waiting request, cancel prefetches, close the throttle and transport."""
        if self.closed:
            return
        self.closed = True
        self._closed_event.set()
        tasks = [task for task in self.tasks if not task.done()]
        for task in tasks:
            task.cancel()
        # Prefetches end before the session closes, so none reads from a closed connection.
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.throttle.aclose()
        await self.transport.aclose()


@attrs.frozen
class Exchange:
    """What one successful request produced: the parsed value and the response behind it."""

    value: Any
    response: HTTPResponse
    url: str


async def execute(
    core: Core,
    options: Options,
    method: str,
    url: str,
    path: str,
    body: bytes | None,
    expect: Expect,
) -> Exchange:
    """Send one API request with the view's retries; return the interpreted 2xx answer."""
    core.check_open()
    policy = options.retry
    budget = Budget((policy or _DEFAULT_POLICY).timeout if policy else float("inf"))
    attempt = _Attempt(core, options, method, url, path, body, expect, budget)
    # Most requests succeed at once, so the first attempt skips building a tenacity loop.
    try:
        return await attempt(1)
    except Exception as error:
        if policy is None or core.closed or not should_retry(error, method, policy):
            _log_final_failure(error, method, path)
            raise
        first = error
    number = 0

    def on_retry(state: RetryCallState, error: BaseException, wait: float) -> None:
        core.stats.retries += 1
        _log_retry(method, path, state.attempt_number, policy.attempts, error, wait)
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
        _log_final_failure(error, method, path)
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


class _Attempt:
    """The attempts of one request, and the waits between them."""

    def __init__(
        self,
        core: Core,
        options: Options,
        method: str,
        url: str,
        path: str,
        body: bytes | None,
        expect: Expect,
        budget: Budget,
    ) -> None:
        self.core, self.options, self.budget = core, options, budget
        self.method, self.url, self.path, self.body, self.expect = method, url, path, body, expect
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

    async def __call__(self, number: int) -> Exchange:
        core, method = self.core, self.method
        throttle = core.throttle
        headers = self.options.json_headers if self.body is not None else self.options.headers
        request = HTTPRequest(
            method, self.url, headers, self.body, self.options.timeout, core.max_response_size,
            RequestContext(method, self.path, number),
        )  # fmt: skip
        core.stats.throttle_wait += await throttle.acquire(
            lambda seconds: self.wait(seconds, pause=True)
        )
        try:
            core.check_open()
            self.sent = True
            response = await core.transport.send(request)
            throttle.observe(response.status, response.headers)
        except APIConnectionError as exc:
            self.last_error = exc
            if not core.closed:
                raise
            raise ClientClosedError(
                "the client was closed while this request was in flight",
                method=method,
                url=self.url,
                request_sent=exc.request_sent,
            ) from exc
        finally:
            throttle.release()
        core.stats.requests += 1
        _log_exchange(method, self.path, number, response)
        try:
            value = decipher(
                response.status, response.headers, response.body, self.expect, method=method,
                url=self.url, complete=response.complete, max_body=core.max_response_size,
            )  # fmt: skip
        except RateLimitError as error:
            core.stats.rate_limited += 1
            self._pause(error)
            self.last_error = error
            raise
        except Exception as error:
            self._pause(error)
            self.last_error = error
            raise
        return Exchange(value, response, self.url)

    def _pause(self, error: Exception) -> None:
        # One 429 (or 503 with Retry-After) holds every task until the window resets; a delay
        # over the cap is not waited out by anyone (each request fails on its own answer).
        delay = getattr(error, "retry_after", None)
        cap = (self.options.retry or _DEFAULT_POLICY).max_retry_after
        if delay is not None and 0 < delay <= cap:
            self.core.throttle.pause(delay, reason="429")


def _log_exchange(method: str, path: str, attempt: int, response: HTTPResponse) -> None:
    """One DEBUG record per HTTP exchange, with structured fields (never headers or keys)."""
    if not logger.isEnabledFor(logging.DEBUG):
        return  # this runs per request: build nothing unless someone listens
    logger.debug(
        "%s %s -> %d (attempt %d, %.0f ms)",
        method,
        path,
        response.status,
        attempt,
        response.elapsed * 1000,
        extra={
            "tc_method": method,
            "tc_path": path,
            "tc_status": response.status,
            "tc_attempt": attempt,
            "tc_elapsed": response.elapsed,
            "tc_ratelimit_remaining": response.headers.get("X-RateLimit-Remaining"),
        },
    )


def _log_retry(
    method: str, path: str, attempt: int, attempts: int, error: BaseException, wait: float
) -> None:
    why = reason(error)
    logger.info(
        "retrying %s %s in %.2fs (attempt %d of %d failed: %s)",
        method,
        path,
        wait,
        attempt,
        attempts,
        why,
        extra={"tc_request": f"{method} {path}", "tc_attempt": attempt, "tc_wait": wait,
               "tc_reason": why},
    )  # fmt: skip


def _log_final_failure(error: Exception, method: str, path: str) -> None:
    """Log a failure that will not be retried when the request may have landed."""
    # A create that may have landed must leave a trace even though it is not retried.
    if isinstance(error, APIConnectionError) and error.request_sent and method != "GET":
        logger.warning(
            "%s %s failed after it may have reached the server (%s); not retried",
            method,
            path,
            type(error).__name__,
            extra={"tc_method": method, "tc_path": path, "tc_reason": type(error).__name__},
        )
