"""The whole ledger as a JSON-able snapshot, and back, exactly.

Everything a listing shows is in the snapshot (ids, seqs, epoch-ms times, exact amounts, the
order of every list), so listings after :func:`load_ledger` are byte-identical. Action rows
are arrays of their 14 fields, so a million actions stay compact. Loading checks everything
and builds a new ledger first: a bad snapshot changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any, Final, TypeVar

from .._server import validate as v
from .ledger import Ledger
from .records import AccountRecord, ActionRow, Amount, BatchRecord, ClientRecord

__all__ = ["FORMAT", "StateError", "dump_ledger", "load_ledger"]

FORMAT: Final = "thoughtcredits.fake-ledger/1"
_ACTION_FIELDS: Final = len(ActionRow._fields)
_AMOUNTS: Final = frozenset({2, 5, 6, 11, 12})
_MAX_MS: Final = 253_402_300_799_999
T = TypeVar("T")


class StateError(ValueError):
    """A snapshot that cannot be loaded; the message names the bad part."""


def _batch(b: BatchRecord) -> dict[str, object]:
    return {
        "id": b.id, "clientId": b.client_id, "creditAccountId": b.account_id, "name": b.name,
        "seq": b.seq, "startingBalance": b.starting_balance, "currentBalance": b.current_balance,
        "allocatedCredits": b.allocated_credits, "createdAt": b.created_at,
        "updatedAt": b.updated_at, "expiresOn": b.expires_on, "status": b.status,
    }  # fmt: skip


def _account(a: AccountRecord) -> dict[str, object]:
    return {
        "id": a.id, "clientId": a.client_id, "name": a.name, "seq": a.seq,
        "createdAt": a.created_at, "updatedAt": a.updated_at, "notifyEmails": a.notify_emails,
        "licenseIds": a.license_ids, "type": a.type, "status": a.status,
        "batchDaysUntilExpire": a.batch_days_until_expire,
        "minimumBatchAmount": a.minimum_batch_amount, "creditBatchName": a.credit_batch_name,
        "creditBatches": [b.id for b in a.batches],
        "creditActions": {kind: [list(row) for row in rows] for kind, rows in a.actions.items()},
    }  # fmt: skip


def dump_ledger(ledger: Ledger) -> dict[str, object]:
    """A JSON-able snapshot of every client, account, batch and action of ``ledger``."""
    return {
        "format": FORMAT,
        "seq": ledger.seq,
        "lastMs": ledger.last_ms,
        "actionIdPrefix": ledger.action_id_prefix,
        "clients": [
            {
                "id": c.id,
                "adminUserId": c.admin_user_id,
                "creditAccounts": [a.id for a in c.accounts],
                "creditBatches": [b.id for b in c.batches],
            }
            for c in ledger.clients.values()
        ],
        "creditAccounts": [_account(a) for a in ledger.accounts.values()],
        "creditBatches": [_batch(b) for b in ledger.batches.values()],
    }


class _Reader:
    """Typed field access with error messages that say where the problem is."""

    def __init__(self, where: str, value: object) -> None:
        if not isinstance(value, dict):
            raise StateError(f"{where}: must be an object")
        self.where, self.value = where, value

    def get(self, name: str, check: Callable[[str, object], T]) -> T:
        """The checked value of a required field."""
        value = self.value.get(name)
        if value is None:
            raise StateError(f"{self.where}.{name}: required")
        try:
            return check(name, value)
        except v.BadRequestError as exc:
            raise StateError(f"{self.where}.{exc}") from None

    def maybe(self, name: str, check: Callable[[str, object], T]) -> T | None:
        """The checked value of a nullable field, or None."""
        return None if self.value.get(name) is None else self.get(name, check)


def _list(name: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise v.BadRequestError(name, "must be an array")
    return value


def _count(name: str, value: object) -> int:
    return v.integer(name, value, minimum=0)


def _time(name: str, value: object) -> int:
    # Epoch ms up to 9999-12-31: a later one could not be written as a timestamp.
    return v.integer(name, value, minimum=0, maximum=_MAX_MS)


def _amount(name: str, value: object) -> Amount:
    return v.number(name, value)


def _row(where: str, value: object) -> ActionRow:
    if not isinstance(value, list) or len(value) != _ACTION_FIELDS:
        raise StateError(f"{where}: must be an array of {_ACTION_FIELDS} fields")
    fields: list[Any] = []
    try:
        for index, (name, item) in enumerate(zip(ActionRow._fields, value, strict=True)):
            if index in (0, 13):  # seq, timestamp
                fields.append(_time(name, item) if index else _count(name, item))
            elif item is None and index > 2:
                fields.append(None)
            elif index in _AMOUNTS:
                fields.append(_amount(name, item))
            else:
                fields.append(v.string(name, item))
    except v.BadRequestError as exc:
        raise StateError(f"{where}.{exc}") from None
    return ActionRow(*fields)


def _uuid_list(reader: _Reader, name: str, known: Mapping[str, T]) -> list[T]:
    items = []
    for index, item in enumerate(reader.get(name, _list)):
        key = item.lower() if isinstance(item, str) else None
        if key is None or key not in known:
            raise StateError(f"{reader.where}.{name}[{index}]: unknown id {str(item)[:60]!r}")
        items.append(known[key])
    return items


def _load_batch(where: str, value: object) -> BatchRecord:
    r = _Reader(where, value)
    return BatchRecord(
        r.get("id", v.uuid_value), r.get("clientId", v.uuid_value),
        r.get("creditAccountId", v.uuid_value), r.maybe("name", v.string),
        r.get("seq", _count), r.get("startingBalance", _amount),
        r.get("currentBalance", _amount), r.get("allocatedCredits", _amount),
        r.get("createdAt", _time), r.get("updatedAt", _time),
        r.maybe("expiresOn", _time), r.get("status", v.string),
    )  # fmt: skip


def _load_account(where: str, value: object, batches: Mapping[str, BatchRecord]) -> AccountRecord:
    r = _Reader(where, value)
    account = AccountRecord(
        r.get("id", v.uuid_value), r.get("clientId", v.uuid_value), r.get("name", v.string),
        r.get("seq", _count), r.get("createdAt", _time), r.get("updatedAt", _time),
        r.get("notifyEmails", v.string_list), r.get("licenseIds", v.string_list),
        r.get("type", v.string), r.get("status", v.string),
        r.maybe("batchDaysUntilExpire", v.integer),
        r.maybe("minimumBatchAmount", v.integer),
        r.maybe("creditBatchName", v.string), _uuid_list(r, "creditBatches", batches),
    )  # fmt: skip
    actions = _Reader(f"{where}.creditActions", r.value.get("creditActions"))
    for kind, rows in actions.value.items():
        rows_where = f"{actions.where}.{kind}"
        parsed = [_row(f"{rows_where}[{i}]", row) for i, row in enumerate(_list(kind, rows))]
        # A row may repeat as an exact copy: a planted duplicate (``plant_discrepancies``).
        if any(a.seq > b.seq or (a.seq == b.seq and a != b) for a, b in pairwise(parsed)):
            raise StateError(f"{rows_where}: rows must be in increasing seq order")
        account.actions[kind] = parsed
    return account


def _by_id(where: str, items: list[T], id_of: Callable[[T], str]) -> dict[str, T]:
    found: dict[str, T] = {}
    for item in items:
        if found.setdefault(id_of(item), item) is not item:
            raise StateError(f"{where}: duplicate id {id_of(item)}")
    return found


def load_ledger(data: object, into: Ledger) -> None:
    """Replace the state of ``into`` with a snapshot from :func:`dump_ledger`.

    Raises:
        StateError: the snapshot is malformed or inconsistent; ``into`` is unchanged.
    """
    top = _Reader("state", data)
    if top.value.get("format") != FORMAT:
        raise StateError(f"state.format: expected {FORMAT!r}")
    batch_list = top.get("creditBatches", _list)
    batches = _by_id("creditBatches", [_load_batch(f"creditBatches[{i}]", b)
                     for i, b in enumerate(batch_list)], lambda b: b.id)  # fmt: skip
    accounts = _by_id("creditAccounts", [
        _load_account(f"creditAccounts[{i}]", a, batches)
        for i, a in enumerate(top.get("creditAccounts", _list))
    ], lambda a: a.id)  # fmt: skip
    clients: dict[str, ClientRecord] = {}
    for i, item in enumerate(top.get("clients", _list)):
        r = _Reader(f"clients[{i}]", item)
        client = ClientRecord(r.get("id", v.uuid_value), r.get("adminUserId", v.uuid_value),
                              _uuid_list(r, "creditAccounts", accounts),
                              _uuid_list(r, "creditBatches", batches))  # fmt: skip
        if clients.setdefault(client.id, client) is not client:
            raise StateError(f"clients: duplicate id {client.id}")
    for account in accounts.values():
        if account.client_id not in clients:
            raise StateError(f"creditAccounts: {account.id} names unknown client")
    for batch in batches.values():
        owner = accounts.get(batch.account_id)
        if owner is None or batch.client_id != owner.client_id:
            raise StateError(f"creditBatches: {batch.id} names an unknown account or client")
    prefix = top.get("actionIdPrefix", v.string)
    if len(prefix) != 24 or not v.UUID_PATTERN.match(f"{prefix}{0:012x}"):
        raise StateError("state.actionIdPrefix: must be the first 24 characters of a UUID")
    fresh = Ledger(clock=into.clock)
    fresh.clients, fresh.accounts, fresh.batches = clients, accounts, batches
    fresh.action_id_prefix = prefix
    # The counters must stay ahead of every stored seq and time, or new rows would sort wrong.
    seqs = [top.get("seq", _count), *(a.seq for a in accounts.values())]
    seqs += [b.seq for b in batches.values()]
    seqs += [rows[-1].seq for a in accounts.values() for rows in a.actions.values() if rows]
    fresh.advance(max(seqs), top.get("lastMs", _time))
    into.replace(fresh)
