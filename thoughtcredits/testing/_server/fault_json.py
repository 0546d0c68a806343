"""A :class:`Fault` as JSON, for ``POST /_fake/faults`` and ``GET /_fake/faults``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Final, Literal, TypeVar, cast

from .faults import Fault, FaultKind

__all__ = ["fault_from_json", "fault_to_json"]

_FIELDS: Final = ("kind", "status", "count", "route", "headers", "body", "rawBody", "when",
                  "delay")  # fmt: skip
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}\Z")
_MAX_DELAY: Final = 600.0
T = TypeVar("T")
D = TypeVar("D")


def _field(data: Mapping[str, object], name: str, kind: type[T], default: D) -> T | D:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name}: must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _headers(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 50:
        raise ValueError("headers: must be an object of at most 50 names and string values")
    for name, text in value.items():
        if not _TOKEN.match(name):
            raise ValueError(f"headers: not a header name: {name[:60]!r}")
        if not isinstance(text, str) or len(text) > 4096 or not text.isprintable():
            raise ValueError(f"headers.{name}: must be printable text of at most 4096 characters")
    return dict(value)


def fault_from_json(data: object) -> Fault:
    """A :class:`Fault` from its JSON form (``POST /_fake/faults``).

    Fields are those of :class:`Fault`; ``body`` is sent as JSON, ``rawBody`` (a string) as
    its exact UTF-8 bytes.

    Raises:
        ValueError: an unknown or invalid field, named in the message.
    """
    if not isinstance(data, dict):
        raise ValueError("fault: must be a JSON object")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ValueError(f"fault: unknown fields {unknown}; expected some of {list(_FIELDS)}")
    if "body" in data and "rawBody" in data:
        raise ValueError("fault: give body or rawBody, not both")
    raw = _field(data, "rawBody", str, None)
    try:
        body = raw.encode() if raw is not None else data.get("body")
    except UnicodeEncodeError:
        raise ValueError("rawBody: must be text without lone surrogates") from None
    delay = data.get("delay") or 0
    if isinstance(delay, bool) or not isinstance(delay, int | float | Decimal):
        raise ValueError(f"delay: must be a number, got {type(delay).__name__}")
    if not 0 <= delay <= _MAX_DELAY:
        raise ValueError(f"delay: must be between 0 and {_MAX_DELAY:g} seconds")
    count = _field(data, "count", int, 1)
    if not 1 <= count <= 1_000_000:
        raise ValueError("count: must be between 1 and 1000000")
    return Fault(
        # Fault checks kind and when against their literals, and says what is allowed.
        kind=cast(FaultKind, _field(data, "kind", str, None)),
        status=_field(data, "status", int, 500),
        count=count,
        route=_field(data, "route", str, None),
        headers=_headers(data.get("headers")),
        body=body,
        when=cast(Literal["before", "after"], _field(data, "when", str, "before")),
        delay=float(delay),
    )


def fault_to_json(fault: Fault, remaining: int) -> dict[str, object]:
    """A queued fault as ``GET /_fake/faults`` lists it."""
    entry: dict[str, object] = {
        "kind": fault.kind, "status": fault.status, "route": fault.route, "count": fault.count,
        "remaining": remaining, "when": fault.when, "delay": fault.delay,
        "headers": dict(fault.headers or {}),
    }  # fmt: skip
    if isinstance(fault.body, bytes):
        entry["rawBody"] = fault.body.decode("utf-8", "replace")
    else:
        entry["body"] = fault.body
    return entry
