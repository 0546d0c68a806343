"""examples/dashboard_api.py on FastAPI, driven through httpx against the local server."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import warnings
from collections.abc import AsyncIterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import aiohttp
import httpx
import pytest

from thoughtcredits.testing import (
    DEMO_ACCOUNT_IDS,
    FakeCreditsServer,
    Fault,
    seed_demo,
    seed_ledger,
)

from . import load_example

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeCreditsServer]:
    """The local server with the demo ledger, and the app's env vars pointing at it."""
    async with FakeCreditsServer() as server:
        seed_demo(server.ledger)
        monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", server.url)
        monkeypatch.setenv("THOUGHTCREDITS_API_KEY", server.api_key)
        yield server


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[aiohttp.ClientSession]:
    """Every aiohttp session created during the test, in order."""
    created: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def counting(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        created.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", counting)
    return created


@pytest.fixture
def dashboard() -> ModuleType:
    """A fresh import of the example app."""
    return load_example("dashboard_api.py")


@pytest.fixture
async def http(
    server: FakeCreditsServer, dashboard: ModuleType
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, inside its lifespan (startup before, shutdown after)."""
    app = dashboard.app
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dash") as http,
    ):
        yield http


def batches_url(client_id: object, account_id: object) -> str:
    """The app's batch-list route."""
    return f"/clients/{client_id}/accounts/{account_id}/batches"


def export_url(client_id: object, account_id: object) -> str:
    """The app's JSONL export route."""
    return f"/clients/{client_id}/accounts/{account_id}/actions.jsonl"


async def test_lists_an_accounts_batches_with_exact_balances(
    server: FakeCreditsServer, http: httpx.AsyncClient
) -> None:
    """The route returns exactly the account's batches in the API's form, balances exact."""
    account = server.ledger.account(DEMO_ACCOUNT_IDS[0])
    response = await http.get(batches_url(account.client_id, account.id))
    assert response.status_code == 200
    got = json.loads(response.content, parse_float=Decimal)
    assert [(b["id"], b["name"], b["currentBalance"]) for b in got] == [
        (batch.id, batch.name, batch.current_balance) for batch in account.batches
    ]


async def test_top_up_sets_the_balance_with_one_put(
    server: FakeCreditsServer, http: httpx.AsyncClient
) -> None:
    """PUT current_balance sends one PUT with that balance, and the ledger records it."""
    batch = server.ledger.account(DEMO_ACCOUNT_IDS[1]).batches[0]
    server.reset_requests()
    response = await http.put(f"/batches/{batch.id}/balance", json={"current_balance": 400})
    assert response.status_code == 200
    assert response.json()["currentBalance"] == 400
    assert [(r.method, r.json) for r in server.requests] == [("PUT", {"currentBalance": 400})]
    assert batch.current_balance == 400


async def test_top_up_refuses_a_negative_balance_before_calling_the_api(
    server: FakeCreditsServer, http: httpx.AsyncClient
) -> None:
    """A negative balance is the caller's mistake: 422 from the app, nothing sent upstream."""
    server.reset_requests()
    response = await http.put(f"/batches/{UNKNOWN_ID}/balance", json={"current_balance": -1})
    assert response.status_code == 422
    assert server.requests == []


async def test_export_streams_every_action_item_for_item(
    server: FakeCreditsServer, http: httpx.AsyncClient
) -> None:
    """The JSONL export holds every debit of a multi-page ledger, once each, in ledger order."""
    seeded = seed_ledger(server.ledger, accounts=1, actions_per_account=450, seed=3)
    (client_id,), (account_id,) = seeded.client_ids, seeded.account_ids
    server.reset_requests()
    response = await http.get(export_url(client_id, account_id), params={"action_type": "debit"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    rows = server.ledger.actions(account_id, "debit")
    exported = [json.loads(line, parse_float=Decimal) for line in response.text.splitlines()]
    assert [(a["id"], a["amount"], a["sourceBalanceOut"]) for a in exported] == [
        (server.ledger.action_id(r), r.amount, r.source_balance_out) for r in rows
    ]
    assert len([r for r in server.requests if r.route == "list_credit_actions"]) == 5


async def test_unknown_batch_is_a_404(server: FakeCreditsServer, http: httpx.AsyncClient) -> None:
    """The API's 404 for an unknown batch reaches the caller as a 404 with its message."""
    response = await http.put(f"/batches/{UNKNOWN_ID}/balance", json={"current_balance": 1})
    assert response.status_code == 404
    assert UNKNOWN_ID in response.json()["detail"]


async def test_unknown_account_export_is_a_404_not_a_cut_stream(
    server: FakeCreditsServer, http: httpx.AsyncClient
) -> None:
    """The export fetches page 1 before streaming, so an unknown account is a clean 404."""
    client_id = server.ledger.account(DEMO_ACCOUNT_IDS[0]).client_id
    response = await http.get(export_url(client_id, UNKNOWN_ID))
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "applied"}
    assert response.json()["applied"] is False  # a read: nothing was changed


@pytest.mark.parametrize("url", ["batches", "export"])
async def test_rate_limited_upstream_is_a_503_with_retry_after(
    server: FakeCreditsServer, http: httpx.AsyncClient, url: str
) -> None:
    """A 429 asking for 2 minutes (over the SDK's wait cap) becomes 503 + Retry-After: 120."""
    account = server.ledger.account(DEMO_ACCOUNT_IDS[0])
    path = (batches_url if url == "batches" else export_url)(account.client_id, account.id)
    server.inject(Fault(kind="status", status=429, headers={"Retry-After": "120"}))
    server.reset_requests()
    response = await http.get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert "rate limited" in response.json()["detail"]
    assert [r.status for r in server.requests] == [429]


async def test_concurrent_requests_share_one_client_and_shut_down_cleanly(
    server: FakeCreditsServer,
    dashboard: ModuleType,
    sessions: list[aiohttp.ClientSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """60 concurrent calls use one aiohttp session; shutdown closes it with no warning at all."""
    app = dashboard.app
    account = server.ledger.account(DEMO_ACCOUNT_IDS[0])
    batches = account.batches
    server.reset_requests()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://dash") as http:
                calls = [
                    *(http.get(batches_url(account.client_id, account.id)) for _ in range(20)),
                    *(http.get(export_url(account.client_id, account.id)) for _ in range(20)),
                    *(
                        http.put(
                            f"/batches/{batches[i % 2].id}/balance", json={"current_balance": 5}
                        )
                        for i in range(20)
                    ),
                ]
                responses = await asyncio.gather(*calls)
            client = app.state.thoughtcredits_client
            assert [r.status_code for r in responses] == [200] * 60
            assert client.stats.requests == 60
        del transport, http, responses
        gc.collect()
    assert client.closed
    assert len(sessions) == 1
    assert sessions[0].closed
    assert not hasattr(app.state, "thoughtcredits_client")
    assert len(server.requests) == 60
    assert caught == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
