"""The ``/_fake`` admin routes over plain HTTP: what a test in another language relies on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from thoughtcredits.testing import FakeCreditsServer, seed_demo, seed_ledger
from thoughtcredits.testing._server.render import dumps

from .conftest import KEY, Http, Reply, account_body

ADMIN_ROUTES = [
    ("POST", "/reset"), ("GET", "/state"), ("PUT", "/state"), ("GET", "/requests"),
    ("DELETE", "/requests"), ("GET", "/faults"), ("POST", "/faults"), ("DELETE", "/faults"),
    ("POST", "/clients"), ("GET", "/openapi.json"),
]  # fmt: skip


async def admin(
    http: Http, method: str, path: str, body: object = None, *, data: bytes | None = None,
    key: str | None = KEY, server: FakeCreditsServer | None = None,
) -> Reply:  # fmt: skip
    """One request to ``/_fake`` + ``path``."""
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    if body is not None:
        data = json.dumps(body).encode()
    url = f"{(server or http.server).url}/_fake{path}"
    async with http.session.request(method, url, data=data, headers=headers) as response:
        return Reply(response.status, response.headers, await response.read())


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_need_the_key(
    http: Http, fake: FakeCreditsServer, method: str, path: str
) -> None:
    """Without the bearer key every admin route is a 401 with an empty body, and not logged."""
    for key in (None, "wrong"):
        reply = await admin(http, method, path, key=key)
        assert (reply.status, reply.raw) == (401, b"")
    assert fake.requests == []


async def test_reset_empties_ledger_log_and_faults(http: Http, fake: FakeCreditsServer) -> None:
    """POST /_fake/reset leaves an empty server; admin calls themselves are never logged."""
    seed_demo(fake.ledger)
    await http.get(f"/clients/{fake.ledger.add_client()}/creditBatches", clientId="x")
    assert (await admin(http, "POST", "/faults", {"kind": "status", "status": 503})).status == 201
    assert (await admin(http, "POST", "/reset")).status == 204
    assert (fake.ledger.clients, fake.ledger.accounts, fake.requests) == ({}, {}, [])
    assert (await admin(http, "GET", "/faults")).json == {"faults": []}
    assert (await admin(http, "GET", "/requests")).json["requests"] == []


async def listings(
    http: Http, server: FakeCreditsServer, ledger_of: FakeCreditsServer
) -> list[bytes]:
    """The raw bytes of every listing of every client and account, in pages of 7."""
    pages = []
    for cid, client in ledger_of.ledger.clients.items():
        for query in (
            {"clientId": cid, "perPage": "7"},
            {"clientId": cid, "page": "2", "perPage": "3"},
        ):
            url = f"{server.url}/incoming/v2/clients/{cid}/creditBatches"
            pages.append(await raw_get(http, url, query))
        for account in client.accounts:
            for kind in ("credit", "debit"):
                url = f"{server.url}/incoming/v2/clients/{cid}/creditAccount/{account.id}"
                url += "/creditActions"
                query = {"clientId": cid, "actionType": kind, "perPage": "50"}
                first = await raw_get(http, url, query)
                page = json.loads(first)["data"]
                cursor = page["APICreditActionsByClientIdAndAccountIdAndActionType"]["pageInfo"][
                    "cursor"]  # fmt: skip
                pages += [first, await raw_get(http, url, {**query, "cursor": cursor or ""})]
    return pages


async def raw_get(http: Http, url: str, query: dict[str, str]) -> bytes:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with http.session.get(url, params=query, headers=headers) as response:
        assert response.status == 200
        return await response.read()


@pytest.fixture
async def second() -> AsyncIterator[FakeCreditsServer]:
    """Another running server with the same key."""
    async with FakeCreditsServer(api_key=KEY) as server:
        yield server


async def test_state_round_trip_gives_byte_identical_listings(
    http: Http, fake: FakeCreditsServer, second: FakeCreditsServer
) -> None:
    """GET /_fake/state from one server, PUT it into another: every listing is identical."""
    seed_ledger(fake.ledger, accounts=3, actions_per_account=120, seed=3, clients=2)
    seed_demo(fake.ledger)
    cid = str(fake.ledger.add_client())
    body = json.dumps(account_body(startingBalance=0)).replace(
        '"startingBalance": 0', '"startingBalance": 10.123456789012'
    )
    assert (
        await http.call("POST", f"/clients/{cid}/creditAccounts", data=body.encode())
    ).status == 201
    state = await admin(http, "GET", "/state")
    assert state.status == 200
    loaded = await admin(http, "PUT", "/state", data=state.raw, server=second)
    assert loaded.status == 200
    assert loaded.json == {"clients": 4, "creditAccounts": 6, "creditBatches": len(
        fake.ledger.batches), "creditActions": sum(
        len(a.all_actions()) for a in fake.ledger.accounts.values())}  # fmt: skip
    assert await listings(http, second, fake) == await listings(http, fake, fake)
    assert (await admin(http, "GET", "/state", server=second)).raw == state.raw
    # New writes continue the sequence: a new action sorts after the loaded ones.
    [batch] = second.ledger.clients[cid].batches
    second.ledger.update_batch(batch.id, current_balance=3)
    assert second.ledger.actions(batch.account_id)[-1].seq > fake.ledger.seq


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("creditBatches"), "state.creditBatches: required"),
        (lambda s: s.update(format="x"), "state.format: expected"),
        (lambda s: s["creditBatches"][0].update(currentBalance="HUGE"),
         "creditBatches[0].currentBalance: too large"),
        (lambda s: s["creditAccounts"][0]["creditBatches"].append("nope"),
         "creditAccounts[0].creditBatches[1]: unknown id"),
        (lambda s: s["creditAccounts"][0]["creditActions"]["credit"][0].pop(),
         "creditAccounts[0].creditActions.credit[0]: must be an array of 14 fields"),
        (lambda s: s["creditBatches"][0].update(createdAt=10**17), "createdAt: must be at most"),
        (lambda s: s.update(actionIdPrefix='"}]'), "state.actionIdPrefix"),
        (lambda s: s["clients"].append(s["clients"][0]), "clients: duplicate id"),
    ],
)  # fmt: skip
async def test_bad_state_is_400_and_changes_nothing(
    http: Http, fake: FakeCreditsServer, mutate: Any, message: str
) -> None:
    """A malformed snapshot is refused naming the bad part; the ledger stays as it was."""
    cid = fake.ledger.add_client()
    fake.ledger.create_account(cid, name="A", starting_balance=5)
    snapshot = json.loads((await admin(http, "GET", "/state")).raw, parse_float=Decimal)
    before = fake.snapshot_json()
    mutate(snapshot)
    data = dumps(snapshot).replace('"HUGE"', "1e700000").encode()
    reply = await admin(http, "PUT", "/state", data=data)
    assert reply.status == 400
    assert message in reply.json["message"]
    assert fake.snapshot_json() == before


async def test_request_log_lists_without_key_and_bodies_only_when_asked(
    http: Http, fake: FakeCreditsServer, cid: str
) -> None:
    """GET /_fake/requests: method, path, query, status, route, fault; bodies on request."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body())
    await http.call("GET", f"/clients/{cid}/creditBatches", params={"clientId": cid, "k": KEY})
    await http.call("GET", "/nowhere", key="wrong")
    plain = (await admin(http, "GET", "/requests")).json
    assert plain["total"] == 3
    assert plain["requests"][0] == {
        "method": "POST", "path": f"/incoming/v2/clients/{cid}/creditAccounts", "query": {},
        "status": 201, "route": "create_credit_account", "fault": None,
        "bodySize": len(json.dumps(account_body())),
    }  # fmt: skip
    assert plain["requests"][1]["query"] == {"clientId": cid, "k": "***"}
    assert plain["requests"][2]["status"] == 401
    with_bodies = (await admin(http, "GET", "/requests?limit=2&bodies=1")).raw
    assert KEY.encode() not in with_bodies
    entries = json.loads(with_bodies)["requests"]
    assert [e["route"] for e in entries] == ["list_credit_batches", None]
    assert [e["body"] for e in entries] == [None, None]
    first = (await admin(http, "GET", "/requests?limit=1&bodies=1")).json  # the last one only
    assert len(first["requests"]) == 1
    everything = (await admin(http, "GET", "/requests?bodies=1")).json["requests"][0]
    assert json.loads(everything["body"]) == account_body()
    assert everything["bodyTruncated"] is False
    assert (await admin(http, "GET", "/requests?limit=-1")).status == 400
    assert (await admin(http, "DELETE", "/requests")).status == 204
    assert (await admin(http, "GET", "/requests")).json["requests"] == []


