"""Generated structure functions: one per attrs model, written from its fields.

The fast cattrs converter structures every response through these functions (registered with
``register_structure_hook_factory``), so cattrs still does the structuring. Each function:

* inlines the common case of each field's hook (an ``int`` into a ``Decimal`` field, a ``str``
  into a ``str`` field) and calls the hook itself for anything else. The hook is the single
  authority: it accepts what the inline test misses, or raises. So this converter accepts
  exactly what the detailed one (cattrs' own functions over the same hooks) accepts;
* parses an object's own ``id`` inline (it never repeats, so it skips the UUID cache);
* builds the instance without ``__init__``, filling its slots directly, but only after
  checking here that ``__init__`` would do nothing else (no validators, converters, factories,
  ``__attrs_pre_init__`` or ``__attrs_post_init__``, no extra slots). Otherwise it calls it.

The source is kept in ``linecache``, so ``inspect.getsource`` and tracebacks show it, and
``converter.print_source`` prints it::

    import thoughtcredits as tc, thoughtcredits._serde.converter as c
    c.print_source(tc.CreditAction)
"""

from __future__ import annotations

import itertools
import linecache
import types
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Union, get_args, get_origin
from uuid import UUID, SafeUUID

import attrs
import cattrs

from .._models import _OpenEnum, camel
from . import scalars

__all__ = ["enum_hook", "generate", "is_generated"]

StructureFn = Callable[[Any, Any], Any]

_MISSING = object()
_counter = itertools.count()
_FILENAME = "<thoughtcredits structure"
_BASE_GLOBALS: dict[str, object] = {
    "MISSING": _MISSING,
    "UTC": UTC,
    "UUID": UUID,
    "Decimal": Decimal,
    "datetime": datetime,
    "fromisoformat": datetime.fromisoformat,
    "a2b_hex": scalars.a2b_hex,
    "from_bytes": int.from_bytes,
    "blank": object.__new__,
    "set_uuid_int": UUID.__dict__["int"].__set__,
    "set_uuid_is_safe": UUID.__dict__["is_safe"].__set__,
    "UNKNOWN_SAFETY": SafeUUID.unknown,
    "str_hook": scalars.str_hook,
    "int_hook": scalars.int_hook,
    "bool_hook": scalars.bool_hook,
    "decimal_hook": scalars.decimal_hook,
    "datetime_hook": scalars.datetime_hook,
    "uuid_hook": scalars.uuid_hook,
    "uuid_cache_get": scalars.uuid_cache_get,
    "new_uuid": scalars.new_uuid,
}


def enum_hook(value: object, cls: type[_OpenEnum]) -> _OpenEnum:
    """An open enum member (or pseudo-member) from its string; both converters use it."""
    return cls(scalars.str_hook(value, cls))


def _bypass_blockers(cls: type) -> list[str]:
    """Why ``__init__`` must run for ``cls``; empty when filling its slots is the same."""
    blockers = [
        f"{name} is defined"
        for name in ("__attrs_pre_init__", "__attrs_post_init__")
        if hasattr(cls, name)
    ]
    for a in attrs.fields(cls):
        if a.validator is not None or a.converter is not None:
            blockers.append(f"{a.name} has a validator or converter")
        if not a.init or isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            blockers.append(f"{a.name} has init=False or a factory default")
    names = {a.name for a in attrs.fields(cls)}
    slots = {s for klass in cls.__mro__[:-1] for s in getattr(klass, "__slots__", ())}
    if not slots or slots - names - {"__weakref__"}:
        blockers.append(f"slots {sorted(slots - names)} other than the fields")
    return blockers


