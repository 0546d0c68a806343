"""``RedisRateLimit`` through ``tc.Client`` against the fake server, and Redis killed mid-run."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
import redis.asyncio

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer

from .conftest import RedisServer

KEY = "tc-test-redis"
CLIENT_ID = str(uuid.uuid4())
PATH = f"/clients/{CLIENT_ID}/creditBatches"


async def burst(client: tc.Client, count: int) -> None:
    await asyncio.gather(
        *(client.request("GET", PATH, query={"clientId": CLIENT_ID}) for _ in range(count))
    )


async def test_two_clients_share_one_bucket_and_learn_the_limit(redis_url: str) -> None:
    async with FakeCreditsServer(KEY, rate_limit=(1200, 10)) as server:
        limit = tc.RedisRateLimit(redis_url, key=f"tc:{uuid.uuid4()}")
        async with (
            tc.Client(server.url, KEY, rate_limit=limit) as a,
            tc.Client(server.url, KEY, rate_limit=limit) as b,
        ):
            await asyncio.gather(burst(a, 20), burst(b, 20))
            assert a.stats.rate_limited + b.stats.rate_limited == 0
            assert a.rate_limit == b.rate_limit
            assert a.rate_limit is not None
            assert a.rate_limit.per_minute == 1200


async def test_killing_redis_mid_run_falls_back_with_one_warning(
    redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    async with FakeCreditsServer(KEY, rate_limit=(1200, 10)) as server:
        limit = tc.RedisRateLimit(redis_url, key=f"tc:{uuid.uuid4()}")
        async with tc.Client(server.url, KEY, rate_limit=limit) as client:

            async def worker() -> None:  # each request books its slot when it starts
                for _ in range(8):
                    await client.request("GET", PATH, query={"clientId": CLIENT_ID})

            running = asyncio.gather(*(worker() for _ in range(4)))  # about 1.6 s in all
            await asyncio.sleep(0.5)
            redis_server.stop()  # while requests are booked, in flight and still to come
            await running  # every request still succeeds, paced in-process
            warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1
            assert warnings[0].startswith("Redis rate limiter unreachable")
            assert client.stats.rate_limited <= 1
    redis_server.start()


async def test_a_client_shares_the_bucket_of_its_own_api_key(redis_url: str) -> None:
    limit = tc.RedisRateLimit(redis_url)  # no key=: one per API key and base URL
    async with (
        FakeCreditsServer(KEY, rate_limit=(1200, 10)) as server,
        tc.Client(server.url, KEY, rate_limit=limit) as client,
    ):
        await burst(client, 3)
        expected = tc.RedisRateLimit.default_key(client.base_url, KEY)
    admin = redis.asyncio.from_url(redis_url)
    assert [key.decode() for key in await admin.keys("*")] == [expected]
    await admin.aclose()