async def test_fault_injected_over_http_answers_then_runs_out(
    http: Http, fake: FakeCreditsServer, cid: str
) -> None:
    """POST /_fake/faults queues a Fault; its JSON fields mean what the Python ones do."""
    fault = {"kind": "status", "status": 503, "route": "list_credit_batches", "count": 2,
             "headers": {"Retry-After": "0"}, "body": {"error": "busy", "n": 1.5}}  # fmt: skip
    created = await admin(http, "POST", "/faults", fault)
    assert created.status == 201
    assert created.json["remaining"] == 2
    raw = await admin(http, "POST", "/faults", {"kind": "body", "rawBody": "not json"})
    assert raw.status == 201
    listed = (await admin(http, "GET", "/faults")).json["faults"]
    assert [(f["kind"], f["remaining"]) for f in listed] == [("status", 2), ("body", 1)]
    replies = [await http.get(f"/clients/{cid}/creditBatches", clientId=cid) for _ in range(4)]
    assert [r.status for r in replies] == [503, 503, 200, 200]
    assert replies[0].raw == b'{"error":"busy","n":1.5}'
    assert replies[0].headers["Retry-After"] == "0"
    assert replies[2].raw == b"not json"  # the route-less fault took the first free request
    assert [r.fault for r in fake.requests] == ["status", "status", "body", None]
    await admin(http, "POST", "/faults", {"kind": "drop"})
    assert (await admin(http, "DELETE", "/faults")).status == 204
    assert (await http.get(f"/clients/{cid}/creditBatches", clientId=cid)).status == 200


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"kind": "explode"}, "kind: expected one of"),
        ({}, "kind: expected one of"),
        ({"kind": "status", "route": "list_everything"}, "route: expected one of"),
        ({"kind": "status", "status": 99}, "status: not an HTTP status"),
        ({"kind": "status", "count": 0}, "count: must be between"),
        ({"kind": "delay", "delay": 1e9}, "delay: must be between"),
        ({"kind": "status", "sttaus": 503}, "fault: unknown fields ['sttaus']"),
        ({"kind": "status", "headers": {"X\r\nEvil": "1"}}, "headers: not a header name"),
        ({"kind": "status", "headers": {"X-A": "a\r\nb"}}, "headers.X-A: must be printable"),
        ({"kind": "body", "body": 1, "rawBody": "x"}, "give body or rawBody"),
        ({"kind": "status", "when": "later"}, "when: expected"),
        ([1], "fault: must be a JSON object"),
    ],
)
async def test_bad_fault_is_400_and_queues_nothing(
    http: Http, fake: FakeCreditsServer, fault: object, message: str
) -> None:
    """An invalid fault is refused naming the field; nothing is queued."""
    reply = await admin(http, "POST", "/faults", fault)
    assert reply.status == 400
    assert message in reply.json["message"]
    assert fake.faults.pending() == []