class _Writer:
    """Source lines and the globals they refer to, for one generated function."""

    def __init__(self, converter: cattrs.Converter) -> None:
        self.converter = converter
        self.globals: dict[str, object] = dict(_BASE_GLOBALS)

    def ref(self, name: str, value: object) -> str:
        """A global name bound to ``value`` (a fresh suffix if the name is taken)."""
        base, n = name, 1
        while name in self.globals and self.globals[name] is not value:
            n += 1
            name = f"{base}_{n}"
        self.globals[name] = value
        return name

    def default(self, a: attrs.Attribute[Any]) -> str:
        """The expression of a field's default: a literal, a global, or a factory call."""
        default: Any = a.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if default.takes_self:
                raise TypeError(f"{a.name}: a takes_self factory default is not supported")
            return f"{self.ref(f'{a.name}_factory', default.factory)}()"
        if type(default) in (bool, int, str):
            return repr(default)
        return self.ref(f"{a.name}_default", default)

    def value(self, tp: Any, target: str, src: str, *, own_id: bool = False) -> list[str]:
        """Lines that set ``target`` from the wire value ``src`` for type ``tp``."""
        args = get_args(tp)
        if get_origin(tp) in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
            inner = self.value(args[0] if args[1] is type(None) else args[1], target, src)
            if len(inner) == 1:  # "T = expr": one conditional expression
                return [f"{target} = None if {src} is None else ({inner[0].split(' = ', 1)[1]})"]
            return [f"if {src} is None:", f"    {target} = None", "else:", *_indent(inner)]
        if tp is UUID and own_id:
            return [
                f"if (type({src}) is str and len({src}) == 36 and {src}[8] == '-'",
                f"        and {src}[13] == '-' and {src}[18] == '-' and {src}[23] == '-'",
                f"        and len(raw := a2b_hex({src}.replace('-', ''))) == 16):",
                f"    {target} = blank(UUID)",
                f"    set_uuid_int({target}, from_bytes(raw))",
                f"    set_uuid_is_safe({target}, UNKNOWN_SAFETY)",
                "else:",
                f"    {target} = new_uuid({src})",
            ]
        if tp is datetime:
            return [
                f"if type({src}) is str:",
                f"    {target} = fromisoformat({src})",
                f"    if {target}.tzinfo is None:",
                f"        {target} = {target}.replace(tzinfo=UTC)",
                "else:",
                f"    {target} = datetime_hook({src}, datetime)",
            ]
        return [f"{target} = {self.expression(tp, src)}"]

    def expression(self, tp: Any, src: str) -> str:
        """One expression for the common single-line types; the field's hook otherwise."""
        if tp is Any or tp is object:
            return src  # untyped: the decoded JSON value as it is
        if tp is str:
            return f"{src} if type({src}) is str and {src}.isascii() else str_hook({src}, str)"
        if tp is int:
            return (
                f"{src} if type({src}) is int and -10**18 < {src} < 10**18"
                f" else int_hook({src}, int)"
            )
        if tp is bool:
            return f"{src} if type({src}) is bool else bool_hook({src}, bool)"
        if tp is Decimal:
            return (
                f"Decimal({src}) if type({src}) is int and -10**30 < {src} < 10**30"
                f" else decimal_hook({src}, Decimal)"
            )
        if tp is UUID:  # an id that repeats (client, source, target): the bounded cache
            return f"uuid_cache_get({src}) or uuid_hook({src}, UUID)"
        if isinstance(tp, type) and issubclass(tp, _OpenEnum):
            members = self.ref(f"{tp.__name__}_members", {m.value: m for m in tp})
            hook = self.ref("enum_hook", enum_hook)
            cls = self.ref(tp.__name__, tp)
            return f"{members}.get({src}) or {hook}({src}, {cls})"
        if isinstance(tp, type) and issubclass(tp, Enum):  # closed: an unknown value raises
            members = self.ref(f"{tp.__name__}_members", {m.value: m for m in tp})
            return f"{members}[{src}] if type({src}) is str else {self.ref(tp.__name__, tp)}({src})"
        args = get_args(tp)
        if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
            item = self.expression(args[0], "x")
            hook = self.ref("sequence_hook", self.converter.get_structure_hook(tp))
            kind = self.ref(f"tuple_of_{getattr(args[0], '__name__', 'items')}", tp)
            return (
                f"tuple([{item} for x in {src}]) if type({src}) is list else {hook}({src}, {kind})"
            )
        if attrs.has(tp):
            name = self.ref(f"structure_{tp.__name__}", self.converter.get_structure_hook(tp))
            return f"{name}({src}, {self.ref(tp.__name__, tp)})"
        hook = self.ref("hook", self.converter.get_structure_hook(tp))
        # Never the bare name "type": the generated code calls the builtin type().
        kind = self.ref(f"{getattr(tp, '__name__', 'field')}_type", tp)
        return f"{hook}({src}, {kind})"


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def generate(cls: type, converter: cattrs.Converter) -> StructureFn:
    """The structure function of the attrs class ``cls``, for ``converter``'s other hooks."""
    attrs.resolve_types(cls)  # the models use string annotations
    fields = attrs.fields(cls)
    blockers = _bypass_blockers(cls)
    writer = _Writer(converter)
    name = writer.ref(cls.__name__, cls)
    body = [
        "if type(o) is not dict:",
        "    raise TypeError(f'expected an object, got {type(o).__name__}')",
    ]
    fields = tuple(a for a in fields if a.init)  # cattrs leaves init=False fields alone
    for a in fields:
        local, key = f"{a.name}_", camel(a.name)
        convert = writer.value(a.type, local, "v", own_id=a.name == "id")
        if a.default is attrs.NOTHING:
            body += [f"v = o[{key!r}]", *convert]
        elif a.default is None:
            body += [f"v = o.get({key!r})", *convert]  # missing and null both mean None
        else:
            default = writer.default(a)
            body += [f"v = o.get({key!r}, MISSING)", "if v is MISSING:", f"    {local} = {default}"]
            body += ["else:", *_indent(convert)]
    if blockers:
        body.append(f"# built through __init__: {'; '.join(blockers)}")
        arguments = ", ".join(f"{a.alias}={a.name}_" for a in fields)
        body.append(f"return {name}({arguments})")
    else:
        body.append("# __init__ would only store the fields: fill the slots directly")
        body.append(f"self = blank({name})")
        for a in fields:
            setter = writer.ref(f"set_{a.name}", cls.__dict__[a.name].__set__)
            body.append(f"{setter}(self, {a.name}_)")
        body.append("return self")
    function = f"structure_{cls.__name__}"
    source = "\n".join([f"def {function}(o, _):", *_indent(body)]) + "\n"
    filename = f"{_FILENAME} {cls.__qualname__} #{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), writer.globals)  # noqa: S102 - our own source
    generated: StructureFn = writer.globals[function]  # type: ignore[assignment]
    return generated


def is_generated(function: Any) -> bool:
    """Whether ``function`` is one of the structure functions written here."""
    code = getattr(function, "__code__", None)
    return code is not None and code.co_filename.startswith(_FILENAME)
