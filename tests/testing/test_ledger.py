"""Ledger semantics: what each change writes, balance chains and balances, over HTTP and direct."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from thoughtcredits.testing import FakeCreditsServer, Ledger, LedgerError

from .conftest import Http, account_body


async def actions(http: Http, cid: str, aid: str, action_type: str) -> list[dict[str, object]]:
    reply = await http.get(f"/clients/{cid}/creditAccount/{aid}/creditActions", clientId=cid,
                           actionType=action_type, perPage="1000")  # fmt: skip
    page = reply.payload("APICreditActionsByClientIdAndAccountIdAndActionType")
    found: list[dict[str, object]] = page["creditActions"]
    return found


async def test_account_creation_makes_first_batch_and_credit(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """A new account has one batch named creditBatchName, expiring after the given days, and
    one credit action of startingBalance into it."""
    reply = await http.post(f"/clients/{cid}/creditAccounts",
                            account_body(creditBatchName="Launch", batchDaysUntilExpire=30,
                                         startingBalance=250))  # fmt: skip
    aid = reply.payload("APICreateCreditAccount")["id"]
    listing = await http.get(f"/clients/{cid}/creditBatches", clientId=cid, creditAccountId=aid)
    [batch] = listing.payload("APICreditBatchesByClientAndCreditAccount")["creditBatches"]
    assert (batch["name"], batch["startingBalance"], batch["currentBalance"]) == (
        "Launch",
        250,
        250,
    )
    created = datetime.fromisoformat(batch["createdAt"])
    expires = datetime.fromisoformat(batch["expiresOn"])
    assert (expires - created).days == 30
    [credit] = await actions(http, cid, aid, "credit")
    assert (credit["amount"], credit["target"], credit["targetBalanceOut"]) == (
        250,
        batch["id"],
        250,
    )
    assert await actions(http, cid, aid, "debit") == []


async def test_first_batch_is_named_after_account_without_credit_batch_name(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """Without creditBatchName the first batch takes the account's name and never expires."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body(name="Academy"))
    [batch] = fake.ledger.batches.values()
    assert (batch.name, batch.expires_on) == ("Academy", None)


async def test_updates_write_debits_and_credits_that_chain(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """Lowering a balance writes a debit from the batch, raising it a credit into it, equal
    writes nothing; every action continues the batch's balance chain."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body(startingBalance=100))
    [account] = fake.ledger.accounts.values()
    bid = account.batches[0].id
    for balance in (60, 60, 75, 0):
        reply = await http.put(f"/clients/creditBatches/{bid}", {"currentBalance": balance})
        assert reply.payload("UpdateCreditBatch")["currentBalance"] == balance
    debits = await actions(http, cid, account.id, "debit")
    credits = await actions(http, cid, account.id, "credit")
    admin = fake.ledger.clients[cid].admin_user_id
    assert [(d["sourceBalanceIn"], d["sourceBalanceOut"], d["amount"]) for d in debits] == [
        (100, 60, 40), (75, 0, 75),
    ]  # fmt: skip
    assert all(
        (d["source"], d["sourceType"], d["target"], d["targetType"], d["initiator"])
        == (bid, "creditBatch", admin, "user", admin)
        for d in debits
    )
    assert [(c["targetBalanceIn"], c["targetBalanceOut"], c["amount"]) for c in credits] == [
        (0, 100, 100), (60, 75, 15),
    ]  # fmt: skip
    # Merged in time order, each action starts where the previous one left the batch.
    events = sorted(
        [(a["timestamp"], a["sourceBalanceIn"], a["sourceBalanceOut"]) for a in debits]
        + [(a["timestamp"], a["targetBalanceIn"], a["targetBalanceOut"]) for a in credits]
    )
    assert len({t for t, _, _ in events}) == len(events)
    for (_, _, out), (_, in_, _) in itertools.pairwise(events):
        assert in_ == out
    batch = fake.ledger.batches[bid]
    assert (batch.current_balance, batch.allocated_credits) == (0, 115)


async def test_account_balance_is_sum_of_batches(fake: FakeCreditsServer, cid: str) -> None:
    """An account's currentBalance is the exact sum of its batches' current balances."""
    ledger = fake.ledger
    account = ledger.create_account(cid, name="A", starting_balance=Decimal("10.25"))
    second = ledger.create_batch(cid, starting_balance=5, credit_account_id=account.id)
    ledger.update_batch(second.id, current_balance=2)
    assert account.current_balance == Decimal("12.25")
    assert sum(b.current_balance for b in account.batches) == Decimal("12.25")


def test_timestamps_strictly_increase_with_a_stopped_clock() -> None:
    """Even when the clock does not move, each change gets a later millisecond."""
    ledger = Ledger(clock=lambda: 1_700_000_000.0, id_seed=1)
    cid = ledger.add_client()
    account = ledger.create_account(cid, name="A", starting_balance=10)
    batch = account.batches[0]
    for balance in (9, 8, 12):
        ledger.update_batch(batch.id, current_balance=balance)
    stamps = [row.timestamp for row in ledger.actions(account.id)]
    assert stamps == sorted(set(stamps))
    assert stamps[0] >= 1_700_000_000_000
    assert [row.action for row in ledger.actions(account.id)] == [
        "credit", "debit", "debit", "credit",
    ]  # fmt: skip


def test_seeded_ids_are_reproducible() -> None:
    """The same id_seed gives the same client, account and action ids."""

    def build() -> list[str]:
        ledger = Ledger(id_seed=7)
        cid = ledger.add_client()
        account = ledger.create_account(cid, name="A", starting_balance=1)
        return [str(cid), account.id, ledger.action_id(ledger.actions(account.id)[0])]

    assert build() == build()


def test_update_of_name_and_expiry_writes_no_action() -> None:
    """Renaming or re-dating a batch changes no balance and writes no action."""
    ledger = Ledger()
    cid = ledger.add_client()
    account = ledger.create_account(cid, name="A", starting_balance=10)
    batch = ledger.update_batch(
        account.batches[0].id, name="B", expires_on=datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert batch.name == "B"
    assert batch.expires_on == int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert len(ledger.actions(account.id)) == 1


def test_ledger_refuses_duplicates_and_unknowns() -> None:
    """Reusing an account id, or naming an unknown client, raises LedgerError with the field."""
    ledger = Ledger()
    cid = ledger.add_client()
    account = ledger.create_account(cid, name="A", starting_balance=1)
    with pytest.raises(LedgerError, match="already exists") as duplicate:
        ledger.create_account(cid, name="B", starting_balance=1, account_id=account.id)
    assert duplicate.value.field == "id"
    with pytest.raises(LedgerError, match="no client"):
        ledger.create_batch("11111111-2222-4333-8444-555555555555", starting_balance=1)
