"""``FakeCreditsServer``: the five credit endpoints of ``/incoming/v2`` over real HTTP.

Every request passes, in order: the request log, the rate limiter (when configured), the
bearer-key check, ``latency``, injected faults, then the route. Routes validate as the seed
pages' parameter tables say and answer with the seed pages' envelopes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import _validate as v
from ._faults import Fault, FaultQueue, apply_fault
from ._ledger import Ledger
from ._limits import RateLimiter
from ._records import LedgerError, UnknownEntityError
from ._render import dumps
from ._routes import Routes

if TYPE_CHECKING:
    from thoughtcredits import Client

__all__ = ["FakeCreditsServer", "RecordedRequest"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class RecordedRequest:
    """One request as the server received it, and the status it answered (0: dropped)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    json: object = field(repr=False)
    route: str | None
    status: int = 0
    fault: str | None = None
    """The kind of the injected fault that answered it, if any."""


def _json_response(
    status: int, body: Mapping[str, object], headers: Mapping[str, str]
) -> web.Response:
    return web.Response(
        body=dumps(dict(body)).encode(),
        status=status,
        headers={**headers, "Content-Type": "application/json"},
    )


def _try_json(raw: bytes) -> object:
    if not raw:
        return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        return None


class FakeCreditsServer:
    """A local, faithful credits API for tests, demos and benchmarks.

    Args:
        api_key: the only bearer key accepted.
        per_page: default page size (``perPage`` overrides it, up to 1000).
        rate_limit: ``(per_minute, burst)`` for a token bucket per key; None disables it
            (and its ``X-RateLimit-*`` headers).
        latency: seconds added to every answer.
        ledger: the state to serve (a new empty :class:`Ledger` by default).
        clock: epoch seconds for the rate limiter and a new ledger; inject one in tests.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        per_page: int = 100,
        rate_limit: tuple[int, int] | None = None,
        latency: float = 0.0,
        ledger: Ledger | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= per_page <= v.MAX_PER_PAGE:
            raise ValueError(f"per_page: must be between 1 and {v.MAX_PER_PAGE}")
        self.api_key = api_key
        self.per_page = per_page
        self.latency = latency
        self.ledger = Ledger(clock=clock) if ledger is None else ledger
        self.limiter = None if rate_limit is None else RateLimiter(*rate_limit, clock=clock)
        self.requests: list[RecordedRequest] = []
        self.faults = FaultQueue()
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

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each answers the next ``count`` requests matching its route."""
        for fault in faults:
            self.faults.add(fault)

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        self.requests.clear()

    def client(self, **kwargs: Any) -> Client:
        """A ``thoughtcredits.Client`` pointed at this server (close it when done)."""
        from thoughtcredits import Client

        return Client(self.url, self.api_key, **kwargs)

    def make_app(self) -> web.Application:
        """The aiohttp application (e.g. for ``aiohttp.test_utils``)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=8 * 2**20)
        Routes(self).register(app)
        return app

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
        raw = await request.read()
        route = request.match_info.route.name
        record = RecordedRequest(
            request.method, request.path, dict(request.query), dict(request.headers), raw,
            _try_json(raw), route,
        )  # fmt: skip
        self.requests.append(record)
        response = await self._answer(request, handler, record)
        record.status = 0 if record.fault == "drop" else response.status
        return response

    async def _answer(
        self, request: web.Request, handler: _Handler, record: RecordedRequest
    ) -> web.StreamResponse:
        authorization = request.headers.get("Authorization", "")
        headers: dict[str, str] = {}
        if self.limiter is not None:
            decision = self.limiter.take(authorization)
            headers = decision.headers()
            if not decision.allowed:
                return _json_response(429, decision.body(), headers)
        if authorization != f"Bearer {self.api_key}":
            return web.Response(status=401, headers=headers)
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
        except v.BadRequestError as exc:
            return _json_response(400, {"error": "bad_request", "message": str(exc)}, headers)
        except UnknownEntityError as exc:
            return _json_response(404, {"error": "not_found", "message": exc.problem}, headers)
        except LedgerError as exc:
            return _json_response(400, {"error": "bad_request", "message": str(exc)}, headers)
        except web.HTTPException as exc:
            error = "not_found" if exc.status == 404 else exc.reason.lower().replace(" ", "_")
            message = f"{exc.reason}: {request.method} {request.path}"
            return _json_response(exc.status, {"error": error, "message": message}, headers)
        assert isinstance(response, web.Response)
        response.headers.update(headers)
        return response
