"""Retries stay within RetryPolicy: attempts, the time budget and the cap on server pauses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import Fault, RecordingSleep

from . import world
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


@pytest.mark.parametrize(
    ("code", "error"), [(503, tc.InternalServerError), (429, tc.RateLimitError)]
)
async def test_persistent_failures_stop_after_attempts(code: int, error: type[Exception]) -> None:
    """A GET that keeps failing is tried exactly RetryPolicy.attempts times, then raises."""
    async with world() as w:
        w.server.inject(Fault("status", status=code, count=20, route="list_credit_batches"))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep, retry=tc.RetryPolicy(attempts=3)) as client:
            with pytest.raises(error):
                [b async for b in client.credit_batches.list(w.client_id)]
        assert [r.status for r in w.server.requests] == [code] * 3
        assert len(sleep.waits) == 2
        assert all(0.5 <= delay <= 3.0 for delay in sleep.waits)


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
