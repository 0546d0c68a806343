"""A small credits dashboard API: one shared thoughtcredits ``Client`` for the whole app.

Run it (against your tenant, or ``thoughtcredits serve-fake --seed-demo``)::

    export THOUGHTCREDITS_BASE_URL=https://acme.thoughtindustries.com
    export THOUGHTCREDITS_API_KEY=...
    uvicorn dashboard_api:app            # from the examples/ directory

Routes:

* ``GET /clients/{client_id}/accounts/{account_id}/batches``: the account's batches.
* ``PUT /batches/{batch_id}/balance`` with ``{"current_balance": 150}``: top up (or debit) a
  batch by setting its balance. The value is absolute, so a retried request cannot top up twice.
* ``GET /clients/{client_id}/accounts/{account_id}/actions.jsonl?action_type=debit``: the
  account's ledger as streamed JSON Lines, one page in memory at a time.

SDK errors become HTTP answers: 404 stays 404, a rate limit becomes 503 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from uuid import UUID

from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

import thoughtcredits as tc
from thoughtcredits.fastapi import ThoughtCreditsClient, install_error_handlers, lifespan


def _client() -> tc.Client:
    # Base URL and key come from THOUGHTCREDITS_BASE_URL / THOUGHTCREDITS_API_KEY. The rate
    # limit is shared by every request the app serves, so a busy dashboard cannot use up
    # the tenant's quota on its own.
    return tc.Client(rate_limit=tc.RateLimit(per_minute=600, burst=100), max_concurrency=16)


app = FastAPI(title="Credits dashboard", lifespan=lifespan(_client))
install_error_handlers(app)


def json_response(value: object) -> Response:
    """SDK models as the API's own JSON: camelCase, exact amounts (never through float)."""
    return Response(tc.to_json(value), media_type="application/json")


class Balance(BaseModel):
    """The body of a top-up: the batch's new balance, in whole credits."""

    current_balance: int = Field(ge=0)


@app.get("/clients/{client_id}/accounts/{account_id}/batches")
async def list_batches(client_id: UUID, account_id: UUID, client: ThoughtCreditsClient) -> Response:
    """Every batch of one credit account."""
    batches = client.credit_batches.list(client_id, credit_account_id=account_id)
    return json_response([batch async for batch in batches])


@app.put("/batches/{batch_id}/balance")
async def top_up(batch_id: UUID, balance: Balance, client: ThoughtCreditsClient) -> Response:
    """Set a batch's balance; the API records the difference as a credit or debit action."""
    batch = await client.credit_batches.update(batch_id, current_balance=balance.current_balance)
    return json_response(batch)


@app.get("/clients/{client_id}/accounts/{account_id}/actions.jsonl")
async def export_actions(
    client_id: UUID, account_id: UUID, client: ThoughtCreditsClient, action_type: str = "debit"
) -> StreamingResponse:
    """The account's actions of one type as JSON Lines, streamed page by page."""
    pages = client.credit_actions.list(client_id, account_id, action_type=action_type).pages()
    # Fetch page 1 before answering, so a 404 or 429 still becomes a proper HTTP error;
    # once streaming has started, the status line has already been sent.
    first = await anext(pages)
    return StreamingResponse(_jsonl(first, pages), media_type="application/x-ndjson")


async def _jsonl(
    first: tc.Page[tc.CreditAction], pages: AsyncGenerator[tc.Page[tc.CreditAction], None]
) -> AsyncIterator[bytes]:
    # aclosing: when the caller hangs up, the listing (and its page prefetch) stops at once.
    async with aclosing(pages):
        yield _lines(first)
        async for page in pages:
            yield _lines(page)


def _lines(page: tc.Page[tc.CreditAction]) -> bytes:
    return b"".join(tc.to_json(action) + b"\n" for action in page.items)
