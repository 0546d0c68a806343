"""The whole ledger as a JSON-able snapshot, and back, exactly.

Everything a listing shows is in the snapshot (ids, seqs, epoch-ms times, exact amounts, the
order of every list), so listings after :func:`load_ledger` are byte-identical. Action rows
are arrays of their 14 fields, so a million actions stay compact.

Loading checks the whole snapshot before anything is replaced, and refuses, naming its first
problem, any snapshot the server could not serve, or keep writing after, within its contract:

* each record's values (:mod:`.state_records`);
* every reference resolves, and each client's and account's lists name exactly their own
  records, once each (so no listing can show another client's batch), batches in seq order;
* no two actions share an id, and the counters continue after every stored seq and time.

Balances are not reconciled against the action rows: planted discrepancies are a feature
(:func:`~thoughtcredits.testing.plant_discrepancies`), and reconciliation finds them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, TypeVar

from . import fields as f
from .ledger import Ledger
from .records import AccountRecord, BatchRecord, ClientRecord
from .state_records import (
    Reader,
    StateError,
    clock_time,
    list_of,
    read_account,
    read_batch,
    read_client,
    seq_value,
)

__all__ = ["FORMAT", "KEY_FIELD", "StateError", "dump_ledger", "load_ledger"]

FORMAT: Final = "thoughtcredits.fake-ledger/1"
KEY_FIELD: Final = "apiKey"
"""Top-level member where ``serve-fake --state`` keeps its key; not ledger state."""
_TOP: Final = frozenset(
    {"format", "seq", "lastMs", "actionIdPrefix", "clients", "creditAccounts", "creditBatches",
     KEY_FIELD}
)  # fmt: skip
T = TypeVar("T")
_Lists = list[tuple[str, ClientRecord, list[Any], list[Any]]]
"""Each client's place in the snapshot, record, and the account and batch ids it lists."""


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


def load_ledger(data: object, into: Ledger) -> None:
    """Replace the state of ``into`` with a snapshot from :func:`dump_ledger`.

    A top-level ``apiKey`` (written by ``serve-fake --state``) is not ledger state and is
    ignored here.

    Raises:
        StateError: the snapshot is malformed or inconsistent; ``into`` is unchanged.
    """
    read = _read(data)
    fresh = Ledger(clock=into.clock)
    fresh.clients, fresh.accounts, fresh.batches = read.clients, read.accounts, read.batches
    fresh.action_id_prefix = read.action_id_prefix
    # The counters stay ahead of every stored seq and time, so new rows sort after old ones.
    fresh.advance(read.seq, read.last_ms)
    into.replace(fresh)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A checked snapshot, ready to become a ledger's state."""

    clients: dict[str, ClientRecord]
    accounts: dict[str, AccountRecord]
    batches: dict[str, BatchRecord]
    action_id_prefix: str
    seq: int
    """At least every stored seq."""
    last_ms: int
    """At least every stored creation, update and action time."""


def _by_id(where: str, items: list[T], id_of: Callable[[T], str]) -> dict[str, T]:
    found: dict[str, T] = {}
    for item in items:
        if found.setdefault(id_of(item), item) is not item:
            raise StateError(f"{where}: duplicate id {id_of(item)}")
    return found


def _members(
    where: str,
    listed: list[Any],
    known: Mapping[str, T],
    owner_of: Callable[[T], str],
    owner: str,
    owned: int,
    seq_of: Callable[[T], int] | None,
) -> list[T]:
    """The records a list names: each known, owned by ``owner``, once, all ``owned`` of them,
    and (with ``seq_of``) in increasing seq order."""
    items: list[T] = []
    seen: set[str] = set()
    for index, item in enumerate(listed):
        key = item.lower() if isinstance(item, str) else None
        record = None if key is None else known.get(key)
        if key is None or record is None:
            raise StateError(f"{where}[{index}]: unknown id {str(item)[:60]!r}")
        if owner_of(record) != owner:
            raise StateError(f"{where}[{index}]: {key} belongs to {owner_of(record)}, not {owner}")
        if key in seen:
            raise StateError(f"{where}[{index}]: {key} is listed twice")
        if seq_of is not None and items and seq_of(items[-1]) >= seq_of(record):
            raise StateError(f"{where}[{index}]: not in increasing seq order")
        seen.add(key)
        items.append(record)
    if len(items) != owned:
        missing = next(k for k, r in known.items() if owner_of(r) == owner and k not in seen)
        raise StateError(f"{where}: {missing} of {owner} is not listed")
    return items


def _account_id(batch: BatchRecord) -> str:
    return batch.account_id


def _client_id(record: BatchRecord | AccountRecord) -> str:
    return record.client_id


def _batch_seq(batch: BatchRecord) -> int:
    return batch.seq


