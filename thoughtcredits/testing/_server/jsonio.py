"""Bounded JSON decoding for the fake server: exact numbers, no deep nesting, no slow ints.

``json.loads`` recurses once per nesting level, so deeply nested input would raise
``RecursionError``; and it turns a 4,000-digit integer into an ``int`` the slow way. Here the
nesting depth is measured on the raw bytes first (C-level passes, then one count over the
brackets only), and long integers stay ``Decimal`` so the range checks refuse them cheaply.
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


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """Decode JSON with exact ``Decimal`` non-integers, refusing ``NaN`` and deep nesting.

    Raises:
        JSONError: not UTF-8, not JSON, or nested deeper than ``max_depth``.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if nesting_too_deep(data, max_depth):
        raise JSONError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(data, parse_float=Decimal, parse_int=_int, parse_constant=_constant)
    except JSONError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError cannot happen after the depth check; caught to keep the promise.
        raise JSONError(str(exc)[:200]) from None
