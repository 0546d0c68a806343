"""The fake server's in-memory state and its semantics (pure Python, no HTTP).

Every balance change goes through :meth:`Ledger.append_action`, so the contract's rules hold
for any ledger built through it: per entity, actions chain (next ``…BalanceIn`` == previous
``…BalanceOut``) and ``|out - in| == amount``."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

from . import fields
from .records import (
    REGISTER_HINT,
    AccountRecord,
    ActionRow,
    Amount,
    BatchRecord,
    ClientRecord,
    InvalidChangeError,
    UnknownEntityError,
    add,
    canonical_id,
    subtract,
    to_ms,
)

__all__ = ["Ledger"]

_DAY_MS: Final = 86_400_000
_SEQS_PER_CHANGE: Final = 3  # a new account takes three: itself, its batch, its credit
_LIMIT: Final = "its clock or seq has reached its limit (a snapshot could not hold more)"
Id = uuid.UUID | str


class Ledger:
    """All state of one fake server.

    Args:
        clock: wall clock in epoch seconds; timestamps are ``clock()`` in ms, bumped so that
            they strictly increase.
        id_seed: makes generated ids reproducible (random when None).
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, id_seed: int | None = None
    ) -> None:
        self.clock = clock
        self.clients: dict[str, ClientRecord] = {}
        self.accounts: dict[str, AccountRecord] = {}
        self.batches: dict[str, BatchRecord] = {}
        self._rng = random.Random(id_seed)
        self._seq = 0
        self._last_ms = 0
        # Action ids are this prefix + seq as 12 hex digits: unique, and free to store.
        self.action_id_prefix = self.new_id()[:24]

    def new_id(self) -> str:
        """A fresh random (or seeded) version-4 UUID string."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def replace(self, other: Ledger) -> None:
        """Take over ``other``'s state in place (for reset and load; ``clock`` is kept)."""
        self.clients, self.accounts, self.batches = other.clients, other.accounts, other.batches
        self._seq, self._last_ms = other.seq, other.last_ms
        self.action_id_prefix = other.action_id_prefix

    def next_seq(self) -> int:
        """The next value of the ledger-wide sort key."""
        if self._seq >= fields.MAX_SEQ:
            raise InvalidChangeError("ledger", _LIMIT)
        self._seq += 1
        return self._seq

    def tick(self) -> int:
        """Now in epoch ms, after every earlier timestamp. Every change calls it first, so it
        refuses (InvalidChangeError) a change that would take a counter past what a snapshot
        may hold: the ledger never reaches a state that would not load again."""
        now = max(int(self.clock() * 1000), self._last_ms + 1)
        if now >= fields.MAX_CLOCK_MS or self._seq + _SEQS_PER_CHANGE > fields.MAX_SEQ:
            raise InvalidChangeError("ledger", _LIMIT)
        self._last_ms = now
        return now

    @property
    def last_ms(self) -> int:
        """The latest timestamp handed out (epoch ms; 0 for a new ledger)."""
        return self._last_ms

    @property
    def seq(self) -> int:
        """The last sort key handed out (0 for a new ledger)."""
        return self._seq

    def advance(self, seq: int, last_ms: int) -> None:
        """Move the counters past rows written directly (by the bulk seeder)."""
        fields.integer("seq", seq, maximum=fields.MAX_SEQ)
        fields.integer("lastMs", last_ms, maximum=fields.MAX_CLOCK_MS - 1)
        self._seq, self._last_ms = max(self._seq, seq), max(self._last_ms, last_ms)

    def action_id(self, row: ActionRow) -> str:
        """The UUID string of an action."""
        return f"{self.action_id_prefix}{row.seq:012x}"

    def add_client(
        self, client_id: Id | None = None, *, admin_user_id: Id | None = None
    ) -> uuid.UUID:
        """Register a client (its admin user initiates API changes); return its id."""
        cid = self.new_id() if client_id is None else canonical_id(client_id)
        admin = self.new_id() if admin_user_id is None else canonical_id(admin_user_id)
        self.clients.setdefault(cid, ClientRecord(cid, admin))
        return uuid.UUID(cid)

    def client(self, client_id: uuid.UUID | str) -> ClientRecord:
        """The client, or :class:`UnknownEntityError`."""
        found = self.clients.get(str(client_id).lower())
        if found is None:
            raise UnknownEntityError("id", f"no client {client_id}; {REGISTER_HINT}")
        return found

    def account(self, account_id: Id, client_id: str | None = None) -> AccountRecord:
        """The account (of ``client_id`` when given), or :class:`UnknownEntityError`."""
        found = self.accounts.get(str(account_id).lower())
        if found is None or (client_id is not None and found.client_id != client_id):
            raise UnknownEntityError("creditAccountId", f"no credit account {account_id}")
        return found

    def batch(self, batch_id: Id) -> BatchRecord:
        """The batch, or :class:`UnknownEntityError`."""
        found = self.batches.get(str(batch_id).lower())
        if found is None:
            raise UnknownEntityError("id", f"no credit batch {batch_id}")
        return found

    def create_account(
        self, client_id: Id, *, name: str, starting_balance: Amount,
        notify_emails: Iterable[str] = (), license_ids: Iterable[str] = (), type: str = "client",
        batch_days_until_expire: int | None = None, minimum_batch_amount: int | None = None,
        credit_batch_name: str | None = None, account_id: Id | None = None,
    ) -> AccountRecord:  # fmt: skip
        """Create an account, its first batch and that batch's ``credit`` action."""
        client = self.client(client_id)
        starting = fields.amount("startingBalance", starting_balance)
        emails, licenses = fields.account_settings(
            name, notify_emails, license_ids, type, batch_days_until_expire,
            minimum_batch_amount, credit_batch_name,
        )  # fmt: skip
        aid = self.new_id() if account_id is None else canonical_id(account_id)
        if aid in self.accounts:
            raise InvalidChangeError("id", f"credit account {aid} already exists")
        now = self.tick()
        account = AccountRecord(
            aid, client.id, name, self.next_seq(), now, now, emails, licenses, type, "active",
            batch_days_until_expire, minimum_batch_amount, credit_batch_name,
        )  # fmt: skip
        client.accounts.append(account)
        self.accounts[aid] = account
        days = batch_days_until_expire
        expires = None if days is None else now + days * _DAY_MS
        self._new_batch(account, credit_batch_name or name, starting, expires, now=now)
        return account

    def create_batch(
        self, client_id: Id, *, starting_balance: Amount, credit_account_id: Id | None = None,
        name: str | None = None, expires_on: datetime | None = None, batch_id: Id | None = None,
    ) -> BatchRecord:  # fmt: skip
        """Issue a batch into an account (the client's only one when not given)."""
        client = self.client(client_id)
        if credit_account_id is not None:
            account = self.account(credit_account_id, client.id)
        elif len(client.accounts) == 1:
            account = client.accounts[0]
        else:
            raise InvalidChangeError(
                "creditAccountId",
                f"required: client {client.id} has {len(client.accounts)} credit accounts",
            )
        value = fields.amount("startingBalance", starting_balance)
        if name is not None:
            fields.string("name", name)
        if account.minimum_batch_amount is not None and value < account.minimum_batch_amount:
            raise InvalidChangeError(
                "startingBalance",
                f"below the account's minimumBatchAmount ({account.minimum_batch_amount})",
            )
        expires = None if expires_on is None else to_ms(expires_on)
        return self._new_batch(account, name, value, expires, batch_id)

    def _new_batch(
        self, account: AccountRecord, name: str | None, starting: Amount, expires: int | None,
        batch_id: Id | None = None, now: int | None = None,
    ) -> BatchRecord:  # fmt: skip
        bid = self.new_id() if batch_id is None else canonical_id(batch_id)
        if bid in self.batches:
            raise InvalidChangeError("id", f"credit batch {bid} already exists")
        now = self.tick() if now is None else now
        batch = BatchRecord(
            bid, account.client_id, account.id, name, self.next_seq(), starting, starting, 0,
            now, now, expires,
        )  # fmt: skip
        account.batches.append(batch)
        self.clients[account.client_id].batches.append(batch)
        self.batches[bid] = batch
        self._credit(account, batch, 0, starting, now)
        return batch

    def update_batch(
        self, batch_id: Id, *, name: str | None = None, expires_on: datetime | None = None,
        clear_expires_on: bool = False, current_balance: Amount | None = None,
    ) -> BatchRecord:  # fmt: skip
        """Rename, re-date or set the balance of a batch; a balance change writes an action."""
        batch = self.batch(batch_id)
        if name is not None:
            fields.string("name", name)
        if current_balance is not None:
            current_balance = fields.amount("currentBalance", current_balance)
            _allocated_after(batch, current_balance)  # refused before anything changes
        now = self.tick()
        if name is not None:
            batch.name = name
        if expires_on is not None or clear_expires_on:
            batch.expires_on = None if expires_on is None else to_ms(expires_on)
        if current_balance is not None:
            self.set_balance(batch, current_balance, now)
        batch.updated_at = now
        return batch

    def set_balance(self, batch: BatchRecord, new: Amount, now: int | None = None) -> None:
        """Move a batch to ``new`` credits, writing the ``debit`` or ``credit`` action."""
        allocated = _allocated_after(batch, new)
        now = self.tick() if now is None else now
        old = batch.current_balance
        account = self.accounts[batch.account_id]
        if new < old:
            admin = self.clients[batch.client_id].admin_user_id
            batch.allocated_credits = allocated
            self.append_action(
                account, "debit", subtract(old, new), target=admin, target_type="user",
                initiator=admin, source=batch.id, source_type="creditBatch",
                source_balance_in=old, source_balance_out=new, timestamp=now,
            )  # fmt: skip
        elif new > old:
            self._credit(account, batch, old, new, now)
        batch.current_balance = new
        batch.updated_at = now

    def _credit(
        self, account: AccountRecord, batch: BatchRecord, old: Amount, new: Amount, now: int
    ) -> None:
        self.append_action(
            account, "credit", subtract(new, old), target=batch.id, target_type="creditBatch",
            target_balance_in=old, target_balance_out=new,
            initiator=self.clients[account.client_id].admin_user_id, timestamp=now,
        )  # fmt: skip

    def append_action(
        self, account: AccountRecord, action: str, amount: Amount, *, target: str | None = None,
        target_type: str | None = None, target_balance_in: Amount | None = None,
        target_balance_out: Amount | None = None, initiator: str | None = None,
        initiator_type: str | None = "user", source: str | None = None,
        source_type: str | None = None, source_balance_in: Amount | None = None,
        source_balance_out: Amount | None = None, timestamp: int | None = None,
    ) -> ActionRow:  # fmt: skip
        """Append one action row as given (no balance is changed; callers keep them in step).

        Low level and unchecked, for planting anomalies: a row outside the wire format (a
        negative amount, say) is served as is, and a snapshot holding it is refused."""
        row = ActionRow(
            self.next_seq(), action, amount, target, target_type, target_balance_in,
            target_balance_out, initiator, initiator_type, source, source_type,
            source_balance_in, source_balance_out, self.tick() if timestamp is None else timestamp,
        )  # fmt: skip
        account.actions.setdefault(action, []).append(row)
        return row

    def actions(self, account_id: Id, action_type: str | None = None) -> list[ActionRow]:
        """An account's actions of one type (or all), in time order."""
        account = self.account(account_id)
        if action_type is None:
            return account.all_actions()
        return list(account.actions.get(action_type, ()))


def _allocated_after(batch: BatchRecord, new: Amount) -> Amount:
    """``allocatedCredits`` once the batch holds ``new``; refused past the amount bound."""
    spent = subtract(batch.current_balance, new) if new < batch.current_balance else 0
    allocated = add(batch.allocated_credits, spent)
    if allocated >= 10**fields.MAX_INTEGER_DIGITS:
        raise InvalidChangeError("currentBalance", "allocatedCredits would exceed 30 digits")
    return allocated
