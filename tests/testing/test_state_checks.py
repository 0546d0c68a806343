"""Hostile snapshots: ``PUT /_fake/state`` refuses each, naming its first problem, with
nothing changed; and whatever the server accepts, it can keep serving and save again.

Each refused case was once accepted, and then broke the server or the SDK: ``seq = 16**12 - 1``
made new action ids invalid UUIDs, ``seq = 10**18 - 1`` stopped the server's own state from
loading again, ``lastMs`` in the year 9999 made a create apply but answer 500, and a client
could list another client's batch.
"""

from __future__ import annotations

import io
import json
import re
import time
import tracemalloc
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from thoughtcredits.testing import FakeCreditsServer, LedgerError
from thoughtcredits.testing._server.render import dumps

from .conftest import KEY, Http, account_body

Snapshot = dict[str, Any]
YEAR_9999_MS = 253_402_300_799_000
OTHER = "6f1c2b8e-0d7a-4b59-9a52-1f0e7c3d2a10"
BOMB = "<1e999999999>"
"""Written as the number 1e999999999 (the server's own writer would expand it)."""


def two_clients(server: FakeCreditsServer) -> Snapshot:
    """Clients 0 and 1, each with an account (two batches, a debit); the snapshot of it."""
    ledger = server.ledger
    for _ in range(2):
        cid = ledger.add_client()
        account = ledger.create_account(cid, name="A", starting_balance=10)
        second = ledger.create_batch(cid, starting_balance=5, credit_account_id=account.id)
        ledger.update_batch(second.id, current_balance=3)
    return json.loads(server.snapshot_json(), parse_float=Decimal)  # type: ignore[no-any-return]


def rows(snapshot: Snapshot, account: int = 0, kind: str = "credit") -> list[list[Any]]:
    return snapshot["creditAccounts"][account]["creditActions"][kind]  # type: ignore[no-any-return]


def set_field(path: str, value: object) -> Callable[[Snapshot], None]:
    """Set ``creditBatches.0.seq``-style ``path`` in the snapshot to ``value``."""
    *parents, last = path.split(".")

    def mutate(snapshot: Snapshot) -> None:
        node: Any = snapshot
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return mutate


def cross_list(snapshot: Snapshot) -> None:
    """Client 0 lists client 1's second batch too (it would have been listed to client 0)."""
    snapshot["clients"][0]["creditBatches"].append(snapshot["clients"][1]["creditBatches"][1])


def surrogate_kind(snapshot: Snapshot) -> None:
    actions = snapshot["creditAccounts"][0]["creditActions"]
    actions["\ud800"] = actions.pop("debit")


