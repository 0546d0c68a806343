"""aiohttp failures as the SDK's errors, and the aiohttp error made fit to be their cause.

The rule that matters for money: ``request_sent`` is False only when the request provably
never left (a connect failure or connect timeout); anything else may have reached the server.
"""

from __future__ import annotations

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from .._exceptions import APIConnectionError, APITimeoutError

__all__ = ["connection_error", "scrubbed"]


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
