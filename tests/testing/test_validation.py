"""Auth (401, empty body), validation (400 JSON) and unknown ids or routes (404 JSON)."""

from __future__ import annotations

import pytest

from thoughtcredits.testing import FakeCreditsServer

from .conftest import Http, account_body

NOBODY = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize("key", [None, "wrong-key"])
async def test_missing_or_wrong_key_is_401_with_empty_body(
    http: Http, cid: str, fake: FakeCreditsServer, key: str | None
) -> None:
    """Without the right bearer key every route answers 401 with an empty body, changing nothing."""
    reply = await http.call("POST", f"/clients/{cid}/creditAccounts", json=account_body(), key=key)
    assert (reply.status, reply.raw) == (401, b"")
    listing = await http.call("GET", f"/clients/{cid}/creditBatches", params={"clientId": cid},
                              key=key)  # fmt: skip
    assert (listing.status, listing.raw) == (401, b"")
    assert fake.ledger.accounts == {}


async def test_basic_auth_scheme_is_refused(http: Http, cid: str) -> None:
    """Only ``Authorization: Bearer <key>`` counts; the bare key is refused."""
    async with http.session.get(
        f"{http.server.url}/incoming/v2/clients/{cid}/creditBatches",
        params={"clientId": cid}, headers={"Authorization": "test-key"},
    ) as response:  # fmt: skip
        assert response.status == 401


def bad_request(message: str) -> dict[str, str]:
    return {"error": "bad_request", "message": message}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"startingBalance": 1, "notifyEmails": [], "licenseIds": []}, "name: required"),
        ({"name": "A", "notifyEmails": [], "licenseIds": []}, "startingBalance: required"),
        ({"name": "A", "startingBalance": 1, "licenseIds": []}, "notifyEmails: required"),
        ({"name": "A", "startingBalance": 1, "notifyEmails": []}, "licenseIds: required"),
        (account_body(startingBalance="10"), "startingBalance: must be a number, got string"),
        (account_body(startingBalance=True), "startingBalance: must be a number, got boolean"),
        (account_body(name=5), "name: must be a string, got number"),
        (account_body(notifyEmails="a@b"), "notifyEmails: must be an array of strings, got string"),
        (account_body(licenseIds=[1]), "licenseIds: must be an array of strings, got array"),
        (
            account_body(batchDaysUntilExpire=1.5),
            "batchDaysUntilExpire: must be an integer, got 1.5",
        ),
        (account_body(type="personal"), "type: expected one of client, company"),
        (account_body(clientId="nope"), "clientId: not a valid UUID: 'nope'"),
        (account_body(clientId=NOBODY), "clientId: does not match the client id in the path"),
        (account_body(startingBalance=-1), "startingBalance: must not be negative"),
    ],
)
async def test_create_account_validation(
    http: Http, cid: str, fake: FakeCreditsServer, body: dict[str, object], message: str
) -> None:
    """Each invalid create-account body is a 400 naming the field; nothing is created."""
    reply = await http.post(f"/clients/{cid}/creditAccounts", body)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json == bad_request(message)
    assert fake.ledger.accounts == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b"", "body: not valid JSON"),
        (b'{"startingBalance": NaN}', "body: not valid JSON"),
    ],
)
async def test_unparseable_body_is_400(http: Http, cid: str, data: bytes, message: str) -> None:
    """A body that is not a JSON object is a 400 about ``body``."""
    reply = await http.call("POST", f"/clients/{cid}/creditBatches", data=data)
    assert reply.status == 400
    assert reply.json["error"] == "bad_request"
    assert reply.json["message"].startswith(message)


