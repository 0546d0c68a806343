"""The demo ledger and the fast bulk seeder: consistency, reproducibility, speed, serving."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal

import aiohttp
import pytest

from thoughtcredits.testing import (
    DEMO_ACCOUNT_IDS,
    DEMO_CLIENT_ID,
    FakeCreditsServer,
    Ledger,
    seed_demo,
    seed_ledger,
)
from thoughtcredits.testing._ledger.records import AccountRecord

from .conftest import Http

OP = "APICreditActionsByClientIdAndAccountIdAndActionType"


def check_consistent(account: AccountRecord) -> None:
    """Every batch's balances chain, amounts match, and its ledger ends at currentBalance."""
    last: dict[str, int | Decimal] = {}
    debited: dict[str, int | Decimal] = defaultdict(int)
    rows = account.all_actions()
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(rows))
    for row in rows:
        if row.action == "credit":
            entity, before, after = row.target, row.target_balance_in, row.target_balance_out
            assert after is not None
            assert before is not None
            assert after - before == row.amount
        else:
            entity, before, after = row.source, row.source_balance_in, row.source_balance_out
            assert after is not None
            assert before is not None
            assert before - after == row.amount
            debited[str(entity)] += row.amount
        assert entity is not None
        assert last.get(entity, 0) == before
        assert after >= 0
        last[entity] = after
    for batch in account.batches:
        assert last[batch.id] == batch.current_balance
        assert debited[batch.id] == batch.allocated_credits


def test_seed_demo_has_known_ids_and_consistent_ledger() -> None:
    """seed_demo creates DEMO_CLIENT_ID with the two DEMO_ACCOUNT_IDS, spending and a top-up."""
    ledger = Ledger()
    assert seed_demo(ledger) == DEMO_CLIENT_ID
    sales, partners = (ledger.account(aid) for aid in DEMO_ACCOUNT_IDS)
    assert (sales.name, partners.name) == ("Sales Enablement", "Partner Academy")
    assert [len(sales.batches), len(partners.batches)] == [2, 1]
    assert sales.current_balance == 1000 + 455
    assert len(sales.actions["debit"]) == 4
    for account in (sales, partners):
        check_consistent(account)


def test_seed_ledger_builds_consistent_reproducible_accounts() -> None:
    """seed_ledger makes the requested counts, consistent per batch, identical for one seed."""
    first, second = Ledger(), Ledger()
    seeded = seed_ledger(first, accounts=6, actions_per_account=1500, seed=3, clients=2)
    again = seed_ledger(second, accounts=6, actions_per_account=1500, seed=3, clients=2)
    assert seeded == again
    assert (len(seeded.client_ids), len(seeded.account_ids), seeded.actions) == (2, 6, 9000)
    for aid in seeded.account_ids:
        account = first.account(aid)
        assert sum(len(rows) for rows in account.actions.values()) == 1500
        assert len(account.batches) == 2
        check_consistent(account)
        assert first.actions(aid) == second.actions(aid)
    assert {first.account(a).client_id for a in seeded.account_ids} == {
        str(c) for c in seeded.client_ids
    }
    with pytest.raises(ValueError, match="actions_per_account"):
        seed_ledger(first, accounts=1, actions_per_account=0)


def test_seeded_ledger_keeps_working_through_the_api() -> None:
    """After seeding, API changes continue the chains with later timestamps and seqs."""
    ledger = Ledger()
    seeded = seed_ledger(ledger, accounts=2, actions_per_account=50)
    account = ledger.account(seeded.account_ids[0])
    batch = account.batches[0]
    ledger.update_batch(batch.id, current_balance=batch.current_balance + 7)
    ledger.create_batch(str(seeded.client_ids[0]), starting_balance=3, credit_account_id=account.id)
    check_consistent(account)


def test_seed_ledger_builds_every_action() -> None:
    """200 accounts of 1,000 actions hold exactly 200,000 rows (speed: benchmarks/, not here)."""
    ledger = Ledger()
    seed_ledger(ledger, accounts=200, actions_per_account=1000)
    assert sum(len(r) for a in ledger.accounts.values() for r in a.actions.values()) == 200_000


async def test_seeded_actions_page_out_complete() -> None:
    """All 20,000 debits of one account page out over HTTP with cursors, in order."""
    ledger = Ledger()
    seeded = seed_ledger(ledger, accounts=1, actions_per_account=22_000)
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    expected = [ledger.action_id(r) for r in ledger.accounts[aid].actions["debit"]]
    async with FakeCreditsServer(ledger=ledger) as fake, aiohttp.ClientSession() as session:
        http = Http(session, fake)
        ids: list[str] = []
        cursor = None
        while True:
            params = {"perPage": "1000", **({"cursor": cursor} if cursor else {})}
            reply = await http.get(f"/clients/{cid}/creditAccount/{aid}/creditActions",
                                   clientId=cid, actionType="debit", **params)  # fmt: skip
            page = reply.payload(OP)
            ids += [a["id"] for a in page["creditActions"]]
            if not page["pageInfo"]["hasMore"]:
                break
            cursor = page["pageInfo"]["cursor"]
    assert ids == expected
    assert len(ids) > 18_000
