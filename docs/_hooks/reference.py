"""mkdocs hook: the API reference, one entry per public name, generated at build time.

``<!-- reference: MODULE -->`` in ``docs/reference.md`` becomes an mkdocstrings block (the
docstring, signature and members) for every name in ``MODULE.__all__``, grouped by kind. A
model also gets a table of its fields: the attribute, its wire name and its type. A name added
to ``__all__`` is documented without editing the page; one whose docstring mkdocstrings cannot
render fails the strict build.
"""

from __future__ import annotations

import enum
import importlib
import re
import types
import typing
from typing import Any

import attrs

from thoughtcredits._models import camel

_MARKER = re.compile(r"<!-- reference: ([\w.]+) -->")
_GROUPS = ("Clients", "Models", "Enums", "Exceptions", "Functions", "Other names")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Expand the reference markers of ``reference.md``."""
    if page.file.src_uri != "reference.md":
        return markdown
    return _MARKER.sub(lambda match: _module(match[1]), markdown)


def _kind(value: object) -> str:
    if isinstance(value, type):
        if issubclass(value, BaseException):
            return "Exceptions"
        if issubclass(value, enum.Enum):
            return "Enums"
        if attrs.has(value) and value.__module__.endswith(("_models", "_events", "records")):
            return "Models"
        return "Clients"
    if isinstance(value, types.FunctionType):
        return "Functions"
    return "Other names"


def _module(name: str) -> str:
    module = importlib.import_module(name)
    groups: dict[str, list[str]] = {group: [] for group in _GROUPS}
    for public in module.__all__:
        if public.startswith("__"):
            continue  # __version__: a module __getattr__, shown in the text
        groups[_kind(getattr(module, public))].append(public)
    parts = []
    for group, names in groups.items():
        if not names:
            continue
        parts.append(f"### {group}\n")
        for public in names:
            parts.append(f"::: {name}.{public}\n")
            value = getattr(module, public)
            if group == "Models":
                parts.append(_fields(value))
    return "\n".join(parts)


def _fields(cls: type[Any]) -> str:
    hints = typing.get_type_hints(cls)
    rows = ["| attribute | wire name | type |", "| --- | --- | --- |"]
    for field in attrs.fields(cls):
        rows.append(f"| `{field.name}` | `{camel(field.name)}` | `{_type(hints[field.name])}` |")
    return "Fields:\n\n" + "\n".join(rows) + "\n"


def _type(tp: object) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else _type(a) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _type(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return str(tp).replace("typing.", "")
