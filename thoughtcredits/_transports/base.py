"""The transport seam's types: what the SDK hands a transport, and what it gets back.

Any object with :class:`Transport`'s ``send``/``aclose`` can stand in for the default
:class:`~thoughtcredits.AiohttpTransport` (``Client(transport=...)``), as httpx's transports do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from .._exceptions import APIConnectionError

__all__ = [
    "HTTPRequest",
    "HTTPResponse",
    "RequestContext",
    "Secret",
    "Transport",
    "case_insensitive",
]

_MULTIDICTS = (CIMultiDict, CIMultiDictProxy)

_DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=60)


class Secret(str):
    """A str whose ``repr`` never shows it: tracebacks with locals print ``'***'``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@attrs.frozen
class RequestContext:
    """What the SDK is doing, handed to aiohttp trace configs as ``trace_request_ctx``.

    Attributes:
        method: the HTTP method.
        path: the URL path, e.g. ``/incoming/v2/clients/…/creditBatches``.
        attempt: 1 for the first try, 2 for the first retry, and so on.
    """

    method: str
    path: str
    attempt: int


@attrs.frozen
class HTTPRequest:
    """One HTTP exchange to make, as the SDK built it.

    Attributes:
        method: ``GET``, ``POST`` or ``PUT``.
        url: the full, already-encoded URL.
        headers: every header to send (the ``Authorization`` value is a redacted str).
        body: the JSON body, or None.
        timeout: the per-attempt timeout.
        max_body: read at most this many (decompressed) body bytes.
        context: handed to aiohttp trace configs as ``trace_request_ctx``.
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes | None = attrs.field(default=None, repr=False)
    timeout: aiohttp.ClientTimeout = _DEFAULT_TIMEOUT
    max_body: int = 32 * 2**20
    context: RequestContext | None = None


@attrs.frozen
class HTTPResponse:
    """What came back: the status, the headers and the body read so far.

    Attributes:
        status: the HTTP status code.
        headers: the response headers.
        body: the (decompressed) body; empty when ``complete`` is False.
        complete: False when the body was longer than the request's ``max_body`` and the
            rest was not read.
        elapsed: seconds from sending to the end of reading.
        body_error: why the body could not be read to its end after the status line arrived
            (a dropped connection, a short ``Content-Length``, a cut chunk, a bad gzip stream,
            a timeout), or None. The status line still decides: a 2xx answer to a create was
            made on the server.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False, factory=lambda: CIMultiDict[str]())
    body: bytes = attrs.field(default=b"", repr=False)
    complete: bool = True
    elapsed: float = 0.0
    body_error: APIConnectionError | None = None


class Transport(Protocol):
    """What a client sends its requests through."""

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Make one exchange; raise :class:`APIConnectionError` when no status line arrived.

        When the status line arrived but the body broke off, return the response with the
        failure as its ``body_error``: the status says what the server did.
        """
        ...

    async def aclose(self) -> None:
        """Release what the transport owns (it is not used again)."""
        ...


def case_insensitive(response: HTTPResponse) -> HTTPResponse:
    """``response``, its headers made case-insensitive if a custom transport gave a plain dict."""
    if type(response.headers) is CIMultiDictProxy or isinstance(response.headers, _MULTIDICTS):
        return response
    return attrs.evolve(response, headers=CIMultiDictProxy(CIMultiDict(response.headers)))
