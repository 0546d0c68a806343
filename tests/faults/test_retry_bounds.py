"""Retries stay within RetryPolicy: attempts, the time budget and the cap on server pauses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep

from . import KEY, AdvancingSleep, Clock, world
from .test_fault_matrix import ENDPOINTS, exercise

# --- retries stay within RetryPolicy ------------------------------------------------------------


@pytest.mark.parametrize("route", ["list_credit_batches", "update_credit_batch"])
@pytest.mark.parametrize(
    ("retry", "sends"), [(None, 1), (tc.RetryPolicy(attempts=2), 2), (tc.RetryPolicy(), 4)]
)
async def test_dropped_requests_are_sent_at_most_attempts_times(
    route: str, retry: tc.RetryPolicy | None, sends: int
) -> None:
    """A GET/PUT whose connection keeps dropping is sent RetryPolicy.attempts times, no more."""
    ep = next(e for e in ENDPOINTS if e.route == route)
    async with world() as w:
        w.server.inject(Fault("drop", route=route, count=20))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, retry=retry) as client:
            with pytest.raises(tc.APIConnectionError) as caught:
                await exercise(ep, w, client)
        assert type(caught.value) is tc.APIConnectionError
        assert len(w.sent(route)) == sends
        assert len(sleep.waits) == sends - 1


async def test_persistent_failures_stop_after_attempts() -> None:
    """A GET that keeps failing is tried exactly RetryPolicy.attempts times, then raises."""
    async with world() as w:
        w.server.inject(Fault("status", status=503, count=20, route="list_credit_batches"))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, retry=tc.RetryPolicy(attempts=3)) as client:
            with pytest.raises(tc.InternalServerError):
                [b async for b in client.credit_batches.list(w.client_id)]
        assert [r.status for r in w.server.requests] == [503] * 3
        assert len(sleep.waits) == 2
        assert all(0.5 <= delay <= 3.0 for delay in sleep.waits)


async def test_persistent_refusals_stop_at_the_time_budget() -> None:
    """A GET the server keeps refusing (429) spends no attempt: RetryPolicy.timeout ends it."""
    policy = tc.RetryPolicy(attempts=3, timeout=10, wait_jitter=0)
    async with world() as w:
        w.server.inject(Fault("status", status=429, count=20, route="list_credit_batches"))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, retry=policy) as client:
            with pytest.raises(tc.RateLimitError):
                [b async for b in client.credit_batches.list(w.client_id)]
        # 0.5 + 1 + 2 + 4 = 7.5 s of back-off; the next 8 s would cross the 10 s budget.
        assert [r.status for r in w.server.requests] == [429] * 5
        assert sleep.waits == [0.5, 1.0, 2.0, 4.0]


async def test_a_bulk_job_gives_up_on_no_429() -> None:
    """Eight tasks creating batches past the server's 1 request a second, with no client limiter
    and the default policy: the server refuses many with 429, and every create still lands,
    exactly once (each task meets more than 4 refusals in a row)."""
    clock = Clock()
    sleep = AdvancingSleep(clock)
    async with (
        FakeCreditsServer(api_key=KEY, rate_limit=(60, 1), clock=clock) as server,
        server.client(sleep=sleep, rate_limit=None) as client,
    ):
        cid = str(server.ledger.add_client())
        account = server.ledger.create_account(cid, name="Ops", starting_balance=1)

        async def job(task: int) -> None:
            for number in range(3):
                await client.credit_batches.create(
                    cid, starting_balance=1, credit_account_id=account.id, name=f"t{task}-{number}"
                )

        await asyncio.gather(*(job(task) for task in range(8)))
        names = sorted(batch.name or "" for batch in account.batches[1:])
    assert names == sorted(f"t{task}-{number}" for task in range(8) for number in range(3))
    statuses = [request.status for request in server.requests]
    assert statuses.count(201) == 24
    assert statuses.count(429) >= 8 * 4  # refused again and again


async def test_retry_time_budget_stops_before_a_wait_that_would_cross_it() -> None:
    """RetryPolicy.timeout bounds retrying: a backoff that would cross it is not waited."""
    policy = tc.RetryPolicy(timeout=0.4, wait_initial=0.5, wait_jitter=0)
    async with world() as w:
        w.server.inject(Fault("status", status=503, count=20, route="update_credit_batch"))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, retry=policy) as client:
            with pytest.raises(tc.InternalServerError):
                await client.credit_batches.update(w.batch_ids[0], name="x")
        assert len(w.sent("update_credit_batch")) == 1
        assert sleep.calls == []


@pytest.mark.parametrize(("ahead", "paused"), [(10, True), (100_000, False)])
async def test_rate_limit_header_pause_is_capped(ahead: int, paused: bool) -> None:
    """X-RateLimit-Remaining: 0 pauses the next request until the reset, unless absurdly far."""
    async with world() as w:
        page = w.pages["list_credit_batches"][-1]
        reset = str(int(datetime.now(UTC).timestamp()) + ahead)
        w.server.inject(
            Fault("status", status=200, body=page, route="list_credit_batches",
                  headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        )  # fmt: skip
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep) as client:
            [b async for b in client.credit_batches.list(w.client_id)]
            await client.credit_batches.update(w.batch_ids[0], name="x")
        if paused:
            (delay,) = sleep.waits
            assert ahead - 2 < delay <= ahead
        else:
            assert sleep.calls == []