async def test_strict_clients_404_names_the_way_to_register() -> None:
    """strict_clients=True: an unknown client is a 404 saying how to register it, which works."""
    stranger = "6f1c2b8e-0d7a-4b59-9a52-1f0e7c3d2a10"
    async with (
        FakeCreditsServer(api_key=KEY, strict_clients=True) as strict,
        aiohttp.ClientSession() as session,
    ):
        http = Http(session, strict)
        refused = await http.post(f"/clients/{stranger}/creditAccounts", account_body())
        assert refused.status == 404
        assert refused.json["message"] == (
            f"no client {stranger}; register it with POST /_fake/clients or ledger.add_client()"
        )
        made = await admin(http, "POST", "/clients", {"id": stranger.upper()})
        assert (made.status, made.json["id"]) == (201, stranger)
        again = await admin(http, "POST", "/clients", {"id": stranger})
        assert (again.status, again.json) == (200, made.json)
        assert (
            await http.post(f"/clients/{stranger}/creditAccounts", account_body())
        ).status == 201
        anonymous = await admin(http, "POST", "/clients")
        assert anonymous.status == 201
        assert anonymous.json["id"] in strict.ledger.clients
        for bad in ({"id": "nope"}, {"name": "x"}, [1]):
            assert (await admin(http, "POST", "/clients", bad)).status == 400


async def test_clients_register_on_first_use(http: Http, fake: FakeCreditsServer) -> None:
    """By default any client id works at once; a refused request registers nothing."""
    cid = "6f1c2b8e-0d7a-4b59-9a52-1f0e7c3d2a10"
    listing = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    assert listing.payload("APICreditBatchesByClientAndCreditAccount")["creditBatches"] == []
    assert list(fake.ledger.clients) == [cid]
    other = "7f1c2b8e-0d7a-4b59-9a52-1f0e7c3d2a10"
    refused = await http.post(f"/clients/{other}/creditBatches", {"startingBalance": 1})
    assert (
        refused.json["message"]
        == f"creditAccountId: required: client {other} has 0 credit accounts"
    )
    assert list(fake.ledger.clients) == [cid]
    made = await http.post(f"/clients/{other}/creditAccounts", account_body())
    assert made.status == 201
    assert list(fake.ledger.clients) == [cid, other]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"kind": "status", "kind": "drop"}', "body: not valid JSON (duplicate key 'kind')"),
        (
            b'{"kind": "body", "rawBody": "\\ud800"}',
            "rawBody: must be text without lone surrogates",
        ),
    ],
)
async def test_a_fault_that_reads_two_ways_is_400_naming_the_problem(
    http: Http, fake: FakeCreditsServer, raw: bytes, message: str
) -> None:
    """A key given twice (Python keeps the last, other parsers the first) and a rawBody that
    has no UTF-8 bytes are refused with the exact message; nothing is queued."""
    reply = await admin(http, "POST", "/faults", data=raw)
    assert (reply.status, reply.json["message"]) == (400, message)
    assert fake.faults.pending() == []


async def test_a_state_with_a_key_twice_is_400_and_changes_nothing(
    http: Http, fake: FakeCreditsServer
) -> None:
    """``PUT /_fake/state`` of a snapshot with ``seq`` twice is refused; the ledger stays."""
    seed_demo(fake.ledger)
    before = fake.snapshot()
    raw = dumps(before)
    assert raw.startswith('{"format":')
    twice = '{"seq": 1, ' + raw[1:]
    reply = await admin(http, "PUT", "/state", data=twice.encode())
    assert (reply.status, reply.json["message"]) == (
        400,
        "body: not valid JSON (duplicate key 'seq')",
    )
    assert fake.snapshot() == before
