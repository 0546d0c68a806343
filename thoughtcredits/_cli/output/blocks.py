"""Records as blocks, one ``name | value`` line per column, when a table row cannot fit.

The layout of ``psql``'s expanded mode (``\\x``)::

    -[ RECORD 1 ]-------+-------------------------------------
    id                  | 33a0defe-4c63-4a35-9a44-5d8d2c3f1b10
    currentBalance      | 1000

Ids, amounts and timestamps are never cut: they are far shorter than any terminal once the
name column is beside them. Longer text (a name, a list as JSON) folds onto more lines.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

__all__ = ["block_lines"]

_RULE = "-"


def block_lines(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    *,
    first: int = 1,
    is_whole: Callable[[str], bool] = lambda column: False,
) -> list[str]:
    """The lines of ``rows`` (cells in ``columns`` order) as numbered blocks.

    Args:
        columns: the column names.
        rows: each row's cells, as text.
        width: the terminal's width (text values fold to fit it).
        first: the number of the first record.
        is_whole: columns whose values are never folded.
    """
    key = max(len(column) for column in columns)
    room = max(width - key - 3, 10)
    rule = min(room, max((len(value) for row in rows for value in row), default=0)) + 1
    lines: list[str] = []
    for number, row in enumerate(rows, first):
        title = f"-[ RECORD {number:,} ]"
        lines.append(title + _RULE * max(key + 1 - len(title), 0) + "+" + _RULE * rule)
        for column, value in zip(columns, row, strict=True):
            parts = [value] if is_whole(column) or len(value) <= room else _fold(value, room)
            lines.append(f"{column.ljust(key)} | {parts[0]}".rstrip())
            lines.extend(f"{'':{key}} | {part}".rstrip() for part in parts[1:])
    return lines


def _fold(value: str, room: int) -> list[str]:
    return textwrap.wrap(value, room, break_on_hyphens=False, drop_whitespace=False) or [""]
