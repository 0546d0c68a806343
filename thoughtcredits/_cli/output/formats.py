"""Machine formats: JSON, JSON Lines and CSV writers that stream one item at a time.

Every writer takes SDK models and writes them with the wire's camelCase keys, in
``tc.to_json``'s convention: amounts are exact JSON numbers, timestamps end in ``Z``. Nothing
is buffered beyond one item, so an export of a million actions uses the memory of one.

A writer can continue a document an interrupted export left (``items_before``): JSON goes on
after the last element, CSV writes no second header or byte order mark.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, TextIO

import attrs

from ..._models import camel
from ..._serde.converter import unstructure
from ..._serde.exact_json import dumps, format_decimal
from .safe import safe, safe_json

__all__ = [
    "CSV_DIALECTS",
    "FORMATS",
    "CsvWriter",
    "JsonLinesWriter",
    "JsonWriter",
    "Writer",
    "cell",
    "columns_of",
    "defuse",
    "encode",
    "wire_data",
]

FORMATS = ("table", "json", "jsonl", "csv", "parquet")
CSV_DIALECTS = ("rfc4180", "excel", "excel-eu")
# Spreadsheets run a cell that starts with one of these as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Writer(Protocol):
    """Receives items one by one; ``close`` ends the document (e.g. the JSON array)."""

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Write one model; ``extra`` columns (e.g. ``actionType``) come first."""

    def flush(self) -> None:
        """Push out what has been written so far (called after each page)."""

    def suspend(self) -> None:
        """Make what was written whole, to keep it as a partial (see ``ExportFile.keep``)."""

    def close(self) -> None:
        """End the document. Called once, also after zero items."""


def encode(data: object) -> str:
    """Unstructured wire data as compact JSON, amounts digit for digit (the SDK's encoder)."""
    return dumps(data).decode()


def columns_of(cls: type[Any], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The wire names of a model's fields, in declaration order, after ``extra`` columns."""
    return (*extra, *(camel(field.name) for field in attrs.fields(cls)))


def wire_data(item: object, extra: Mapping[str, object] | None = None) -> dict[str, Any]:
    """A model as wire data (camelCase keys), with ``extra`` keys first."""
    data: dict[str, Any] = unstructure(item)
    return data if not extra else {**extra, **data}


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


def defuse(text: str) -> str:
    """A text cell a spreadsheet will not run: a leading ``= + - @``, tab or CR gets a ``'``."""
    return "'" + text if text.startswith(_FORMULA_START) else text


class JsonLinesWriter:
    """One compact JSON object per line (on a terminal, with control characters escaped)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._terminal = stream.isatty()

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Write one model as a line."""
        text = encode(wire_data(item, extra))
        self._stream.write((safe_json(text) if self._terminal else text) + "\n")

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    suspend = flush

    def close(self) -> None:
        """Nothing to end: JSON Lines has no framing."""
        self._stream.flush()


class JsonWriter:
    """A JSON array streamed item by item (one item per line), or one object.

    Args:
        stream: where to write.
        single: write exactly one object rather than an array.
        items_before: elements an interrupted export already wrote to ``stream``.
    """

    def __init__(self, stream: TextIO, *, single: bool = False, items_before: int = 0) -> None:
        self._stream = stream
        self._single = single
        self._count = items_before
        self._terminal = stream.isatty()

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Write one model (the array is opened before the first)."""
        text = encode(wire_data(item, extra))
        if self._terminal:
            text = safe_json(text)
        if self._single:
            self._stream.write(text + "\n")
        else:
            self._stream.write(("[\n" if self._count == 0 else ",\n") + text)
        self._count += 1

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    suspend = flush

    def close(self) -> None:
        """Close the array (``[]`` when nothing was written)."""
        if not self._single:
            self._stream.write("[]\n" if self._count == 0 else "\n]\n")
        self._stream.flush()


class CsvWriter:
    """CSV: a header of wire names, then one row per item.

    Lists and objects (``notifyEmails``, ``sublicenses``) are written as JSON text in one cell;
    ``null`` is an empty cell. Text cells that a spreadsheet would run as a formula are
    defused with a leading ``'``; numbers are written as numbers.

    Args:
        stream: where to write.
        columns: the wire names, in order.
        dialect: ``rfc4180`` (``,`` and LF), ``excel`` (UTF-8 byte order mark, ``,``, CRLF)
            or ``excel-eu`` (byte order mark, ``;``, CRLF, decimal comma).
        continued: the stream already holds the header (an export being resumed).
        terminal: the stream is a terminal: control characters are shown as escapes.
    """

    def __init__(
        self,
        stream: TextIO,
        columns: Sequence[str],
        *,
        dialect: str = "rfc4180",
        continued: bool = False,
        terminal: bool = False,
    ) -> None:
        self._stream = stream
        self._columns = tuple(columns)
        self._comma = dialect == "excel-eu"
        self._terminal = terminal
        excel = dialect in ("excel", "excel-eu")
        self._csv = csv.writer(
            stream, delimiter=";" if self._comma else ",", lineterminator="\r\n" if excel else "\n"
        )
        if not continued:
            if excel:
                # Excel reads UTF-8 only when the file says so.
                stream.write("\ufeff")
            self._csv.writerow(self._columns)

    def _cell(self, value: object) -> str:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            text = cell(value)
            return text.replace(".", ",") if self._comma else text
        text = defuse(cell(value))
        return safe(text) if self._terminal else text

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Write one model as a row."""
        data = wire_data(item, extra)
        self._csv.writerow([self._cell(data.get(column)) for column in self._columns])

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    suspend = flush

    def close(self) -> None:
        """Flush the stream."""
        self._stream.flush()
