"""Strict, bounded scalar structure hooks: a wrong JSON type is an error, never a coercion.

Only what an exact JSON decoder makes reaches a hook: ``int``, ``Decimal``, ``str``, ``bool``,
``None``, ``list`` and ``dict``. So a float is a wrong type like any other, a string is never
turned into a number, nor ``"false"`` into True. Numbers are bounded as the SDK bounds what it
sends (``_args.amount``), and every bound is checked before any conversion, so a hostile
``1e600000`` is refused in microseconds. Text must be valid Unicode (no lone surrogates).

Both converters use these hooks. The fast one inlines their common case (see ``codegen``)
and falls back to them for anything else, so the two accept exactly the same values. Every
hook takes ``(value, type)`` as cattrs calls it.
"""

from __future__ import annotations

import binascii
import decimal
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, SafeUUID

__all__ = [
    "AMOUNT_LIMIT",
    "INT_LIMIT",
    "PLACES",
    "PLACES_CONTEXT",
    "a2b_hex",
    "bool_hook",
    "datetime_hook",
    "decimal_hook",
    "int_hook",
    "new_uuid",
    "str_hook",
    "uuid_cache_get",
    "uuid_hook",
]

AMOUNT_LIMIT = 10**30
"""An int amount must be strictly inside ±this: at most 30 integer digits, as ``_args``."""
INT_LIMIT = 10**18
"""An integer field must be strictly inside ±this: at most 18 digits."""
PLACES = Decimal("1E-12")
"""The finest amount step: at most 12 decimal places (trailing zeros do not count)."""
PLACES_CONTEXT = decimal.Context(prec=60, traps=[decimal.InvalidOperation])
"""Room for 30 integer digits and 12 places, so quantizing to :data:`PLACES` never rounds."""

_SHOWN = 40
a2b_hex = binascii.a2b_hex
_blank = object.__new__
# UUID is immutable through __setattr__; its slots are set directly, as uuid.UUID does itself.
_set_int = UUID.__dict__["int"].__set__
_set_is_safe = UUID.__dict__["is_safe"].__set__
_UNKNOWN = SafeUUID.unknown


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def str_hook(value: object, _: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate ("\ud800") decodes from JSON but crashes exports later.
            raise ValueError(f"not valid text (a lone surrogate?): {_show(value)}") from None
    return value


def int_hook(value: object, _: object) -> int:
    if type(value) is int:
        if -INT_LIMIT < value < INT_LIMIT:
            return value
        raise ValueError(f"integer has more than 18 digits: {_show(value)}")
    if type(value) is Decimal:
        # adjusted() first: int(Decimal("1e600000")) would build a 600,000-digit integer.
        if not value.is_finite() or value.adjusted() >= 18:
            raise ValueError(f"integer out of range: {_show(value)}")
        if value != value.to_integral_value():
            raise ValueError(f"expected a whole number, got {_show(value)}")
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def bool_hook(value: object, _: object) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def decimal_hook(value: object, _: object) -> Decimal:
    if type(value) is int:
        if -AMOUNT_LIMIT < value < AMOUNT_LIMIT:
            return Decimal(value)
        raise ValueError(f"amount has more than 30 integer digits: {_show(value)}")
    if type(value) is not Decimal:
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if not value.is_finite() or value.adjusted() > 29:
        raise ValueError(f"amount out of range: {_show(value)}")
    # Equal to itself at 12 places: no digit beyond the 12th (so 1.50000000000000 passes).
    # The adjusted() bound keeps this to microseconds, even for 1E-200000000.
    if value.quantize(PLACES, None, PLACES_CONTEXT) != value:
        raise ValueError(f"amount has more than 12 decimal places: {_show(value)}")
    return value


def new_uuid(value: object) -> UUID:
    """A UUID from its canonical 8-4-4-4-12 hex form only, about 3 times faster than ``UUID()``.

    ``uuid.UUID()`` also takes braces, ``urn:uuid:``, no dashes, and (through ``int(h, 16)``)
    ``0x``, ``+`` and ``_``. The API writes only the canonical form; anything else is a bad
    response. Either case of hex digit is accepted.
    """
    if type(value) is not str:
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    if (
        len(value) == 36
        and value[8] == "-"
        and value[13] == "-"
        and value[18] == "-"
        and value[23] == "-"
        and value.isascii()
    ):
        try:
            raw = a2b_hex(value.replace("-", ""))
        except binascii.Error:
            raw = b""
        if len(raw) == 16:  # a stray fifth dash leaves too few digits
            parsed = _blank(UUID)
            _set_int(parsed, int.from_bytes(raw))
            _set_is_safe(parsed, _UNKNOWN)
            return parsed
    raise ValueError(f"not a canonical UUID: {_show(value)}")


# UUIDs repeat heavily in a ledger (client, initiator, source, target): a dict hit costs
# about a tenth of a parse. UUIDs are immutable, so sharing instances is safe. An object's own
# id is never looked up here (it is seen once; caching it would evict the ids that repeat).
# Bounded in bytes as well as entries: only a canonical 36-character id is ever stored, so a
# full cache (8,192 ids, their strings and UUIDs) holds under 2 MB.
_uuid_cache: dict[str, UUID] = {}
_UUID_CACHE_SIZE = 8192
uuid_cache_get = _uuid_cache.get


def uuid_hook(value: object, _: object) -> UUID:
    cached = _uuid_cache.get(value) if type(value) is str else None
    if cached is not None:
        return cached
    parsed = new_uuid(value)
    if len(_uuid_cache) >= _UUID_CACHE_SIZE:
        _uuid_cache.clear()  # bounded: a hostile stream of new ids cannot grow memory
    _uuid_cache[value] = parsed  # type: ignore[index]
    return parsed


def datetime_hook(value: object, _: object) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    # The API always writes "Z"; a naive value can only mean UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
