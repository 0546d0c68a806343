"""JSON on the wire: exact decoding and encoding, timestamps, and the API's envelopes.

Amounts never pass through ``float``: bodies are decoded fast with orjson, and a fractional
number makes the structure hooks ask for an exact re-decode (:class:`InexactNumber`).
Request bodies are encoded by :func:`dumps`, which writes Decimals digit for digit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but the SDK works without it
    _orjson = None  # type: ignore[assignment]

__all__ = [
    "InexactNumber",
    "camel",
    "dumps",
    "format_datetime",
    "format_decimal",
    "loads",
    "loads_exact",
    "unwrap_envelope",
]


def camel(name: str) -> str:
    """``starting_balance`` -> ``startingBalance``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name} in JSON")


class InexactNumber(Exception):  # noqa: N818 - a signal, not an error users see
    """A float reached a Decimal or int field: decode the body again with :func:`loads_exact`."""


def loads_exact(raw: bytes | str) -> Any:
    """Decode JSON with every non-integer number as an exact ``Decimal``.

    Raises:
        ValueError: not JSON, or nested too deeply to decode (a hostile body).
    """
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def loads(raw: bytes | str) -> Any:
    """Decode JSON fast. Integers are exact; a fractional number may come back as a float.

    orjson is about twice as fast as ``json`` but has no ``parse_float``. The structure hooks
    never accept a float: they raise :class:`InexactNumber`, and the caller decodes the same
    bytes again with :func:`loads_exact`. Amounts therefore never pass through ``float``.
    """
    if _orjson is not None:
        try:
            return _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            pass  # e.g. an integer past 64 bits: the exact decoder decides
    return loads_exact(raw)


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as the API writes timestamps."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_decimal(value: Decimal) -> str:
    """An exact amount as JSON number text: ``10`` not ``10.0``, ``2.5`` not ``2.50E+0``."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite number ({value}) as JSON")
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
    if _orjson is not None:
        try:
            return _orjson.dumps(value, default=_fragment, option=_orjson.OPT_PASSTHROUGH_DATETIME)
        except (TypeError, ValueError):
            pass  # orjson.JSONEncodeError subclasses TypeError; NaN is refused below too
    return _encode(value).encode()


def unwrap_envelope(body: object, items_key: str | None = None) -> object:
    """Find the payload inside the shapes the API uses (``research/ti-api.md`` §5).

    1. ``{"data": {"<Operation>": {...}}}``: the single inner object.
    2. ``{"data": {...payload...}}``: the object (when it holds ``items_key`` or has many keys).
    3. ``{"data": [...], "pageInfo": ...}``: a list payload, re-keyed under ``items_key``.
    4. anything else: the body as it is.
    """
    if not isinstance(body, dict):
        return body
    data = body.get("data")
    if isinstance(data, dict):
        if items_key is not None and items_key in data:
            return data
        if len(data) == 1:
            (inner,) = data.values()
            if isinstance(inner, dict):
                return inner
        return data
    if isinstance(data, list) and items_key is not None:
        return {items_key: data, "pageInfo": body.get("pageInfo")}
    return body
