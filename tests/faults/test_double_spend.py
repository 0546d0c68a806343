"""No double spend: a POST that reached the server is never re-sent unless the caller opts in.

The API has no idempotency key, so a POST whose answer is lost (a 500 after the change, a
timeout, a dropped connection) may already have issued credits. Each test counts the
batches or accounts the server's ledger holds afterwards.
"""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any, Literal

import aiohttp
import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep

from . import API, KEY, AdvancingSleep, Clock, World, secret_free_text, wait_until, world

Route = Literal["create_credit_batch", "create_credit_account"]
ROUTES: list[Route] = ["create_credit_batch", "create_credit_account"]
TIMEOUT = 0.5

# How each failure after the change is injected, and the error the caller must see.
FAILURES = {
    "500_after_apply": (lambda r: Fault("status", status=500, route=r, when="after"),
                        tc.InternalServerError),
    "503_after_apply": (lambda r: Fault("status", status=503, route=r, when="after"),
                        tc.InternalServerError),
    "drop_after_apply": (lambda r: Fault("drop", route=r, when="after"), tc.APIConnectionError),
    # The 200 arrived, then the body broke off: the status line says the change was made.
    "drop_mid_body": (lambda r: Fault("drop_mid_body", route=r), tc.ResponseValidationError),
    # The server acts on the request after the client has given up waiting for the answer.
    "timeout_then_apply": (lambda r: Fault("delay", route=r, delay=TIMEOUT * 2.5),
                           tc.APITimeoutError),
}  # fmt: skip


async def create(route: Route, w: World, client: tc.Client) -> Any:
    """Issue credits through ``route``: a new batch, or a new account (with its first batch)."""
    if route == "create_credit_batch":
        return await client.credit_batches.create(
            w.client_id, starting_balance=Decimal("25.50"), credit_account_id=w.account_id
        )
    return await client.credit_accounts.create(
        w.client_id, name="Once", starting_balance=25, notify_emails=["a@example.com"],
        license_ids=["lic-1"],
    )  # fmt: skip


def created(route: Route, w: World) -> int:
    """How many batches/accounts the POSTs created in the server's ledger."""
    ledger = w.server.ledger
    if route == "create_credit_account":
        return len(ledger.accounts) - 1
    return len(ledger.account(w.account_id).batches) - len(w.batch_ids)


async def settled(w: World, route: Route) -> None:
    """Wait until every handler of ``route`` has finished (a delayed one may still run)."""
    await wait_until(lambda: all(r.status for r in w.sent(route) if r.fault != "drop"))


@pytest.mark.parametrize("warm", [False, True], ids=["fresh-connection", "pooled-connection"])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("route", ROUTES)
async def test_post_that_reached_the_server_is_never_resent(
    route: Route, failure: str, warm: bool
) -> None:
    """A POST that reached the server and then failed is sent once and creates exactly one."""
    make, error = FAILURES[failure]
    async with world() as w:
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, timeout=TIMEOUT) as client:
            if warm:  # the POST then rides a pooled keep-alive connection
                [b async for b in client.credit_batches.list(w.client_id, max_items=1)]
            w.server.inject(make(route))
            with pytest.raises(tc.ThoughtCreditsError) as caught:
                await create(route, w, client)
            assert client.stats.retries == 0
        await settled(w, route)
        assert type(caught.value) is error
        secret_free_text(caught.value)
        assert len(w.sent(route)) == 1
        assert created(route, w) == 1
        assert sleep.calls == []


# A 2xx whose body broke off is not among them: its status line says the change was made, so
# even the opt-in does not resend it (test_landed_post_with_an_unreadable_answer_is_not_resent).
UNKNOWN = [failure for failure in FAILURES if failure != "drop_mid_body"]


@pytest.mark.parametrize("failure", UNKNOWN)
@pytest.mark.parametrize("route", ROUTES)
async def test_opt_in_resends_and_can_create_twice(route: Route, failure: str) -> None:
    """With RetryPolicy(retry_unsafe_methods=True) the POST IS re-sent, so two now exist.

    This is the documented risk of the opt-in: the first POST was applied but its answer was
    lost, the retry is applied too, and the account now holds two batches (or the client two
    accounts). Use it only when duplicates are acceptable or reconciled afterwards.
    """
    make, _ = FAILURES[failure]
    async with world() as w:
        w.server.inject(make(route))
        policy = tc.RetryPolicy(retry_unsafe_methods=True)
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, retry=policy, timeout=TIMEOUT) as client:
            result = await create(route, w, client)
        await settled(w, route)
        assert len(w.sent(route)) == 2
        assert created(route, w) == 2
        assert len(sleep.waits) == 1
        assert result.current_balance == Decimal("25.50" if route == "create_credit_batch" else 25)


@pytest.mark.parametrize("route", ROUTES)
async def test_post_refused_by_rate_limit_is_retried(route: Route) -> None:
    """A 429 means the server did not act, so the POST is retried and creates exactly one."""
    async with world() as w:
        w.server.inject(Fault("status", status=429, route=route, headers={"Retry-After": "2"}))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep) as client:
            await create(route, w, client)
        assert [r.status for r in w.sent(route)] == [429, 201]
        assert created(route, w) == 1
        assert sleep.waits == [pytest.approx(2.0, abs=0.5)]


