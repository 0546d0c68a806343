"""``FakeCreditsServer``: the credit endpoints of ``/incoming/v2`` over real HTTP.

Every API request passes, in order: the request log, the bearer-key check, the body size
limit, the rate limiter (when configured), ``latency``, injected faults, then the route.
Routes come from the endpoint table (:mod:`.table`), validate as the seed pages' parameter
tables say and answer with the seed pages' envelopes. The ``/_fake`` admin routes (see
:mod:`.admin`) skip the log, limiter and faults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Final

from aiohttp import web

from .._ledger.ledger import Ledger
from .._ledger.records import LedgerError, UnknownEntityError
from .._ledger.state import dump_ledger, load_ledger
from . import validate as v
from .admin import MAX_STATE_BODY, Admin
from .faults import Fault, FaultQueue, apply_fault
from .http import BODY, json_response, read_body, too_large
from .limits import LimiterSpec, limiter_for
from .log import DEFAULT_LOG_SIZE, RecordedRequest, RequestLog, capped_headers
from .render import dumps, envelope
from .table import API_PATH, ENDPOINTS, Endpoint

if TYPE_CHECKING:
    from typing import Unpack

    from thoughtcredits import Client, ClientOptions

__all__ = ["MAX_BODY", "FakeCreditsServer", "RecordedRequest"]

MAX_BODY: Final = 256 * 1024
"""Largest API request body accepted (413 beyond); credits bodies are a few hundred bytes."""
_MAX_ADMIN_BODY: Final = 1024 * 1024
_JSON: Final = "application/json"

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeCreditsServer:
    """A local, faithful credits API for tests, demos and benchmarks.

    Args:
        api_key: the only bearer key accepted (by the API and the ``/_fake`` routes).
        per_page: default page size (``perPage`` overrides it, up to 1000).
        rate_limit: the limiter per key: ``(per_minute, burst)`` or a :class:`TokenBucket`,
            a :class:`FixedWindow` or a :class:`SlidingWindow`; None disables it (and its
            ``X-RateLimit-*`` headers).
        latency: seconds added to every answer.
        ledger: the state to serve (a new empty :class:`Ledger` by default).
        clock: epoch seconds for the rate limiter and a new ledger; inject one in tests.
        strict_clients: answer 404 for a client id never registered, instead of
            registering it on first use.
        log_size: how many requests :attr:`requests` keeps (the oldest go first).
        on_request: called with each :class:`RecordedRequest` once it is answered.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        per_page: int = 100,
        rate_limit: tuple[int, int] | LimiterSpec | None = None,
        latency: float = 0.0,
        ledger: Ledger | None = None,
        clock: Callable[[], float] = time.time,
        strict_clients: bool = False,
        log_size: int = DEFAULT_LOG_SIZE,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ) -> None:
        if not 1 <= per_page <= v.MAX_PER_PAGE:
            raise ValueError(f"per_page: must be between 1 and {v.MAX_PER_PAGE}")
        self.api_key = api_key
        self.per_page = per_page
        self.latency = latency
        self.strict_clients = strict_clients
        self.ledger = Ledger(clock=clock) if ledger is None else ledger
        self.limiter = None if rate_limit is None else limiter_for(rate_limit, clock=clock)
        self.log = RequestLog(log_size)
        self.faults = FaultQueue()
        self.on_request = on_request
        self._bearer = f"Bearer {api_key}"
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._stopped = asyncio.Event()

    def __repr__(self) -> str:
        return f"FakeCreditsServer(url={self._url!r}, api_key='***')"

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (the SDK appends ``/incoming/v2``)."""
        if self._url is None:
            raise RuntimeError("FakeCreditsServer is not running; use 'async with' or start()")
        return self._url

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._url is not None

    @property
    def requests(self) -> list[RecordedRequest]:
        """The recorded API requests, oldest first (a copy; at most ``log_size``)."""
        return list(self.log)

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each answers the next ``count`` requests matching its route."""
        for fault in faults:
            self.faults.add(fault)

    def clear_faults(self) -> None:
        """Forget every injected fault not yet used up (``DELETE /_fake/faults``)."""
        self.faults.clear()

    def reset_requests(self) -> None:
        """Forget the recorded requests (``DELETE /_fake/requests``)."""
        self.log.clear()

    def reset(self) -> None:
        """Empty the ledger, the request log, pending faults and rate-limit buckets
        (``POST /_fake/reset``)."""
        self.ledger.replace(Ledger(clock=self.ledger.clock))
        self.log.clear()
        self.faults.clear()
        if self.limiter is not None:
            self.limiter.reset()

    def snapshot(self) -> dict[str, object]:
        """The whole ledger as JSON-able data (``GET /_fake/state``); see :meth:`load`."""
        return dump_ledger(self.ledger)

    def snapshot_json(self) -> bytes:
        """:meth:`snapshot` as JSON bytes, amounts written digit for digit."""
        return dumps(self.snapshot()).encode()

    def load(self, snapshot: object) -> None:
        """Replace the ledger with a :meth:`snapshot` (``PUT /_fake/state``), exactly:
        listings afterwards are byte-identical to those of the server it came from.

        Raises:
            StateError: a ``ValueError`` naming the snapshot's first problem (it is checked
                whole first); nothing changes.
        """
        load_ledger(snapshot, self.ledger)

    def client(self, **options: Unpack[ClientOptions]) -> Client:
        """A ``thoughtcredits.Client`` pointed at this server (close it when done); ``options``
        are any other ``Client`` arguments (``retry=``, ``sleep=``, ...)."""
        from thoughtcredits import Client

        mine: ClientOptions = {**options, "base_url": self.url, "api_key": self.api_key}
        return Client(**mine)

    def make_app(self) -> web.Application:
        """The aiohttp application (e.g. for ``aiohttp.test_utils``)."""
        # Bodies are read, within per-route limits, by the middleware itself.
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_STATE_BODY)
        for endpoint in ENDPOINTS:
            app.router.add_route(endpoint.method, f"{API_PATH}{endpoint.path}",
                                 self._serve(endpoint), name=endpoint.name)  # fmt: skip
        Admin(self).register(app)
        return app

    def _serve(self, endpoint: Endpoint) -> _Handler:
        async def handle(request: web.Request) -> web.StreamResponse:  # the row's envelope
            body = envelope(endpoint.operation, endpoint.handler(self, request))
            return web.Response(body=body, status=endpoint.status, content_type=_JSON)

        return handle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port); see :attr:`url`."""
        if self._runner is not None:
            raise RuntimeError("FakeCreditsServer is already running")
        runner = web.AppRunner(
            self.make_app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._stopped.clear()
        self._url = f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}"

    async def stop(self) -> None:
        """Close the listener and every connection; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._url = None
        self._stopped.set()

    async def serve_forever(self) -> None:
        """Wait until :meth:`stop` is called (e.g. from a signal handler); for a CLI."""
        if self._runner is None:
            raise RuntimeError("call start() before serve_forever()")
        await self._stopped.wait()

    async def __aenter__(self) -> FakeCreditsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        authorized = request.headers.get("Authorization") == self._bearer
        if route is not None and route.startswith("fake."):
            return await self._admin(request, handler, authorized)
        record = RecordedRequest(
            request.method, request.path, dict(request.query), capped_headers(request.headers),
            b"", None, route,
        )  # fmt: skip
        self.log.append(record)
        response = await self._answer(request, handler, record, authorized)
        record.status = 0 if record.fault == "drop" else response.status
        if self.on_request is not None:
            self.on_request(record)
        return response

    async def _admin(
        self, request: web.Request, handler: _Handler, authorized: bool
    ) -> web.StreamResponse:
        if not authorized:
            return web.Response(status=401)
        limit = MAX_STATE_BODY if request.method == "PUT" else _MAX_ADMIN_BODY
        raw = await read_body(request, limit)
        if raw is None:
            return too_large(limit, {})
        BODY.set(raw)
        return await self._route(request, handler, {})

    async def _answer(
        self, request: web.Request, handler: _Handler, record: RecordedRequest, authorized: bool
    ) -> web.StreamResponse:
        headers: dict[str, str] = {}
        if self.limiter is not None:
            # Buckets only for the server's own key: any other key gets a fresh bucket's
            # headers and is not remembered, so no caller can make the server grow.
            decision = self.limiter.take(self._bearer if authorized else None)
            headers = decision.headers()
            if not decision.allowed:
                return json_response(429, decision.body(), headers)
        if not authorized:
            return web.Response(status=401, headers=headers)  # the body is never read
        raw = await read_body(request, MAX_BODY)
        if raw is None:
            record.body_size = request.content_length or MAX_BODY + 1
            return too_large(MAX_BODY, headers)
        self.log.keep_body(record, raw)
        BODY.set(raw)
        if self.latency:
            await asyncio.sleep(self.latency)

        async def real() -> web.Response:
            return await self._route(request, handler, headers)

        fault = self.faults.take(record.route)
        if fault is None:
            return await real()
        record.fault = fault.kind
        return await apply_fault(fault, request, real, headers)

    async def _route(
        self, request: web.Request, handler: _Handler, headers: Mapping[str, str]
    ) -> web.Response:
        try:
            response = await handler(request)
        except UnknownEntityError as exc:
            return json_response(404, {"error": "not_found", "message": exc.problem}, headers)
        except LedgerError as exc:
            return json_response(400, {"error": "bad_request", "message": str(exc)}, headers)
        except web.HTTPException as exc:
            error = "not_found" if exc.status == 404 else exc.reason.lower().replace(" ", "_")
            message = f"{exc.reason}: {request.method} {request.path}"
            return json_response(exc.status, {"error": error, "message": message}, headers)
        assert isinstance(response, web.Response)
        response.headers.update(headers)
        return response
