"""The private cattrs converter: wire JSON <-> frozen models.

Scalar hooks are strict and bounded (``_serde.scalars``): a string is never turned into a
number, nor "false" into True, and a float is a wrong type. Every response is structured by the
fast converter, whose model functions ``codegen`` writes; only a failure is re-run through the
detailed converter (cattrs' own functions over the same hooks), to name the bad field in the
``ResponseValidationError``. Both accept exactly the same inputs.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO, TypeVar, get_args, get_origin
from uuid import UUID

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._exceptions import ResponseValidationError
from .._models import PageInfo, _OpenEnum, camel
from .codegen import enum_hook, generate, is_generated
from .exact_json import dumps, format_datetime
from .scalars import bool_hook, datetime_hook, decimal_hook, int_hook, str_hook, uuid_hook

__all__ = [
    "parse_page_info",
    "print_source",
    "structure",
    "structure_hook",
    "structure_many",
    "to_json",
    "unstructure",
]

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
    converter.register_structure_hook(_OpenEnum, enum_hook)

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
        if not detailed and isinstance(cls, type):
            return generate(cls, converter)
        # cattrs' own functions, with per-field error paths (only ever run to explain).
        attrs.resolve_types(cls)  # the models use string annotations
        renames = {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}
        fields = make_dict_structure_fn(
            cls,
            converter,
            _cattrs_detailed_validation=detailed,
            **renames,  # type: ignore[arg-type]
        )

        def structure_object(value: object, _: object) -> Any:
            # cattrs reads a class whose fields all have defaults from any container ("in").
            if type(value) is not dict:
                raise TypeError(f"expected an object, got {type(value).__name__}")
            return fields(value, cls)

        return structure_object

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


def structure_hook(cls: type[T]) -> Callable[[object, object], T]:
    """The fast converter's structure function for ``cls`` (generated for a model)."""
    return _fast.get_structure_hook(cls)


def print_source(cls: type, file: TextIO | None = None) -> str:
    """Print (and return) the structure function the fast converter generated for ``cls``."""
    function: Any = structure_hook(cls)
    source = (
        inspect.getsource(function)
        if is_generated(function)
        else f"# not generated: {function!r}\n"
    )
    print(source, end="", file=file or sys.stdout)
    return source


def _explain(data: object, cls: type[Any], error: Exception) -> str:
    try:
        _detailed.structure(data, cls)
    except cattrs.BaseValidationError as detailed:
        return "; ".join(cattrs.transform_error(detailed, path=cls.__name__))
    except Exception as other:
        return f"{cls.__name__}: {type(other).__name__}: {other}"
    return f"{cls.__name__}: {type(error).__name__}: {error}"


_HOOKS: dict[type, Callable[[Any, type], Any]] = {}


def _hook(cls: type) -> Callable[[Any, type], Any]:
    # The fast converter is complete once imported, so its hook per class never changes;
    # asking cattrs' dispatch again on every page was a visible cost.
    hook = _HOOKS.get(cls)
    if hook is None:
        hook = _HOOKS[cls] = _fast.get_structure_hook(cls)
    return hook


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
    # Every CursorPageInfo field is nullable (S10); null means "not given". The structure
    # function reads a null as None already, except for hasMore (a bool that defaults).
    if data.get("hasMore", False) is None:
        data = {key: value for key, value in data.items() if value is not None}
    return structure(data, PageInfo, method=method, url=url)
