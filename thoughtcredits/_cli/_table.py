"""Tables for people: rich when installed, aligned plain text otherwise.

A listing is printed in chunks (one per page) with fixed column widths, so rows appear as
they arrive, the columns line up from chunk to chunk, and memory stays flat.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .._converter import unstructure
from .._models import CreditAccount, CreditAction, CreditBatch
from ._output import cell, columns_of

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PlainTable", "RichTable", "rich_available", "table_columns"]

_LISTING_COLUMNS: dict[type[Any], tuple[str, ...]] = {
    CreditBatch: (
        "id",
        "name",
        "status",
        "startingBalance",
        "currentBalance",
        "allocatedCredits",
        "expiresOn",
    ),
    CreditAction: (
        "timestamp",
        "action",
        "amount",
        "sourceBalanceIn",
        "sourceBalanceOut",
        "targetBalanceIn",
        "targetBalanceOut",
        "id",
    ),
    CreditAccount: ("id", "name", "type", "status", "currentBalance", "createdAt"),
}
_ID_NAMES = frozenset({"id", "source", "target", "initiator", "client"})
_AMOUNT_NAMES = frozenset({"amount", "allocatedCredits"})
_CHUNK_ROWS = 200


def rich_available() -> bool:
    """True when the optional ``rich`` package (``thoughtcredits[cli]``) can be imported."""
    try:
        return importlib.util.find_spec("rich") is not None
    except (ImportError, ValueError):  # e.g. sys.modules["rich"] = None
        return False


def table_columns(cls: type[Any]) -> tuple[str, ...]:
    """The columns a listing table shows for ``cls`` (all fields for unknown models)."""
    return _LISTING_COLUMNS.get(cls) or columns_of(cls)


def _is_amount(column: str) -> bool:
    return column in _AMOUNT_NAMES or "Balance" in column


def _width(column: str) -> int:
    if column in _ID_NAMES or column.endswith("Id"):
        width = 36
    elif column == "timestamp" or column.endswith(("At", "On")):
        width = 24
    elif _is_amount(column):
        width = 10
    elif column == "name":
        width = 20
    else:
        width = 8
    return max(width, len(column))


class RichTable:
    """A rich table writer.

    Args:
        console: the rich console to print on.
        columns: the wire names to show (ignored for a single object, which shows all).
        single: print one object as a two-column field/value table.
    """

    def __init__(self, console: Console, columns: Sequence[str], *, single: bool) -> None:
        self._console = console
        self._columns = tuple(columns)
        self._single = single
        self._rows: list[list[str]] = []
        self._printed_header = False

    def write(self, item: object) -> None:
        """Add one model; rows are printed at the next flush."""
        data = unstructure(item)
        if self._single:
            self._rows.extend([key, cell(value)] for key, value in data.items())
        else:
            self._rows.append([cell(data.get(column)) for column in self._columns])
            if len(self._rows) >= _CHUNK_ROWS:
                self.flush()

    def flush(self) -> None:
        """Print the buffered rows of a listing as one chunk of the table."""
        if self._single or (not self._rows and self._printed_header):
            return
        from rich import box
        from rich.table import Column, Table

        table = Table(
            *[
                Column(
                    column,
                    justify="right" if _is_amount(column) else "left",
                    min_width=_width(column),
                    max_width=None if _is_amount(column) else _width(column),
                    overflow="fold",
                    header_style="bold",
                )
                for column in self._columns
            ],
            box=box.SIMPLE_HEAD,
            show_header=not self._printed_header,
            show_edge=False,
            pad_edge=False,
        )
        for row in self._rows:
            table.add_row(*row)
        self._console.print(table)
        self._rows.clear()
        self._printed_header = True

    def close(self) -> None:
        """Print what is left (a single object prints here)."""
        if not self._single:
            self.flush()
            return
        from rich import box
        from rich.table import Table

        table = Table("field", "value", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for key, value in self._rows:
            table.add_row(key, value)
        self._console.print(table)


class PlainTable:
    """The same tables as aligned plain text (used when rich is not installed)."""

    def __init__(self, stream: TextIO, columns: Sequence[str], *, single: bool) -> None:
        self._stream = stream
        self._columns = tuple(columns)
        self._single = single
        self._pairs: list[tuple[str, str]] = []
        if not single:
            self._line(self._columns)
            self._line(["-" * _width(column) for column in self._columns])

    def _line(self, cells: Sequence[str]) -> None:
        parts = [
            text.rjust(_width(column)) if _is_amount(column) else text.ljust(_width(column))
            for column, text in zip(self._columns, cells, strict=True)
        ]
        self._stream.write("  ".join(parts).rstrip() + "\n")

    def write(self, item: object) -> None:
        """Write one model as a row (a single object is written at close)."""
        data = unstructure(item)
        if self._single:
            self._pairs.extend((key, cell(value)) for key, value in data.items())
        else:
            self._line([cell(data.get(column)) for column in self._columns])

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    def close(self) -> None:
        """Write a single object as ``field  value`` lines."""
        if self._single:
            width = max((len(key) for key, _ in self._pairs), default=0)
            for key, value in self._pairs:
                self._stream.write(f"{key.ljust(width)}  {value}\n")
        self._stream.flush()
