"""Machine formats: JSON, JSON Lines and CSV writers that stream one item at a time.

Every writer takes SDK models and writes them with the wire's camelCase keys. Amounts stay
exact (``Decimal``), and integral amounts print without ``.0``. Nothing is buffered beyond one
item, so an export of a million actions uses the memory of one.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol, TextIO

import attrs

from .._converter import unstructure
from .._wire import camel, dumps, format_decimal

__all__ = [
    "FORMATS",
    "CsvWriter",
    "JsonLinesWriter",
    "JsonWriter",
    "Writer",
    "cell",
    "columns_of",
    "encode",
]

FORMATS = ("table", "json", "jsonl", "csv")


class Writer(Protocol):
    """Receives items one by one; ``close`` ends the document (e.g. the JSON array)."""

    def write(self, item: object) -> None:
        """Write one model."""

    def flush(self) -> None:
        """Push out what has been written so far (called after each page)."""

    def close(self) -> None:
        """End the document. Called once, also after zero items."""


def encode(data: object) -> str:
    """Unstructured wire data as compact JSON, amounts digit for digit (the SDK's encoder)."""
    return dumps(data).decode()


def columns_of(cls: type[Any]) -> tuple[str, ...]:
    """The wire names of a model's fields, in declaration order."""
    return tuple(camel(field.name) for field in attrs.fields(cls))


def cell(value: object) -> str:
    """One wire value as text for a table or CSV cell (lists and objects as JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, list | tuple | dict):
        return encode(value)
    return str(value)


class JsonLinesWriter:
    """One compact JSON object per line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, item: object) -> None:
        """Write one model as a line."""
        self._stream.write(encode(unstructure(item)) + "\n")

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    def close(self) -> None:
        """Nothing to end: JSON Lines has no framing."""
        self._stream.flush()


class JsonWriter:
    """A JSON array streamed item by item (one item per line), or one object.

    Args:
        stream: where to write.
        single: write exactly one object rather than an array.
    """

    def __init__(self, stream: TextIO, *, single: bool = False) -> None:
        self._stream = stream
        self._single = single
        self._count = 0

    def write(self, item: object) -> None:
        """Write one model (the array is opened before the first)."""
        text = encode(unstructure(item))
        if self._single:
            self._stream.write(text + "\n")
        else:
            self._stream.write(("[\n" if self._count == 0 else ",\n") + text)
        self._count += 1

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    def close(self) -> None:
        """Close the array (``[]`` when nothing was written)."""
        if not self._single:
            self._stream.write("[]\n" if self._count == 0 else "\n]\n")
        self._stream.flush()


class CsvWriter:
    """RFC 4180 CSV: a header of wire names, then one row per item.

    Lists and objects (``notifyEmails``, ``sublicenses``) are written as JSON text in one cell;
    ``null`` is an empty cell.
    """

    def __init__(self, stream: TextIO, columns: Sequence[str]) -> None:
        self._stream = stream
        self._columns = tuple(columns)
        self._csv = csv.writer(stream, lineterminator="\n")
        self._csv.writerow(self._columns)

    def write(self, item: object) -> None:
        """Write one model as a row."""
        data = unstructure(item)
        self._csv.writerow([cell(data.get(column)) for column in self._columns])

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    def close(self) -> None:
        """Flush the stream."""
        self._stream.flush()
