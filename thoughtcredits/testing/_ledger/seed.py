"""Ready-made ledgers: a small demo (:func:`seed_demo`) and large ones (:func:`seed_ledger`).

:func:`seed_ledger` writes :class:`ActionRow` tuples straight into the accounts (no per-action
ledger calls), so a million actions take a few seconds. Every ledger it builds is consistent:
each batch's balances chain and its ``currentBalance`` equals the last balance of its ledger.

Hook for planted discrepancies: a future ``plant_discrepancies(ledger, rng_seed)`` can edit
what this module builds in place, e.g. ``rows[i] = rows[i]._replace(amount=...)`` on
``ledger.accounts[id].actions["debit"]``, or a ``BatchRecord``'s ``current_balance``, and
add rows with :meth:`Ledger.append_action`. :class:`Seeded` lists the ids to pick from.
"""

from __future__ import annotations

import gc
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from .ledger import Ledger
from .records import AccountRecord, ActionRow, BatchRecord

__all__ = [
    "DEMO_ACCOUNT_IDS",
    "DEMO_ADMIN_USER_ID",
    "DEMO_CLIENT_ID",
    "Seeded",
    "seed_demo",
    "seed_ledger",
]

DEMO_CLIENT_ID: Final = uuid.UUID("0f8c6a52-3b1d-4e7a-9c25-6d4b8e1f2a37")
DEMO_ADMIN_USER_ID: Final = uuid.UUID("5a9e2c71-8d4f-4b63-a1e0-7c3f9b2d6e58")
DEMO_ACCOUNT_IDS: Final = (
    uuid.UUID("c3a1f0e2-7b59-4d8c-b6a4-1e2f3d4c5b6a"),
    uuid.UUID("d4b2e1f3-8c6a-4e9d-a7b5-2f3e4d5c6b7a"),
)
_BASE_MS: Final = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
_STEP_MS: Final = 1_000


@dataclass(frozen=True, slots=True)
class Seeded:
    """What :func:`seed_ledger` created."""

    client_ids: tuple[uuid.UUID, ...]
    account_ids: tuple[uuid.UUID, ...]
    actions: int


def seed_demo(ledger: Ledger) -> uuid.UUID:
    """A small realistic ledger under :data:`DEMO_CLIENT_ID`; returns that client id.

    Two accounts (:data:`DEMO_ACCOUNT_IDS`): "Sales Enablement" with two batches, some
    spending and a top-up, and "Partner Academy" with one batch.
    """
    cid = ledger.add_client(DEMO_CLIENT_ID, admin_user_id=DEMO_ADMIN_USER_ID)
    sales = ledger.create_account(
        cid, name="Sales Enablement", starting_balance=1000,
        notify_emails=["finance@example.com", "lnd@example.com"],
        license_ids=["9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f"], batch_days_until_expire=365,
        minimum_batch_amount=10, credit_batch_name="FY24 allocation",
        account_id=DEMO_ACCOUNT_IDS[0],
    )  # fmt: skip
    partners = ledger.create_account(
        cid, name="Partner Academy", starting_balance=250, notify_emails=["partners@example.com"],
        license_ids=["1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"], type="company",
        account_id=DEMO_ACCOUNT_IDS[1],
    )  # fmt: skip
    first = sales.batches[0]
    top_up = ledger.create_batch(
        cid, starting_balance=500, credit_account_id=sales.id, name="Q3 top-up",
        expires_on=datetime.now(UTC) + timedelta(days=90),
    )  # fmt: skip
    for balance in (960, 925, 880):
        ledger.update_batch(first.id, current_balance=balance)
    ledger.update_batch(first.id, current_balance=1000)
    ledger.update_batch(top_up.id, current_balance=455)
    ledger.update_batch(partners.batches[0].id, current_balance=230)
    return cid


def seed_ledger(
    ledger: Ledger,
    accounts: int = 100,
    actions_per_account: int = 1000,
    seed: int = 0,
    *,
    clients: int = 1,
    learners: int = 200,
) -> Seeded:
    """Add ``accounts`` consistent accounts with ``actions_per_account`` actions each.

    Reproducible for a given ``seed`` (on an empty ledger, action ids are too). Accounts are
    spread round-robin over ``clients`` new clients. Each account has 1-5 batches, each
    opened by a ``credit``; the other actions are mostly ``debit``s to one of ``learners``
    users, with occasional ``credit`` top-ups. Timestamps start at 2024-01-01, 1 s apart.

    Raises:
        ValueError: a count is out of range.
    """
    if accounts < 0 or actions_per_account < 1 or clients < 1 or learners < 1:
        raise ValueError("seed_ledger: need accounts >= 0 and actions_per_account, clients, "
                         "learners >= 1")  # fmt: skip
    rng = random.Random(seed)
    # Millions of new tuples would set off the cyclic GC again and again; none form cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _seed(ledger, accounts, actions_per_account, rng, clients, learners)
    finally:
        if was_enabled:
            gc.enable()


