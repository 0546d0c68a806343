"""Bounded JSON decoding for the fake server: exact numbers, no deep nesting, no slow ints,
no memory bombs.

``json.loads`` recurses once per nesting level, so deeply nested input would raise
``RecursionError``; and it turns a 4,000-digit integer into an ``int`` the slow way. Here the
nesting depth is measured on the raw bytes first (C-level passes, then one count over the
brackets only), and long integers stay ``Decimal`` so the range checks refuse them cheaply.

Decoded JSON takes more memory than its text: about 5 times for a ledger snapshot, but 15
times for ``[{},{},...]`` and 12 for ``["ab","ab",...]``. So a large input (a snapshot, up to
256 MiB) may hold at most one array or object per 32 bytes and one string per 8 bytes (a
snapshot holds one per 150 and 25): the worst shapes left decode to about 6 times their size.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import accumulate
from typing import Final

__all__ = ["MAX_DEPTH", "JSONError", "loads"]

MAX_DEPTH: Final = 64
"""Deepest nesting accepted (a credits request body nests two levels)."""

_ESCAPE: Final = re.compile(rb"\\.", re.DOTALL)
_STRING: Final = re.compile(rb'"[^"]*"')
_NOT_BRACKET: Final = bytes(b for b in range(256) if b not in b"[]{}")
_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_LONG_INT: Final = 40
_DENSE_FROM: Final = 2**20
"""Inputs up to this size are too small for their density to matter."""


class JSONError(ValueError):
    """The bytes are not JSON the server accepts; the message says why."""


def nesting_too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (unbalanced: no)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Escapes first (so \" does not end a string), then strings (so "[" is not a bracket).
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(None, _NOT_BRACKET)
    if len(brackets) <= limit:
        return False
    if b"[" * (limit + 1) in brackets or b"{" * (limit + 1) in brackets:
        return True  # the usual attack, found by a C-level search
    return max(accumulate(map(_STEP.__getitem__, brackets))) > limit


def _int(text: str) -> int | Decimal:
    # int() of thousands of digits is slow by design; Decimal() is not, and range checks
    # refuse such numbers anyway.
    return int(text) if len(text) <= _LONG_INT else Decimal(text)


def _constant(name: str) -> object:
    raise JSONError(f"non-finite number {name}")


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Python keeps the last of two equal keys, other parsers the first: a body that means
    # one thing here and another elsewhere (a fault's "kind" twice) is refused.
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONError(f"duplicate key {key[:60]!r}")
            seen.add(key)
    return found


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """Decode JSON with exact ``Decimal`` non-integers, refusing ``NaN``, deep nesting and
    an object with the same key twice.

    Raises:
        JSONError: not UTF-8, not JSON, nested deeper than ``max_depth``, or a key repeated.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > _DENSE_FROM:
        if data.count(b"[") + data.count(b"{") > len(data) // 32:
            raise JSONError("more than one array or object per 32 bytes")
        if data.count(b'"') > len(data) // 4:
            raise JSONError("more than one string per 8 bytes")
    if nesting_too_deep(data, max_depth):
        raise JSONError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(
            data, parse_float=Decimal, parse_int=_int, parse_constant=_constant,
            object_pairs_hook=_object,
        )  # fmt: skip
    except JSONError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError cannot happen after the depth check; caught to keep the promise.
        raise JSONError(str(exc)[:200]) from None
