# ruff: noqa: F841 - annotated assignments are the type assertions
"""Never executed: ``mypy --strict`` checks that realistic use of the public API type-checks.

Each annotated assignment asserts a type; each ``# type: ignore[code]`` asserts a type error
(``warn_unused_ignores`` in strict mode fails if the error disappears).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import aiohttp

import thoughtcredits as tc

CLIENT_ID = "7b0f8a9c-1d2e-4f30-8a41-5b6c7d8e9f01"


async def records(tokens: list[str]) -> None:
    """Client construction, resources, models, pagination and errors."""
    policy: tc.RetryPolicy = tc.RetryPolicy(
        attempts=5, timeout=60.0, max_retry_after=30.0, retry_unsafe_methods=False
    )
    async with aiohttp.ClientSession() as session:
        client: tc.Client = tc.Client(
            "https://acme.thoughtindustries.com",
            "key",
            session=session,
            timeout=aiohttp.ClientTimeout(total=30),
            retry=policy,
            default_headers={"X-Team": "billing"},
            user_agent="reconciler/1.0",
        )
    no_retry: tc.Client = tc.Client(retry=None, timeout=10)
    await no_retry.aclose()

    async with tc.Client() as client:
        account: tc.CreditAccount = await client.credit_accounts.create(
            UUID(CLIENT_ID),
            name="Training",
            starting_balance=1000,
            notify_emails=["ops@acme.test"],
            license_ids=("lic-1",),
            batch_days_until_expire=365,
            minimum_batch_amount=10,
            type=tc.CreditAccountType.CLIENT,
            credit_batch_name="Q1",
        )
        account_id: UUID = account.id
        balance: Decimal = account.current_balance
        emails: tuple[str, ...] = account.notify_emails
        subs: tuple[tc.Sublicense, ...] | None = account.sublicenses
        kind: tc.CreditAccountType = account.type
        known: bool = kind.known
        status: tc.CreditAccountStatus = account.status

        batch: tc.CreditBatch = await client.credit_batches.create(
            CLIENT_ID,
            starting_balance=Decimal("100.50"),
            credit_account_id=account_id,
            name="Q3",
            expires_on=datetime(2027, 1, 1, tzinfo=UTC),
        )
        batch = await client.credit_batches.update(batch.id, name="Q3b", current_balance=90)
        expires: datetime | None = batch.expires_on
        batch_status: tc.CreditBatchStatus = batch.status
        name: str | None = batch.name

        batches: tc.AsyncPaginator[tc.CreditBatch] = client.credit_batches.list(
            CLIENT_ID, credit_account_id=account_id, max_items=100, page_size=50
        )
        async for one in batches:
            starting: Decimal = one.starting_balance
        checkpoint: str | None = batches.checkpoint

        actions: tc.AsyncPaginator[tc.CreditAction] = client.credit_actions.list(
            CLIENT_ID, account_id, action_type="debit", cursor="Mg", prefetch=False
        )
        async for action in actions:
            verb: str = action.action
            amount: Decimal = action.amount
            when: datetime = action.timestamp
            target_in: Decimal | None = action.target_balance_in

        async for page in client.credit_actions.list(
            CLIENT_ID, account_id, action_type="credit"
        ).pages():
            items: tuple[tc.CreditAction, ...] = page.items
            info: tc.PageInfo = page.page_info
            cursor: str | None = info.cursor
            has_more: bool = info.has_more
            total: int | None = info.total
            request_cursor: str | None = page.request_cursor

        resumed: tc.AsyncPaginator[tc.CreditBatch] = client.credit_batches.list(
            CLIENT_ID, resume_from=checkpoint
        )

        try:
            await client.credit_batches.update(batch.id, current_balance=5)
        except tc.RateLimitError as exc:
            delay: float | None = exc.retry_after
        except tc.APIStatusError as exc:
            code: int = exc.status
            message: str = exc.message
            body: object = exc.body
            url: str = exc.url
            request_id: str | None = exc.request_id
        except tc.APITimeoutError as exc:
            sent: bool = exc.request_sent
        except tc.APIConnectionError as exc:
            method: str = exc.method
        except (tc.ResponseValidationError, tc.PaginationError) as exc:
            base: tc.ThoughtCreditsError = exc
            applied: bool | None = exc.applied
            landed_id: str | None = getattr(exc, "request_id", None)

        results: list[tc.CreditBatch] = await asyncio.gather(
            *(client.credit_batches.update(batch.id, name=t) for t in tokens)
        )
        version: str = tc.__version__
        timeout: aiohttp.ClientTimeout = tc.DEFAULT_TIMEOUT


async def keys() -> None:
    """A key that rotates: a function, sync or async, returning the current key."""

    async def from_vault() -> str:
        return "key"

    fixed: tc.Client = tc.Client("https://acme.thoughtindustries.com", "key")
    rotating: tc.Client = tc.Client("https://acme.thoughtindustries.com", lambda: "key")
    fetched: tc.Client = tc.Client("https://acme.thoughtindustries.com", from_vault)
    tc.Client("https://acme.thoughtindustries.com", b"key")  # type: ignore[arg-type]
    tc.Client("https://acme.thoughtindustries.com", lambda: 5)  # type: ignore[arg-type,return-value]


async def misuse(client: tc.Client) -> None:
    """Mistakes the type checker catches."""
    await client.credit_batches.create(CLIENT_ID, starting_balance=1.5)  # type: ignore[arg-type]
    await client.credit_batches.list(CLIENT_ID)  # type: ignore[misc]
    page: tc.AsyncPaginator[tc.CreditAction] = client.credit_batches.list(CLIENT_ID)  # type: ignore[assignment]
    batch = await client.credit_batches.update(CLIENT_ID, name="x")
    batch.name = "y"  # type: ignore[misc]
    tc.Client(timeout="30")  # type: ignore[arg-type]
    tc.RetryPolicy(attempts="3")  # type: ignore[arg-type]


async def bulk_jobs() -> None:
    """Rate limits, checkpoints, reconciliation, JSON export and FastAPI, as users write them."""
    async with tc.Client(rate_limit="auto", max_concurrency=8) as auto_client:
        stats: tc.ClientStats = auto_client.stats
        waited: float = stats.throttle_wait
    async with tc.Client(rate_limit=tc.RateLimit(per_minute=600, burst=100)) as client:
        listing = client.credit_actions.list(CLIENT_ID, CLIENT_ID, action_type="debit")
        async for action in listing:
            checkpoint: str | None = listing.checkpoint
            line: bytes = tc.to_json(action)
        resumed: tc.AsyncPaginator[tc.CreditAction] = client.credit_actions.list(
            CLIENT_ID, CLIENT_ID, action_type="debit", resume_from="0:", prefetch=False
        )
        from thoughtcredits import reconcile as rc

        report: rc.ReconciliationReport = await rc.reconcile(client, CLIENT_ID, concurrency=4)
        found: tuple[rc.Discrepancy, ...] = report.discrepancies
        kind: rc.DiscrepancyKind = found[0].kind
        accounts: tuple[rc.AccountReport, ...] = report.accounts
        totals: rc.AccountTotals = accounts[0].totals
        ok: bool = report.ok
    tc.Client(rate_limit="sometimes")  # type: ignore[arg-type]


async def pipeline(client: tc.Client) -> None:
    """Per-call views, raw responses, hooks, the quota, other endpoints and the sentinel."""
    fast: tc.Client = client.with_options(timeout=5, retry=tc.RetryPolicy(attempts=2))
    never: tc.Client = client.with_options(retry=None, headers={"X-Job": "1"})
    raw: tc.APIResponse[tc.CreditBatch] = await fast.credit_batches.with_raw_response.create(
        CLIENT_ID, starting_balance=1, name=None
    )
    status: int = raw.status
    request_id: str | None = raw.request_id
    batch: tc.CreditBatch = raw.parse()
    account: tc.APIResponse[
        tc.CreditAccount
    ] = await client.credit_accounts.with_raw_response.create(
        CLIENT_ID, name="n", starting_balance=1, notify_emails=[], license_ids=[]
    )
    quota: tc.Quota = client.quota
    remaining: int | None = quota.remaining
    body: tc.JSON = await client.request("GET", f"/clients/{CLIENT_ID}/licenses")
    skipped: tc.NotGiven = tc.NOT_GIVEN
    await client.credit_batches.update(CLIENT_ID, name=tc.NOT_GIVEN, current_balance=3)
    await client.credit_batches.update(CLIENT_ID, name=None)  # type: ignore[arg-type]
    kept: tc.Client = client.with_options(timeout=tc.NOT_GIVEN, retry=tc.NOT_GIVEN)
    bare: tc.Client = client.with_options(headers=None)
    client.with_options(retry="unchanged")  # type: ignore[arg-type]
    client.with_options(timeout=None)  # type: ignore[arg-type]

    def hook(event: tc.Event) -> None:
        if isinstance(event, tc.RetryEvent):
            wait: float = event.wait
            error: tc.ThoughtCreditsError = event.error
        elif isinstance(event, tc.PauseEvent):
            until: float = event.resume_at

    hooked: tc.Client = tc.Client(hooks=[hook], pagination="page", max_response_size=1 << 20)
    page: tc.Page[tc.CreditBatch] = await anext(
        aiter(client.credit_batches.list(CLIENT_ID, page=2).pages())
    )
    headers: Mapping[str, str] = page.headers
    tc.Client(pagination="sideways")  # type: ignore[arg-type]
    client.retry = None  # type: ignore[misc]


def web_app() -> None:
    """The FastAPI helpers' types."""
    from fastapi import FastAPI

    from thoughtcredits.fastapi import ThoughtCreditsClient, install_error_handlers, lifespan

    app = FastAPI(lifespan=lifespan())
    install_error_handlers(app)

    @app.get("/batches")
    async def batches(client: ThoughtCreditsClient) -> list[str]:
        return [str(b.id) async for b in client.credit_batches.list(CLIENT_ID)]
