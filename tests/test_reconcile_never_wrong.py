"""reconcile() is never wrong: the anomalies a one-pass scan got wrong, against the local server.

A batch with no ledger rows, a row listed on two pages, and a clean ledger written to while
it is read (the server's ``on_request`` hook writes between requests, as live traffic does).
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from thoughtcredits.reconcile import DiscrepancyKind, reconcile
from thoughtcredits.testing import (
    FakeCreditsServer,
    RecordedRequest,
    ScanWriter,
    plant_discrepancies,
    seed_ledger,
)
from thoughtcredits.testing._ledger.plant import KINDS


def _found(report: object) -> set[tuple[str, UUID, UUID | None, UUID | None]]:
    return {(d.kind, d.account_id, d.entity_id, d.action_id) for d in report.discrepancies}  # type: ignore[attr-defined]


def _listed(server: FakeCreditsServer, route: str, account: UUID) -> int:
    return sum(
        1
        for r in server.requests
        if r.route == route and str(account) in (r.path + r.query.get("creditAccountId", ""))
    )


async def test_a_batch_with_no_ledger_rows_is_a_batch_balance_discrepancy() -> None:
    """A batch of 50 credits that no ledger row put there is reported, expecting zero."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=3, actions_per_account=40, seed=1)
        (planted,) = plant_discrepancies(
            server.ledger, seeded.account_ids, kinds=("unledgered_batch",)
        )
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0])
    (found,) = report.discrepancies
    assert (found.kind, found.account_id, found.entity_id) == (
        DiscrepancyKind.BATCH_BALANCE, planted.account_id, planted.entity_id
    )  # fmt: skip
    assert (found.expected, found.actual) == (Decimal(0), Decimal(50))
    assert "no ledger rows" in found.message


async def test_a_row_listed_on_two_pages_is_one_duplicate_counted_once() -> None:
    """The same debit at the end of one page and the start of the next: one ``duplicate``,
    no chain break, and totals that count it once."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=3, actions_per_account=60, seed=2)
        (planted,) = plant_discrepancies(server.ledger, seeded.account_ids, kinds=("duplicate",))
        debits = server.ledger.account(planted.account_id).actions["debit"]
        first = next(i for i, row in enumerate(debits) if i and row is debits[i - 1])
        server.per_page = first  # the original ends page 1, its copy starts page 2
        async with server.client() as client:
            listing = client.credit_actions.list(
                seeded.client_ids[0], planted.account_id, action_type="debit"
            )
            pages = [[str(a.id) for a in page.items] async for page in listing.pages()]
            report = await reconcile(client, seeded.client_ids[0])
    assert pages[0][-1] == pages[1][0] == str(planted.action_id)
    assert _found(report) == {
        ("duplicate", planted.account_id, planted.entity_id, planted.action_id)
    }
    [account] = [a for a in report.accounts if a.account_id == planted.account_id]
    unique = debits[:first] + debits[first + 1 :]
    assert account.totals.debit_actions == len(unique) == len(debits) - 1
    assert account.totals.debited == sum(Decimal(row.amount) for row in unique)


@pytest.mark.parametrize("seed", [0, 1])
async def test_every_kind_planted_at_once_is_found_and_nothing_else(seed: int) -> None:
    """All five kinds together, each in its own account: exactly what was planted."""
    async with FakeCreditsServer(per_page=25) as server:
        seeded = seed_ledger(server.ledger, accounts=7, actions_per_account=120, seed=seed)
        planted = plant_discrepancies(server.ledger, seeded.account_ids, seed=seed, kinds=KINDS)
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], concurrency=3)
    assert _found(report) == {(p.kind, p.account_id, p.entity_id, p.action_id) for p in planted}
    assert len(report.discrepancies) == len(planted) == 5
    assert report.changed_during_scan == ()


async def test_writes_between_the_credit_and_debit_listings_are_re_read_not_reported() -> None:
    """The torn read that gave a false chain_break and batch_balance: a top-up and then a
    debit land after the credits were listed and before the debits were. The account is
    read again, and the report matches the ledger as it ended."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=1, actions_per_account=30, seed=3)
        account_id = seeded.account_ids[0]
        [batch, *_] = server.ledger.account(account_id).batches

        def top_up_then_spend(request: RecordedRequest) -> None:
            if request.query.get("actionType") == "credit" and not moved:
                moved.append(True)
                server.ledger.set_balance(batch, batch.current_balance + 40)
                server.ledger.set_balance(batch, batch.current_balance - 15)

        moved: list[bool] = []
        server.on_request = top_up_then_spend
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], [account_id])
        record = server.ledger.account(account_id)
        assert moved == [True]
        assert report.ok, report.discrepancies
        [account] = report.accounts
        assert account.totals.credit_actions == len(record.actions["credit"])
        assert account.totals.debit_actions == len(record.actions["debit"])
        assert account.totals.current_balance == record.current_balance
        assert _listed(server, "list_credit_batches", account_id) == 3  # before, after, after


@pytest.mark.parametrize("every", [1, 3, 7])
async def test_a_clean_ledger_under_live_writes_is_never_reported_inconsistent(every: int) -> None:
    """Writes after every few requests, all through the ledger: no account is reported with a
    discrepancy; each is either verified or said to have changed during the scan."""
    async with FakeCreditsServer(per_page=20) as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=80, seed=every)
        writer = ScanWriter(server.ledger, seeded.account_ids, every=every, seed=every)
        server.on_request = writer
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], concurrency=3, rereads=2)
        server.on_request = None
        rereads = sum(_listed(server, "list_credit_batches", a) - 1 for a in seeded.account_ids)
        assert report.discrepancies == ()
        assert writer.writes >= 5
        assert rereads >= 1  # some account moved under the scan and was read again
        assert {a.account_id for a in report.accounts} == set(seeded.account_ids)
        async with server.client() as client:
            at_rest = await reconcile(client, seeded.client_ids[0])
    assert at_rest.ok


async def test_an_account_that_never_settles_is_reported_as_changed_not_inconsistent() -> None:
    """Every listing of one account is followed by a write to it: after ``rereads`` re-reads
    it is reported as changed during the scan, with no discrepancy, and ``ok`` is False."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=30, seed=4)
        busy, quiet = seeded.account_ids
        writer = ScanWriter(server.ledger, [busy], route="list_credit_actions")
        server.on_request = writer
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], rereads=2)
    by_id = {a.account_id: a for a in report.accounts}
    assert (by_id[busy].changed_during_scan, by_id[busy].discrepancies) == (True, ())
    assert (by_id[quiet].changed_during_scan, by_id[quiet].discrepancies) == (False, ())
    assert report.changed_during_scan == (busy,)
    assert not report.ok
    assert report.discrepancies == ()
    assert _listed(server, "list_credit_batches", busy) == 3  # after each of three reads


async def test_a_real_discrepancy_is_still_found_while_another_account_is_written() -> None:
    """Writes to one account do not hide a chain break planted in another."""
    async with FakeCreditsServer(per_page=30) as server:
        seeded = seed_ledger(server.ledger, accounts=4, actions_per_account=90, seed=5)
        (planted,) = plant_discrepancies(
            server.ledger, seeded.account_ids[1:], kinds=("chain_break",)
        )
        server.on_request = ScanWriter(server.ledger, seeded.account_ids[:1], every=2)
        async with server.client() as client:
            report = await reconcile(client, seeded.client_ids[0], concurrency=2)
    assert _found(report) == {
        (planted.kind, planted.account_id, planted.entity_id, planted.action_id)
    }
