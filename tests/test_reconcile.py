"""reconcile() against the local server: planted discrepancies are all found, nothing else."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID

import pytest

import thoughtcredits as tc
from thoughtcredits.reconcile import DiscrepancyKind, reconcile
from thoughtcredits.testing import (
    FakeCreditsServer,
    Fault,
    RecordingSleep,
    plant_discrepancies,
    seed_demo,
    seed_ledger,
)


async def test_clean_ledger_reports_nothing_and_exact_totals() -> None:
    """A consistent seeded ledger is reported clean, with totals equal to the server's."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=150, seed=3)
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0])
        assert report.ok
        assert {a.account_id for a in report.accounts} == set(seeded.account_ids)
        for account in report.accounts:
            record = server.ledger.account(account.account_id)
            credits = record.actions.get("credit", [])
            debits = record.actions.get("debit", [])
            assert account.totals.credit_actions == len(credits)
            assert account.totals.debit_actions == len(debits)
            assert account.totals.debited == sum(row.amount for row in debits)
            assert account.totals.current_balance == record.current_balance


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_every_planted_discrepancy_is_found_and_nothing_else(seed: int) -> None:
    """Each planted kind is reported once, at the planted account, entity and action."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=8, actions_per_account=120, seed=seed)
        planted = plant_discrepancies(server.ledger, seeded.account_ids, seed=seed)
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], concurrency=3)
    found = {(d.kind, d.account_id, d.entity_id, d.action_id) for d in report.discrepancies}
    assert found == {(p.kind, p.account_id, p.entity_id, p.action_id) for p in planted}
    assert len(report.discrepancies) == len(planted)
    assert not report.ok


async def test_demo_ledger_is_consistent() -> None:
    """The demo ledger that `make demo` serves reconciles clean."""
    async with FakeCreditsServer() as server:
        client_id = seed_demo(server.ledger)
        async with server.client() as client:
            report = await reconcile(client, client_id)
    assert report.ok
    assert len(report.accounts) == 2


async def test_given_accounts_are_checked_in_order_and_reported_as_they_finish() -> None:
    """account_ids limits the scan; on_account sees every account report once."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=5, actions_per_account=40, seed=9)
        chosen = list(reversed(seeded.account_ids[:3]))
        seen: list[UUID] = []
        async with server.client() as client:
            report = await reconcile(
                client,
                str(seeded.client_ids[0]),
                chosen,
                on_account=lambda a: seen.append(a.account_id),
            )
    assert [a.account_id for a in report.accounts] == chosen
    assert sorted(seen) == sorted(chosen)


async def test_report_json_keeps_amounts_exact() -> None:
    """to_json is tc.to_json: camelCase keys, amounts as exact JSON numbers, ``Z`` times."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=3, actions_per_account=60, seed=4)
        planted = plant_discrepancies(server.ledger, seeded.account_ids, kinds=("batch_balance",))
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0])
    raw = report.to_json()
    assert raw == tc.to_json(report)
    data = json.loads(raw, parse_float=Decimal)
    assert data["startedAt"].endswith("Z")
    assert data["finishedAt"].endswith("Z")
    (bad,) = [d for a in data["accounts"] for d in a["discrepancies"]]
    assert bad["kind"] == "batch_balance"
    assert report.discrepancies[0].kind is DiscrepancyKind.BATCH_BALANCE
    assert bad["entityId"] == str(planted[0].entity_id)
    batch = server.ledger.batch(planted[0].entity_id)
    assert Decimal(bad["actual"]) == Decimal(str(batch.current_balance))
    assert Decimal(bad["expected"]) == Decimal(bad["actual"]) - 7
    assert set(data["accounts"][0]["totals"]) == {
        "batches", "creditActions", "debitActions", "credited", "debited", "currentBalance"
    }  # fmt: skip


async def test_a_failing_account_raises_the_typed_error_not_a_group() -> None:
    """A request that fails for good surfaces as the SDK's own error, not an ExceptionGroup."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=30, seed=5)
        server.inject(Fault(kind="status", status=404, route="list_credit_actions", count=100))
        async with server.client(sleep=RecordingSleep()) as client:
            with pytest.raises(tc.NotFoundError):
                await reconcile(client, seeded.client_ids[0])


async def test_memory_is_bounded_by_the_concurrency_not_the_accounts() -> None:
    """Before, a task per account waited from the start: 80 MB of tasks for 50,000 accounts.
    Now ``concurrency`` workers take the accounts in turn; the report keeps their order."""
    import asyncio

    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=120, actions_per_account=2, seed=4)
        tasks: list[int] = []
        async with server.client() as client:
            report = await reconcile(
                client, seeded.client_ids[0], concurrency=3,
                on_account=lambda _: tasks.append(len(asyncio.all_tasks())),
            )  # fmt: skip
    assert [a.account_id for a in report.accounts] == list(seeded.account_ids)
    assert len(tasks) == 120
    assert max(tasks) <= 20  # 3 workers, their listings, the server and the test


async def test_an_account_given_twice_is_reported_once() -> None:
    """``account_ids`` with a repeat reported that account twice (and merge then refused it)."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=10, seed=5)
        first, second = seeded.account_ids
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], [first, second, first])
    assert [a.account_id for a in report.accounts] == [first, second]