def _read(data: object) -> _Snapshot:
    """Check a snapshot completely and build its records (StateError: the first problem)."""
    top = Reader("state", data, _TOP)
    if top.value.get("format") != FORMAT:
        raise StateError(f"state.format: expected {FORMAT!r}")
    prefix = top.get("actionIdPrefix", f.string).lower()
    if len(prefix) != 24 or not f.UUID_PATTERN.match(f"{prefix}{0:012x}"):
        raise StateError("state.actionIdPrefix: must be the first 24 characters of a UUID")
    seq, last_ms = top.get("seq", seq_value), top.get("lastMs", clock_time)
    batch_list = [read_batch(f"creditBatches[{i}]", b)
                  for i, b in enumerate(top.get("creditBatches", list_of))]  # fmt: skip
    batches = _by_id("creditBatches", batch_list, lambda b: b.id)
    pairs = [read_account(f"creditAccounts[{i}]", a)
             for i, a in enumerate(top.get("creditAccounts", list_of))]  # fmt: skip
    accounts = _by_id("creditAccounts", [a for a, _ in pairs], lambda a: a.id)
    clients: dict[str, ClientRecord] = {}
    lists: _Lists = []
    for i, item in enumerate(top.get("clients", list_of)):
        client, listed_accounts, listed_batches = read_client(f"clients[{i}]", item)
        if clients.setdefault(client.id, client) is not client:
            raise StateError(f"clients: duplicate id {client.id}")
        lists.append((f"clients[{i}]", client, listed_accounts, listed_batches))
    _link(batch_list, pairs, accounts, batches, clients, lists)
    return _Snapshot(
        clients, accounts, batches, prefix, *_counters(seq, last_ms, pairs, batch_list, prefix)
    )


def _link(
    batch_list: list[BatchRecord],
    pairs: list[tuple[AccountRecord, list[Any]]],
    accounts: dict[str, AccountRecord],
    batches: dict[str, BatchRecord],
    clients: dict[str, ClientRecord],
    lists: _Lists,
) -> None:
    """Resolve every reference, and fill the accounts' and clients' lists from them."""
    for i, (account, _) in enumerate(pairs):
        if account.client_id not in clients:
            raise StateError(f"creditAccounts[{i}].clientId: no client {account.client_id}")
    for i, batch in enumerate(batch_list):
        owner = accounts.get(batch.account_id)
        if owner is None:
            raise StateError(f"creditBatches[{i}].creditAccountId: no credit account "
                             f"{batch.account_id}")  # fmt: skip
        if batch.client_id != owner.client_id:
            raise StateError(f"creditBatches[{i}].clientId: {batch.client_id} is not the "
                             f"client of credit account {owner.id}")  # fmt: skip
    of_account = Counter(b.account_id for b in batch_list)
    for i, (account, listed) in enumerate(pairs):
        where = f"creditAccounts[{i}].creditBatches"
        count = of_account[account.id]
        account.batches = _members(
            where, listed, batches, _account_id, account.id, count, _batch_seq
        )
    accounts_of = Counter(a.client_id for a, _ in pairs)
    batches_of = Counter(b.client_id for b in batch_list)
    for where, client, listed_accounts, listed_batches in lists:
        cid = client.id
        client.accounts = _members(f"{where}.creditAccounts", listed_accounts, accounts,
                                   _client_id, cid, accounts_of[cid], None)  # fmt: skip
        client.batches = _members(f"{where}.creditBatches", listed_batches, batches,
                                  _client_id, cid, batches_of[cid], _batch_seq)  # fmt: skip


def _counters(
    seq: int,
    last_ms: int,
    pairs: list[tuple[AccountRecord, list[Any]]],
    batches: list[BatchRecord],
    prefix: str,
) -> tuple[int, int]:
    """The counters to continue from (past every stored seq and time); refuses two actions
    with one id."""
    accounts = [account for account, _ in pairs]
    # One seq per row, an exact copy right after its row (a planted duplicate) counted once.
    seqs = [seq for a in accounts for rows in a.actions.values()
            for seq in dict.fromkeys(row.seq for row in rows)]  # fmt: skip
    seqs.sort()
    twice = next((a for a, b in pairwise(seqs) if a == b), None)
    if twice is not None:
        raise StateError(f"creditActions: two actions have seq {twice}, so the same id "
                         f"{prefix}{twice:012x}")  # fmt: skip
    times = [last_ms, *(t for b in batches for t in (b.created_at, b.updated_at))]
    for account in accounts:
        times += [account.created_at, account.updated_at]
        times += [max(row.timestamp for row in rows) for rows in account.actions.values() if rows]
    stored = [seq, *(a.seq for a in accounts), *(b.seq for b in batches), *seqs[-1:]]
    return max(stored), max(times)
