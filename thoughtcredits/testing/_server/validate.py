"""Request checks for the fake server, as the seed pages' parameter tables say.

Each check raises :class:`BadRequestError` naming the wire field, which the server sends as
``400 {"error": "bad_request", "message": "<field>: <problem>"}``.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from .._ledger.records import Amount, exact_amount
from .jsonio import JSONError, loads

__all__ = [
    "MAX_DECIMALS",
    "MAX_INTEGER_DIGITS",
    "MAX_INT_DIGITS",
    "MAX_PER_PAGE",
    "UUID_PATTERN",
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
MAX_INTEGER_DIGITS: Final = 30
"""Amounts have at most 30 digits before the point (``Decimal.adjusted() <= 29``), the bound
the SDK checks before sending and on what it reads, so the two always agree."""
MAX_DECIMALS: Final = 12
"""... and at most 12 significant decimal places."""
MAX_INT_DIGITS: Final = 18
"""Integer fields and query parameters have at most 18 digits."""
_MAX_DIGITS: Final = 100
_QUERY_INT: Final = re.compile(rf"-?[0-9]{{1,{MAX_INT_DIGITS}}}\Z", re.ASCII)
_CURSOR: Final = re.compile(
    rf"([0-9]{{1,{MAX_INT_DIGITS}}})(?:\.([0-9]{{1,{MAX_INT_DIGITS}}}))?", re.ASCII
)
UUID_PATTERN: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


class BadRequestError(Exception):
    """A request the API would answer with 400."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def body_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body; non-integers decode as exact ``Decimal``."""
    try:
        value = loads(raw)
    except JSONError as exc:
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
    if not UUID_PATTERN.match(value):
        raise BadRequestError(name, f"not a valid UUID: {value[:60]!r}")
    return value.lower()


def _show(value: Decimal | int) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


def number(name: str, value: object) -> Amount:
    """A JSON number (``int`` when integral, else ``Decimal``) within the amount bounds.

    Checked on the ``Decimal`` before any conversion to ``int``: ``1e700000`` is refused
    in microseconds instead of being expanded to 700,000 digits.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise BadRequestError(name, f"must be a number, got {_kind(value)}")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_INTEGER_DIGITS:
            raise BadRequestError(name, f"too large: more than {MAX_INTEGER_DIGITS} digits")
        return value
    if not value.is_finite():
        raise BadRequestError(name, "must be a finite number")
    _, digits, exponent = value.as_tuple()
    if len(digits) > _MAX_DIGITS:
        raise BadRequestError(name, f"too many digits ({_show(value)})")
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise BadRequestError(
            name, f"too large: more than {MAX_INTEGER_DIGITS} digits ({_show(value)})"
        )
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    assert isinstance(exponent, int)  # finite
    if value and exponent + trailing_zeros < -MAX_DECIMALS:
        raise BadRequestError(name, f"more than {MAX_DECIMALS} decimal places ({_show(value)})")
    return exact_amount(value)


def integer(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A JSON integer (``3.0`` is accepted as 3) of at most 18 digits, within the bounds."""
    result = number(name, value)
    if not isinstance(result, int):
        raise BadRequestError(name, f"must be an integer, got {_show(result)}")
    if abs(result) >= 10**MAX_INT_DIGITS:
        raise BadRequestError(name, f"too large: more than {MAX_INT_DIGITS} digits")
    if minimum is not None and result < minimum:
        raise BadRequestError(name, f"must be at least {minimum}")
    if maximum is not None and result > maximum:
        raise BadRequestError(name, f"must be at most {maximum}")
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
    text = string(name, value)
    try:
        parsed = datetime.fromisoformat(text)
        # The UTC moment must exist too: 9999-12-31T23:00-05:00 is past datetime's range.
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequestError(name, f"not an ISO 8601 timestamp: {text[:60]!r}") from None


def query_int(query: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    """An integer query parameter of at least ``minimum``, or None when absent."""
    raw = query.get(name)
    if raw is None:
        return None
    if not _QUERY_INT.match(raw):
        raise BadRequestError(
            name, f"must be an integer of at most {MAX_INT_DIGITS} digits, got {raw[:30]!r}"
        )
    value = int(raw)
    if value < minimum:
        raise BadRequestError(name, f"must be at least {minimum}")
    return value


def encode_cursor(seq: int, tie: int = 0) -> str:
    """The opaque cursor meaning "after the item with this sort key".

    ``tie`` counts the items before it with the same key: a planted ledger may hold a row
    twice (``plant_discrepancies``), and each copy must be served once.
    """
    text = f"{seq}.{tie}" if tie else str(seq)
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The sort key and tie count inside a cursor from :func:`encode_cursor`."""
    try:
        if len(cursor) <= 40:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            match = _CURSOR.fullmatch(text)
            if match is not None:
                return int(match[1]), int(match[2] or 0)
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
        key, tie = decode_cursor(cursor)
        start = bisect_left(items, key, key=seq_of)
        if start < len(items) and seq_of(items[start]) == key:
            start += tie + 1
    else:
        start = ((page or 1) - 1) * per_page
    window = items[start : start + per_page]
    next_cursor = None
    if window:
        last, key = start + len(window) - 1, seq_of(window[-1])
        next_cursor = encode_cursor(key, last - bisect_left(items, key, hi=last, key=seq_of))
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
