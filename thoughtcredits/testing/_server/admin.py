"""The ``/_fake`` admin routes: control the server from any process or language.

Behind the same bearer key as the API; never rate limited, faulted or logged, so a test can
reset, arrange and inspect without changing what it inspects. Each route has a Python
equivalent on :class:`FakeCreditsServer` (``reset()``, ``snapshot()``, ``load()``, ...).
"""

from __future__ import annotations

from typing import Final, Protocol

from aiohttp import web

from .._ledger import fields as f
from .._ledger.ledger import Ledger
from .._ledger.state import StateError
from . import validate as v
from .fault_json import fault_from_json, fault_to_json
from .faults import Fault, FaultQueue
from .http import BODY
from .jsonio import JSONError, loads
from .log import RequestLog
from .openapi import openapi
from .render import dumps

__all__ = ["ADMIN_PATH", "MAX_STATE_BODY", "Admin", "Controlled"]

ADMIN_PATH: Final = "/_fake"
MAX_STATE_BODY: Final = 256 * 2**20
"""Largest snapshot ``PUT /_fake/state`` accepts (a million actions is about 150 MB)."""


def _json(value: object, status: int = 200) -> web.Response:
    return web.Response(body=dumps(value).encode(), status=status, content_type="application/json")


def _bad(message: str) -> web.Response:
    return _json({"error": "bad_request", "message": message}, 400)


def _flag(raw: str | None) -> bool:
    return raw is not None and raw.lower() in ("1", "true", "yes")


class Controlled(Protocol):
    """What the admin routes drive: a ``FakeCreditsServer``."""

    api_key: str
    ledger: Ledger
    log: RequestLog
    faults: FaultQueue

    @property
    def url(self) -> str: ...

    def reset(self) -> None: ...

    def snapshot(self) -> dict[str, object]: ...

    def load(self, snapshot: object) -> None: ...

    def inject(self, *faults: Fault) -> None: ...

    def reset_requests(self) -> None: ...


class Admin:
    """The admin handlers of one server."""

    def __init__(self, server: Controlled) -> None:
        self._server = server

    def register(self, app: web.Application) -> None:
        """Add the ``/_fake`` routes (named ``fake.*``)."""
        routes = [
            ("POST", "/reset", self._reset),
            ("GET", "/state", self._get_state),
            ("PUT", "/state", self._put_state),
            ("GET", "/requests", self._get_requests),
            ("DELETE", "/requests", self._delete_requests),
            ("GET", "/faults", self._get_faults),
            ("POST", "/faults", self._post_fault),
            ("DELETE", "/faults", self._delete_faults),
            ("POST", "/clients", self._post_client),
            ("GET", "/openapi.json", self._openapi),
        ]
        for method, path, handler in routes:
            name = f"fake.{method.lower()}.{path.strip('/').replace('.', '_')}"
            app.router.add_route(method, f"{ADMIN_PATH}{path}", handler, name=name)

    @staticmethod
    def _body(request: web.Request) -> object:
        raw: bytes = BODY.get()
        if not raw.strip():
            return None
        try:
            return loads(raw)
        except JSONError as exc:
            raise f.FieldError("body", f"not valid JSON ({exc})") from None

    async def _reset(self, request: web.Request) -> web.Response:
        self._server.reset()
        return web.Response(status=204)

    async def _get_state(self, request: web.Request) -> web.Response:
        return _json(self._server.snapshot())

    async def _put_state(self, request: web.Request) -> web.Response:
        try:
            self._server.load(self._body(request))
        except StateError as exc:
            return _bad(str(exc))
        ledger = self._server.ledger
        actions = sum(len(rows) for a in ledger.accounts.values() for rows in a.actions.values())
        return _json({
            "clients": len(ledger.clients), "creditAccounts": len(ledger.accounts),
            "creditBatches": len(ledger.batches), "creditActions": actions,
        })  # fmt: skip

    async def _get_requests(self, request: web.Request) -> web.Response:
        limit = v.query_int(request.query, "limit", minimum=0)
        log = self._server.log
        secret = self._server.api_key
        bodies = _flag(request.query.get("bodies"))
        entries = [r.to_json(bodies=bodies, secret=secret) for r in log.recent(limit)]
        return _json({"total": log.total, "kept": log.size, "requests": entries})

    async def _delete_requests(self, request: web.Request) -> web.Response:
        self._server.reset_requests()
        return web.Response(status=204)

    async def _get_faults(self, request: web.Request) -> web.Response:
        pending = [fault_to_json(f, left) for f, left in self._server.faults.pending()]
        return _json({"faults": pending})

    async def _post_fault(self, request: web.Request) -> web.Response:
        try:
            fault = fault_from_json(self._body(request))
        except ValueError as exc:
            return _bad(str(exc))
        self._server.inject(fault)
        return _json(fault_to_json(fault, fault.count), 201)

    async def _delete_faults(self, request: web.Request) -> web.Response:
        self._server.faults.clear()
        return web.Response(status=204)

    async def _post_client(self, request: web.Request) -> web.Response:
        body = self._body(request)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return _bad("body: must be a JSON object")
        unknown = sorted(set(body) - {"id", "adminUserId"})
        if unknown:
            return _bad(f"body: unknown fields {unknown}; expected id, adminUserId")
        client_id = v.optional(body, "id", f.uuid_value)
        admin = v.optional(body, "adminUserId", f.uuid_value)
        ledger = self._server.ledger
        existed = client_id in ledger.clients
        record = ledger.client(ledger.add_client(client_id, admin_user_id=admin))
        if existed and admin is not None and record.admin_user_id != admin:
            return _bad(f"adminUserId: client {client_id} already has another admin user")
        return _json(
            {"id": record.id, "adminUserId": record.admin_user_id}, 200 if existed else 201
        )

    async def _openapi(self, request: web.Request) -> web.Response:
        return _json(openapi(self._server.url))