def _seed(
    ledger: Ledger, accounts: int, actions_per_account: int, rng: random.Random, clients: int,
    learners: int,
) -> Seeded:  # fmt: skip

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    if not ledger.accounts:
        ledger.action_id_prefix = new_id()[:24]
    client_ids = [uuid.UUID(new_id()) for _ in range(clients)]
    for cid in client_ids:
        ledger.add_client(cid, admin_user_id=new_id())
    pool = [new_id() for _ in range(learners)]
    seq = ledger.next_seq()
    ms = max(_BASE_MS, ledger.last_ms + 1)
    account_ids: list[uuid.UUID] = []
    for index in range(accounts):
        client = ledger.clients[str(client_ids[index % clients])]
        account = AccountRecord(new_id(), client.id, f"Account {index + 1:05d}", seq, ms, ms)
        account.notify_emails.append(f"account{index + 1}@example.com")
        client.accounts.append(account)
        ledger.accounts[account.id] = account
        account_ids.append(uuid.UUID(account.id))
        seq, ms = _fill(ledger, account, client.admin_user_id, pool, actions_per_account,
                        rng, seq + 1, ms)  # fmt: skip
    ledger.advance(seq, ms)
    return Seeded(tuple(client_ids), tuple(account_ids), accounts * actions_per_account)


def _fill(
    ledger: Ledger,
    account: AccountRecord,
    admin: str,
    pool: list[str],
    count: int,
    rng: random.Random,
    seq: int,
    ms: int,
) -> tuple[int, int]:
    """Write ``count`` chained actions for a new account; return the next seq and time."""
    rand = rng.random
    n_batches = min(count, 1 + count // 1000, 5)
    spend = max(count - n_batches, 0)
    credits: list[ActionRow] = []
    debits: list[ActionRow] = []
    batches: list[BatchRecord] = []
    for number in range(n_batches):
        starting = 1000 + int(rand() * 20) * 100 + spend * 9 // n_batches
        batch = BatchRecord(
            str(uuid.UUID(int=rng.getrandbits(128), version=4)), account.client_id, account.id,
            f"{account.name} batch {number + 1}", seq, starting, starting, 0, ms, ms,
            ms + 365 * 86_400_000,
        )  # fmt: skip
        credits.append(ActionRow(seq + 1, "credit", starting, batch.id, "creditBatch", 0,
                                 starting, admin, "user", None, None, None, None, ms))  # fmt: skip
        batches.append(batch)
        seq, ms = seq + 2, ms + _STEP_MS
    ids = [b.id for b in batches]
    balances: list[int] = [b.starting_balance for b in batches]  # type: ignore[misc]
    allocated = [0] * n_batches
    last = [ms] * n_batches
    n_pool = len(pool)
    new_row = tuple.__new__
    for _ in range(spend):
        pick = int(rand() * n_batches)
        old = balances[pick]
        if rand() < 0.92 and old > 0:
            learner = pool[int(rand() * n_pool)]
            value = min(old, 1 + int(rand() * 20))
            new = old - value
            allocated[pick] += value
            debits.append(new_row(ActionRow, (seq, "debit", value, learner, "user", None, None,
                learner, "user", ids[pick], "creditBatch", old, new, ms)))  # fmt: skip
        else:
            value = 50 + int(rand() * 10) * 10
            new = old + value
            credits.append(new_row(ActionRow, (seq, "credit", value, ids[pick], "creditBatch",
                old, new, admin, "user", None, None, None, None, ms)))  # fmt: skip
        balances[pick] = new
        last[pick] = ms
        seq += 1
        ms += _STEP_MS
    for batch, balance, spent, at in zip(batches, balances, allocated, last, strict=True):
        batch.current_balance, batch.allocated_credits, batch.updated_at = balance, spent, at
        ledger.batches[batch.id] = batch
        ledger.clients[account.client_id].batches.append(batch)
    account.batches.extend(batches)
    account.actions["credit"] = credits
    if debits:
        account.actions["debit"] = debits
    account.updated_at = ms
    return seq, ms
