"""``Client``: configuration, session lifecycle, the retry loop and the one aiohttp call."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property
from types import TracebackType
from typing import Any, Literal

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ._config import DEFAULT_TIMEOUT, build_url, client_timeout, resolve_credentials
from ._config import user_agent as _user_agent
from ._credits import CreditAccounts, CreditActions, CreditBatches
from ._exceptions import (
    APIConnectionError,
    ResponseValidationError,
    error_from_response,
)
from ._ratelimit import ClientStats, RateLimit, Throttle
from ._resource import (
    RequestContext,
    Response,
    connection_error,
    log_exchange,
    log_final_failure,
)
from ._retry import RetryPolicy, retrying, should_retry
from ._wire import dumps, loads

__all__ = ["Client"]


class Client:
    """The async client for the Thought Industries credits API.

    Use one client for the whole application and share it between tasks::

        async with thoughtcredits.Client() as client:
            async for batch in client.credit_batches.list(client_id):
                ...

    Args:
        base_url: your instance, e.g. ``https://acme.thoughtindustries.com`` (``/incoming/v2``
            is added when missing). Defaults to ``$THOUGHTCREDITS_BASE_URL``.
        api_key: the REST API key. Defaults to ``$THOUGHTCREDITS_API_KEY``. Never logged.
        session: an ``aiohttp.ClientSession`` to borrow; it is never closed by the client.
            Without one, the client creates its own and closes it in :meth:`aclose`.
        timeout: per-attempt timeout in seconds, or an ``aiohttp.ClientTimeout``.
        retry: the :class:`RetryPolicy`; ``None`` disables retries.
        default_headers: extra headers sent with every request.
        user_agent: text appended to the SDK's ``User-Agent``.
        rate_limit: a client-side :class:`RateLimit` shared by every task on this client;
            ``"auto"`` (the default) learns it from the server's ``X-RateLimit-Limit``;
            ``None`` sends as fast as the tasks ask.
        max_concurrency: the most requests in flight at once across all tasks.
        trace_configs: ``aiohttp.TraceConfig``s for the client's own session (OpenTelemetry,
            metrics); each request's ``trace_request_ctx`` is a :class:`RequestContext`.
        sleep: the coroutine used to wait (a test can inject one that records delays).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        default_headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
        rate_limit: RateLimit | Literal["auto"] | None = "auto",
        max_concurrency: int | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url, api_key = resolve_credentials(base_url, api_key)
        self._base_path = URL(self.base_url).path
        if session is not None and trace_configs:
            raise ValueError("trace_configs: give them to your own session, not the client")
        self._authorization = f"Bearer {api_key}"
        self._trace_configs = list(trace_configs or ())
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self.timeout = client_timeout(timeout)
        self.retry = retry
        self._sleep = sleep
        self._headers = {
            **(default_headers or {}),
            "Accept": "application/json",
            "User-Agent": _user_agent(user_agent),
        }
        self._throttle = Throttle(
            rate_limit,
            max_concurrency,
            sleep=sleep,
            max_pause=(retry or RetryPolicy()).max_retry_after,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self.stats = ClientStats()
        """Counters for this client: requests, retries, 429s, time waited on the limiter."""

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, api_key='***')"

    @cached_property
    def credit_batches(self) -> CreditBatches:
        """List, create and update credit batches."""
        return CreditBatches(self)

    @cached_property
    def credit_actions(self) -> CreditActions:
        """List credit actions."""
        return CreditActions(self)

    @cached_property
    def credit_accounts(self) -> CreditAccounts:
        """Create credit accounts."""
        return CreditAccounts(self)

    async def __aenter__(self) -> Client:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` has run; requests then raise ``RuntimeError``."""
        return self._closed

    async def aclose(self) -> None:
        """Close the client and its own session (a borrowed session is left open)."""
        if self._closed:
            return
        self._closed = True
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        # Prefetches end before the session closes, so none reads from a closed connection.
        await asyncio.gather(*tasks, return_exceptions=True)
        session, self._session = self._session, None
        if self._owns_session and session is not None and not session.closed:
            await session.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        # Only warn and drop sockets synchronously: scheduling a close here is what makes
        # other SDKs print "Event loop is closed" at interpreter shutdown.
        session = getattr(self, "_session", None)
        if not getattr(self, "_owns_session", False) or session is None or session.closed:
            return
        _warn(
            "thoughtcredits.Client was not closed; use 'async with' or 'await aclose()'",
            ResourceWarning,
            source=self,
        )
        connector = session.connector
        session.detach()  # aiohttp would warn a second time about the same leak
        if connector is not None:
            connector._close()

    def _track(self, task: asyncio.Task[Any]) -> None:
        """Remember a background task (a page prefetch) so aclose() can cancel it."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this thoughtcredits.Client is closed; create a new one")

    def _get_session(self) -> aiohttp.ClientSession:
        self._check_open()
        if self._session is None:
            # Created lazily inside the running loop; no await between check and set,
            # so concurrent first requests share one session.
            self._session = aiohttp.ClientSession(trace_configs=self._trace_configs or None)
            # aiohttp silently re-sends a dropped GET/PUT once, outside RetryPolicy: then
            # retry=None would not mean "never" and attempts would not cap what is sent.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def _request(
        self,
        method: str,
        segments: Sequence[str],
        *,
        query: Mapping[str, str] | None = None,
        json: object = None,
    ) -> Response:
        """Send one API request with retries; return the decoded 2xx body."""
        self._check_open()
        url = build_url(self.base_url, segments, query)
        body = None if json is None else dumps(json)
        path = self._base_path + url[len(self.base_url) :].partition("?")[0]
        # Most requests succeed at once, so the first attempt skips building a tenacity loop.
        try:
            return await self._attempt(method, url, body, path, 1)
        except Exception as error:
            policy = self.retry
            if policy is None or self._closed or not should_retry(error, method, policy):
                log_final_failure(error, method, path)
                raise
            first = error
        attempt_number = 0
        async for attempt in retrying(
            policy,
            method,
            sleep=self._sleep,
            describe=f"{method} {path}",
            on_retry=self._on_retry,
            active=lambda: not self._closed,
        ):
            with attempt:
                attempt_number += 1
                if attempt_number == 1:
                    raise first  # replay attempt 1's failure: tenacity waits, then retries
                return await self._attempt(method, url, body, path, attempt_number)
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _on_retry(self, error: BaseException, delay: float) -> None:
        self.stats.retries += 1

    async def _attempt(
        self, method: str, url: str, body: bytes | None, path: str, attempt: int
    ) -> Response:
        context = RequestContext(method, path, attempt)
        await self._throttle.acquire(self.stats)
        try:
            self._check_open()
            started = time.monotonic()
            status, headers, raw = await self._send(method, url, body, context)
            # Before release(): tasks held back by an "auto" probe start with the limit known.
            self._throttle.observe(status, headers)
        except APIConnectionError as exc:
            if not self._closed:
                raise
            raise APIConnectionError(
                "the client was closed while this request was in flight",
                method=method,
                url=url,
                request_sent=exc.request_sent,
            ) from exc
        finally:
            self._throttle.release()
        self.stats.requests += 1
        log_exchange(context, status, time.monotonic() - started, headers)
        if status >= 300:
            error = error_from_response(status, headers, raw, method=method, url=url)
            if status == 429:
                self.stats.rate_limited += 1
            self._throttle.pause(error.retry_after)
            raise error
        try:
            # isspace() stops at the first byte; strip() would copy the whole page.
            decoded = loads(raw) if raw and not raw.isspace() else None
        except ValueError as exc:
            raise ResponseValidationError(
                f"response is not valid JSON: {exc}", method=method, url=url, body=raw[:200]
            ) from exc
        return Response(
            status=status, headers=headers, body=decoded, raw=raw, method=method, url=url
        )

    async def _send(
        self, method: str, url: str, body: bytes | None, context: RequestContext
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """The only code that touches aiohttp: one exchange, mapped to our errors."""
        headers = {**self._headers, "Authorization": self._authorization}
        if body is not None:
            headers["Content-Type"] = "application/json"
        session = self._get_session()
        started = time.monotonic()
        try:
            async with session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body,
                timeout=self.timeout,
                # POST/PUT must not be silently re-sent as GET by a 301/302.
                allow_redirects=method == "GET",
                trace_request_ctx=context,
            ) as response:
                raw = await response.read()
                return response.status, response.headers, raw
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise connection_error(exc, method, url, time.monotonic() - started) from exc
