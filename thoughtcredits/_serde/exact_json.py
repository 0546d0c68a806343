"""JSON on the wire: exact decoding and encoding, and timestamps.

Amounts never pass through ``float``. :func:`decode` reads a body once: with orjson when
the bytes hold no fraction, else with the standard decoder and every such number as an exact
``Decimal``.
Request bodies are encoded by :func:`dumps`, which writes Decimals digit for digit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson as _orjson

__all__ = [
    "decode",
    "dumps",
    "format_datetime",
    "format_decimal",
    "has_fraction",
    "loads_exact",
]

_FRACTION = re.compile(rb'\.(?<=[0-9]\.)(?![0-9]{3}Z")')
# An escaped UTF-16 surrogate; the standard decoder lets a lone one through as a bad str.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


_MAX_EXPONENT = 1000


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name} in JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key[:60]!r} appears twice in one object")
            seen.add(key)
    return value


def loads_exact(raw: bytes | str, *, unique_keys: bool = False) -> Any:
    """Decode JSON with every non-integer number as an exact ``Decimal``.

    The text must be valid UTF-8 and hold no lone surrogate (``"\\ud800"``): such a string
    cannot be written out again, so it is refused here rather than crashing an export later.
    With ``unique_keys``, a key repeated in one object is refused too (JSON keeps the last
    silently): for what only this SDK writes, such as a saved report.

    Raises:
        ValueError: not JSON, not valid text, or nested too deeply to decode (a hostile body).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(
            text, parse_float=Decimal, parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys if unique_keys else None,
        )  # fmt: skip
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not valid UTF-8 ({exc.reason})") from None
    if _SURROGATE_ESCAPE.search(text.encode("utf-8", "surrogatepass")):
        try:
            json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("JSON holds a lone UTF-16 surrogate (not valid text)") from None
    return value


def has_fraction(raw: bytes) -> bool:
    """Whether ``raw`` may hold a number with a fraction (which orjson would make a float).

    JSON writes a fraction as a digit, a dot and digits, so only a dot after a digit counts,
    and the API's timestamps (``…:05.000Z"``) are skipped. A dot in text ("v1.5") only costs
    the exact decode. The pattern starts with the literal dot, which the regex engine finds at
    memchr speed: about a quarter of orjson's time on a page of actions. (Counting dots and
    timestamp endings instead cost three times the pattern on such a page.)
    """
    return _FRACTION.search(raw) is not None


def decode(raw: bytes) -> tuple[Any, bool]:
    """Decode a response body once; return it and whether every number in it is exact.

    orjson is used unless the body holds a fraction (then the standard decoder, with every
    such number as a ``Decimal``). orjson still turns an exponent-only number (``1e5``) or an
    integer past 64 bits into a float: the result is then marked inexact, and a float never
    reaches a model (the hooks refuse it), so the caller decodes again with :func:`loads_exact`
    in that rare case only.

    Raises:
        ValueError: not JSON, not valid UTF-8, a lone surrogate, or nested too deeply.
    """
    if not has_fraction(raw):
        try:
            return _orjson.loads(raw), False  # refuses bad UTF-8, lone surrogates and NaN itself
        except _orjson.JSONDecodeError:
            pass  # let the exact decoder give the precise reason
    return loads_exact(raw), True


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as the API writes timestamps."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_decimal(value: Decimal) -> str:
    """An exact amount as JSON number text: ``10`` not ``10.0``, ``2.5`` not ``2.50E+0``."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite number ({value}) as JSON")
    if not value.is_zero() and not -_MAX_EXPONENT <= value.adjusted() <= _MAX_EXPONENT:
        # Checked before int() or "f": 1E+600000 would be 600,000 digits, 1E-20000000 20 MB.
        raise ValueError(f"number out of range for JSON: {value:.3E}")
    if value == value.to_integral_value():
        return str(int(value))
    # format(..., "f") keeps every digit; normalize() would round to the context precision.
    return format(value, "f").rstrip("0")


def _encode(value: object) -> str:
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, datetime):
        return json.dumps(format_datetime(value))
    if isinstance(value, date):  # as orjson writes it: "2024-01-31"
        return json.dumps(value.isoformat())
    if isinstance(value, UUID):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _fragment(value: object) -> object:
    if isinstance(value, Decimal):
        return _orjson.Fragment(format_decimal(value).encode())
    if isinstance(value, datetime):
        return format_datetime(value)  # the API's form, not orjson's "+00:00"
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: object) -> bytes:
    """Compact JSON; Decimals are written digit for digit (integral ones as integers).

    orjson writes about ten times faster than the pure-Python encoder; a Decimal goes in as a
    ready-made JSON fragment, so it never passes through float. Values orjson refuses (an
    integer past 64 bits) fall back to the pure encoder, which writes the same bytes.
    """
    try:
        return _orjson.dumps(value, default=_fragment, option=_orjson.OPT_PASSTHROUGH_DATETIME)
    except (TypeError, ValueError):
        pass  # orjson.JSONEncodeError subclasses TypeError; NaN is refused below too
    return _encode(value).encode()
