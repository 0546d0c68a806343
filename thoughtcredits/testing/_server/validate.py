"""Request checks for the fake server: bodies, required fields, query integers and pages.

The value rules themselves (ids, amounts, text, times) are the ledger's own
(:mod:`.._ledger.fields`), shared with the snapshot loader. Each check raises
:class:`~.._ledger.fields.FieldError` naming the wire field.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from .._ledger.fields import MAX_INT_DIGITS, FieldError
from .jsonio import JSONError, loads

__all__ = [
    "MAX_PER_PAGE",
    "body_object",
    "decode_cursor",
    "encode_cursor",
    "optional",
    "page_window",
    "query_int",
    "required",
]

T = TypeVar("T")

MAX_PER_PAGE: Final = 1000
_QUERY_INT: Final = re.compile(rf"-?[0-9]{{1,{MAX_INT_DIGITS}}}\Z", re.ASCII)
_CURSOR: Final = re.compile(
    rf"([0-9]{{1,{MAX_INT_DIGITS}}})(?:\.([0-9]{{1,{MAX_INT_DIGITS}}}))?", re.ASCII
)


def body_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body; non-integers decode as exact ``Decimal``."""
    try:
        value = loads(raw)
    except JSONError as exc:
        raise FieldError("body", f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise FieldError("body", "must be a JSON object")
    return value


def optional(body: Mapping[str, Any], name: str, check: Callable[[str, Any], T]) -> T | None:
    """``check(name, value)`` when the field is present and not null, else None."""
    value = body.get(name)
    return None if value is None else check(name, value)


def required(body: Mapping[str, Any], name: str, check: Callable[[str, Any], T]) -> T:
    """``check(name, value)``; a missing or null field is refused."""
    value = body.get(name)
    if value is None:
        raise FieldError(name, "required")
    return check(name, value)


def query_int(query: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    """An integer query parameter of at least ``minimum``, or None when absent."""
    raw = query.get(name)
    if raw is None:
        return None
    if not _QUERY_INT.match(raw):
        raise FieldError(
            name, f"must be an integer of at most {MAX_INT_DIGITS} digits, got {raw[:30]!r}"
        )
    value = int(raw)
    if value < minimum:
        raise FieldError(name, f"must be at least {minimum}")
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
    raise FieldError("cursor", f"not a valid cursor: {cursor[:60]!r}")


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
