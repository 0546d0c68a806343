"""The private cattrs converter: wire JSON <-> frozen models.

Scalar hooks are strict (a string is never silently turned into a number, nor "false" into
True) and never accept a float, so amounts stay exact (see ``_wire``). Structuring uses
cattrs' generated, non-detailed functions for speed; only a failure is re-run through a
detailed converter, to name the bad field in the ``ResponseValidationError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin
from uuid import UUID

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._exceptions import ResponseValidationError
from ._hooks import (
    NULLABLE,
    bool_hook,
    datetime_hook,
    decimal_hook,
    int_hook,
    str_hook,
    unique_uuid_hook,
    uuid_hook,
)
from ._models import PageInfo, _OpenEnum
from ._wire import InexactNumber, camel, dumps, format_datetime

__all__ = ["parse_page_info", "structure", "structure_many", "to_json", "unstructure"]

T = TypeVar("T")


def _is_var_tuple(cls: object) -> bool:
    args = get_args(cls)
    return get_origin(cls) is tuple and len(args) == 2 and args[1] is Ellipsis


def _configure(converter: cattrs.Converter, *, detailed: bool) -> cattrs.Converter:
    converter.register_structure_hook(str, str_hook)
    converter.register_structure_hook(int, int_hook)
    converter.register_structure_hook(bool, bool_hook)
    converter.register_structure_hook(Decimal, decimal_hook)
    converter.register_structure_hook(UUID, uuid_hook)
    converter.register_structure_hook(datetime, datetime_hook)
    # The enums are str subclasses; without this the str hook wins and drops the enum type.
    converter.register_structure_hook(_OpenEnum, lambda v, cls: cls(str_hook(v, cls)))

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

    def field_hook(tp: Any) -> Callable[[object, object], Any]:
        # cattrs re-dispatches Optional[X] on every call; one call per field is the budget.
        args = get_args(tp)
        if get_origin(tp) in (Union, UnionType) and len(args) == 2 and type(None) in args:
            inner_type = args[0] if args[1] is type(None) else args[1]
            if inner_type in NULLABLE:
                return NULLABLE[inner_type]
            inner = converter.get_structure_hook(inner_type)

            def optional(value: object, _: object) -> Any:
                return None if value is None else inner(value, inner_type)

            return optional
        return converter.get_structure_hook(tp)

    def fast_hook(field: attrs.Attribute[Any]) -> Callable[[object, object], Any]:
        return (
            unique_uuid_hook
            if field.name == "id" and field.type is UUID
            else field_hook(field.type)
        )

    def model_factory(cls: Any) -> Any:
        attrs.resolve_types(cls)  # the models use string annotations
        renames = {
            a.name: override(rename=camel(a.name), struct_hook=None if detailed else fast_hook(a))
            for a in attrs.fields(cls)
        }
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
        return _fast.get_structure_hook(cls)(data, cls)  # type: ignore[no-any-return]
    except InexactNumber:
        raise
    except Exception as error:
        raise ResponseValidationError(
            _explain(data, cls, error), method=method, url=url, body=data
        ) from error


def structure_many(
    items: list[object], cls: type[T], *, method: str = "", url: str = ""
) -> tuple[T, ...]:
    """Structure a JSON array of ``cls`` items into a tuple."""
    hook = _fast.get_structure_hook(cls)
    try:
        return tuple([hook(item, cls) for item in items])
    except InexactNumber:
        raise
    except Exception:
        for index, item in enumerate(items):
            try:
                structure(item, cls, method=method, url=url)
            except ResponseValidationError as error:
                raise ResponseValidationError(
                    f"item {index}: {error.message}", method=method, url=url, body=items
                ) from error
        raise  # pragma: no cover - the list failed as a whole, so one item fails


def to_json(value: object) -> bytes:
    """A model, page item list or report as JSON, exactly as the API writes it.

    Keys are the wire's camelCase names, timestamps ISO 8601 with ``Z``, and amounts are
    written digit for digit (``Decimal`` never passes through ``float``): safe to return
    from a web handler or append to an export file.

    >>> import thoughtcredits as tc
    >>> tc.to_json(tc.PageInfo(has_more=True, cursor="Mg"))
    b'{"hasMore":true,"cursor":"Mg","perPage":null,"total":null}'
    """
    return dumps(unstructure(value))


def unstructure(value: object) -> Any:
    """A model as wire JSON (camelCase keys; Decimals kept exact for :func:`dumps`)."""
    return _fast.unstructure(value)


def parse_page_info(data: object, *, method: str = "", url: str = "") -> PageInfo:
    """``pageInfo`` as a model; a missing block means a single, final page."""
    if data is None:
        return PageInfo()
    if not isinstance(data, dict):
        # Reading garbage as "last page" would silently drop the rest of the listing.
        raise ResponseValidationError(
            f"pageInfo: expected an object, got {type(data).__name__}", method=method, url=url
        )
    # Every CursorPageInfo field is nullable (S10); null means "not given".
    data = {key: value for key, value in data.items() if value is not None}
    return structure(data, PageInfo, method=method, url=url)
