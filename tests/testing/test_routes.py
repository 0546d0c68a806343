"""Each route's happy path: status, envelope and exact shape against the seed pages."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from thoughtcredits.testing import FakeCreditsServer

from .conftest import Http, account_body, same_shape, seed_sample

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


async def make_account(http: Http, cid: str, **overrides: object) -> dict[str, object]:
    reply = await http.post(f"/clients/{cid}/creditAccounts", account_body(**overrides))
    assert reply.status == 201
    account: dict[str, object] = reply.payload("APICreateCreditAccount")
    return account


async def test_create_account_matches_seed_page(http: Http, cid: str) -> None:
    """POST creditAccounts answers 201 with an APICreateCreditAccount shaped as the seed page."""
    reply = await http.post(
        f"/clients/{cid}/creditAccounts",
        account_body(
            clientId=cid, batchDaysUntilExpire=30, minimumBatchAmount=5, type="company",
            creditBatchName="FY", licenseIds=["9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f"],
        ),
    )  # fmt: skip
    assert reply.status == 201
    assert reply.headers["Content-Type"] == "application/json"
    account = reply.payload("APICreateCreditAccount")
    same_shape(account, seed_sample("create_credit_account")["data"]["APICreateCreditAccount"])
    assert UUID.match(account["id"])
    assert account["clientId"] == cid
    # A sublicense is the account's own grant of the license: a UUID of its own (seed S9b).
    grant = uuid.uuid5(uuid.UUID(account["id"]), "9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f")
    assert account["sublicenses"] == [{"id": str(grant), "deleted": False}]
    assert account["currentBalance"] == 100
    assert (account["status"], account["type"], account["name"]) == ("active", "company", "Sales")
    assert account["notifyEmails"] == ["ops@example.com"]
    assert (account["batchDaysUntilExpire"], account["minimumBatchAmount"]) == (30, 5)
    assert TIMESTAMP.match(account["createdAt"])
    assert account["createdAt"] == account["updatedAt"]


async def test_create_batch_matches_seed_page(http: Http, cid: str) -> None:
    """POST creditBatches answers 201 with a CreateCreditBatch shaped as the seed page."""
    account = await make_account(http, cid)
    reply = await http.post(
        f"/clients/{cid}/creditBatches",
        {"clientId": cid, "startingBalance": 40, "creditAccountId": account["id"], "name": "Q3",
         "expiresOn": "2030-05-06T07:08:09.010Z"},
    )  # fmt: skip
    assert reply.status == 201
    batch = reply.payload("CreateCreditBatch")
    same_shape(batch, seed_sample("create_credit_batch")["data"]["CreateCreditBatch"])
    assert batch["name"] == "Q3"
    assert batch["expiresOn"] == "2030-05-06T07:08:09.010Z"
    assert (batch["startingBalance"], batch["currentBalance"], batch["allocatedCredits"]) == (
        40, 40, 0,
    )  # fmt: skip
    assert (batch["clientId"], batch["creditAccountId"]) == (cid, account["id"])
    assert batch["status"] == "active"


async def test_list_batches_matches_seed_page(http: Http, cid: str) -> None:
    """GET creditBatches lists the batches in an APICreditBatchesByClientAndCreditAccount."""
    account = await make_account(http, cid, creditBatchName="First")
    reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    assert reply.status == 200
    page = reply.payload("APICreditBatchesByClientAndCreditAccount")
    same_shape(page, seed_sample("list_credit_batches")["data"][
        "APICreditBatchesByClientAndCreditAccount"])  # fmt: skip
    assert page["clientId"] == cid
    assert page["creditAccountId"] is None
    [batch] = page["creditBatches"]
    assert (batch["name"], batch["creditAccountId"], batch["expiresOn"]) == (
        "First", account["id"], None,
    )  # fmt: skip
    assert page["pageInfo"] == {"perPage": 100, "cursor": page["pageInfo"]["cursor"], "total": 1,
                                "hasMore": False}  # fmt: skip


async def test_list_batches_filters_by_account(http: Http, cid: str) -> None:
    """creditAccountId limits the listing to that account's batches and is echoed back."""
    first = await make_account(http, cid, name="A")
    second = await make_account(http, cid, name="B")
    reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid,
                           creditAccountId=str(second["id"]))  # fmt: skip
    page = reply.payload("APICreditBatchesByClientAndCreditAccount")
    assert page["creditAccountId"] == second["id"]
    assert [b["name"] for b in page["creditBatches"]] == ["B"]
    everything = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    names = [b["creditAccountId"] for b in everything.payload(
        "APICreditBatchesByClientAndCreditAccount")["creditBatches"]]  # fmt: skip
    assert names == [first["id"], second["id"]]


