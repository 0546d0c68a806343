"""What the caller of a FastAPI app sees when a create lands, may have landed, or fails.

The app runs with ``install_error_handlers`` in front of the local server (its lifespan opens
the shared client), and is called through ``httpx.ASGITransport`` as a browser would call it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from thoughtcredits.fastapi import ThoughtCreditsClient, install_error_handlers, lifespan
from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep

ROUTE = "create_credit_batch"


@pytest.fixture
async def server() -> AsyncIterator[FakeCreditsServer]:
    """The local server with one client and one account."""
    async with FakeCreditsServer() as fake:
        yield fake


def make_app(server: FakeCreditsServer) -> FastAPI:
    """An app with one route that issues credits (a new batch) through the shared client."""
    app = FastAPI(lifespan=lifespan(lambda: server.client(sleep=RecordingSleep())))
    install_error_handlers(app)

    @app.post("/clients/{client_id}/accounts/{account_id}/batches")
    async def issue(
        client_id: UUID, account_id: UUID, client: ThoughtCreditsClient
    ) -> dict[str, str]:
        batch = await client.credit_batches.create(
            client_id, starting_balance=5, credit_account_id=account_id
        )
        return {"id": str(batch.id)}

    return app


async def call_app(server: FakeCreditsServer, fault: Fault | None) -> tuple[httpx.Response, int]:
    """POST to the app once (with ``fault`` on the service); the answer and the batches made."""
    client_id = server.ledger.add_client()
    account = server.ledger.create_account(client_id, name="A", starting_balance=10)
    before = len(account.batches)
    if fault is not None:
        server.inject(fault)
    app = make_app(server)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            response = await http.post(
                f"/clients/{client_id}/accounts/{account.id}/batches",
                headers={"X-Request-ID": "app-req-1"},
            )
    return response, len(account.batches) - before


def warnings_of(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    """The WARNING records of exactly the logger ``name``."""
    return [r for r in caplog.records if r.name == name and r.levelno == logging.WARNING]


async def test_an_unreadable_201_tells_the_caller_it_was_applied(
    server: FakeCreditsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A create answered 201 with a body that cannot be read: 202, applied true, one batch."""
    fault = Fault(
        "status", status=201, route=ROUTE, body=b"<html>Created</html>", when="after",
        headers={"X-Request-Id": "svc-req-7"},
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
        response, made = await call_app(server, fault)
    assert response.status_code == 202
    body = response.json()
    assert (body["applied"], body["request_id"]) == (True, "svc-req-7")
    assert "do not send this request again" in body["detail"]
    assert made == 1
    (sdk,) = warnings_of(caplog, "thoughtcredits")
    assert "the change was made on the server" in sdk.getMessage()  # (said once)
    (handler,) = warnings_of(caplog, "thoughtcredits.fastapi")
    message = handler.getMessage()
    assert "answered 202 (applied: yes)" in message
    assert "service request id svc-req-7" in message
    assert "this request id app-req-1" in message
    assert server.api_key not in caplog.text
    assert server.api_key not in response.text


async def test_a_create_dropped_after_sending_tells_the_caller_it_may_have_been_applied(
    server: FakeCreditsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection drops after the change: 424, applied null, one batch, never resent."""
    with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
        response, made = await call_app(server, Fault("drop", route=ROUTE, when="after"))
    assert response.status_code == 424
    body = response.json()
    assert body["applied"] is None
    assert "before checking whether it was made" in body["detail"]
    assert made == 1
    assert len(server.requests) == 1  # not resent
    (sdk,) = warnings_of(caplog, "thoughtcredits")
    assert "may have reached the server" in sdk.getMessage()
    (handler,) = warnings_of(caplog, "thoughtcredits.fastapi")
    assert "answered 424 (applied: unknown): APIConnectionError" in handler.getMessage()
    assert server.api_key not in caplog.text


async def test_a_500_to_a_create_tells_the_caller_it_may_have_been_applied(
    server: FakeCreditsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The service fails after making the batch: 424 and applied null, not a retryable 502."""
    fault = Fault("status", status=500, route=ROUTE, when="after")
    with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
        response, made = await call_app(server, fault)
    assert (response.status_code, response.json()["applied"], made) == (424, None, 1)
    assert len(warnings_of(caplog, "thoughtcredits")) == 1
    assert len(warnings_of(caplog, "thoughtcredits.fastapi")) == 1


async def test_a_refused_create_is_logged_and_says_nothing_was_applied(
    server: FakeCreditsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A 422 passes through with applied false; the handler still logs its cause once."""
    fault = Fault("status", status=422, route=ROUTE)
    with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
        response, made = await call_app(server, fault)
    assert (response.status_code, response.json()["applied"], made) == (422, False, 0)
    assert warnings_of(caplog, "thoughtcredits") == []  # nothing may have landed
    (handler,) = warnings_of(caplog, "thoughtcredits.fastapi")
    assert "answered 422 (applied: no): UnprocessableEntityError" in handler.getMessage()
