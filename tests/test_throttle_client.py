"""The default limiter through ``tc.Client`` against the fake server: the probe and learning.

The server limits the key to 20 requests a second with a burst of 20, so these run in about a
second each.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer, Fault

KEY = "tc-test-throttle"
CLIENT_ID = str(uuid.uuid4())
PATH = f"/clients/{CLIENT_ID}/creditBatches"
QUERY = {"clientId": CLIENT_ID}


async def get(client: tc.Client) -> float:
    """One GET; returns when it finished (monotonic seconds)."""
    await client.request("GET", PATH, query=QUERY)
    return time.monotonic()


async def test_many_first_requests_learn_the_limit_and_get_no_429() -> None:
    async with (
        FakeCreditsServer(KEY, rate_limit=(1200, 20)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        await asyncio.gather(*(get(client) for _ in range(30)))
        assert client.stats.rate_limited == 0
        assert client.rate_limit == tc.RateLimit(per_minute=1200, burst=20)


@pytest.mark.parametrize("fault", [Fault("drop"), Fault("status", status=503)])
async def test_a_failed_probe_hands_its_role_on(fault: Fault) -> None:
    async with (
        FakeCreditsServer(KEY, rate_limit=(1200, 20)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        server.inject(fault)  # the very first request dies without teaching anything
        await asyncio.gather(*(get(client) for _ in range(30)))
        assert client.stats.rate_limited == 0
        assert client.rate_limit is not None
        # The server counted the dropped request, so a fresh bucket looked one smaller.
        assert client.rate_limit.per_minute == 1200
        assert 18 <= client.rate_limit.burst <= 20


async def test_a_cancelled_probe_hands_its_role_on() -> None:
    async with (
        FakeCreditsServer(KEY, rate_limit=(1200, 20)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        server.inject(Fault("delay", delay=1.0))  # the first request hangs, then is cancelled
        first = asyncio.create_task(get(client))
        await asyncio.sleep(0.1)
        others = [asyncio.create_task(get(client)) for _ in range(30)]
        await asyncio.sleep(0.1)
        first.cancel()
        await asyncio.gather(*others)
        assert client.stats.rate_limited == 0
        assert client.rate_limit == tc.RateLimit(per_minute=1200, burst=20)


async def test_a_slow_first_answer_does_not_hold_the_other_first_requests() -> None:
    async with (
        FakeCreditsServer(KEY, rate_limit=(1200, 20)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        server.inject(Fault("delay", delay=1.0))
        started = time.monotonic()
        slow = asyncio.create_task(get(client))
        await asyncio.sleep(0.05)  # it is on the wire, holding the first probe role
        quick = await asyncio.gather(*(get(client) for _ in range(4)))
        assert max(quick) - started < 0.8  # all four answered while the first still waits
        assert not slow.done()
        await slow


async def test_one_implausible_limit_header_does_not_pin_the_client() -> None:
    async with (
        FakeCreditsServer(KEY, rate_limit=(600, 100)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        server.inject(
            Fault(
                "body",
                body={"data": {}},
                headers={"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"},
            )
        )
        started = time.monotonic()
        for _ in range(5):  # one after another: each waits for the last to be answered
            await get(client)
        assert time.monotonic() - started < 2  # not one a minute
        assert client.rate_limit == tc.RateLimit(per_minute=600, burst=100)
        assert client.quota.limit == 600


async def test_a_changed_limit_is_relearned() -> None:
    async with (
        FakeCreditsServer(KEY, rate_limit=(600, 100)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        await get(client)
        assert client.rate_limit == tc.RateLimit(per_minute=600, burst=100)
        server.inject(Fault("body", body={"data": {}}, headers={"X-RateLimit-Limit": "1200"}))
        await get(client)
        assert client.rate_limit is not None
        assert client.rate_limit.per_minute == 1200
