"""The pure function that maps an HTTP error response to the exception tree.

It never fails on an empty, non-JSON or hostile body, and it reads the server's requested
delay: ``Retry-After`` (seconds or an HTTP date), then ``X-RateLimit-Reset``, then the body's
``retryAfter``. A delay of 0 or in the past is no delay (the caller backs off).
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
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

__all__ = ["error_from_response", "parse_retry_after"]

# Bodies are kept for debugging but never grow an exception without bound.
_MAX_BODY_IN_MESSAGE = 200
_YEAR = 366 * 86_400

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
    """Server text fit for a message: one line, bounded, valid Unicode."""
    text = " ".join(text.split()).encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= _MAX_BODY_IN_MESSAGE else text[:_MAX_BODY_IN_MESSAGE] + "…"


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), else None.

    Garbage, zero, negative, NaN and infinite values, and dates in the past, give None: the
    server gave no usable delay, so the caller backs off instead of retrying at once.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
        return seconds if seconds > 0 else None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def _retry_after(headers: CIMultiDict[str], body: object, now: float) -> float | None:
    """Server delay: ``Retry-After``, then ``X-RateLimit-Reset`` (epoch seconds), then body."""
    header = parse_retry_after(headers.get("Retry-After"), now=now)
    if header is not None:
        return header
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None:
        try:
            at = float(reset)
        except ValueError:
            at = math.nan
        if math.isfinite(at) and at - now > 0:
            return at - now
    if isinstance(body, dict):
        value = body.get("retryAfter")
        # Bounded before float(): a 4,000-digit integer would overflow it.
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and 0 < value < _YEAR:
            return float(value)
    return None


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    method: str,
    url: str,
    now: float | None = None,
) -> APIStatusError:
    """Build the typed error for a 4xx/5xx response. Never fails on empty or non-JSON bodies."""
    body = _decode_body(raw_body)
    headers = CIMultiDict(headers)  # case-insensitive, whatever mapping the caller passed
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    delay = None
    if status == 429 or (status == 503 and "Retry-After" in headers):
        delay = _retry_after(headers, body, datetime.now(UTC).timestamp() if now is None else now)
    return cls(
        _message(body, status) if not 300 <= status < 400 else _redirect(status, headers, method),
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