async def test_create_batch_needs_account_when_client_has_several(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """Without creditAccountId a batch goes to the only account, and is refused with two."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body(name="A"))
    only = await http.post(f"/clients/{cid}/creditBatches", {"startingBalance": 5})
    assert only.status == 201
    [account] = fake.ledger.clients[cid].accounts
    assert only.payload("CreateCreditBatch")["creditAccountId"] == account.id
    await http.post(f"/clients/{cid}/creditAccounts", account_body(name="B"))
    refused = await http.post(f"/clients/{cid}/creditBatches", {"startingBalance": 5})
    assert refused.status == 400
    assert refused.json == bad_request(
        f"creditAccountId: required: client {cid} has 2 credit accounts"
    )


async def test_create_batch_respects_minimum_batch_amount(http: Http, cid: str) -> None:
    """A batch smaller than the account's minimumBatchAmount is refused."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body(minimumBatchAmount=10))
    reply = await http.post(f"/clients/{cid}/creditBatches", {"startingBalance": 9})
    assert reply.status == 400
    assert reply.json == bad_request("startingBalance: below the account's minimumBatchAmount (10)")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"currentBalance": 1.5}, "currentBalance: must be an integer, got 1.5"),
        ({"currentBalance": "7"}, "currentBalance: must be a number, got string"),
        ({"currentBalance": -1}, "currentBalance: must not be negative"),
        ({"expiresOn": "string"}, "expiresOn: not an ISO 8601 timestamp: 'string'"),
        ({"name": ["x"]}, "name: must be a string, got array"),
    ],
)
async def test_update_batch_validation(
    http: Http, cid: str, fake: FakeCreditsServer, body: dict[str, object], message: str
) -> None:
    """Each invalid update body is a 400 and the batch is unchanged."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body())
    [batch] = fake.ledger.batches.values()
    reply = await http.put(f"/clients/creditBatches/{batch.id}", body)
    assert (reply.status, reply.json) == (400, bad_request(message))
    assert (batch.name, batch.current_balance) == ("Sales", 100)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "clientId: required"),
        ({"clientId": "x"}, "clientId: not a valid UUID: 'x'"),
        ({"clientId": NOBODY}, "clientId: does not match the client id in the path"),
        ({"clientId": "{cid}", "creditAccountId": "1"}, "creditAccountId: not a valid UUID: '1'"),
        ({"clientId": "{cid}", "page": "0"}, "page: must be at least 1"),
        (
            {"clientId": "{cid}", "page": "two"},
            "page: must be an integer of at most 18 digits, got 'two'",
        ),
        ({"clientId": "{cid}", "perPage": "0"}, "perPage: must be at least 1"),
        ({"clientId": "{cid}", "cursor": "%%"}, "cursor: not a valid cursor: '%%'"),
    ],
)
async def test_list_batches_query_validation(
    http: Http, cid: str, params: dict[str, str], message: str
) -> None:
    """Each invalid list-batches query is a 400 naming the parameter."""
    query = {k: v.format(cid=cid) for k, v in params.items()}
    reply = await http.call("GET", f"/clients/{cid}/creditBatches", params=query)
    assert (reply.status, reply.json) == (400, bad_request(message))


async def test_list_actions_requires_action_type(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """actionType is required for the actions list (missing or empty)."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body())
    [aid] = fake.ledger.accounts
    path = f"/clients/{cid}/creditAccount/{aid}/creditActions"
    missing = await http.get(path, clientId=cid)
    empty = await http.get(path, clientId=cid, actionType="")
    assert (missing.status, missing.json) == (400, bad_request("actionType: required"))
    assert (empty.status, empty.json) == (400, bad_request("actionType: required"))
    unknown = await http.get(path, clientId=cid, actionType="refund")
    assert unknown.payload("APICreditActionsByClientIdAndAccountIdAndActionType")[
        "creditActions"] == []  # fmt: skip


async def test_bad_path_ids_are_400(http: Http, cid: str) -> None:
    """A non-UUID client id, batch id or account id in the path is a 400."""
    client = await http.get("/clients/abc/creditBatches", clientId=cid)
    assert (client.status, client.json) == (400, bad_request("id: not a valid UUID: 'abc'"))
    batch = await http.put("/clients/creditBatches/abc", {"name": "x"})
    assert (batch.status, batch.json) == (400, bad_request("id: not a valid UUID: 'abc'"))
    account = await http.get(f"/clients/{cid}/creditAccount/abc/creditActions", clientId=cid,
                             actionType="debit")  # fmt: skip
    assert account.json == bad_request("creditAccountId: not a valid UUID: 'abc'")


async def test_unknown_ids_are_404(http: Http, cid: str, fake: FakeCreditsServer) -> None:
    """Unknown accounts (also another client's) and batches are 404 not_found."""
    batch = await http.put(f"/clients/creditBatches/{NOBODY}", {"name": "x"})
    assert (batch.status, batch.json["error"]) == (404, "not_found")
    other = str(fake.ledger.add_client())
    fake.ledger.create_account(other, name="Theirs", starting_balance=1)
    [theirs] = fake.ledger.accounts
    actions = await http.get(f"/clients/{cid}/creditAccount/{theirs}/creditActions",
                             clientId=cid, actionType="credit")  # fmt: skip
    assert (actions.status, actions.json["error"]) == (404, "not_found")
    batches = await http.get(f"/clients/{cid}/creditBatches", clientId=cid, creditAccountId=theirs)
    assert batches.status == 404


async def test_unknown_route_and_method_are_json_errors(
    http: Http, fake: FakeCreditsServer
) -> None:
    """An unknown path is a JSON 404 and a wrong method a JSON 405; neither has a route name."""
    missing = await http.get("/clients")
    assert (missing.status, missing.json["error"]) == (404, "not_found")
    wrong = await http.call("DELETE", f"/clients/creditBatches/{NOBODY}")
    assert (wrong.status, wrong.json["error"]) == (405, "method_not_allowed")
    assert [r.route for r in fake.requests] == [None, None]
