"""Tables for people: rich when installed, aligned plain text otherwise.

A listing is printed in chunks (one per page) with fixed column widths, so rows appear as
they arrive, the columns line up from chunk to chunk, and memory stays flat.
"""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .blocks import block_lines
from .columns import column_widths, fit_columns, is_amount, is_whole, width, width_of
from .formats import cell, wire_data
from .safe import safe

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PlainTable", "RichTable", "rich_available"]

_CHUNK_ROWS = 200


def rich_available() -> bool:
    """True when the optional ``rich`` package (``thoughtcredits[cli]``) can be imported."""
    try:
        return importlib.util.find_spec("rich") is not None
    except (ImportError, ValueError):  # e.g. sys.modules["rich"] = None
        return False


class RichTable:
    """A rich table writer that keeps ids, amounts and timestamps whole at any width.

    Rows that fit the terminal are a table; when even the columns that must be shown do not
    fit, the rows are printed as blocks (:mod:`.blocks`), one line per column.

    Args:
        console: the rich console to print on.
        columns: the wire names to show (ignored for a single object, which shows all).
        single: print one object as a two-column field/value table.
        fit: drop low-priority columns (with a note) when the terminal is too narrow, down
            to the core; otherwise (``--wide``, ``--columns``) every column is shown.
        note: prints a note on stderr.
        keep: the columns' order of importance, how many of them are the core, and whether
            a default table shows them in that order.
    """

    def __init__(
        self,
        console: Console,
        columns: Sequence[str],
        *,
        single: bool,
        fit: bool = True,
        note: Callable[[str], None] | None = None,
        keep: tuple[Sequence[str], int, bool] = ((), 0, False),
    ) -> None:
        self._console = console
        self._columns = tuple(columns)
        self._single = single
        self._fit = fit
        self._note = note
        order, core, lead = keep
        self._keep = tuple(c for c in order if c in self._columns)
        if fit and lead:
            self._columns = (*self._keep, *[c for c in self._columns if c not in self._keep])
        self._core = min(core, len(self._keep)) if fit else len(self._columns)
        self._shown: tuple[str, ...] | None = None
        self._blocks = False
        self._rows: list[list[str]] = []
        self._printed = 0

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Add one model; rows are printed at the next flush."""
        data = wire_data(item, extra)
        if self._single:
            self._rows.extend([key, safe(cell(value))] for key, value in data.items())
        else:
            self._rows.append([safe(cell(data.get(column))) for column in self._columns])
            if len(self._rows) >= _CHUNK_ROWS:
                self.flush()

    def _choose(self) -> tuple[str, ...]:
        width = self._console.width
        dropped: tuple[str, ...] = ()
        if self._shown is None:
            self._shown = self._columns
            if self._fit:
                self._shown, dropped = fit_columns(
                    self._columns, self._rows, width, self._keep, self._core
                )
        # Once a chunk needs more than the terminal has, the rest are blocks too.
        if width_of(column_widths(self._shown, self._cells(self._shown)), self._shown) > width:
            self._blocks = True
        if dropped and self._note is not None:
            why = "" if self._blocks else f" to fit {width} columns"
            text = f"note: {', '.join(dropped)} hidden{why}; use --wide or --columns to choose"
            # One note a line: a note escapes control characters, a newline included.
            for line in textwrap.wrap(text, width - 1, break_on_hyphens=False):
                self._note(line)
        return self._shown

    def _cells(self, shown: Sequence[str]) -> list[list[str]]:
        index = [self._columns.index(column) for column in shown]
        return [[row[i] for i in index] for row in self._rows]

    def flush(self) -> None:
        """Print the buffered rows of a listing as one chunk of the table (or of blocks)."""
        if self._single or (not self._rows and self._printed):
            return
        shown = self._choose()
        cells = self._cells(shown)
        if self._blocks:
            from rich.text import Text

            lines = block_lines(
                shown, cells, self._console.width, first=self._printed + 1, is_whole=is_whole
            )
            for line in lines:
                self._console.print(Text(line), no_wrap=True, crop=False)
        else:
            self._console.print(self._table(shown, cells))
        self._printed += len(self._rows)
        self._rows.clear()

    def _table(self, shown: Sequence[str], cells: Sequence[Sequence[str]]) -> Any:
        from rich import box
        from rich.table import Column, Table
        from rich.text import Text

        needs = column_widths(shown, cells)
        table = Table(
            *[
                Column(
                    column,
                    justify="right" if is_amount(column) else "left",
                    min_width=needs[column],
                    max_width=None if is_whole(column) else max(width(column), len(column)),
                    no_wrap=is_whole(column),
                    overflow="fold",
                    header_style="bold",
                )
                for column in shown
            ],
            box=box.SIMPLE_HEAD,
            show_header=not self._printed,
            show_edge=False,
            pad_edge=False,
        )
        for row in cells:
            # Text, not str: "[red]" in a batch name is shown, not read as rich markup.
            table.add_row(*(Text(value) for value in row))
        return table

    suspend = flush

    def close(self) -> None:
        """Print what is left (a single object prints here)."""
        if not self._single:
            self.flush()
            return
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table("field", "value", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for key, value in self._rows:
            table.add_row(key, Text(value))
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
            self._line(["-" * width(column) for column in self._columns])

    def _line(self, cells: Sequence[str]) -> None:
        parts = [
            text.rjust(width(column)) if is_amount(column) else text.ljust(width(column))
            for column, text in zip(self._columns, cells, strict=True)
        ]
        self._stream.write("  ".join(parts).rstrip() + "\n")

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Write one model as a row (a single object is written at close)."""
        data = wire_data(item, extra)
        if self._single:
            self._pairs.extend((key, safe(cell(value))) for key, value in data.items())
        else:
            self._line([safe(cell(data.get(column))) for column in self._columns])

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    suspend = flush

    def close(self) -> None:
        """Write a single object as ``field  value`` lines."""
        if self._single:
            width = max((len(key) for key, _ in self._pairs), default=0)
            for key, value in self._pairs:
                self._stream.write(f"{key.ljust(width)}  {value}\n")
        self._stream.flush()