@pytest.mark.parametrize("route", ROUTES)
async def test_post_refused_by_server_rate_limiter_is_retried(route: Route) -> None:
    """The server's own token bucket refusing a POST leads to one wait and exactly one creation."""
    clock = Clock()
    async with world(rate_limit=(60, 1), clock=clock, pages=False) as w:
        async with aiohttp.ClientSession() as session:  # another process spends the only token
            url = f"{w.server.url}{API}/clients/{w.client_id}/creditBatches"
            async with session.get(
                url, params={"clientId": w.client_id}, headers={"Authorization": f"Bearer {KEY}"}
            ) as response:
                assert response.status == 200
        sleep = AdvancingSleep(clock)
        async with w.server.client(sleep=sleep) as client:
            await create(route, w, client)
            assert client.stats.rate_limited == 1
        assert [r.status for r in w.sent(route)] == [429, 201]
        assert created(route, w) == 1
        # The Retry-After, then what is left of the learned limit's spacing (60 a minute,
        # burst 1: 3% slower) and of the server's reset: about a second in all, not more.
        assert sleep.waits[0] == pytest.approx(1.0, abs=0.5)
        assert sum(sleep.waits) == pytest.approx(1.0, abs=0.5), sleep.waits


def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class StartServerOnSleep(RecordingSleep):
    """A recording sleep that starts the server during the first backoff (after a refusal)."""

    def __init__(self, server: FakeCreditsServer, port: int) -> None:
        super().__init__()
        self.server, self.port = server, port

    async def __call__(self, seconds: float) -> None:
        """Record the delay; on the first call, bring the server up on the refused port."""
        await super().__call__(seconds)
        if len(self.calls) == 1:
            await self.server.start("127.0.0.1", self.port)


@pytest.mark.parametrize("route", ROUTES)
async def test_post_with_connection_refused_is_retried(route: Route) -> None:
    """A POST whose connection was refused was never sent, so it is retried: exactly one exists."""
    server = FakeCreditsServer(api_key=KEY)
    cid = str(server.ledger.add_client())
    account = server.ledger.create_account(cid, name="Ops", starting_balance=100)
    w = World(server, cid, account.id, [b.id for b in account.batches])
    port = free_port()
    sleep = StartServerOnSleep(server, port)
    try:
        async with tc.Client(f"http://127.0.0.1:{port}", KEY, sleep=sleep) as client:
            await create(route, w, client)
        assert len(sleep.waits) == 1
        assert [r.status for r in server.requests] == [201]
        assert created(route, w) == 1
    finally:
        await server.stop()


async def test_put_after_apply_is_resent_safely() -> None:
    """A PUT sets absolute values, so re-sending it after a 500-after-apply changes nothing more."""
    async with world() as w:
        w.server.inject(Fault("status", status=500, route="update_credit_batch", when="after"))
        async with w.server.client(sleep=RecordingSleep()) as client:
            batch = await client.credit_batches.update(w.batch_ids[1], current_balance=4)
        assert [r.status for r in w.sent("update_credit_batch")] == [500, 200]
        assert batch.current_balance == 4
        (debit,) = w.server.ledger.actions(w.account_id, "debit")
        assert (debit.amount, debit.source_balance_in, debit.source_balance_out) == (6, 10, 4)


# Landed, then unreadable: a body that cannot be read, or a 200 whose body breaks off on the wire
# (which used to read as a connection error after sending, so the opt-in resent it).
LANDED = {
    "html": (b"<html><body>Created</body></html>", 201),
    "huge_exponent": (b'{"data": {"CreateCreditBatch": {"currentBalance": 1e600000}}}', 201),
    "tiny_exponent": (
        b'{"data": {"APICreateCreditAccount": {"currentBalance": 1e-200000000}}}',
        201,
    ),
    "cut_mid_body": (None, 200),
}


@pytest.mark.parametrize("landed", list(LANDED))
@pytest.mark.parametrize("route", ROUTES)
async def test_landed_post_with_an_unreadable_answer_is_not_resent(
    route: Route, landed: str
) -> None:
    """A POST applied and answered 2xx with a body that cannot be read: sent once, applied."""
    body, status = LANDED[landed]
    async with world() as w:
        sleep = RecordingSleep()
        if body is None:
            w.server.inject(Fault("drop_mid_body", route=route))
        else:
            w.server.inject(Fault("status", status=201, route=route, body=body, when="after"))
        async with w.server.client(
            sleep=sleep, retry=tc.RetryPolicy(retry_unsafe_methods=True)
        ) as client:
            with pytest.raises(tc.ResponseValidationError) as caught:
                await create(route, w, client)
        await settled(w, route)
        assert (caught.value.applied, caught.value.status) == (True, status)
        assert "WAS MADE" in str(caught.value)
        assert len(w.sent(route)) == 1
        assert created(route, w) == 1
        assert sleep.calls == []
