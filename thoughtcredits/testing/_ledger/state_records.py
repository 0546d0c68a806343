"""Each record of a ledger snapshot, read and checked: clients, accounts with their action
rows, and batches.

Every id must be a UUID, every text valid Unicode, every amount a non-negative number within
the wire bounds, and every seq and time within a range that leaves room for later writes.
Action rows, a million in a large snapshot, pass a fast type test and get the full checks
only when it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any, Final, TypeVar

from . import fields as f
from .records import AccountRecord, ActionRow, BatchRecord, ClientRecord

__all__ = [
    "Reader",
    "StateError",
    "clock_time",
    "list_of",
    "read_account",
    "read_batch",
    "read_client",
    "seq_value",
]

_CLIENT: Final = frozenset({"id", "adminUserId", "creditAccounts", "creditBatches"})
_BATCH: Final = frozenset(
    {"id", "clientId", "creditAccountId", "name", "seq", "startingBalance", "currentBalance",
     "allocatedCredits", "createdAt", "updatedAt", "expiresOn", "status"}
)  # fmt: skip
_ACCOUNT: Final = frozenset(
    {"id", "clientId", "name", "seq", "createdAt", "updatedAt", "notifyEmails", "licenseIds",
     "type", "status", "batchDaysUntilExpire", "minimumBatchAmount", "creditBatchName",
     "creditBatches", "creditActions"}
)  # fmt: skip
_ROW_FIELDS: Final = len(ActionRow._fields)
_ROW_AMOUNTS: Final = (5, 6, 11, 12)  # nullable balances; the amount (2) is required
_ROW_TEXTS: Final = (3, 4, 7, 8, 9, 10)
_AMOUNT_LIMIT: Final = 10**f.MAX_INTEGER_DIGITS
T = TypeVar("T")


class StateError(ValueError):
    """A snapshot that cannot be loaded; the message names its first problem."""


class Reader:
    """Typed access to one JSON object's fields, with messages that say where."""

    def __init__(self, where: str, value: object, known: frozenset[str]) -> None:
        if not isinstance(value, dict):
            raise StateError(f"{where}: must be an object")
        unknown = [name for name in value if name not in known]
        if unknown:
            raise StateError(f"{where}: unknown field {unknown[0][:60]!r}")
        self.where, self.value = where, value

    def get(self, name: str, check: Callable[[str, Any], T]) -> T:
        """The checked value of a required field."""
        value = self.value.get(name)
        if value is None:
            raise StateError(f"{self.where}.{name}: required")
        try:
            return check(name, value)
        except f.FieldError as exc:
            raise StateError(f"{self.where}.{exc}") from None

    def maybe(self, name: str, check: Callable[[str, Any], T]) -> T | None:
        """The checked value of a nullable field, or None."""
        return None if self.value.get(name) is None else self.get(name, check)


