"""``MockTransport``: answer a client's requests from a function, with no socket at all.

httpx's ``MockTransport`` idea for this SDK: pass it as ``Client(transport=...)``. The handler
gets each :class:`thoughtcredits.HTTPRequest` and returns a :class:`thoughtcredits.HTTPResponse`
(built by hand or with :func:`json_response`), or raises an ``APIConnectionError`` to act out
a dropped connection. Everything above the transport (limiter, retries, interpreter) runs as
it does against a real server::

    def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
        return json_response({"data": {"CreateCreditBatch": {...}}}, status=201)

    async with tc.Client("https://acme.example", "key", transport=MockTransport(handler)):
        ...
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping

from multidict import CIMultiDict, CIMultiDictProxy

from .._serde.exact_json import dumps
from .base import HTTPRequest, HTTPResponse

__all__ = ["MockTransport", "json_response"]

Handler = Callable[[HTTPRequest], HTTPResponse | Awaitable[HTTPResponse]]


def json_response(
    body: object,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTTPResponse:
    """An :class:`HTTPResponse` whose body is ``body`` as JSON (bytes are sent as they are)."""
    raw = body if isinstance(body, bytes) else dumps(body)  # Decimals digit for digit
    merged = CIMultiDict({"Content-Type": "application/json", **(headers or {})})
    return HTTPResponse(status, CIMultiDictProxy(merged), raw)


class MockTransport:
    """A transport that calls ``handler`` for each request and records what was sent.

    Attributes:
        requests: every :class:`HTTPRequest` received, in order.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[HTTPRequest] = []
        self.closed = False

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Record ``request`` and answer it with the handler."""
        self.requests.append(request)
        answer = self._handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed."""
        self.closed = True
