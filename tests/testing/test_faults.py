"""Injected faults (every kind, before and after the change), latency and the request log."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Literal, get_args

import aiohttp
import pytest

from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep
from thoughtcredits.testing._server.faults import ANSWERS, FaultKind

from .conftest import API, KEY, Http, account_body

ROUTE = "create_credit_account"


async def create(http: Http, cid: str) -> int:
    reply = await http.post(f"/clients/{cid}/creditAccounts", account_body())
    return reply.status


async def raw_post(http: Http, cid: str) -> tuple[int, str, bytes]:
    """POST create-account reading the body tolerantly: (status, content type, raw body)."""
    async with http.session.post(
        f"{http.server.url}{API}/clients/{cid}/creditAccounts", json=account_body(),
        headers={"Authorization": f"Bearer {KEY}"},
    ) as response:  # fmt: skip
        return response.status, response.headers.get("Content-Type", ""), await response.read()


@pytest.mark.parametrize(("when", "created"), [("before", 0), ("after", 1)])
async def test_status_fault_applies_change_only_when_after(
    http: Http, cid: str, fake: FakeCreditsServer, when: Literal["before", "after"], created: int
) -> None:
    """A 503 fault answers a JSON error; only when="after" was the account created; the next
    request is served normally."""
    fake.inject(Fault(kind="status", status=503, route=ROUTE, when=when))
    status, ctype, raw = await raw_post(http, cid)
    assert (status, ctype) == (503, "application/json")
    assert json.loads(raw) == {
        "error": "service_unavailable", "message": "Service Unavailable (injected fault)",
    }  # fmt: skip
    assert len(fake.ledger.accounts) == created
    assert await create(http, cid) == 201
    assert [(r.status, r.fault) for r in fake.requests] == [(503, "status"), (201, None)]


async def test_status_fault_with_headers_body_and_count(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """A fault with count=2 answers two requests with its own headers and exact body bytes."""
    fake.inject(Fault(kind="status", status=429, count=2, headers={"Retry-After": "7"},
                      body={"error": "slow_down", "n": Decimal("1.50")}))  # fmt: skip
    for _ in range(2):
        reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
        assert (reply.status, reply.headers["Retry-After"]) == (429, "7")
        assert reply.raw == b'{"error":"slow_down","n":1.50}'
    assert (await http.get(f"/clients/{cid}/creditBatches", clientId=cid)).status == 200
    assert fake.faults.pending() == []


async def test_status_401_fault_has_empty_body(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """An injected 401 looks like the real one: empty body."""
    fake.inject(Fault(kind="status", status=401))
    reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    assert (reply.status, reply.raw) == (401, b"")


async def test_faults_match_their_route_only(http: Http, cid: str, fake: FakeCreditsServer) -> None:
    """A fault for one route leaves other routes alone and waits for its own."""
    fake.inject(Fault(kind="status", status=500, route="list_credit_actions"))
    assert (await http.get(f"/clients/{cid}/creditBatches", clientId=cid)).status == 200
    assert await create(http, cid) == 201
    assert [f.route for f, _ in fake.faults.pending()] == ["list_credit_actions"]
    [aid] = fake.ledger.accounts
    listing = await http.get(f"/clients/{cid}/creditAccount/{aid}/creditActions", clientId=cid,
                             actionType="credit")  # fmt: skip
    assert listing.status == 500


@pytest.mark.parametrize(("when", "created"), [("before", 0), ("after", 1)])
async def test_drop_closes_connection(
    http: Http, cid: str, fake: FakeCreditsServer, when: Literal["before", "after"], created: int
) -> None:
    """A drop closes the connection with no answer (status 0 in the log); "after" applies it."""
    fake.inject(Fault(kind="drop", route=ROUTE, when=when))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await raw_post(http, cid)
    assert len(fake.ledger.accounts) == created
    assert [(r.status, r.fault) for r in fake.requests] == [(0, "drop")]
    assert await create(http, cid) == 201


async def test_drop_mid_body_sends_partial_body(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """drop_mid_body sends 200 headers with the full Content-Length, then half the body."""
    fake.inject(Fault(kind="drop_mid_body", route=ROUTE))
    with pytest.raises(aiohttp.ClientPayloadError):
        await raw_post(http, cid)
    assert len(fake.ledger.accounts) == 1  # the server carried the request out
    assert fake.requests[0].status == 200


async def test_truncate_is_a_complete_answer_with_half_the_json(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """truncate sends a complete 200 whose JSON body is cut short."""
    fake.inject(Fault(kind="truncate"))
    status, ctype, raw = await raw_post(http, cid)
    assert (status, ctype) == (200, "application/json")
    assert raw.startswith(b'{"data":{"APICreateCreditAccount":{"id":')
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(raw)


@pytest.mark.parametrize(
    ("kind", "ctype", "check"),
    [
        ("malformed", "text/plain", lambda raw: raw == b"not json {"),
        ("html", "text/html", lambda raw: raw.startswith(b"<html>")),
        ("empty", "application/json", lambda raw: raw == b""),
    ],
)
async def test_non_json_answers(
    http: Http, cid: str, fake: FakeCreditsServer, kind: Literal["malformed", "html", "empty"],
    ctype: str, check: object,
) -> None:  # fmt: skip
    """malformed, html and empty answer 200 with that body and change nothing."""
    fake.inject(Fault(kind=kind))
    status, content_type, raw = await raw_post(http, cid)
    assert (status, content_type) == (200, ctype)
    assert callable(check)
    assert check(raw)
    assert fake.ledger.accounts == {}


async def test_body_fault_sends_exact_json(http: Http, cid: str, fake: FakeCreditsServer) -> None:
    """A body fault answers 200 with exactly the given JSON (e.g. hasMore with no cursor)."""
    weird = {"data": {"APICreditBatchesByClientAndCreditAccount": {
        "creditBatches": [], "pageInfo": {"hasMore": True, "cursor": None}}}}  # fmt: skip
    fake.inject(Fault(kind="body", body=weird))
    reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    assert (reply.status, reply.json) == (200, weird)
    raw = Fault(kind="body", body=b"[1,2")
    fake.inject(raw)
    assert (await http.get(f"/clients/{cid}/creditBatches", clientId=cid)).raw == b"[1,2"


async def test_delay_fault_then_normal_answer(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """A delay fault waits, then answers normally and applies the change."""
    fake.inject(Fault(kind="delay", delay=0.05))
    started = time.monotonic()
    assert await create(http, cid) == 201
    assert time.monotonic() - started >= 0.05
    assert len(fake.ledger.accounts) == 1


async def test_latency_delays_every_answer() -> None:
    """latency= adds that many seconds to each answer."""
    async with FakeCreditsServer(latency=0.03) as fake, aiohttp.ClientSession() as session:
        http = Http(session, fake)
        cid = str(fake.ledger.add_client())
        started = time.monotonic()
        await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
        await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
        assert time.monotonic() - started >= 0.06


def test_fault_arguments_are_checked() -> None:
    """Unknown kinds, routes and whens, and counts below 1, are refused at once."""
    with pytest.raises(ValueError, match="kind"):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="route"):
        Fault(kind="drop", route="list_batches")
    with pytest.raises(ValueError, match="count"):
        Fault(kind="drop", count=0)
    with pytest.raises(ValueError, match="when"):
        Fault(kind="drop", when="during")  # type: ignore[arg-type]


async def test_request_log_records_what_arrived(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """Each request is logged with method, path, query, headers, body, JSON, route and status."""
    await http.get(f"/clients/{cid}/creditBatches", clientId=cid, page="1")
    await http.call("POST", f"/clients/{cid}/creditAccounts",
                    data=b'{"name": "A", "startingBalance": 1.25}')  # fmt: skip
    get, post = fake.requests
    assert (get.method, get.path, get.query) == (
        "GET", f"{API}/clients/{cid}/creditBatches", {"clientId": cid, "page": "1"},
    )  # fmt: skip
    assert (get.route, get.status, get.body, get.json) == ("list_credit_batches", 200, b"", None)
    assert get.headers["Authorization"] == f"Bearer {KEY}"
    assert (post.route, post.status) == ("create_credit_account", 400)
    assert post.body == b'{"name": "A", "startingBalance": 1.25}'
    assert post.json == {"name": "A", "startingBalance": Decimal("1.25")}
    assert KEY not in repr(post)
    fake.reset_requests()
    assert fake.requests == []


async def test_recording_sleep_records_and_returns_at_once() -> None:
    """RecordingSleep keeps each delay in .calls and does not wait."""
    sleep = RecordingSleep()
    started = time.monotonic()
    await asyncio.gather(sleep(30), sleep(0.5))
    assert time.monotonic() - started < 1
    assert sleep.calls == [30, 0.5]
    assert sleep.total == 30.5


def test_every_fault_kind_has_its_answer() -> None:
    """The dispatch table answers exactly the kinds ``Fault`` accepts."""
    assert set(ANSWERS) == set(get_args(FaultKind))
