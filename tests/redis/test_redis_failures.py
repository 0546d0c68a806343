"""A Redis that is up but fails: the limiter falls back to header pacing, and no Redis error
ever reaches the caller.

Out of memory, a read-only replica, a stalled server, a server that lies (a fake RESP server
on loopback), corrupt values in the hash, and a pool too small for the requests waiting. Each
job's requests must all succeed; the fallback is announced by one WARNING.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import pytest
import redis.asyncio

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer

from .conftest import LyingRedis, RedisServer

API_KEY = "tc-test-redis-failures"
CLIENT_ID = str(uuid.uuid4())
PATH = f"/clients/{CLIENT_ID}/creditBatches"
UNREACHABLE = "Redis rate limiter unreachable"


async def job(client: tc.Client, tasks: int = 4, each: int = 5) -> None:
    """``tasks`` tasks send ``each`` GETs one after another; any exception propagates."""

    async def worker() -> None:
        for _ in range(each):
            await client.request("GET", PATH, query={"clientId": CLIENT_ID})

    await asyncio.gather(*(worker() for _ in range(tasks)))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def run_job(url_or_client: str | redis.asyncio.Redis) -> tc.ClientStats:
    """A job through a RedisRateLimit on ``url_or_client``, bounded so a hang fails."""
    limit = tc.RedisRateLimit(url_or_client, key=f"tc:{uuid.uuid4()}")
    async with (
        FakeCreditsServer(API_KEY, rate_limit=(6000, 20)) as server,
        tc.Client(server.url, API_KEY, rate_limit=limit) as client,
    ):
        await asyncio.wait_for(job(client), 20)
        return client.stats


LIES = {
    "an error reply": b"-ERR something went wrong\r\n",
    "a null": b"_\r\n",
    "a wrong shape": b"*2\r\n$2\r\ngo\r\n:5\r\n",
    "a number that is not one": b"*4\r\n$2\r\ngo\r\n$3\r\nabc\r\n$0\r\n\r\n$0\r\n\r\n",
    "a delay of 1e300 s": b"*4\r\n$2\r\ngo\r\n$5\r\n1e300\r\n$0\r\n\r\n$0\r\n\r\n",
    "an unknown verdict": b"*4\r\n$4\r\nboom\r\n$1\r\n0\r\n$0\r\n\r\n$0\r\n\r\n",
    "a limit that is not one": b"*4\r\n$2\r\ngo\r\n$1\r\n0\r\n$3\r\nnan\r\n$1\r\n5\r\n",
}


@pytest.mark.parametrize("reply", LIES.values(), ids=LIES)
async def test_a_redis_that_answers_garbage_falls_back_with_one_warning(
    reply: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    async with LyingRedis(reply) as lying:
        stats = await run_job(lying.url)
    assert lying.calls >= 1
    assert stats.requests == 20
    assert [w[: len(UNREACHABLE)] for w in warnings(caplog)] == [UNREACHABLE]


@pytest.mark.parametrize(
    "options",
    [
        ("--maxmemory", "1", "--maxmemory-policy", "noeviction"),  # -OOM on every write
        ("--replicaof", "127.0.0.1", "9"),  # a replica after failover: -READONLY
    ],
    ids=["out of memory", "read-only replica"],
)
async def test_a_redis_that_refuses_writes_falls_back_with_one_warning(
    options: tuple[str, ...],
    spare_redis: Callable[..., RedisServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    server = spare_redis(*options)
    stats = await run_job(server.url)
    assert stats.requests == 20
    (warning,) = warnings(caplog)
    assert warning.startswith(UNREACHABLE)
    assert "OutOfMemoryError" in warning or "ReadOnlyError" in warning


async def test_corrupt_values_in_the_hash_are_taken_for_absent(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    key = f"tc:{uuid.uuid4()}"
    admin = redis.asyncio.from_url(redis_url)
    fields = {"tat": "abc", "interval": "x", "pause": "nan", "limit": "zz", "burst": "-1"}
    await admin.hset(key, mapping={**fields, "queue": "inf"})
    limit = tc.RedisRateLimit(redis_url, key=key)
    async with (
        FakeCreditsServer(API_KEY, rate_limit=(6000, 20)) as server,
        tc.Client(server.url, API_KEY, rate_limit=limit) as client,
    ):
        await asyncio.wait_for(job(client), 20)
        assert client.stats.requests == 20
    assert warnings(caplog) == []  # shared through Redis all along: nothing fell back
    assert float(await admin.hget(key, "tat") or "nan") > 0  # repaired
    await admin.aclose()


async def test_requests_queue_for_the_pool_instead_of_failing(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """300 requests waiting at once on a limiter made from a URL: none is refused a
    connection (redis-py's pool holds 100), so nothing falls back and nothing is refused."""
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    limit = tc.RedisRateLimit(redis_url, key=f"tc:{uuid.uuid4()}", per_minute=60_000, burst=301)
    async with (
        FakeCreditsServer(API_KEY, rate_limit=(60_000, 301)) as server,
        tc.Client(server.url, API_KEY, rate_limit=limit) as client,
    ):
        await asyncio.wait_for(job(client, tasks=300, each=1), 20)
        assert client.stats.requests == 300
        assert client.stats.rate_limited == 0
    assert warnings(caplog) == []


async def test_a_stalled_borrowed_redis_costs_one_timeout_and_aclose_returns_at_once(
    spare_redis: Callable[..., RedisServer], caplog: pytest.LogCaptureFixture
) -> None:
    """A borrowed client with no timeouts of its own (the docs' way to share a pool), and a
    Redis that stops answering: the SDK's own timeout lets every request through by header
    pacing, within the request's time budget, and closing the client does not wait."""
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    server = spare_redis()
    borrowed = redis.asyncio.Redis(host="127.0.0.1", port=server.port)
    admin = redis.asyncio.Redis(host="127.0.0.1", port=server.port)
    await borrowed.ping()
    await admin.execute_command("CLIENT", "PAUSE", "4000", "ALL")  # every client stalls
    limit = tc.RedisRateLimit(borrowed, key=f"tc:{uuid.uuid4()}")
    async with FakeCreditsServer(API_KEY, rate_limit=(6000, 20)) as fake:
        client = tc.Client(fake.url, API_KEY, rate_limit=limit, retry=tc.RetryPolicy(timeout=2))
        started = time.monotonic()
        await asyncio.wait_for(job(client), 3)
        assert time.monotonic() - started < 2
        closing = time.monotonic()
        await asyncio.wait_for(client.aclose(), 3)
        assert time.monotonic() - closing < 1
    assert client.stats.requests == 20
    assert [w[: len(UNREACHABLE)] for w in warnings(caplog)] == [UNREACHABLE]
    await server_stopped(server, borrowed, admin)


async def server_stopped(server: RedisServer, *clients: redis.asyncio.Redis) -> None:
    server.stop()  # the stall would outlive the test otherwise
    for one in clients:
        await one.aclose()
