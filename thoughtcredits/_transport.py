"""The transport seam: one HTTP exchange in, status + headers + bounded body out.

:class:`AiohttpTransport` is the only code in the SDK that touches aiohttp. It owns the
session (its own, or a borrowed one it never closes), every aiohttp private the SDK relies
on, and the mapping of aiohttp failures to :class:`APIConnectionError` with the "was it sent"
rule. Any object with the same ``send``/``aclose`` methods can replace it
(``Client(transport=...)``); ``thoughtcredits.testing.MockTransport`` answers from a function.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Protocol

import aiohttp
import attrs
from aiohttp.helpers import get_env_proxy_for_url
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._exceptions import APIConnectionError, APITimeoutError

__all__ = [
    "AiohttpTransport",
    "HTTPRequest",
    "HTTPResponse",
    "RequestContext",
    "Secret",
    "Transport",
    "connection_error",
    "scrubbed",
]

_CHUNK = 64 * 1024
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
    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False, factory=lambda: CIMultiDict[str]())
    body: bytes = attrs.field(default=b"", repr=False)
    complete: bool = True
    elapsed: float = 0.0


class Transport(Protocol):
    """What a client sends its requests through."""

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Make one exchange; raise :class:`APIConnectionError` when no response arrived."""
        ...

    async def aclose(self) -> None:
        """Release what the transport owns (it is not used again)."""
        ...


def connection_error(
    error: BaseException, method: str, url: str, elapsed: float
) -> APIConnectionError:
    """Our error for an aiohttp failure; ``request_sent`` False only when it provably was not.

    The message names the aiohttp error type only: aiohttp errors can carry the request's
    headers (``request_info``), and so the API key, in their text.
    """
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(
            f"timed out connecting after {elapsed:.1f}s", method=method, url=url, request_sent=False
        )
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return APITimeoutError(f"timed out after {elapsed:.1f}s", method=method, url=url)
    if isinstance(error, aiohttp.ClientSSLError):
        # Not "before sending" for retries: a certificate problem will not fix itself.
        return APIConnectionError(f"TLS error: {_describe(error)}", method=method, url=url)
    if isinstance(error, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"could not connect: {_describe(error)}", method=method, url=url, request_sent=False
        )
    return APIConnectionError(f"connection failed: {_describe(error)}", method=method, url=url)


def _describe(error: BaseException) -> str:
    if isinstance(error, aiohttp.ClientResponseError):
        # Its str() is safe, but its request_info holds our headers: say only what happened.
        return f"{type(error).__name__}: {error.status}, {error.message}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"{type(error).__name__}: {error.host}:{error.port}: {error.strerror}"
    return f"{type(error).__name__}: {error}"


def scrubbed(error: BaseException) -> BaseException:
    """``error`` fit to be a ``__cause__``: no request headers, no frames, no chained errors.

    aiohttp's ``request_info`` (and ``history``) hold the request's headers, and its frames'
    locals hold them too (``traceback`` with ``capture_locals=True`` would print the key).
    """
    if isinstance(error, aiohttp.ClientResponseError):
        info = error.request_info
        error.request_info = aiohttp.RequestInfo(
            info.url, info.method, CIMultiDictProxy(CIMultiDict()), info.real_url
        )
        error.history = ()
    error.__traceback__ = None
    error.__context__ = None
    error.__cause__ = None
    return error


class AiohttpTransport:
    """The default transport: an ``aiohttp.ClientSession``, created lazily or borrowed.

    Args:
        session: a session to borrow; it is used as it is and never closed. aiohttp's own
            silent re-send of a dropped GET/PUT stays on for a borrowed session.
        trace_configs: ``aiohttp.TraceConfig``s for the transport's own session.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        if session is not None and trace_configs:
            raise ValueError("trace_configs: give them to your own session, not the client")
        self._session = session
        self._owns_session = session is None
        self._trace_configs = list(trace_configs or ())
        self._proxies: dict[
            tuple[str, str | None, int | None], tuple[URL | None, aiohttp.BasicAuth | None]
        ] = {}

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use (None until the first request creates the transport's own)."""
        return self._session

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Created lazily inside the running loop; no await between check and set, so
            # concurrent first requests share one session. The proxy variables are read by
            # _proxy_for (as trust_env=True would), not by aiohttp on every request.
            self._session = aiohttp.ClientSession(trace_configs=self._trace_configs or None)
            # aiohttp silently re-sends a dropped GET/PUT once, outside RetryPolicy: then
            # retry=None would not mean "never" and attempts would not cap what is sent.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    def _proxy_for(self, url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` for ``url``'s origin, read once per origin.

        aiohttp's ``trust_env=True`` reads the same variables, but in a worker thread on every
        request, twice (the proxy, and ``~/.netrc``): that doubled each request's time. The
        netrc lookup is of no use here: the SDK sends its own ``Authorization``, and aiohttp
        refuses to combine the two. Only the SDK's own session reads them.
        """
        origin = (url.scheme, url.host, url.port)
        found = self._proxies.get(origin)
        if found is None:
            try:
                found = get_env_proxy_for_url(url)
            except LookupError:
                found = (None, None)
            self._proxies[origin] = found
        return found

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Make one exchange; read at most ``request.max_body`` body bytes."""
        session = self._get_session()
        url = URL(request.url, encoded=True)
        proxy, proxy_auth = self._proxy_for(url) if self._owns_session else (None, None)
        started = time.monotonic()
        failure: BaseException | None = None
        try:
            async with session.request(
                request.method,
                url,
                proxy=proxy,
                proxy_auth=proxy_auth,
                headers=request.headers,
                data=request.body,
                timeout=request.timeout,
                # POST/PUT must not be silently re-sent as GET by a 301/302.
                allow_redirects=request.method == "GET",
                # A borrowed session's raise_for_status must not turn a 429 into an error
                # that is never retried.
                raise_for_status=False,
                trace_request_ctx=request.context,
            ) as response:
                body, complete = await _read_bounded(response, request.max_body)
                return HTTPResponse(
                    response.status, response.headers, body, complete, time.monotonic() - started
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            failure = exc
        assert failure is not None
        # Raised outside the except block, so our error's __context__ is not the aiohttp one.
        elapsed = time.monotonic() - started
        error = connection_error(failure, request.method, request.url, elapsed)
        raise error from scrubbed(failure)

    async def aclose(self) -> None:
        """Close the session if the transport created it."""
        session, self._session = self._session, None
        if self._owns_session and session is not None and not session.closed:
            await session.close()

    def owns_open_session(self) -> bool:
        """True while the transport's own session is open (an unclosed client leaks it)."""
        return self._owns_session and self._session is not None and not self._session.closed

    def drop(self) -> None:
        """Drop the own session's sockets synchronously (for an unclosed, collected client)."""
        session = self._session
        if not self._owns_session or session is None or session.closed:
            return
        connector = session.connector
        session.detach()  # aiohttp would warn a second time about the same leak
        if connector is not None:
            connector._close()


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The body, read chunk by chunk (aiohttp inflates incrementally), stopping at ``limit``."""
    length = response.content_length
    if length is not None and length > limit and "Content-Encoding" not in response.headers:
        response.close()  # a declared size over the cap: do not read a byte of it
        return b"", False
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            return b"", False  # nothing of a body over the cap is used: free it at once
        chunks.append(chunk)
    return b"".join(chunks), True
