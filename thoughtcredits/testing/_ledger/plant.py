"""Plant known discrepancies in a consistent ledger, to prove reconciliation finds them all.

Each kind is planted in its own account, so the expected findings are exact:

* ``chain_break``: a debit vanishes from the middle of a batch's ledger (a lost action); the
  batch's next action then starts from a balance nothing led to.
* ``amount_mismatch``: a debit's ``amount`` no longer equals its source's balance change.
* ``batch_balance``: a batch's ``currentBalance`` is changed behind its ledger's back.
* ``duplicate``: a debit in the middle of a batch's ledger is stored twice, an exact copy
  right after it, so the API lists the same action id twice: on two pages when a page ends
  with the first copy (each copy is served once, wherever pagination puts it).
* ``unledgered_batch``: a batch of 50 credits appears in the account with no ledger row at
  all (reported as ``batch_balance``: its empty ledger ends at zero).

:class:`ScanWriter` changes a clean ledger while a scan reads it, the way live traffic does,
to prove a reconciler reports no false discrepancy.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .ledger import Ledger
from .records import AccountRecord, ActionRow, BatchRecord, add, subtract

if TYPE_CHECKING:
    from .._server.log import RecordedRequest

__all__ = ["DEFAULT_KINDS", "KINDS", "Planted", "ScanWriter", "plant_discrepancies"]

DEFAULT_KINDS = ("chain_break", "amount_mismatch", "batch_balance")
"""What :func:`plant_discrepancies` plants unless told otherwise."""
KINDS = (*DEFAULT_KINDS, "duplicate", "unledgered_batch")
"""Every kind it can plant."""
_UNLEDGERED_CREDITS = 50


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted discrepancy, in the terms ``thoughtcredits.Discrepancy`` reports it."""

    kind: str
    account_id: uuid.UUID
    entity_id: uuid.UUID
    action_id: uuid.UUID | None


def _batch_rows(account: AccountRecord, batch_id: str) -> list[ActionRow]:
    return [
        row
        for row in account.all_actions()
        if (row.source == batch_id and row.source_balance_in is not None)
        or (row.target == batch_id and row.target_balance_in is not None)
    ]


def _debit_with_successor(account: AccountRecord, rng: random.Random) -> tuple[str, int] | None:
    """A batch id and the index of a debit in its ledger that is neither first nor last."""
    batches = list(account.batches)
    rng.shuffle(batches)
    for batch in batches:
        rows = _batch_rows(account, batch.id)
        middle = [i for i in range(1, len(rows) - 1) if rows[i].action == "debit"]
        if middle:
            return batch.id, rng.choice(middle)
    return None


def _plant(ledger: Ledger, account: AccountRecord, kind: str, rng: random.Random) -> Planted:
    account_id = uuid.UUID(account.id)
    if kind == "batch_balance":
        batch = rng.choice(account.batches)
        batch.current_balance = add(batch.current_balance, 7)
        return Planted(kind, account_id, uuid.UUID(batch.id), None)
    if kind == "unledgered_batch":
        return _unledgered(ledger, account)
    found = _debit_with_successor(account, rng)
    if found is None:
        raise ValueError(f"account {account.id} has no debit to plant {kind} on")
    batch_id, index = found
    rows = _batch_rows(account, batch_id)
    row = rows[index]
    debits = account.actions["debit"]
    position = debits.index(row)
    if kind == "chain_break":
        del debits[position]
        following = rows[index + 1]
        return Planted(
            kind, account_id, uuid.UUID(batch_id), uuid.UUID(ledger.action_id(following))
        )
    if kind == "duplicate":
        debits.insert(position + 1, row)
        return Planted(kind, account_id, uuid.UUID(batch_id), uuid.UUID(ledger.action_id(row)))
    debits[position] = row._replace(amount=add(row.amount, 1))
    return Planted(kind, account_id, uuid.UUID(batch_id), uuid.UUID(ledger.action_id(row)))


def _unledgered(ledger: Ledger, account: AccountRecord) -> Planted:
    now = ledger.tick()
    batch = BatchRecord(
        ledger.new_id(), account.client_id, account.id, "Unledgered", ledger.next_seq(),
        _UNLEDGERED_CREDITS, _UNLEDGERED_CREDITS, 0, now, now,
    )  # fmt: skip
    account.batches.append(batch)
    ledger.clients[account.client_id].batches.append(batch)
    ledger.batches[batch.id] = batch
    return Planted("batch_balance", uuid.UUID(account.id), uuid.UUID(batch.id), None)


def plant_discrepancies(
    ledger: Ledger,
    account_ids: list[uuid.UUID] | tuple[uuid.UUID, ...],
    *,
    seed: int = 0,
    kinds: tuple[str, ...] = DEFAULT_KINDS,
) -> list[Planted]:
    """Plant one discrepancy of each kind, each in its own account; return what was planted.

    ``kinds`` are names from :data:`KINDS`; each :class:`Planted` says what reconciliation
    must report (``"unledgered_batch"`` is reported as ``"batch_balance"``).

    Needs accounts seeded by :func:`seed_ledger` with enough actions to have a debit in the
    middle of a batch's ledger (a few dozen actions per account is plenty).

    Raises:
        ValueError: fewer accounts than kinds, or an unknown kind.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown discrepancy kinds: {sorted(unknown)}")
    if len(account_ids) < len(kinds):
        raise ValueError(f"need {len(kinds)} accounts, got {len(account_ids)}")
    rng = random.Random(seed)
    chosen = rng.sample(list(account_ids), len(kinds))
    return [
        _plant(ledger, ledger.account(account_id), kind, rng)
        for account_id, kind in zip(chosen, kinds, strict=True)
    ]


class ScanWriter:
    """Live traffic for a server being scanned: pass it as ``FakeCreditsServer(on_request=)``.

    After every ``every``-th answered API request (to ``route``, when given) it moves one
    batch of ``account_ids`` through the ledger, as the API would: a debit of a few credits,
    or a top-up when the batch is nearly empty. The ledger stays consistent, so any
    discrepancy a reconciler reports while it runs is a false one.

    Args:
        ledger: the server's ledger.
        account_ids: the accounts whose batches to move.
        every: write after every this many requests (1: after each).
        route: count only requests to this route (e.g. ``"list_credit_actions"``).
        limit: stop after this many writes (None: never).
        seed: makes the choice of batch and amount reproducible.

    Attributes:
        writes: how many writes it made so far.
    """

    def __init__(
        self,
        ledger: Ledger,
        account_ids: Sequence[uuid.UUID | str],
        *,
        every: int = 1,
        route: str | None = None,
        limit: int | None = None,
        seed: int = 0,
    ) -> None:
        if every < 1:
            raise ValueError("every: must be at least 1")
        self.ledger = ledger
        self.batches = [b for a in account_ids for b in ledger.account(a).batches]
        if not self.batches:
            raise ValueError("account_ids: no batch to write to")
        self.every, self.route, self.limit = every, route, limit
        self.writes = 0
        self._seen = 0
        self._rng = random.Random(seed)

    def __call__(self, request: RecordedRequest) -> None:
        """Count ``request``; write when it is the ``every``-th."""
        if self.route is not None and request.route != self.route:
            return
        self._seen += 1
        if self._seen % self.every or (self.limit is not None and self.writes >= self.limit):
            return
        batch = self._rng.choice(self.batches)
        amount = self._rng.randint(1, 5)
        balance = batch.current_balance
        new = subtract(balance, amount) if balance >= amount else add(balance, 10 * amount)
        self.ledger.set_balance(batch, new)
        self.writes += 1
