"""plant_discrepancies' newer kinds and ScanWriter: what the local server acts out for them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from thoughtcredits.testing import FakeCreditsServer, ScanWriter, plant_discrepancies, seed_ledger
from thoughtcredits.testing._ledger.plant import DEFAULT_KINDS, KINDS

from .invariants import assert_consistent


@pytest.mark.parametrize("per_page", [1, 2, 3, 7, 100])
async def test_a_planted_duplicate_is_served_once_per_copy_at_any_page_size(per_page: int) -> None:
    """Cursor paging serves the stored row twice, never three times and never skipping one,
    wherever the page boundaries fall; page-number paging agrees."""
    async with FakeCreditsServer(per_page=per_page) as server:
        seeded = seed_ledger(server.ledger, accounts=1, actions_per_account=12, seed=1)
        (planted,) = plant_discrepancies(server.ledger, seeded.account_ids, kinds=("duplicate",))
        rows = server.ledger.actions(planted.account_id, "debit")
        expected = [server.ledger.action_id(row) for row in rows]
        async with server.client() as client:
            by_cursor = client.credit_actions.list(
                seeded.client_ids[0], planted.account_id, action_type="debit"
            )
            ids = [str(a.id) async for a in by_cursor]
        numbered = expected
        if per_page > 1:  # one-row pages of the same row look like a server ignoring `page`
            async with server.client(pagination="page") as client:
                by_page = client.credit_actions.list(
                    seeded.client_ids[0], planted.account_id, action_type="debit"
                )
                numbered = [str(a.id) async for a in by_page]
    assert ids == numbered == expected
    assert ids.count(str(planted.action_id)) == 2


def test_unledgered_batch_and_duplicate_survive_a_snapshot_round_trip() -> None:
    """A snapshot of a ledger with every kind planted loads back to the same bytes."""
    source = FakeCreditsServer()
    seeded = seed_ledger(source.ledger, accounts=6, actions_per_account=60, seed=2)
    planted = plant_discrepancies(source.ledger, seeded.account_ids, kinds=KINDS)
    assert [p.kind for p in planted] == [*DEFAULT_KINDS, "duplicate", "batch_balance"]
    data = source.snapshot_json()
    target = FakeCreditsServer()
    target.load(json.loads(data, parse_float=Decimal))
    assert target.snapshot_json() == data


def test_a_snapshot_with_two_different_rows_under_one_seq_is_refused() -> None:
    """Only an exact copy may repeat a seq: two different rows under one id are refused."""
    source = FakeCreditsServer()
    seeded = seed_ledger(source.ledger, accounts=1, actions_per_account=20, seed=3)
    data = json.loads(source.snapshot_json(), parse_float=Decimal)
    debits = data["creditAccounts"][0]["creditActions"]["debit"]
    debits.insert(1, [*debits[0][:2], debits[0][2] + 1, *debits[0][3:]])
    with pytest.raises(ValueError, match="increasing seq order"):
        FakeCreditsServer().load(data)
    assert seeded.actions


def test_unknown_kinds_and_too_few_accounts_are_refused() -> None:
    """Each kind needs its own account; a kind not in KINDS is named."""
    server = FakeCreditsServer()
    seeded = seed_ledger(server.ledger, accounts=4, actions_per_account=30, seed=4)
    with pytest.raises(ValueError, match="need 5 accounts, got 4"):
        plant_discrepancies(server.ledger, seeded.account_ids, kinds=KINDS)
    with pytest.raises(ValueError, match="unknown discrepancy kinds: \\['typo'\\]"):
        plant_discrepancies(server.ledger, seeded.account_ids, kinds=("typo",))


async def test_scan_writer_writes_consistently_every_nth_request_of_its_route() -> None:
    """Writes only after every n-th request to the route, up to the limit, through the
    ledger: the ledger stays consistent, and every write is a new action."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=30, seed=5)
        before = sum(len(server.ledger.actions(a)) for a in seeded.account_ids)
        writer = ScanWriter(
            server.ledger, seeded.account_ids, every=2, route="list_credit_actions", limit=3
        )
        server.on_request = writer
        async with server.client() as client:
            for _ in range(3):
                _ = [b async for b in client.credit_batches.list(seeded.client_ids[0])]
            assert writer.writes == 0
            for _ in range(10):
                listing = client.credit_actions.list(
                    seeded.client_ids[0], seeded.account_ids[0], action_type="debit"
                )
                _ = [a async for a in listing]
        after = sum(len(server.ledger.actions(a)) for a in seeded.account_ids)
    assert writer.writes == 3
    assert after == before + 3
    assert_consistent(server.ledger)


def test_scan_writer_refuses_nonsense() -> None:
    """every below 1 and accounts without batches are refused at once."""
    server = FakeCreditsServer()
    seeded = seed_ledger(server.ledger, accounts=1, actions_per_account=5, seed=6)
    with pytest.raises(ValueError, match="every"):
        ScanWriter(server.ledger, seeded.account_ids, every=0)
    with pytest.raises(ValueError, match="no batch"):
        ScanWriter(server.ledger, [])
