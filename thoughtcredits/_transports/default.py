"""The transport seam: one HTTP exchange in, status + headers + bounded body out.

:class:`AiohttpTransport` is the only code in the SDK that touches aiohttp. It owns the
session (its own, or a borrowed one it never closes) and every aiohttp private the SDK
relies on; ``netfail`` maps aiohttp failures to :class:`APIConnectionError` with the "was it
sent" rule. Any object with the same ``send``/``aclose`` methods can replace it
(``Client(transport=...)``); ``thoughtcredits.testing.MockTransport`` answers from a function.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import SplitResult

import aiohttp
from aiohttp import hdrs
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from .base import HTTPRequest, HTTPResponse
from .netfail import connection_error, scrubbed

__all__ = ["AiohttpTransport"]

_CHUNK = 64 * 1024
_CREDENTIALS_IN_URL = "credentials encoded in URL"
_CACHED_URL = 2048


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
        if session is not None and (session.closed or session.auth is not None):
            # aiohttp refuses a session's auth beside the client's Authorization, on every request
            raise ValueError("session: is closed" if session.closed else (
                "session: has auth=, but the client sends the API key as its own Authorization"
            ))  # fmt: skip
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
        # yarl caches what it parses: a long URL (a big cursor) is parsed outside that cache.
        text = request.url
        url = URL(text, encoded=True) if len(text) <= _CACHED_URL else _uncached_url(text)
        proxy, proxy_auth = self._proxy_for(url) if self._owns_session else (None, None)
        started = time.monotonic()
        failure: BaseException | None = None
        answered: aiohttp.ClientResponse | None = None  # once its status line has arrived
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
                answered = response
                length = response.content_length
                if length is not None and length <= request.max_body and not _encoded(response):
                    # aiohttp reads no more than the declared size (and no extra frame)
                    body, complete = await response.read(), True
                else:
                    body, complete = await _read_bounded(response, request.max_body)
                return HTTPResponse(
                    response.status, response.headers, body, complete, time.monotonic() - started
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            failure = exc
        except ValueError as exc:
            # aiohttp's one bare ValueError here: a redirect to "user:password@…", which it will
            # not send beside the client's Authorization (base URLs with credentials are refused).
            if _CREDENTIALS_IN_URL not in str(exc):
                raise
            failure = exc
        assert failure is not None
        # Built outside the except block, so our error's __context__ is not the aiohttp one.
        elapsed = time.monotonic() - started
        error = connection_error(failure, request.method, request.url, elapsed)
        error.__cause__, error.__suppress_context__ = scrubbed(failure), True
        if answered is not None:  # the body broke off: the status line still says what was done
            return HTTPResponse(
                answered.status, answered.headers, b"", True, elapsed, body_error=error
            )
        raise error

    async def aclose(self) -> None:
        """Close the session if the transport created it."""
        session, self._session = self._session, None
        if self._owns_session and session is not None and not session.closed:
            await session.close()

    def owns_open_session(self) -> bool:
        """True while the transport's own session was never closed by :meth:`aclose` (an
        unclosed client leaks it). Not ``session.closed``: when garbage collection finalizes
        aiohttp's connector before the client, the session reads as closed though nobody
        closed it, and the leak would go unreported."""
        return self._owns_session and self._session is not None

    def drop(self) -> None:
        """Drop the own session's sockets synchronously (for an unclosed, collected client)."""
        session = self._session
        if not self._owns_session or session is None or session.closed:
            return
        connector = session.connector
        session.detach()  # aiohttp would warn a second time about the same leak
        if connector is not None:
            connector._close()


def _uncached_url(text: str) -> URL:
    """``URL(text, encoded=True)`` left out of yarl's cache of the last 128 strings it parsed.

    A listing with 60 KiB cursors would leave megabytes behind in that cache. The URL is built
    as unpickling builds one: its bytes exactly as given.
    """
    head, _, query = text.partition("?")
    parts = URL(head, encoded=True)  # the scheme, host and path: short, and repeated
    url = URL()
    url.__setstate__((SplitResult(parts.scheme, parts.raw_authority, parts.raw_path, query, ""),))
    return url


def _encoded(response: aiohttp.ClientResponse) -> bool:
    # A compressed body's declared size says nothing of its inflated size.
    return hdrs.CONTENT_ENCODING in response.headers


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The body, read chunk by chunk (aiohttp inflates incrementally), stopping at ``limit``."""
    length = response.content_length
    if length is not None and length > limit and not _encoded(response):
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
