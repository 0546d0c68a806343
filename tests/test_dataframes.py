"""Models into dicts and dataframes, exactly: ``to_dict``, ``to_arrow`` of a listing, reprs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer

BATCH = tc.CreditBatch(
    id=UUID(int=1),
    starting_balance=Decimal("1000.000000000001"),
    current_balance=Decimal("12345678901234567890.5"),
    credit_account_id=UUID(int=2),
    allocated_credits=Decimal(0),
    status=tc.CreditBatchStatus.ACTIVE,
    created_at=datetime(2027, 1, 1, tzinfo=UTC),
    updated_at=datetime(2027, 1, 2, tzinfo=UTC),
    name="Q3",
)


def test_to_dict_uses_the_wire_names_and_keeps_values_exact() -> None:
    """camelCase keys in field order, like to_json; Decimals, UUIDs and datetimes as held."""
    data = BATCH.to_dict()
    assert list(data) == [
        "id", "startingBalance", "currentBalance", "creditAccountId", "allocatedCredits",
        "status", "createdAt", "updatedAt", "name", "expiresOn", "clientId",
    ]  # fmt: skip
    assert data["currentBalance"] == Decimal("12345678901234567890.5")
    assert isinstance(data["currentBalance"], Decimal)
    assert data["id"] == UUID(int=1)
    assert data["createdAt"] == datetime(2027, 1, 1, tzinfo=UTC)
    assert data["status"] == "active"
    assert data["expiresOn"] is None
    assert list(data) == list(json.loads(tc.to_json(BATCH)))


def test_to_dict_with_attribute_names_and_nested_models() -> None:
    """use_api_names=False gives snake_case; nested models become dicts, tuples lists."""
    account = tc.CreditAccount(
        id=UUID(int=3),
        current_balance=Decimal(5),
        status=tc.CreditAccountStatus.ACTIVE,
        type=tc.CreditAccountType.CLIENT,
        notify_emails=("ops@acme.test",),
        created_at=datetime(2027, 1, 1, tzinfo=UTC),
        updated_at=datetime(2027, 1, 1, tzinfo=UTC),
        sublicenses=(tc.Sublicense(id=UUID(int=4), deleted=False),),
    )
    assert account.to_dict()["sublicenses"] == [{"id": UUID(int=4), "deleted": False}]
    assert account.to_dict()["notifyEmails"] == ["ops@acme.test"]
    snake = account.to_dict(use_api_names=False)
    assert snake["current_balance"] == Decimal(5)
    assert snake["notify_emails"] == ["ops@acme.test"]
    assert "currentBalance" not in snake


async def test_to_arrow_reads_an_async_listing() -> None:
    """await tc.to_arrow(paginator): every item, amounts as exact decimal128."""
    pa = pytest.importorskip("pyarrow")
    async with FakeCreditsServer() as server, server.client() as client:
        cid = server.ledger.add_client()
        account = server.ledger.create_account(cid, name="A", starting_balance=1)
        for amount in ("12.5", "7", "123456789012345678901234.123456789012"):
            server.ledger.create_batch(
                cid, starting_balance=Decimal(amount), credit_account_id=account.id
            )
        table = await tc.to_arrow(client.credit_batches.list(cid, page_size=2))
        expected = [b.id async for b in client.credit_batches.list(cid)]
        empty = await tc.to_arrow(client.credit_batches.list(server.ledger.add_client()),
                                  tc.CreditBatch)  # fmt: skip
    assert table.column("id").to_pylist() == [str(i) for i in expected]
    assert table.schema.field("startingBalance").type == pa.decimal128(38, 12)
    assert (
        Decimal("123456789012345678901234.123456789012")
        in table.column("startingBalance").to_pylist()
    )
    assert empty.num_rows == 0


def test_to_arrow_refuses_an_amount_it_cannot_hold_exactly() -> None:
    """More than 26 integer digits: ValueError naming the field, not a rounded number."""
    pytest.importorskip("pyarrow")
    import attrs

    huge = attrs.evolve(BATCH, current_balance=Decimal(10) ** 27)
    with pytest.raises(ValueError, match="currentBalance 1000000000000000000000000000"):
        tc.to_arrow([BATCH, huge])


def test_pandas_gets_exact_decimals() -> None:
    """The documented recipe: Arrow decimals in pandas, digit for digit."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = tc.to_arrow([BATCH]).to_pandas(types_mapper=pd.ArrowDtype)
    assert frame["currentBalance"][0] == Decimal("12345678901234567890.5")
    records = pd.DataFrame([BATCH.to_dict()])
    assert list(records.columns)[:3] == ["id", "startingBalance", "currentBalance"]
    assert records["startingBalance"][0] == Decimal("1000.000000000001")


async def test_a_paginator_says_where_it_is() -> None:
    """repr(paginator) names its start and its checkpoint, not the default object repr."""
    async with FakeCreditsServer() as server, server.client() as client:
        cid = server.ledger.add_client()
        account = server.ledger.create_account(cid, name="A", starting_balance=1)
        server.ledger.create_batch(cid, starting_balance=2, credit_account_id=account.id)
        listing = client.credit_batches.list(cid, max_items=5)
        assert repr(listing) == "<AsyncPaginator max_items=5 checkpoint=None>"
        [first, *_] = [batch async for batch in listing]
        assert repr(listing) == f"<AsyncPaginator max_items=5 checkpoint={listing.checkpoint!r}>"
        assert first.id
        resumed = client.credit_batches.list(cid, cursor="Mg")
        assert repr(resumed) == "<AsyncPaginator cursor='Mg' checkpoint=None>"