def list_of(name: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise f.FieldError(name, "must be an array")
    return value


def seq_value(name: str, value: object) -> int:
    return f.integer(name, value, minimum=0, maximum=f.MAX_SEQ)


def clock_time(name: str, value: object) -> int:
    """A time the ledger's clock wrote: epoch ms from 1970 up to (not including) 3000."""
    result = f.integer(name, value, minimum=0)
    if result >= f.MAX_CLOCK_MS:
        raise f.FieldError(name, f"must be at most {f.MAX_CLOCK_MS - 1} (before the year 3000)")
    return result


def _date(name: str, value: object) -> int:
    """An expiry date: epoch ms within years 1-9999, as the API accepts them."""
    return f.integer(name, value, minimum=f.MIN_DATE_MS, maximum=f.MAX_DATE_MS)


def _days(name: str, value: object) -> int:
    return f.integer(name, value, minimum=0, maximum=f.MAX_DAYS)


def _non_negative(name: str, value: object) -> int:
    return f.integer(name, value, minimum=0)


def _row(where: str, kind: str, value: object) -> ActionRow:
    """One action row; the usual values pass a fast type test, the rest the full checks."""
    if type(value) is not list or len(value) != _ROW_FIELDS:
        raise StateError(f"{where}: must be an array of {_ROW_FIELDS} fields")
    row = value[:]
    names = ActionRow._fields
    try:
        if type(row[0]) is not int or not 0 <= row[0] <= f.MAX_SEQ:
            seq_value(names[0], row[0])
        if row[1] != kind:
            f.string(names[1], row[1])
            raise f.FieldError(names[1], f"{row[1][:60]!r} listed under {kind[:60]!r}")
        if type(row[2]) is not int or not 0 <= row[2] < _AMOUNT_LIMIT:
            row[2] = f.amount(names[2], row[2])
        for index in _ROW_AMOUNTS:
            item = row[index]
            if item is not None and (type(item) is not int or not 0 <= item < _AMOUNT_LIMIT):
                row[index] = f.amount(names[index], item)
        for index in _ROW_TEXTS:
            item = row[index]
            if item is not None and (type(item) is not str or not item.isascii()):
                f.string(names[index], item)
        if type(row[13]) is not int or not 0 <= row[13] < f.MAX_CLOCK_MS:
            clock_time(names[13], row[13])
    except f.FieldError as exc:
        raise StateError(f"{where}.{exc}") from None
    return ActionRow._make(row)


def read_batch(where: str, value: object) -> BatchRecord:
    r = Reader(where, value, _BATCH)
    return BatchRecord(
        r.get("id", f.uuid_value), r.get("clientId", f.uuid_value),
        r.get("creditAccountId", f.uuid_value), r.maybe("name", f.string),
        r.get("seq", seq_value), r.get("startingBalance", f.amount),
        r.get("currentBalance", f.amount), r.get("allocatedCredits", f.amount),
        r.get("createdAt", clock_time), r.get("updatedAt", clock_time),
        r.maybe("expiresOn", _date), r.get("status", f.string),
    )  # fmt: skip


def read_account(where: str, value: object) -> tuple[AccountRecord, list[Any]]:
    """An account without its batches, and the batch ids it lists (resolved later)."""
    r = Reader(where, value, _ACCOUNT)
    account = AccountRecord(
        r.get("id", f.uuid_value), r.get("clientId", f.uuid_value), r.get("name", f.string),
        r.get("seq", seq_value), r.get("createdAt", clock_time), r.get("updatedAt", clock_time),
        r.get("notifyEmails", f.string_list), r.get("licenseIds", f.string_list),
        r.get("type", f.string), r.get("status", f.string),
        r.maybe("batchDaysUntilExpire", _days), r.maybe("minimumBatchAmount", _non_negative),
        r.maybe("creditBatchName", f.string),
    )  # fmt: skip
    listed = r.get("creditBatches", list_of)
    actions = r.value.get("creditActions")
    if not isinstance(actions, dict):
        raise StateError(f"{where}.creditActions: must be an object")
    for kind, rows in actions.items():
        place = f"{where}.creditActions.{_label(kind)}"
        try:
            if not f.string("creditActions", kind):
                raise f.FieldError("creditActions", "an action type must not be empty")
        except f.FieldError as exc:
            raise StateError(f"{where}.{exc}") from None
        if not isinstance(rows, list):
            raise StateError(f"{place}: must be an array")
        parsed = [_row(f"{place}[{i}]", kind, row) for i, row in enumerate(rows)]
        # A row may repeat as an exact copy: a planted duplicate (``plant_discrepancies``).
        if any(a.seq > b.seq or (a.seq == b.seq and a != b) for a, b in pairwise(parsed)):
            raise StateError(f"{place}: rows must be in increasing seq order")
        account.actions[kind] = parsed
    return account, listed


def read_client(where: str, value: object) -> tuple[ClientRecord, list[Any], list[Any]]:
    """A client without its lists, and the account and batch ids it lists (resolved later)."""
    r = Reader(where, value, _CLIENT)
    client = ClientRecord(r.get("id", f.uuid_value), r.get("adminUserId", f.uuid_value))
    return client, r.get("creditAccounts", list_of), r.get("creditBatches", list_of)


def _label(kind: str) -> str:
    """An action type as a message shows it: as is when short and plain, else quoted."""
    plain = len(kind) <= 60 and kind.isascii() and kind.isprintable()
    return kind if plain else repr(kind[:60])
