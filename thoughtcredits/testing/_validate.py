"""Request checks for the fake server, as the seed pages' parameter tables say.

Each check raises :class:`BadRequestError` naming the wire field, which the server sends as
``400 {"error": "bad_request", "message": "<field>: <problem>"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from ._records import Amount, exact_amount

__all__ = [
    "MAX_PER_PAGE",
    "BadRequestError",
    "body_object",
    "decode_cursor",
    "encode_cursor",
    "integer",
    "number",
    "optional",
    "page_window",
    "query_int",
    "required",
    "string",
    "string_list",
    "timestamp",
    "uuid_value",
]

T = TypeVar("T")

MAX_PER_PAGE: Final = 1000
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


class BadRequestError(Exception):
    """A request the API would answer with 400."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name}")


def body_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body; non-integers decode as exact ``Decimal``."""
    try:
        value = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError("body", f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BadRequestError("body", "must be a JSON object")
    return value


def optional(body: Mapping[str, Any], name: str, check: Any) -> Any:
    """``check(name, value)`` when the field is present and not null, else None."""
    value = body.get(name)
    return None if value is None else check(name, value)


def required(body: Mapping[str, Any], name: str, check: Any) -> Any:
    """``check(name, value)``; a missing or null field is refused."""
    value = body.get(name)
    if value is None:
        raise BadRequestError(name, "required")
    return check(name, value)


def uuid_value(name: str, value: object) -> str:
    """A canonical lowercase UUID string."""
    if not isinstance(value, str):
        raise BadRequestError(name, f"must be a UUID string, got {_kind(value)}")
    if not _UUID.match(value):
        raise BadRequestError(name, f"not a valid UUID: {value[:60]!r}")
    return value.lower()


def number(name: str, value: object) -> Amount:
    """A JSON number (``int`` when integral, else ``Decimal``)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise BadRequestError(name, f"must be a number, got {_kind(value)}")
    return exact_amount(value)


def integer(name: str, value: object) -> int:
    """A JSON integer (``3.0`` is accepted as 3)."""
    result = number(name, value)
    if not isinstance(result, int):
        raise BadRequestError(name, f"must be an integer, got {value}")
    return result


def string(name: str, value: object) -> str:
    """A JSON string."""
    if not isinstance(value, str):
        raise BadRequestError(name, f"must be a string, got {_kind(value)}")
    return value


def string_list(name: str, value: object) -> list[str]:
    """A JSON array of strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequestError(name, f"must be an array of strings, got {_kind(value)}")
    return list(value)


def timestamp(name: str, value: object) -> datetime:
    """An ISO 8601 timestamp (naive means UTC)."""
    try:
        parsed = datetime.fromisoformat(string(name, value))
    except ValueError:
        raise BadRequestError(name, f"not an ISO 8601 timestamp: {str(value)[:60]!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def query_int(query: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    """An integer query parameter of at least ``minimum``, or None when absent."""
    raw = query.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.strip().lstrip("-").isdigit():
        raise BadRequestError(name, f"must be an integer, got {raw[:30]!r}")
    value = int(raw)
    if value < minimum:
        raise BadRequestError(name, f"must be at least {minimum}")
    return value


def encode_cursor(seq: int) -> str:
    """The opaque cursor meaning "after the item with this sort key"."""
    return base64.urlsafe_b64encode(str(seq).encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """The sort key inside a cursor from :func:`encode_cursor`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.isascii() and text.isdigit():
            return int(text)
    except (binascii.Error, ValueError):
        pass
    raise BadRequestError("cursor", f"not a valid cursor: {cursor[:60]!r}")


def page_window(
    items: Sequence[T],
    seq_of: Any,
    query: Mapping[str, str],
    default_per_page: int,
) -> tuple[Sequence[T], int, str | None, bool]:
    """The requested page of ``items`` (sorted by ``seq_of``): items, perPage, cursor, hasMore.

    ``cursor`` (after that key) wins over ``page`` (1-indexed); the cursor returned is that
    of the page's last item, so it stays valid while items are added.
    """
    per_page = min(query_int(query, "perPage", minimum=1) or default_per_page, MAX_PER_PAGE)
    page = query_int(query, "page", minimum=1)
    cursor = query.get("cursor")
    if cursor:
        start = bisect_right(items, decode_cursor(cursor), key=seq_of)
    else:
        start = ((page or 1) - 1) * per_page
    window = items[start : start + per_page]
    next_cursor = encode_cursor(seq_of(window[-1])) if window else None
    return window, per_page, next_cursor, start + per_page < len(items)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        Decimal: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)
