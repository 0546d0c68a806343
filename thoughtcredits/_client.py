"""``Client``: configuration, lifecycle, per-call views and the entry to the request pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from types import TracebackType
from typing import Literal, TypeAlias

import aiohttp
from yarl import URL

from . import _args
from ._args import NOT_GIVEN, NotGiven
from ._config import DEFAULT_TIMEOUT, client_timeout, resolve_credentials
from ._config import user_agent as _user_agent
from ._events import ClientStats, Hook, Quota, emit
from ._http.auth import KeySource
from ._http.endpoint import request_endpoint
from ._http.pipeline import call
from ._http.retry import RetryPolicy
from ._http.state import Core, View
from ._quota.clock import Clock
from ._quota.rate_limit import RateLimit
from ._quota.redis_limit import RedisRateLimit
from ._quota.throttle import Throttle
from ._resources.accounts import CreditAccounts
from ._resources.actions import CreditActions
from ._resources.batches import CreditBatches
from ._telemetry import TELEMETRY
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
        api_key: the REST API key, or a function (sync or async) that returns the current one:
            it is asked before every attempt, and once more after a 401, which is then resent.
            Defaults to ``$THOUGHTCREDITS_API_KEY``. Printable ASCII; never logged or traced.
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
        api_key: str | Callable[[], str | Awaitable[str]] | None = None,
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
        hooks = tuple(hooks)
        clock = Clock()
        throttle = Throttle(
            rate_limit,
            max_concurrency,
            emit=lambda event: emit(hooks, event),
            clock=clock,
            scope=(base_url, key if isinstance(key, str) else None),
        )
        core = Core(
            transport or AiohttpTransport(session, trace_configs=trace_configs),
            throttle,
            base_url=base_url,
            base_path=URL(base_url).path,
            agent=_user_agent(user_agent),
            authorization=Secret(f"Bearer {key}") if isinstance(key, str) else KeySource(key),
            pagination=pagination,
            max_empty_pages=max_empty_pages,
            clock=clock,
            sleep=sleep,
            hooks=hooks,
            max_response_size=max_response_size,
            telemetry=TELEMETRY,
        )
        extra = _args.header_map("default_headers", default_headers or {})
        self._view = View.build(core, client_timeout(timeout), retry, extra)
        self._owner: Client | None = None  # a view's: the client that made it, kept alive
        if TELEMETRY is not None:  # its quota and counters, as observable metrics
            TELEMETRY.watch(self)

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | NotGiven | None = NOT_GIVEN,
        headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
    ) -> Client:
        """A view of this client with other per-call options.

        The view shares this client's session, transport, rate limiter, pause and stats; it
        needs no closing (closing this client closes it). Use it per call, e.g. a web route
        that must fail fast::

            fast = client.with_options(timeout=5, retry=tc.RetryPolicy(attempts=2, timeout=5))
            batches = [b async for b in fast.credit_batches.list(client_id)]

        An option left out (``NOT_GIVEN``) keeps this client's; None means "none".

        Args:
            timeout: per-attempt timeout (seconds or ``aiohttp.ClientTimeout``); never None.
            retry: a :class:`RetryPolicy`, or None to never retry.
            headers: extra headers, added to (and overriding) this client's; None sends none
                of this client's extra headers.
        """
        old = self._view
        if timeout is None:
            raise ValueError("timeout: None would wait for ever; leave it out to keep the client's")
        if headers is None:
            extra: Mapping[str, str] = {}
        elif isinstance(headers, NotGiven):
            extra = old.extra
        else:
            extra = {**old.extra, **_args.header_map("headers", headers)}
        view = object.__new__(Client)
        view._view = View.build(
            old.core,
            old.timeout if isinstance(timeout, NotGiven) else client_timeout(timeout),
            old.retry if isinstance(retry, NotGiven) else retry,
            extra,
        )
        # The view keeps its owner alive: the owner's __del__ would drop the shared session.
        view._owner = self._owner or self
        return view

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, api_key='***')"

    @property
    def base_url(self) -> str:
        """The API root, ending in ``/incoming/v2``."""
        return self._view.core.base_url

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """The per-attempt timeout."""
        return self._view.timeout

    @property
    def retry(self) -> RetryPolicy | None:
        """The retry policy (None: never retry). Use :meth:`with_options` to change it."""
        return self._view.retry

    @property
    def pagination(self) -> Literal["cursor", "page"]:
        """How listings ask for the next page."""
        return self._view.core.pagination

    @property
    def stats(self) -> ClientStats:
        """Counters for this client: requests, retries, 429s, time waited on the limiter."""
        return self._view.core.stats

    @property
    def quota(self) -> Quota:
        """The key's quota as the latest ``X-RateLimit-*`` headers said (fields may be None)."""
        return self._view.core.throttle.quota

    @property
    def rate_limit(self) -> RateLimit | None:
        """The client-side limit in force: configured, or learned from the server."""
        return self._view.core.throttle.rate_limit

    @cached_property
    def credit_batches(self) -> CreditBatches:
        """List, create and update credit batches."""
        return CreditBatches(self._view)

    @cached_property
    def credit_actions(self) -> CreditActions:
        """List credit actions."""
        return CreditActions(self._view)

    @cached_property
    def credit_accounts(self) -> CreditAccounts:
        """Create credit accounts."""
        return CreditAccounts(self._view)

    async def __aenter__(self) -> Client:
        self._view.core.check_open()
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
        return self._view.core.closed

    async def aclose(self) -> None:
        """Close the client: waiting requests fail at once; a borrowed session stays open.

        On a :meth:`with_options` view this does nothing: the client that made it owns the
        connections.
        """
        if self._owner is None:
            await self._view.core.close()

    def __del__(self) -> None:
        # Only warn and drop sockets synchronously: scheduling a close here is what makes
        # other SDKs print "Event loop is closed" at interpreter shutdown.
        view = self.__dict__.get("_view")
        if self.__dict__.get("_owner", True) is None and isinstance(view, View):
            view.core.drop_if_leaked(self)

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
            query: query parameters (None: none).
            json: the JSON body (None: no body). Numbers are ``int`` or ``Decimal``, written
                exactly and within the SDK's bounds; a float is refused, for it is inexact.
        """
        endpoint = request_endpoint(method, path)
        params = _args.query_map("query", query)
        body = _args.json_body("json", json)
        try:
            answer = call(self._view, endpoint, query=params, body=body)
        except (TypeError, ValueError) as exc:  # the body: nothing was sent
            raise ValueError(f"json: cannot be sent as JSON: {exc}") from None
        result: JSON = await answer
        return result