HOSTILE: dict[str, tuple[Callable[[Snapshot], None], str]] = {
    "seq 16**12 - 1": (set_field("seq", 16**12 - 1), "state.seq: must be at most"),
    "seq 10**18 - 1": (set_field("seq", 10**18 - 1), "state.seq: must be at most"),
    "seq 1e999999999": (set_field("seq", BOMB), "state.seq: too large"),
    "a batch's seq 16**12 - 1": (
        set_field("creditBatches.1.seq", 16**12 - 1), "creditBatches[1].seq: must be at most"),
    "an action's seq 16**12 - 1": (
        lambda s: rows(s)[0].__setitem__(0, 16**12 - 1), "credit[0].seq: must be at most"),
    "lastMs in the year 9999": (set_field("lastMs", YEAR_9999_MS), "state.lastMs: must be at most"),
    "an action in the year 9999": (lambda s: rows(s)[0].__setitem__(13, YEAR_9999_MS),
                                   "credit[0].timestamp: must be at most"),
    "createdAt in the year 9999": (set_field("creditAccounts.0.createdAt", YEAR_9999_MS),
                                   "creditAccounts[0].createdAt: must be at most"),
    "a negative lastMs": (set_field("lastMs", -1), "state.lastMs: must be at least 0"),
    "expiresOn past 9999": (set_field("creditBatches.0.expiresOn", 10**15),
                            "creditBatches[0].expiresOn: must be at most"),
    "a lone surrogate in a name": (
        set_field("creditAccounts.0.name", "A\ud800"), "creditAccounts[0].name: not valid text"),
    "a lone surrogate in an action type": (surrogate_kind, "creditActions: not valid text"),
    "a lone surrogate in a row": (lambda s: rows(s)[0].__setitem__(7, "\udfff"),
                                  "credit[0].initiator: not valid text"),
    "a lone surrogate in an e-mail": (set_field("creditAccounts.0.notifyEmails", ["\ud800"]),
                                      "notifyEmails[0]: not valid text"),
    "an id that is not a UUID": (set_field("creditBatches.0.id", "x" * 10_000),
                                 "creditBatches[0].id: not a valid UUID"),
    "an action id prefix in capitals and braces": (
        set_field("actionIdPrefix", "{" * 24), "state.actionIdPrefix"),
    "a negative balance": (set_field("creditBatches.0.currentBalance", -5),
                           "creditBatches[0].currentBalance: must not be negative"),
    "allocatedCredits of 31 digits": (set_field("creditBatches.0.allocatedCredits", 10**30),
                                      "creditBatches[0].allocatedCredits: too large"),
    "a negative action amount": (lambda s: rows(s, kind="debit")[0].__setitem__(2, -2),
                                 "debit[0].amount: must not be negative"),
    "a balance of 1e999999999": (set_field("creditBatches.0.currentBalance", BOMB),
                                 "creditBatches[0].currentBalance: too large"),
    "a row under another type": (lambda s: rows(s, kind="debit")[0].__setitem__(1, "credit"),
                                 "debit[0].action: 'credit' listed under 'debit'"),
    "two actions with one id": (lambda s: rows(s, 1)[0].__setitem__(0, rows(s)[0][0]),
                                "creditActions: two actions have seq"),
    "one seq on two different rows": (
        lambda s: rows(s, kind="debit").append([*rows(s, kind="debit")[0][:2], 1,
                                                *rows(s, kind="debit")[0][3:]]),
        "debit: rows must be in increasing seq order"),
    "a batch of an unknown account": (
        set_field("creditBatches.0.creditAccountId", OTHER),
        "creditBatches[0].creditAccountId: no credit account"),
    "a batch whose client is not its account's": (
        lambda s: s["creditBatches"][0].update(clientId=s["clients"][1]["id"]),
        "creditBatches[0].clientId"),
    "another client's batch in a client's list": (cross_list, "belongs to"),
    "another account's batch in an account's list": (
        lambda s: s["creditAccounts"][0]["creditBatches"].append(
            s["creditAccounts"][1]["creditBatches"][0]), "belongs to"),
    "a batch listed twice": (lambda s: s["clients"][0]["creditBatches"].append(
        s["clients"][0]["creditBatches"][1]), "clients[0].creditBatches[2]"),
    "a client's batch left out of its list": (lambda s: s["clients"][0]["creditBatches"].pop(),
                                              "clients[0].creditBatches: "),
    "an account's batches out of seq order": (
        lambda s: s["creditAccounts"][0]["creditBatches"].reverse(),
        "creditAccounts[0].creditBatches[1]: not in increasing seq order"),
    "an account of an unknown client": (set_field("creditAccounts.1.clientId", OTHER),
                                        "creditAccounts[1].clientId: no client"),
    "an unknown field": (set_field("creditBatches.0.curentBalance", 5),
                         "creditBatches[0]: unknown field 'curentBalance'"),
    "an unknown top-level field": (set_field("ledger", {}), "state: unknown field 'ledger'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_snapshot_is_400_naming_the_problem_and_changes_nothing(
    http: Http, fake: FakeCreditsServer, case: str
) -> None:
    """Each hostile snapshot is a 400 whose message names it; the ledger is left as it was."""
    mutate, message = HOSTILE[case]
    snapshot = two_clients(fake)
    before = fake.snapshot_json()
    mutate(snapshot)
    reply = await put_state(http, dumps(snapshot).replace(f'"{BOMB}"', BOMB[1:-1]).encode())
    assert reply[0] == 400, reply
    assert message in reply[1]["message"]
    assert fake.snapshot_json() == before


async def put_state(http: Http, data: bytes) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {KEY}"}
    url = f"{http.server.url}/_fake/state"
    async with http.session.put(url, data=io.BytesIO(data), headers=headers) as response:
        return response.status, json.loads(await response.read())


BOMBS = {
    "100,000 levels": ("seq", "[" * 100_000 + "]" * 100_000),
    "a 200,000-digit seq": ("seq", "9" * 200_000),
    "seq 1e999999999": ("seq", "1e999999999"),
    "an amount 1e-999999999": ("startingBalance", "1e-999999999"),
    "a 100,000-digit amount": ("startingBalance", "0." + "1" * 100_000),
}


@pytest.mark.parametrize("bomb", list(BOMBS))
async def test_snapshot_bombs_are_refused_fast(
    http: Http, fake: FakeCreditsServer, bomb: str
) -> None:
    """Deep nesting and number bombs in a real snapshot: a quick 400, the ledger unchanged."""
    two_clients(fake)
    before = fake.snapshot_json()
    name, value = BOMBS[bomb]
    raw = re.sub(rf'"{name}":[0-9]+', f'"{name}":{value}', before.decode(), count=1).encode()
    assert raw != before
    started = time.perf_counter()
    status, body = await put_state(http, raw)
    assert (time.perf_counter() - started) < 0.25
    assert status == 400
    assert "nested deeper than 64 levels" in body["message"] or f".{name}: " in body["message"]
    assert fake.snapshot_json() == before


async def test_another_clients_batch_is_never_listed(http: Http, fake: FakeCreditsServer) -> None:
    """A snapshot listing client 1's batch under client 0 is refused; each client's listing
    shows its own batches only, and another client's account is a 404."""
    snapshot = two_clients(fake)
    cross_list(snapshot)
    assert (await put_state(http, dumps(snapshot).encode()))[0] == 400
    first, second = list(fake.ledger.clients)
    listing = await http.get(f"/clients/{first}/creditBatches", clientId=first)
    page = listing.payload("APICreditBatchesByClientAndCreditAccount")
    assert {b["clientId"] for b in page["creditBatches"]} == {first}
    assert len(page["creditBatches"]) == 2
    [theirs] = fake.ledger.clients[second].accounts
    filtered = await http.get(
        f"/clients/{first}/creditBatches", clientId=first, creditAccountId=theirs.id
    )
    assert filtered.status == 404


async def test_the_largest_accepted_counters_keep_working(
    http: Http, fake: FakeCreditsServer
) -> None:
    """Up to the largest seq and time a snapshot may hold, writes give valid ids and
    timestamps and the state saved after them loads again; past them, writes are refused."""
    snapshot = two_clients(fake)
    snapshot["seq"] = 16**11 - 3  # room for one account: itself, its batch, its credit
    snapshot["lastMs"] = 32_503_679_999_998  # 2999-12-31T23:59:59.998Z
    assert (await put_state(http, dumps(snapshot).encode()))[0] == 200
    cid = next(iter(fake.ledger.clients))
    made = await http.post(f"/clients/{cid}/creditAccounts", account_body())
    assert made.status == 201
    account = made.payload("APICreateCreditAccount")
    actions = await http.get(f"/clients/{cid}/creditAccount/{account['id']}/creditActions",
                             clientId=cid, actionType="credit")  # fmt: skip
    [row] = actions.payload("APICreditActionsByClientIdAndAccountIdAndActionType")["creditActions"]
    assert uuid.UUID(row["id"]).hex.endswith(f"{16**11:012x}")
    assert row["timestamp"] == "2999-12-31T23:59:59.999Z"
    saved = fake.snapshot_json()
    for body in (account_body(), account_body(name="B")):
        refused = await http.post(f"/clients/{cid}/creditAccounts", body)
        assert refused.status == 400
        assert refused.json["message"].startswith("ledger: its clock or seq has reached its limit")
    assert fake.snapshot_json() == saved
    assert (await put_state(http, saved))[0] == 200
    assert fake.snapshot_json() == saved


async def test_an_expiry_in_the_year_1_saves_and_loads_again(
    http: Http, fake: FakeCreditsServer, cid: str
) -> None:
    """Every expiry the API accepts, back to the year 1, survives a snapshot round trip."""
    await http.post(f"/clients/{cid}/creditAccounts", account_body())
    made = await http.post(
        f"/clients/{cid}/creditBatches", {"startingBalance": 1, "expiresOn": "0001-01-01T00:00:00Z"}
    )
    assert made.status == 201
    saved = fake.snapshot_json()
    assert (await put_state(http, saved))[0] == 200
    assert fake.snapshot_json() == saved


async def test_writes_after_a_load_sort_after_every_stored_row(
    http: Http, fake: FakeCreditsServer
) -> None:
    """lastMs behind a stored action's time: new actions still come after it."""
    snapshot = two_clients(fake)
    rows(snapshot)[0][13] = 32_000_000_000_000  # in 2984
    assert (await put_state(http, dumps(snapshot).encode()))[0] == 200
    account = fake.ledger.clients[snapshot["clients"][0]["id"]].accounts[0]
    fake.ledger.update_batch(account.batches[0].id, current_balance=1)
    assert fake.ledger.actions(account.id, "debit")[-1].timestamp > 32_000_000_000_000


def test_the_python_ledger_refuses_what_a_snapshot_could_not_hold() -> None:
    """A lone surrogate, a float, an allocatedCredits past 30 digits, a clock past 2999:
    refused by the ledger itself with LedgerError, before anything changes."""
    server = FakeCreditsServer(clock=lambda: 32_503_680_000.0)  # 3000-01-01
    ledger = server.ledger
    cid = ledger.add_client()
    with pytest.raises(LedgerError, match="clock or seq"):
        ledger.create_account(cid, name="A", starting_balance=1)
    ledger.clock = time.time
    with pytest.raises(LedgerError, match="name: not valid text"):
        ledger.create_account(cid, name="\ud800", starting_balance=1)
    with pytest.raises(LedgerError, match="must be a number, got float"):
        ledger.create_account(cid, name="A", starting_balance=0.1)  # type: ignore[arg-type]
    account = ledger.create_account(cid, name="A", starting_balance=10**30 - 1)
    batch = account.batches[0]
    ledger.update_batch(batch.id, current_balance=0)
    ledger.update_batch(batch.id, current_balance=5)
    before = server.snapshot_json()
    with pytest.raises(LedgerError, match="allocatedCredits would exceed 30 digits"):
        ledger.update_batch(batch.id, current_balance=0, name="changed")
    assert server.snapshot_json() == before


@pytest.mark.parametrize("item", [b"{},", b"[],", b'"ab",'], ids=["objects", "arrays", "strings"])
async def test_a_dense_snapshot_is_refused_before_it_is_decoded(
    http: Http, fake: FakeCreditsServer, item: bytes
) -> None:
    """4 MB of empty objects would decode to 60 MB: refused first. The peak is the copies of
    the body on its way (the client's, the server's buffer and its bytes), no more."""
    raw = b'{"format":"thoughtcredits.fake-ledger/1","clients":[' + item * (4_000_000 // len(item))
    raw += b"0]}"
    tracemalloc.start()
    try:
        status, body = await put_state(http, raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(raw), f"{peak:,} bytes at the peak for {len(raw):,}"
    assert status == 400
    assert "per" in body["message"]


async def test_an_exact_copy_of_a_row_right_after_it_loads_as_a_planted_duplicate(
    http: Http, fake: FakeCreditsServer
) -> None:
    """A row stored twice in a row (how a planted duplicate looks) loads and saves exactly."""
    snapshot = two_clients(fake)
    debits = rows(snapshot, kind="debit")
    debits.append(list(debits[0]))
    assert (await put_state(http, dumps(snapshot).encode()))[0] == 200
    saved = fake.snapshot_json()
    assert len(json.loads(saved)["creditAccounts"][0]["creditActions"]["debit"]) == 2
    assert (await put_state(http, saved))[0] == 200
    assert fake.snapshot_json() == saved
