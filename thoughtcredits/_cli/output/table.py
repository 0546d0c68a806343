"""Tables for people: rich when installed, aligned plain text otherwise.

A listing is printed in chunks (one per page) with fixed column widths, so rows appear as
they arrive, the columns line up from chunk to chunk, and memory stays flat.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..._models import CreditAccount, CreditAction, CreditBatch
from .formats import cell, columns_of, wire_data
from .safe import safe

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PlainTable", "RichTable", "fit_columns", "rich_available", "table_columns"]

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
# What a narrow terminal keeps longest (first) and drops first (last), per model.
_KEEP_ORDER: dict[type[Any], tuple[str, ...]] = {
    CreditBatch: (
        "id", "currentBalance", "name", "status", "allocatedCredits", "startingBalance",
        "expiresOn",
    ),
    CreditAction: (
        "amount", "id", "action", "timestamp", "sourceBalanceOut", "targetBalanceOut",
        "sourceBalanceIn", "targetBalanceIn",
    ),
    CreditAccount: ("id", "currentBalance", "name", "status", "type", "createdAt"),
}  # fmt: skip
_ID_NAMES = frozenset({"id", "source", "target", "initiator", "client"})
_AMOUNT_NAMES = frozenset({"amount", "allocatedCredits"})
_CHUNK_ROWS = 200
# Between two columns: a space of padding on each side of the (blank) divider.
_GAP = 3
_MIN_TEXT = 10


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


def _is_whole(column: str) -> bool:
    """Ids, amounts and timestamps are never cut or wrapped."""
    return (
        column in _ID_NAMES
        or column.endswith(("Id", "At", "On"))
        or column == "timestamp"
        or _is_amount(column)
    )


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


def fit_columns(
    columns: Sequence[str], rows: Sequence[Sequence[str]], width: int, keep: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns that fit ``width`` with ids and amounts whole, and those dropped.

    The first two ``keep`` columns (an id and the money) are always shown. The others are
    added in ``keep`` order (then the rest) while they still fit: whole columns at their
    widest cell, text columns at a folded minimum. The shown columns keep their order.
    """

    def need(column: str) -> int:
        index = columns.index(column)
        widest = max((len(row[index]) for row in rows), default=0)
        if _is_whole(column):
            return max(len(column), widest)
        return min(max(len(column), widest), max(_MIN_TEXT, len(column)))

    order = [c for c in keep if c in columns] + [c for c in columns if c not in keep]
    chosen = order[:2]
    used = sum(map(need, chosen)) + _GAP * (len(chosen) - 1)
    for column in order[2:]:
        if used + _GAP + need(column) <= width:
            chosen.append(column)
            used += _GAP + need(column)
    shown = tuple(c for c in columns if c in chosen)
    return shown, tuple(c for c in columns if c not in chosen)


class RichTable:
    """A rich table writer that keeps ids and amounts whole at any terminal width.

    Args:
        console: the rich console to print on.
        columns: the wire names to show (ignored for a single object, which shows all).
        single: print one object as a two-column field/value table.
        fit: drop low-value columns (with a note) when the terminal is too narrow; otherwise
            every column is shown and lines may be wider than the terminal.
        note: prints a note on stderr.
        keep: the columns' order of importance (default: per model).
    """

    def __init__(
        self,
        console: Console,
        columns: Sequence[str],
        *,
        single: bool,
        fit: bool = True,
        note: Callable[[str], None] | None = None,
        keep: Sequence[str] = (),
    ) -> None:
        self._console = console
        self._columns = tuple(columns)
        self._single = single
        self._fit = fit
        self._note = note
        self._keep = tuple(keep) or next(
            (order for cls, order in _KEEP_ORDER.items() if set(order) <= set(columns)), ()
        )
        self._shown: tuple[str, ...] | None = None
        self._rows: list[list[str]] = []
        self._printed_header = False

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
        if self._shown is None:
            self._shown = self._columns
            if self._fit:
                self._shown, dropped = fit_columns(
                    self._columns, self._rows, self._console.width, self._keep
                )
                if dropped and self._note is not None:
                    self._note(
                        f"note: {', '.join(dropped)} hidden to fit {self._console.width} "
                        "columns; use --wide or --columns to choose"
                    )
        return self._shown

    def flush(self) -> None:
        """Print the buffered rows of a listing as one chunk of the table."""
        if self._single or (not self._rows and self._printed_header):
            return
        from rich import box
        from rich.table import Column, Table
        from rich.text import Text

        shown = self._choose()
        index = [self._columns.index(column) for column in shown]
        widths = [
            max([len(column), *(len(row[i]) for row in self._rows)])
            for column, i in zip(shown, index, strict=True)
        ]
        table = Table(
            *[
                Column(
                    column,
                    justify="right" if _is_amount(column) else "left",
                    min_width=widths[n] if _is_whole(column) else min(_MIN_TEXT, widths[n]),
                    max_width=None if _is_whole(column) else max(_width(column), len(column)),
                    no_wrap=_is_whole(column),
                    overflow="fold",
                    header_style="bold",
                )
                for n, column in enumerate(shown)
            ],
            box=box.SIMPLE_HEAD,
            show_header=not self._printed_header,
            show_edge=False,
            pad_edge=False,
        )
        for row in self._rows:
            # Text, not str: "[red]" in a batch name is shown, not read as rich markup.
            table.add_row(*(Text(row[i]) for i in index))
        whole = sum(w for c, w in zip(shown, widths, strict=True) if _is_whole(c))
        texts = sum(_MIN_TEXT for c in shown if not _is_whole(c))
        needed = whole + texts + _GAP * (len(shown) - 1)
        # Never narrower than the whole columns need: a line may wrap, a balance is not cut.
        self._console.print(table, width=max(self._console.width, needed))
        self._rows.clear()
        self._printed_header = True

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
            self._line(["-" * _width(column) for column in self._columns])

    def _line(self, cells: Sequence[str]) -> None:
        parts = [
            text.rjust(_width(column)) if _is_amount(column) else text.ljust(_width(column))
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
