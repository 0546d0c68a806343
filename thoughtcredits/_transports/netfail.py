"""aiohttp failures as the SDK's errors, and the aiohttp error made fit to be their cause.

The rule that matters for money: ``request_sent`` is False only when the request provably
never left (a connect failure or connect timeout); anything else may have reached the server.
"""

from __future__ import annotations

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from .._exceptions import APIConnectionError, APITimeoutError
from .._printable import printable

__all__ = ["connection_error", "scrubbed"]

_MAX_DESCRIPTION = 300  # characters


def connection_error(
    error: BaseException, method: str, url: str, elapsed: float
) -> APIConnectionError:
    """Our error for an aiohttp failure; ``request_sent`` False only when it provably was not.

    The message names the aiohttp error type only: aiohttp errors can carry the request's
    headers (``request_info``), and so the API key, in their text.
    """
    if _redirect_failure(error):
        return APIConnectionError(
            f"redirect not followed: {_redirect(error)}", method=method, url=url
        )
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


def _redirect_failure(error: BaseException) -> bool:
    # The bare ValueError is aiohttp's for a redirect to "user:password@" (a certificate error
    # is a ValueError too, so the type is compared).
    return type(error) is ValueError or isinstance(
        error, aiohttp.TooManyRedirects | aiohttp.RedirectClientError
    )


def _redirect(error: BaseException) -> str:
    # Never the target itself: it may hold a user name and password.
    if isinstance(error, aiohttp.TooManyRedirects):
        return f"{len(error.history)} redirects in a row (a loop?)"
    if isinstance(error, aiohttp.NonHttpUrlRedirectClientError):
        return "the server redirected to a URL that is not http:// or https://"
    if isinstance(error, aiohttp.RedirectClientError):
        return "the server redirected to a location that is not a valid URL"
    return (
        "the server redirected to a URL with credentials (user:password@), which the SDK "
        "will not send beside the API key; set base_url to the address that answers"
    )


def _describe(error: BaseException) -> str:
    # One line, bounded: aiohttp's parser errors quote the server's bad line (up to 8 KiB) over
    # several lines, which would break every one-line log that shows the error.
    if isinstance(error, aiohttp.ClientResponseError):
        # Its str() is safe, but its request_info holds our headers: say only what happened.
        text = f"{type(error).__name__}: {error.status}, {error.message}"
    elif isinstance(error, aiohttp.ClientConnectorError):
        text = f"{type(error).__name__}: {error.host}:{error.port}: {error.strerror}"
    else:
        text = f"{type(error).__name__}: {error}"
    return printable(" ".join(text.split()), _MAX_DESCRIPTION)


def scrubbed(error: BaseException) -> BaseException | None:
    """``error`` fit to be a ``__cause__``: no request headers, no frames, no chained errors.

    aiohttp's ``request_info`` (and ``history``) hold the request's headers, and its frames'
    locals hold them too (``traceback`` with ``capture_locals=True`` would print the key).
    None for a redirect to a bad location: its text is the target, which may hold a password.
    """
    if isinstance(error, aiohttp.RedirectClientError):
        return None
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
