"""The private cattrs converter: wire JSON <-> models, envelopes, and exact request bodies.

Amounts never pass through ``float``: bodies are decoded with ``parse_float=Decimal`` and
request bodies are encoded by :func:`dumps`, which writes Decimals digit for digit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar, get_args, get_origin
from uuid import UUID

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._exceptions import ResponseValidationError
from ._models import PageInfo

__all__ = [
    "camel",
    "dumps",
    "format_datetime",
    "loads",
    "structure",
    "unstructure",
    "unwrap_envelope",
]

T = TypeVar("T")


def camel(name: str) -> str:
    """``starting_balance`` -> ``startingBalance``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name} in JSON")


def loads(raw: bytes | str) -> Any:
    """Decode JSON with every non-integer number as an exact ``Decimal``."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as the API writes timestamps."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _format_decimal(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _encode(value: object) -> str:
    if isinstance(value, Decimal):
        return _format_decimal(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, datetime):
        return json.dumps(format_datetime(value))
    if isinstance(value, UUID):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def dumps(value: object) -> bytes:
    """Compact JSON; an integral Decimal is written as an integer, others digit for digit."""
    return _encode(value).encode()


# --- strict scalar hooks: a wrong JSON type is an error, never a silent coercion ---


def _str(value: object, _: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: object, _: object) -> int:
    if type(value) is int:
        return value
    if type(value) is Decimal and value == value.to_integral_value():
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _bool(value: object, _: object) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _decimal(value: object, _: object) -> Decimal:
    if type(value) is int:
        return Decimal(value)
    if type(value) is Decimal:
        return value
    if type(value) is float and math.isfinite(value):  # only from hand-built dicts
        return Decimal(repr(value))
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _uuid(value: object, _: object) -> UUID:
    if type(value) is not str:
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    return UUID(value)


def _datetime(value: object, _: object) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    # The API always writes "Z"; a naive value can only mean UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _is_var_tuple(cls: object) -> bool:
    args = get_args(cls)
    return get_origin(cls) is tuple and len(args) == 2 and args[1] is Ellipsis


def _configure(converter: cattrs.Converter, *, detailed: bool) -> cattrs.Converter:
    converter.register_structure_hook(str, _str)
    converter.register_structure_hook(int, _int)
    converter.register_structure_hook(bool, _bool)
    converter.register_structure_hook(Decimal, _decimal)
    converter.register_structure_hook(UUID, _uuid)
    converter.register_structure_hook(datetime, _datetime)

    def tuple_factory(cls: Any) -> Callable[[object, object], tuple[object, ...]]:
        item = converter.get_structure_hook(get_args(cls)[0])
        item_type = get_args(cls)[0]

        def structure_tuple(value: object, _: object) -> tuple[object, ...]:
            # A string is iterable too; only a JSON array is a list here.
            if type(value) is not list:
                raise TypeError(f"expected an array, got {type(value).__name__}")
            return tuple([item(v, item_type) for v in value])

        return structure_tuple

    converter.register_structure_hook_factory(_is_var_tuple, tuple_factory)

    def model_factory(cls: Any) -> Any:
        renames = {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}
        return make_dict_structure_fn(
            cls,
            converter,
            _cattrs_detailed_validation=detailed,
            **renames,  # type: ignore[arg-type]
        )

    converter.register_structure_hook_factory(attrs.has, model_factory)

    converter.register_unstructure_hook(Decimal, lambda v: v)
    converter.register_unstructure_hook(UUID, str)
    converter.register_unstructure_hook(datetime, format_datetime)

    def unstructure_factory(cls: Any) -> Any:
        renames = {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}
        return make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]

    converter.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    return converter


# The fast converter serves every response; the detailed one only explains a failure.
_fast = _configure(cattrs.Converter(detailed_validation=False), detailed=False)
_detailed = _configure(cattrs.Converter(detailed_validation=True), detailed=True)


_hooks: dict[object, Callable[[object, object], Any]] = {}


def _hook(cls: type[Any]) -> Callable[[object, object], Any]:
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = _fast.get_structure_hook(cls)
    return hook


def _explain(data: object, cls: type[Any], error: Exception) -> str:
    try:
        _detailed.structure(data, cls)
    except cattrs.BaseValidationError as detailed:
        return "; ".join(cattrs.transform_error(detailed, path=cls.__name__))
    except Exception as other:
        return f"{cls.__name__}: {type(other).__name__}: {other}"
    return f"{cls.__name__}: {type(error).__name__}: {error}"


def structure(data: object, cls: type[T], *, method: str = "", url: str = "") -> T:
    """Structure wire JSON into ``cls``; any mismatch is a ``ResponseValidationError``."""
    try:
        return _hook(cls)(data, cls)  # type: ignore[no-any-return]
    except Exception as error:
        raise ResponseValidationError(
            _explain(data, cls, error), method=method, url=url, body=data
        ) from error


def structure_many(
    items: list[object], cls: type[T], *, method: str = "", url: str = ""
) -> tuple[T, ...]:
    """Structure a JSON array of ``cls`` items into a tuple."""
    hook = _hook(cls)
    try:
        return tuple([hook(item, cls) for item in items])
    except Exception as error:
        for index, item in enumerate(items):
            try:
                hook(item, cls)
            except Exception:
                message = f"item {index}: {_explain(item, cls, error)}"
                break
        else:  # pragma: no cover - the list failed as a whole, so one item fails
            message = _explain(items, cls, error)
        raise ResponseValidationError(message, method=method, url=url, body=items) from error


def unstructure(value: object) -> Any:
    """A model as wire JSON (camelCase keys; Decimals kept exact for :func:`dumps`)."""
    return _fast.unstructure(value)


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


def parse_page_info(data: object, *, method: str = "", url: str = "") -> PageInfo:
    """``pageInfo`` as a model; a missing block means a single, final page."""
    if data is None:
        return PageInfo()
    if isinstance(data, dict):
        # Every CursorPageInfo field is nullable (S10); null means "not given".
        data = {key: value for key, value in data.items() if value is not None}
    return structure(data, PageInfo, method=method, url=url)
