"""The SDK end to end against the shipped local server (``thoughtcredits.testing``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep, seed_ledger


async def test_account_batch_update_and_ledger_round_trip(
    credits_server: FakeCreditsServer, credits_client: tc.Client
) -> None:
    """Create an account and a batch, update it, and read back exactly what the server holds."""
    client_id = credits_server.ledger.add_client()
    account = await credits_client.credit_accounts.create(
        client_id, name="Training", starting_balance=1000, notify_emails=["ops@acme.test"],
        license_ids=["lic-1"], batch_days_until_expire=365, minimum_batch_amount=10,
        type=tc.CreditAccountType.CLIENT, credit_batch_name="Q1",
    )  # fmt: skip
    assert account.current_balance == Decimal(1000)
    assert account.type is tc.CreditAccountType.CLIENT
    assert account.status is tc.CreditAccountStatus.ACTIVE
    batch = await credits_client.credit_batches.create(
        client_id, starting_balance=Decimal("100.5"), credit_account_id=account.id, name="Q3",
        expires_on=datetime(2027, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert batch.starting_balance == Decimal("100.5")
    assert batch.expires_on == datetime(2027, 1, 1, tzinfo=UTC)
    updated = await credits_client.credit_batches.update(batch.id, name="Q3b", current_balance=90)
    assert (updated.name, updated.current_balance) == ("Q3b", Decimal(90))

    batches = [
        b async for b in credits_client.credit_batches.list(client_id, credit_account_id=account.id)
    ]
    assert [b.name for b in batches] == ["Q1", "Q3b"]
    assert [b.current_balance for b in batches] == [Decimal(1000), Decimal(90)]
    debits = [
        a
        async for a in credits_client.credit_actions.list(
            client_id, account.id, action_type="debit"
        )
    ]
    assert [(a.amount, a.source, a.source_balance_in, a.source_balance_out) for a in debits] == [
        (Decimal("10.5"), batch.id, Decimal("100.5"), Decimal(90))
    ]
    credits = [
        a
        async for a in credits_client.credit_actions.list(
            client_id, account.id, action_type="credit"
        )
    ]
    assert [(a.amount, a.target) for a in credits] == [
        (Decimal(1000), batches[0].id),
        (Decimal("100.5"), batch.id),
    ]


async def test_pagination_delivers_exactly_the_servers_items_in_order(
    credits_server: FakeCreditsServer, credits_client: tc.Client
) -> None:
    """Every page is followed; items equal the ledger's, in order, none missing or repeated."""
    seeded = seed_ledger(credits_server.ledger, accounts=1, actions_per_account=1234, seed=1)
    client_id, account_id = seeded.client_ids[0], seeded.account_ids[0]
    expected = [
        UUID(credits_server.ledger.action_id(row))
        for row in credits_server.ledger.actions(account_id, "debit")
    ]
    listing = credits_client.credit_actions.list(
        client_id, account_id, action_type="debit", page_size=50
    )
    got = [action.id async for action in listing]
    assert got == expected
    pages = [
        p
        async for p in credits_client.credit_actions.list(
            client_id, account_id, action_type="debit", page_size=50
        ).pages()
    ]
    assert len(pages) == -(-len(expected) // 50)
    assert pages[-1].page_info.has_more is False
    assert {p.page_info.total for p in pages} == {len(expected)}
    sent = [
        r.query.get("perPage") for r in credits_server.requests if r.route == "list_credit_actions"
    ]
    assert set(sent) == {"50"}


async def test_resume_from_a_checkpoint_reads_nothing_twice(
    credits_server: FakeCreditsServer, credits_client: tc.Client
) -> None:
    """A job that dies mid-page resumes at the next item: no duplicate, no gap."""
    seeded = seed_ledger(credits_server.ledger, accounts=1, actions_per_account=300, seed=2)
    client_id, account_id = seeded.client_ids[0], seeded.account_ids[0]

    def listing(**kwargs: object) -> tc.AsyncPaginator[tc.CreditAction]:
        return credits_client.credit_actions.list(
            client_id,
            account_id,
            action_type="debit",
            page_size=40,
            **kwargs,  # type: ignore[arg-type]
        )

    everything = [a.id async for a in listing()]
    first: list[UUID] = []
    paginator = listing()
    async for action in paginator:
        first.append(action.id)
        if len(first) == 97:
            break
    checkpoint = paginator.checkpoint
    assert checkpoint is not None
    rest = [a.id async for a in listing(resume_from=checkpoint)]
    assert first + rest == everything


async def test_a_saved_page_cursor_restarts_at_that_page(
    credits_server: FakeCreditsServer, credits_client: tc.Client
) -> None:
    """cursor= starts at the page that cursor names, and the cursor stays valid as data grows."""
    seeded = seed_ledger(credits_server.ledger, accounts=1, actions_per_account=200, seed=4)
    client_id, account_id = seeded.client_ids[0], seeded.account_ids[0]
    listing = credits_client.credit_actions.list(
        client_id, account_id, action_type="debit", page_size=30
    )
    pages = [p async for p in listing.pages()]
    saved = pages[2].request_cursor
    assert saved is not None
    again = [
        a.id
        async for a in credits_client.credit_actions.list(
            client_id, account_id, action_type="debit", page_size=30, cursor=saved
        )
    ]
    assert again == [a.id for p in pages[2:] for a in p.items]


async def test_server_errors_arrive_typed(credits_server: FakeCreditsServer) -> None:
    """401, 404 and the server's 400 body become the SDK's typed errors with their messages."""
    client_id = credits_server.ledger.add_client()
    async with tc.Client(credits_server.url, "wrong-key", sleep=RecordingSleep()) as bad:
        with pytest.raises(tc.AuthenticationError) as caught:
            await bad.credit_batches.update("00000000-0000-0000-0000-000000000001", name="x")
        assert caught.value.body is None
    async with credits_server.client(sleep=RecordingSleep()) as client:
        with pytest.raises(tc.NotFoundError):
            await client.credit_batches.update("00000000-0000-0000-0000-000000000001", name="x")
        with pytest.raises(tc.NotFoundError):
            await client.credit_batches.create(
                client_id,
                starting_balance=5,
                credit_account_id="00000000-0000-0000-0000-000000000002",
            )


async def test_a_503_mid_listing_is_retried_at_that_page(credits_server: FakeCreditsServer) -> None:
    """A failed page is fetched again; the items are still exactly the server's."""
    seeded = seed_ledger(credits_server.ledger, accounts=1, actions_per_account=200, seed=6)
    client_id, account_id = seeded.client_ids[0], seeded.account_ids[0]
    sleep = RecordingSleep()
    async with credits_server.client(sleep=sleep) as client:
        reference = [
            a.id
            async for a in client.credit_actions.list(
                client_id, account_id, action_type="debit", page_size=25
            )
        ]
        credits_server.inject(
            Fault(kind="status", status=503, route="list_credit_actions", count=2)
        )
        again = [
            a.id
            async for a in client.credit_actions.list(
                client_id, account_id, action_type="debit", page_size=25
            )
        ]
    assert again == reference
    assert len(sleep.calls) == 2


@pytest.mark.parametrize("limited", [True, False])
async def test_client_side_rate_limit_keeps_the_server_limit_without_429s(limited: bool) -> None:
    """With RateLimit at the server's rate, many concurrent tasks never get a 429.

    The server's burst is 10 requests (0.5 s at this rate) larger than the client's: a limiter
    spaces requests when they leave, and on a loaded machine they can reach a server on
    another socket that much closer together. Without the limit, a server of the same burst
    that refills no token during the test (one a minute) refuses every request past its burst,
    however slowly a loaded machine sends them.
    """
    async with FakeCreditsServer(rate_limit=(1200, 20) if limited else (1, 20)) as server:
        client_id = server.ledger.add_client()
        server.ledger.create_account(client_id, name="A", starting_balance=10)
        rate_limit = tc.RateLimit(per_minute=1200, burst=10) if limited else None
        async with server.client(rate_limit=rate_limit, retry=None) as client:

            async def one() -> bool:
                try:
                    [b async for b in client.credit_batches.list(client_id)]
                except tc.RateLimitError:
                    return False
                return True

            done = await asyncio.gather(*(one() for _ in range(40)))
        statuses = [r.status for r in server.requests]
        if limited:
            assert done == [True] * 40
            assert statuses == [200] * 40
        else:
            assert (statuses.count(200), statuses.count(429)) == (20, 20)


async def test_one_429_pauses_every_task_on_the_client() -> None:
    """After a 429 with Retry-After, every task waits out the one pause; none sends during it."""
    async with FakeCreditsServer() as server:
        client_id = server.ledger.add_client()
        server.ledger.create_account(client_id, name="A", starting_balance=10)
        sleep = RecordingSleep()
        async with server.client(sleep=sleep, max_concurrency=1) as client:
            server.inject(Fault(kind="status", status=429, headers={"Retry-After": "7"}, count=1))

            async def one() -> int:
                return len([b async for b in client.credit_batches.list(client_id)])

            counts = await asyncio.gather(*(one() for _ in range(5)))
        assert counts == [1] * 5
        assert [r.status for r in server.requests] == [429] + [200] * 5
        # The refused task waits its Retry-After; the task holding the one concurrency slot
        # waits out the same pause (the rest queue behind it); no one sends before its end.
        assert sleep.calls == [pytest.approx(7.0, abs=0.1)] * 2
        assert client.stats.rate_limited == 1
        assert client.stats.retries == 1


async def test_auto_rate_limit_learns_the_quota_and_avoids_429s() -> None:
    """With no RateLimit given, the client learns the server's quota and bursts no 429s."""
    async with FakeCreditsServer(rate_limit=(1200, 8)) as server:
        client_id = server.ledger.add_client()
        server.ledger.create_account(client_id, name="A", starting_balance=10)
        async with server.client() as client:

            async def one() -> None:
                [b async for b in client.credit_batches.list(client_id)]

            await asyncio.gather(*(one() for _ in range(30)))
            learned = client.rate_limit
        assert learned == tc.RateLimit(per_minute=1200, burst=8)
        assert client.stats.rate_limited == 0
        assert [r.status for r in server.requests] == [200] * 30


async def test_without_a_limiter_a_burst_meets_429s_that_are_retried() -> None:
    """rate_limit=None sends as fast as asked; the server's 429s are retried to success."""
    async with FakeCreditsServer(rate_limit=(1200, 8)) as server:
        client_id = server.ledger.add_client()
        server.ledger.create_account(client_id, name="A", starting_balance=10)
        async with server.client(rate_limit=None, retry=tc.RetryPolicy(attempts=10)) as client:

            async def one() -> None:
                [b async for b in client.credit_batches.list(client_id)]

            await asyncio.gather(*(one() for _ in range(30)))
        assert client.stats.rate_limited > 0
        assert [r.status for r in server.requests].count(200) == 30


async def test_a_post_that_may_have_landed_leaves_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A POST dropped after sending is not retried, but it is logged as possibly applied."""
    async with FakeCreditsServer() as server:
        client_id = server.ledger.add_client()
        account = server.ledger.create_account(client_id, name="A", starting_balance=10)
        server.inject(Fault(kind="drop", when="after", route="create_credit_batch"))
        async with server.client(sleep=RecordingSleep()) as client:
            with (
                caplog.at_level("WARNING", logger="thoughtcredits"),
                pytest.raises(tc.APIConnectionError),
            ):
                await client.credit_batches.create(
                    client_id, starting_balance=5, credit_account_id=account.id
                )
        assert len(account.batches) == 2  # it did land
    (record,) = [r for r in caplog.records if r.name == "thoughtcredits"]
    assert record.levelname == "WARNING"
    assert "may have reached the server" in record.getMessage()
    assert record.tc_method == "POST"  # type: ignore[attr-defined]
    assert server.api_key not in record.getMessage()


async def test_an_update_that_may_have_landed_after_its_retries_says_it_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PUT answered 503 four times was sent four times: the WARNING does not claim it was
    "not sent again", it says the client stops and what to check."""
    async with FakeCreditsServer() as server:
        client_id = server.ledger.add_client()
        account = server.ledger.create_account(client_id, name="A", starting_balance=10)
        (batch,) = account.batches
        server.inject(Fault(kind="status", status=503, count=4, route="update_credit_batch"))
        async with server.client(sleep=RecordingSleep()) as client:
            with (
                caplog.at_level("WARNING", logger="thoughtcredits"),
                pytest.raises(tc.InternalServerError),
            ):
                await client.credit_batches.update(batch.id, current_balance=5)
        assert [r.status for r in server.requests] == [503, 503, 503, 503]
    (record,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert record.getMessage() == (
        f"PUT /incoming/v2/clients/creditBatches/{batch.id} may have reached the server and "
        "been acted on (HTTP 503); the client stops here: check whether it was made before "
        "sending it again"
    )
