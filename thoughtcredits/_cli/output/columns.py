"""Which columns a table shows, how wide each must be, and which to drop to fit.

Ids, amounts and timestamps are *whole* columns: never cut or wrapped, so a table is as wide as
their widest cell. Text (a name) folds, down to a minimum width.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..._models import CreditAccount, CreditAction, CreditBatch
from .formats import columns_of

__all__ = [
    "column_widths",
    "fit_columns",
    "is_amount",
    "is_whole",
    "table_columns",
    "table_priority",
    "width",
    "width_of",
]

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
# What a table shows first (and keeps longest on a narrow terminal), per model, and how many
# of those are the core: shown whole, as a table when they fit, else as blocks; the others
# are dropped, last first, when they do not fit. The balance after a debit is its source's
# (the batch it took from), after a credit its target's. Actions are shown in this order
# (what happened, then the balance after, then the id); batches and accounts in their own.
_PRIORITY: dict[object, tuple[tuple[str, ...], int, bool]] = {
    CreditBatch: (("id", "currentBalance", "name", "status", "allocatedCredits",
                   "startingBalance", "expiresOn"), 4, False),
    (CreditAction, "debit"): (("timestamp", "action", "amount", "sourceBalanceOut", "id",
                               "sourceBalanceIn", "targetBalanceOut", "targetBalanceIn"), 5, True),
    (CreditAction, "credit"): (("timestamp", "action", "amount", "targetBalanceOut", "id",
                                "targetBalanceIn", "sourceBalanceOut", "sourceBalanceIn"), 5, True),
    CreditAction: (("timestamp", "action", "amount", "sourceBalanceOut", "targetBalanceOut",
                    "id", "sourceBalanceIn", "targetBalanceIn"), 6, True),
    CreditAccount: (("id", "currentBalance", "name", "status", "type", "createdAt"), 4, False),
}  # fmt: skip


def table_priority(
    cls: type[Any], action_type: str | None = None
) -> tuple[tuple[str, ...], int, bool]:
    """The columns of ``cls`` by importance, how many are the core, and whether to show them
    in that order."""
    return _PRIORITY.get((cls, action_type)) or _PRIORITY.get(cls) or ((), 0, False)


_ID_NAMES = frozenset({"id", "source", "target", "initiator", "client"})
_AMOUNT_NAMES = frozenset({"amount", "allocatedCredits"})
# Between two columns: a space of padding on each side of the (blank) divider.
_GAP = 3
_MIN_TEXT = 10


def table_columns(cls: type[Any]) -> tuple[str, ...]:
    """The columns a listing table shows for ``cls`` (all fields for unknown models)."""
    return _LISTING_COLUMNS.get(cls) or columns_of(cls)


def is_amount(column: str) -> bool:
    """An amount column (right-aligned, never cut)."""
    return column in _AMOUNT_NAMES or "Balance" in column


def is_whole(column: str) -> bool:
    """Ids, amounts and timestamps are never cut or wrapped."""
    return (
        column in _ID_NAMES
        or column.endswith(("Id", "At", "On"))
        or column == "timestamp"
        or is_amount(column)
    )


def width(column: str) -> int:
    """A column's usual width in a plain table (and a text column's widest fold)."""
    if column in _ID_NAMES or column.endswith("Id"):
        usual = 36
    elif column == "timestamp" or column.endswith(("At", "On")):
        usual = 24
    elif is_amount(column):
        usual = 10
    elif column == "name":
        usual = 20
    else:
        usual = 8
    return max(usual, len(column))


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, int]:
    """Each column's width in a table: whole ones at their widest cell, text at a fold."""

    def need(index: int, column: str) -> int:
        widest = max((len(row[index]) for row in rows), default=0)
        if is_whole(column):
            return max(len(column), widest)
        return min(max(len(column), widest), max(_MIN_TEXT, len(column)))

    return {column: need(index, column) for index, column in enumerate(columns)}


def width_of(needs: Mapping[str, int], shown: Sequence[str]) -> int:
    """The width of a table of ``shown`` columns, each ``needs[column]`` wide."""
    return sum(needs[column] for column in shown) + _GAP * (len(shown) - 1)


def fit_columns(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    keep: Sequence[str],
    core: int = 2,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns to show at ``width`` with ids and amounts whole, and those dropped.

    The first ``core`` columns of ``keep`` are always shown; the others are added in
    ``keep`` order (then the rest) while they still fit. The shown columns keep their order.
    """
    needs = column_widths(columns, rows)
    order = [c for c in keep if c in columns] + [c for c in columns if c not in keep]
    chosen = order[:core]
    for column in order[core:]:
        if width_of(needs, [*chosen, column]) <= width:
            chosen.append(column)
    shown = tuple(c for c in columns if c in chosen)
    return shown, tuple(c for c in columns if c not in chosen)
