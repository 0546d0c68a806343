"""``Client``: configuration, lifecycle, per-call views and the entry to the request pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from types import TracebackType
from typing import Any, Literal, TypeAlias

import aiohttp
from yarl import URL

from . import _args
from ._config import (
    DEFAULT_TIMEOUT,
    client_timeout,
    request_target,
    resolve_credentials,
    target,
)
from ._config import user_agent as _user_agent
from ._events import ClientStats, Hook, Quota, emit
from ._http.interpreter import Expect, RawJSON
from ._http.pipeline import Exchange, execute
from ._http.retry import RetryPolicy
from ._http.state import Core, Options
from ._quota.clock import Clock
from ._quota.rate_limit import RateLimit
from ._quota.redis_limit import RedisRateLimit
from ._quota.throttle import Throttle
from ._resources.credits import CreditAccounts, CreditActions, CreditBatches
from ._serde.exact_json import dumps
from ._transports.base import Secret, Transport
from ._transports.default import AiohttpTransport

__all__ = ["JSON", "Client"]

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | Decimal | bool | None
"""Decoded JSON as :meth:`Client.request` returns it: exact numbers, never ``float``."""

_DEFAULT_MAX_RESPONSE = 32 * 2**20


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
        transport: a :class:`Transport` to send through instead of aiohttp (e.g.
            ``thoughtcredits.testing.MockTransport``); not with ``session``.
        timeout: per-attempt timeout in seconds, or an ``aiohttp.ClientTimeout``.
        retry: the :class:`RetryPolicy`; ``None`` disables retries.
        default_headers: extra headers sent with every request.
        user_agent: text appended to the SDK's ``User-Agent``.
        rate_limit: a client-side :class:`RateLimit` shared by every task on this client, a
            :class:`RedisRateLimit` shared by every process using its key, ``"auto"`` (the
            default: learn the quota and pace from the server's ``X-RateLimit-*`` headers), or
            ``None`` to send as fast as the tasks ask.
        max_concurrency: the most requests in flight at once across all tasks.
        trace_configs: ``aiohttp.TraceConfig``s for the client's own session (OpenTelemetry,
            metrics); each request's ``trace_request_ctx`` is a :class:`RequestContext`.
        hooks: instrumentation hooks called with each :class:`RetryEvent` and
            :class:`PauseEvent`.
        max_response_size: the largest response body read, in bytes after decompression
            (32 MiB by default); a larger one raises :class:`ResponseTooLargeError`.
        pagination: how listings ask for the next page: ``"cursor"`` (the default) passes
            ``pageInfo.cursor``; ``"page"`` sends ``page=1, 2, 3…`` and never a cursor.
        max_empty_pages: a listing raises :class:`PaginationError` after this many empty
            pages in a row that each say ``hasMore: true`` (10 by default).
        sleep: the coroutine used to wait (a test can inject one that records delays).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        default_headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
        rate_limit: RateLimit | RedisRateLimit | Literal["auto"] | None = "auto",
        max_concurrency: int | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        hooks: Sequence[Hook] = (),
        max_response_size: int = _DEFAULT_MAX_RESPONSE,
        pagination: Literal["cursor", "page"] = "cursor",
        max_empty_pages: int = 10,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        base_url, key = resolve_credentials(base_url, api_key)
        if transport is not None and (session is not None or trace_configs):
            raise ValueError("transport: give session= and trace_configs= to the transport")
        if pagination not in ("cursor", "page"):
            raise ValueError(f"pagination: expected 'cursor' or 'page', got {pagination!r}")
        _args.integer("max_response_size", max_response_size, minimum=1)
        _args.integer("max_empty_pages", max_empty_pages, minimum=1)
        self._base_url = base_url
        self._base_path = URL(base_url).path
        self._authorization = Secret(f"Bearer {key}")
        self._agent = _user_agent(user_agent)
        self._pagination = pagination
        self._max_empty_pages = max_empty_pages
        self._owner = True
        self._parent: Client | None = None  # a view's owner, kept alive by the view
        hooks = tuple(hooks)
        clock = Clock()
        throttle = Throttle(
            rate_limit,
            max_concurrency,
            emit=lambda event: emit(hooks, event),
            clock=clock,
            scope=(base_url, key),
        )
        self._core = Core(
            transport or AiohttpTransport(session, trace_configs=trace_configs),
            throttle,
            clock=clock,
            sleep=sleep,
            hooks=hooks,
            max_response_size=max_response_size,
        )
        self._options = self._make_options(client_timeout(timeout), retry, default_headers or {})

    def _make_options(
        self, timeout: aiohttp.ClientTimeout, retry: RetryPolicy | None, extra: Mapping[str, str]
    ) -> Options:
        return Options.build(timeout, retry, extra, self._agent, self._authorization)

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout | None = None,
        retry: RetryPolicy | Literal["unchanged"] | None = "unchanged",
        headers: Mapping[str, str] | None = None,
    ) -> Client:
        """A view of this client with other per-call options.

        The view shares this client's session, transport, rate limiter, pause and stats; it
        needs no closing (closing this client closes it). Use it per call, e.g. a web route
        that must fail fast::

            fast = client.with_options(timeout=5, retry=tc.RetryPolicy(attempts=2, timeout=5))
            batches = [b async for b in fast.credit_batches.list(client_id)]

        Args:
            timeout: per-attempt timeout (seconds or ``aiohttp.ClientTimeout``).
            retry: a :class:`RetryPolicy`, or None to never retry.
            headers: extra headers, added to (and overriding) this client's.
        """
        view = object.__new__(Client)
        view.__dict__.update(
            {key: value for key, value in self.__dict__.items() if key not in _PER_VIEW}
        )
        view._owner = False
        # The view keeps its owner alive: the owner's __del__ would drop the shared session.
        view._parent = self._parent or self
        old = self._options
        extra = {**old.extra, **(headers or {})}
        view._options = view._make_options(
            old.timeout if timeout is None else client_timeout(timeout),
            old.retry if retry == "unchanged" else retry,
            extra,
        )
        return view

    def __repr__(self) -> str:
        return f"Client(base_url={self._base_url!r}, api_key='***')"

    @property
    def base_url(self) -> str:
        """The API root, ending in ``/incoming/v2``."""
        return self._base_url

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """The per-attempt timeout."""
        return self._options.timeout

    @property
    def retry(self) -> RetryPolicy | None:
        """The retry policy (None: never retry). Use :meth:`with_options` to change it."""
        return self._options.retry

    @property
    def pagination(self) -> Literal["cursor", "page"]:
        """How listings ask for the next page."""
        return self._pagination

    @property
    def stats(self) -> ClientStats:
        """Counters for this client: requests, retries, 429s, time waited on the limiter."""
        return self._core.stats

    @property
    def quota(self) -> Quota:
        """The key's quota as the latest ``X-RateLimit-*`` headers said (fields may be None)."""
        return self._core.throttle.quota

    @property
    def rate_limit(self) -> RateLimit | None:
        """The client-side limit in force: configured, or learned from the server."""
        return self._core.throttle.rate_limit

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
        self._core.check_open()
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
        return self._core.closed

    async def aclose(self) -> None:
        """Close the client: waiting requests fail at once; a borrowed session stays open.

        On a :meth:`with_options` view this does nothing: the client that made it owns the
        connections.
        """
        if self._owner:
            await self._core.close()

    def __del__(self) -> None:
        # Only warn and drop sockets synchronously: scheduling a close here is what makes
        # other SDKs print "Event loop is closed" at interpreter shutdown.
        core = self.__dict__.get("_core")
        if self.__dict__.get("_owner") and isinstance(core, Core):
            core.drop_if_leaked(self)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        json: object = None,
    ) -> JSON:
        """Call another endpoint of the API, e.g. ``GET /clients/:id/licenses``.

        It goes through the same rate limiter, retries and safety rules as the typed methods
        (a POST is not resent after a 5xx), and returns the decoded JSON, numbers exact.

        Args:
            method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``.
            path: the path after ``/incoming/v2``, e.g. ``f"/clients/{client_id}/licenses"``.
            query: query parameters.
            json: the JSON body (``Decimal`` amounts are written exactly).
        """
        method, segments = request_target(method, path)
        exchange = await self._send(method, segments, query=query, json=json, expect=RawJSON())
        return exchange.value  # type: ignore[no-any-return]

    def _send(
        self,
        method: str,
        segments: Sequence[str],
        *,
        query: Mapping[str, str] | None = None,
        json: object = None,
        expect: Expect,
    ) -> Coroutine[Any, Any, Exchange]:
        """Send one API request through the pipeline; await it for the interpreted answer."""
        # A plain function handing over execute's coroutine: one frame fewer per suspension.
        url, path = target(self._base_url, self._base_path, segments, query)
        body = None if json is None else dumps(json)
        return execute(self._core, self._options, method, url, path, body, expect)


# A view gets its own options and resource namespaces (which point back at the view).
_PER_VIEW = frozenset({"_options", "_owner", "credit_batches", "credit_actions", "credit_accounts"})
