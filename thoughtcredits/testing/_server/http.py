"""Small HTTP helpers of the fake server: JSON answers and bounded body reads."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

from aiohttp import web

from .render import dumps

__all__ = ["BODY", "json_response", "read_body", "too_large"]

BODY: ContextVar[bytes] = ContextVar("thoughtcredits_fake_body", default=b"")
"""The body of the request being handled, read by the middleware within its size limit
(each request is handled in its own task, so this is per request)."""


def json_response(
    status: int, body: Mapping[str, object], headers: Mapping[str, str]
) -> web.Response:
    """A JSON answer with ``headers`` (e.g. the rate-limit ones)."""
    return web.Response(
        body=dumps(dict(body)).encode(),
        status=status,
        headers={**headers, "Content-Type": "application/json"},
    )


def too_large(limit: int, headers: Mapping[str, str]) -> web.Response:
    """The 413 for a body over ``limit`` bytes."""
    message = f"body: larger than {limit} bytes"
    return json_response(413, {"error": "payload_too_large", "message": message}, headers)


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be longer than ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = bytearray()
    async for chunk in request.content.iter_any():
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)
