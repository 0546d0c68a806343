"""What typing costs: ``CreditAction`` with one kind of field left as it comes off the wire.

Each variant is an attrs class with ``CreditAction``'s fields, except that one kind keeps its
JSON type: UUIDs as ``str``, timestamps as ``str``, amounts as the decoded number (``int``, or
``Decimal`` when fractional). The SDK's own fast converter structures them, so the generated
functions and strict hooks are the same; only the typing of that kind of field differs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

import thoughtcredits as tc
from thoughtcredits._serde.converter import structure_many


def _variant(name: str, keep: dict[Any, Any]) -> type[Any]:
    """``CreditAction`` with every field whose (inner) type is in ``keep`` retyped."""
    attrs.resolve_types(tc.CreditAction)
    fields: dict[str, Any] = {}
    for field in attrs.fields(tc.CreditAction):
        optional = field.default is None
        inner = field.type
        if optional:
            (inner,) = (arg for arg in inner.__args__ if arg is not type(None))
        kind = keep.get(inner, inner)
        fields[field.name] = attrs.field(
            type=kind | None if optional else kind, default=None if optional else attrs.NOTHING
        )
    return attrs.make_class(name, fields, frozen=True)


_NUMBER = Any  # the decoded number as it is: the generator passes it through
VARIANTS: dict[str, type[Any]] = {
    "typed": tc.CreditAction,
    "uuid_as_str": _variant("ActionUuidsAsStr", {UUID: str}),
    "datetime_as_str": _variant("ActionTimesAsStr", {datetime: str}),
    "amount_as_number": _variant("ActionAmountsAsNumbers", {Decimal: _NUMBER}),
    "all_as_wire": _variant("ActionAsWire", {UUID: str, datetime: str, Decimal: _NUMBER}),
}
"""Name -> model: ``typed`` is the SDK's own model, the rest leave one kind untyped."""


def structure_variant(items: list[Any], name: str) -> tuple[Any, ...]:
    """Structure one page's items into the variant ``name``."""
    return structure_many(items, VARIANTS[name])
