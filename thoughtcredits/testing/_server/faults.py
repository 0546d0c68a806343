"""Fault injection for the fake server, and :class:`RecordingSleep` for clients under test.

A :class:`Fault` replaces the answer to the next ``count`` matching requests. ``when="after"``
applies a POST/PUT to the ledger first, so a test can prove the SDK never retries a request
the server already carried out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

from aiohttp import web

from .render import dumps
from .table import ROUTES

__all__ = [
    "ANSWERS",
    "ROUTES",
    "Fault",
    "FaultKind",
    "FaultQueue",
    "RecordingSleep",
    "apply_fault",
]

FaultKind = Literal[
    "status", "drop", "drop_mid_body", "truncate", "malformed", "html", "empty", "delay", "body"
]
_KINDS = frozenset(FaultKind.__args__)  # type: ignore[attr-defined]
_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Fault:
    """How to misbehave on the next ``count`` requests to ``route`` (None: any route).

    Args:
        kind: ``"status"`` (answer ``status`` with ``headers``/``body``), ``"drop"`` (close
            the connection without an answer), ``"drop_mid_body"`` (200 headers and half the
            body, then close), ``"truncate"`` (a complete 200 with half the JSON body),
            ``"malformed"`` (200, not JSON), ``"html"`` (200 ``text/html``), ``"empty"``
            (200, empty body), ``"delay"`` (wait ``delay`` seconds, then answer normally),
            ``"body"`` (200 with exactly ``body``).
        status: the status of a ``"status"`` fault.
        count: how many matching requests it applies to.
        route: a route name such as ``"list_credit_actions"``, or None for every route.
        headers: extra response headers.
        body: bytes, or a JSON-able value (``Decimal`` allowed). A ``"status"`` fault without
            one sends ``{"error": ..., "message": ...}`` (an empty body for 401).
        when: ``"before"`` leaves the ledger alone; ``"after"`` applies the request first.
            ``"drop_mid_body"`` and ``"truncate"`` cut the real answer, so they always apply it.
        delay: seconds to wait for a ``"delay"`` fault.
    """

    kind: FaultKind
    status: int = 500
    count: int = 1
    route: str | None = None
    headers: Mapping[str, str] | None = None
    body: object = None
    when: Literal["before", "after"] = "before"
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind: expected one of {sorted(_KINDS)}, got {self.kind!r}")
        if self.route is not None and self.route not in ROUTES:
            raise ValueError(f"route: expected one of {sorted(ROUTES)} or None, got {self.route!r}")
        if self.count < 1:
            raise ValueError("count: must be at least 1")
        if self.when not in ("before", "after"):
            raise ValueError(f"when: expected 'before' or 'after', got {self.when!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status: not an HTTP status: {self.status}")


@dataclass(slots=True)
class _Entry:
    fault: Fault
    remaining: int


@dataclass(slots=True)
class FaultQueue:
    """Injected faults in order, each with the number of requests it still applies to."""

    _pending: list[_Entry] = field(default_factory=list)

    def add(self, fault: Fault) -> None:
        """Queue a fault after those already injected."""
        self._pending.append(_Entry(fault, fault.count))

    def take(self, route: str | None) -> Fault | None:
        """The first queued fault matching ``route``, spending one of its uses."""
        for entry in self._pending:
            if entry.fault.route is None or entry.fault.route == route:
                entry.remaining -= 1
                if entry.remaining == 0:
                    self._pending.remove(entry)
                return entry.fault
        return None

    def pending(self) -> list[tuple[Fault, int]]:
        """The faults not yet used up, with their remaining counts."""
        return [(entry.fault, entry.remaining) for entry in self._pending]

    def clear(self) -> None:
        """Forget every injected fault."""
        self._pending.clear()


def _body_bytes(body: object) -> bytes:
    return body if isinstance(body, bytes) else dumps(body).encode()


def _default_status_body(status: int) -> bytes:
    if status == 401:
        return b""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    error = "rate_limit_exceeded" if status == 429 else phrase.lower().replace(" ", "_")
    return dumps({"error": error, "message": f"{phrase} (injected fault)"}).encode()


def _response(
    body: bytes, headers: dict[str, str], content_type: str | None, status: int = 200
) -> web.Response:
    if content_type is not None:
        headers.setdefault("Content-Type", content_type)
    return web.Response(body=body, status=status, headers=headers)


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=200)


Real = Callable[[], Awaitable[web.Response]]
"""Runs the route normally and returns its answer (the ledger change included)."""
_Answer = Callable[[Fault, web.Request, Real, dict[str, str]], Awaitable[web.StreamResponse]]


async def _delay(
    fault: Fault, request: web.Request, real: Real, headers: dict[str, str]
) -> web.StreamResponse:
    await asyncio.sleep(fault.delay)
    return await real()


async def _cut(
    fault: Fault, request: web.Request, real: Real, headers: dict[str, str]
) -> web.StreamResponse:
    response = await real()
    body = response.body if isinstance(response.body, bytes) else b""
    cut = body[: len(body) // 2]
    if fault.kind == "truncate":
        return _response(cut, headers, _JSON)
    stream = web.StreamResponse(status=200, headers={"Content-Type": _JSON, **headers})
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(cut)
    _drop(request)
    return stream


async def _instead(
    fault: Fault, request: web.Request, real: Real, headers: dict[str, str]
) -> web.StreamResponse:
    """The kinds that answer in the route's place, after running it when ``when="after"``."""
    if fault.when == "after":
        await real()
    return _replacement(fault, request, headers)


def _replacement(fault: Fault, request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    kind = fault.kind
    if kind == "drop":
        return _drop(request)
    if kind == "status":
        body = _body_bytes(fault.body) if fault.body is not None else b""
        if fault.body is None:
            body = _default_status_body(fault.status)
        return _response(body, headers, _JSON if body else None, fault.status)
    if kind == "malformed":
        return _response(b"not json {", headers, "text/plain")
    if kind == "html":
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return _response(page, headers, "text/html")
    if kind == "empty":
        return _response(b"", headers, _JSON)
    return _response(_body_bytes(fault.body), headers, _JSON)


ANSWERS: dict[str, _Answer] = {
    "delay": _delay, "drop_mid_body": _cut, "truncate": _cut, "drop": _instead,
    "status": _instead, "malformed": _instead, "html": _instead, "empty": _instead,
    "body": _instead,
}  # fmt: skip
"""How each kind answers. The extension point for a new kind (say, one that serves a listing
page with a shifted window, or writes to the ledger mid-listing): add it to ``FaultKind`` and
here; it gets the fault, the request, ``real`` (the route's own answer) and the headers."""


async def apply_fault(
    fault: Fault,
    request: web.Request,
    real: Real,
    headers: Mapping[str, str],
) -> web.StreamResponse:
    """Answer ``request`` as ``fault`` says; ``real()`` runs the route normally."""
    return await ANSWERS[fault.kind](fault, request, real, {**headers, **(fault.headers or {})})


class RecordingSleep:
    """A stand-in for ``asyncio.sleep`` that records each delay and returns at once.

    Pass it as ``Client(sleep=RecordingSleep())`` and assert on ``.calls`` afterwards.
    """

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        """Record ``seconds``; only yield to the event loop."""
        self.calls.append(seconds)
        await asyncio.sleep(0)

    @property
    def waits(self) -> list[float]:
        """The non-zero delays (a retry loop may also ask for 0 s)."""
        return [delay for delay in self.calls if delay > 0]

    @property
    def total(self) -> float:
        """The sum of every recorded delay."""
        return sum(self.calls)
