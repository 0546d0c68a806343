"""The pure function that maps an HTTP error response to the exception tree.

It never fails on an empty, non-JSON or hostile body. The server's requested delay is read by
the quota's one reader of hints (:func:`~thoughtcredits._quota.hints.server_delay`):
``Retry-After`` (seconds or an HTTP date), then ``X-RateLimit-Reset``, then the body's
``retryAfter``. A delay of 0 or in the past is no delay (the caller backs off), and one more
than a day ahead (an epoch in milliseconds) is ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from decimal import Decimal

from multidict import CIMultiDict

from .._exceptions import (
    CHANGING_METHODS,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from .._printable import printable
from .._quota.hints import server_delay

__all__ = ["error_from_response"]

# Bodies are kept for debugging but never grow an exception without bound.
_MAX_BODY_IN_MESSAGE = 200

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _decode_body(raw: bytes) -> object:
    """JSON if it parses, else the text, else None for an empty body."""
    if not raw.strip():
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        # Exact numbers, as everywhere in the SDK; NaN and Infinity mean nothing here.
        return json.loads(text, parse_float=Decimal, parse_constant=lambda _: None)
    except (ValueError, RecursionError):  # a hostile, deeply nested body is kept as text
        return text


def _message(body: object, status: int) -> str:
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _short(value)
    if isinstance(body, str):
        return _short(body)
    if body is None:
        return "(empty body)"
    return f"HTTP {status}"


def _short(text: str) -> str:
    """Server text fit for a message: one line, bounded, no control character, valid Unicode."""
    return printable(" ".join(text.split()), _MAX_BODY_IN_MESSAGE)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    method: str,
    url: str,
    now: float | None = None,
    secret: str = "",
) -> APIStatusError:
    """Build the typed error for a 4xx/5xx response. Never fails on empty or non-JSON bodies.

    ``secret`` (the request's key) is never quoted from the server's text: a gateway that
    echoes the request's ``Authorization`` in its error would put it in logs, traces and (through
    the FastAPI handlers, which pass a 400's message on) the answer to an app's own caller.
    """
    body = _decode_body(raw_body)
    headers = CIMultiDict(headers)  # case-insensitive, whatever mapping the caller passed
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    delay = None
    if status == 429 or (status == 503 and "Retry-After" in headers):
        hint = server_delay(headers, body, wall=time.time() if now is None else now)
        delay = None if hint is None else hint.seconds
    redirect = 300 <= status < 400
    message = _redirect(status, headers, method) if redirect else _message(body, status)
    return cls(
        message.replace(secret, "***") if secret else message,
        status=status,
        body=body,
        headers=headers,
        method=method,
        url=url,
        retry_after=delay,
    )


def _redirect(status: int, headers: CIMultiDict[str], method: str) -> str:
    """Why a redirect ends the request: a create or update is never sent anywhere else."""
    location = headers.get("Location")
    where = f" to {_short(_without_userinfo(location))}" if location else ""
    if method not in CHANGING_METHODS:
        return f"redirected{where}, and not followed"
    acted = " (a 303 See Other usually means the server acted on it)" if status == 303 else ""
    return (
        f"redirected{where}{acted}; not followed: the SDK sends a {method} only to the "
        "address it was given"
    )


def _without_userinfo(location: str) -> str:
    """``location`` without a ``user:password@`` part, which is not for messages."""
    if "@" not in location:
        return location
    scheme, sep, rest = location.partition("//")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return location
    authority, slash, path = rest.partition("/")
    return f"{scheme}//{authority.rpartition('@')[2]}{slash}{path}"
