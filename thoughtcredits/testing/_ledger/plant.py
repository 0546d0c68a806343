"""Plant known discrepancies in a consistent ledger, to prove reconciliation finds them all.

Each kind is planted in its own account, so the expected findings are exact:

* ``chain_break``: a debit vanishes from the middle of a batch's ledger (a lost action); the
  batch's next action then starts from a balance nothing led to.
* ``amount_mismatch``: a debit's ``amount`` no longer equals its source's balance change.
* ``batch_balance``: a batch's ``currentBalance`` is changed behind its ledger's back.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from .ledger import Ledger
from .records import AccountRecord, ActionRow, add

__all__ = ["KINDS", "Planted", "plant_discrepancies"]

KINDS = ("chain_break", "amount_mismatch", "batch_balance")


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
    debits[position] = row._replace(amount=add(row.amount, 1))
    return Planted(kind, account_id, uuid.UUID(batch_id), uuid.UUID(ledger.action_id(row)))


def plant_discrepancies(
    ledger: Ledger,
    account_ids: list[uuid.UUID] | tuple[uuid.UUID, ...],
    *,
    seed: int = 0,
    kinds: tuple[str, ...] = KINDS,
) -> list[Planted]:
    """Plant one discrepancy of each kind, each in its own account; return what was planted.

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