async def test_update_batch_matches_seed_page(http: Http, cid: str) -> None:
    """PUT creditBatches/:id renames, re-dates and sets the balance in an UpdateCreditBatch."""
    await make_account(http, cid)
    batches = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    [batch] = batches.payload("APICreditBatchesByClientAndCreditAccount")["creditBatches"]
    reply = await http.put(
        f"/clients/creditBatches/{batch['id']}",
        {"name": "Renamed", "expiresOn": "2031-01-02T03:04:05+00:00", "currentBalance": 70},
    )
    assert reply.status == 200
    updated = reply.payload("UpdateCreditBatch")
    same_shape(updated, seed_sample("update_credit_batch")["data"]["UpdateCreditBatch"])
    assert updated["id"] == batch["id"]
    assert updated["name"] == "Renamed"
    assert updated["expiresOn"] == "2031-01-02T03:04:05.000Z"
    assert (updated["startingBalance"], updated["currentBalance"]) == (100, 70)
    assert updated["allocatedCredits"] == 30
    assert updated["createdAt"] == batch["createdAt"]
    assert updated["updatedAt"] > batch["updatedAt"]


async def test_update_batch_with_null_expiry_clears_it(http: Http, cid: str) -> None:
    """``"expiresOn": null`` removes the expiry; an absent field leaves it alone."""
    await make_account(http, cid, batchDaysUntilExpire=10)
    batches = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    [batch] = batches.payload("APICreditBatchesByClientAndCreditAccount")["creditBatches"]
    assert batch["expiresOn"] is not None
    kept = await http.put(f"/clients/creditBatches/{batch['id']}", {"name": "x"})
    assert kept.payload("UpdateCreditBatch")["expiresOn"] == batch["expiresOn"]
    cleared = await http.put(f"/clients/creditBatches/{batch['id']}", {"expiresOn": None})
    assert cleared.payload("UpdateCreditBatch")["expiresOn"] is None


async def test_list_actions_matches_seed_page(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """GET creditActions lists a type in APICreditActionsByClientIdAndAccountIdAndActionType."""
    account = await make_account(http, cid, name="Ops")
    reply = await http.get(f"/clients/{cid}/creditAccount/{account['id']}/creditActions",
                           clientId=cid, actionType="credit")  # fmt: skip
    assert reply.status == 200
    page = reply.payload("APICreditActionsByClientIdAndAccountIdAndActionType")
    same_shape(page, seed_sample("list_credit_actions")["data"][
        "APICreditActionsByClientIdAndAccountIdAndActionType"])  # fmt: skip
    assert (page["clientId"], page["creditAccountId"]) == (cid, account["id"])
    [action] = page["creditActions"]
    batch = fake.ledger.accounts[str(account["id"])].batches[0]
    admin = fake.ledger.clients[cid].admin_user_id
    assert action == {
        "id": action["id"], "client": cid, "action": "credit", "amount": 100,
        "target": batch.id, "targetType": "creditBatch", "targetBalanceIn": 0,
        "targetBalanceOut": 100, "initiator": admin, "initiatorType": "user",
        "creditAccountName": "Ops", "source": None, "sourceType": None,
        "sourceBalanceIn": None, "sourceBalanceOut": None,
        "timestamp": action["timestamp"], "updatedAt": action["timestamp"],
    }  # fmt: skip
    assert UUID.match(action["id"])
    assert TIMESTAMP.match(action["timestamp"])


async def test_amounts_are_exact_decimals_and_integral_ones_are_integers(
    http: Http, cid: str
) -> None:
    """A fractional amount comes back digit for digit; an integral 5.0 comes back as 5."""
    reply = await http.call(
        "POST", f"/clients/{cid}/creditAccounts",
        data=b'{"name": "D", "startingBalance": 123456789012345678901234567890.100000000001,'
        b' "notifyEmails": [], "licenseIds": []}',
    )  # fmt: skip
    assert b'"currentBalance":123456789012345678901234567890.100000000001,' in reply.raw
    assert reply.payload("APICreateCreditAccount")["currentBalance"] == Decimal(
        "123456789012345678901234567890.100000000001"
    )
    whole = await http.call("POST", f"/clients/{cid}/creditBatches", data=(
        b'{"startingBalance": 5.0, "creditAccountId": "%s"}'
        % reply.payload("APICreateCreditAccount")["id"].encode()))  # fmt: skip
    assert b'"startingBalance":5,' in whole.raw
