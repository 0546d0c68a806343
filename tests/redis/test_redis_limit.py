"""``RedisRateLimit`` against a real ``redis-server``: one bucket, one pause, one learned limit.

Each throttle here stands for one process (its own connection). Waits are injected and never
sleep; Redis's clock is real, so delays are compared with a small tolerance.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio

import thoughtcredits as tc
from thoughtcredits._events import Event, PauseEvent
from thoughtcredits._quota import redis_backend as _redis
from thoughtcredits._quota.clock import Clock
from thoughtcredits._quota.throttle import Throttle

from .conftest import RedisServer

KEY = "thoughtcredits:test"


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


def throttle(
    limit: tc.RedisRateLimit, events: list[Event] | None = None, skew: float = 0.0
) -> Throttle:
    """One process's throttle; ``skew`` moves both its clocks (hosts disagree)."""
    clock = Clock(lambda: time.monotonic() + skew, lambda: time.time() + skew)
    return Throttle(limit, None, emit=(events if events is not None else []).append, clock=clock)


async def go(throttle: Throttle, wait: Callable[[float], Awaitable[None]]) -> None:
    permit = await throttle.acquire(wait)
    throttle.release(permit)


async def test_processes_share_one_bucket(redis_url: str) -> None:
    limit = tc.RedisRateLimit(redis_url, key=KEY, per_minute=60, burst=3)
    a, b = throttle(limit), throttle(limit)
    waits = Waits()
    for one in (a, b, a, b):
        await go(one, waits)
    # Burst 3 keeps one in reserve: two go at once, then one a second, whichever process asks.
    assert waits.seconds == [pytest.approx(1.0, abs=0.05), pytest.approx(2.0, abs=0.05)]
    await a.aclose()
    await b.aclose()


async def test_one_429_pauses_every_process_whatever_their_clocks(redis_url: str) -> None:
    limit = tc.RedisRateLimit(redis_url, key=KEY, per_minute=6000)
    events: list[Event] = []
    # The hosts' clocks disagree by two hours; Redis's clock decides.
    a = throttle(limit, skew=-3600)
    b = throttle(limit, events, skew=3600)
    a.pause(0.3)
    await a.aclose()  # finishes the publication under way
    waited: list[float] = []

    async def sleep(seconds: float) -> None:  # Redis's clock is real, so is this wait
        waited.append(seconds)
        await asyncio.sleep(seconds)

    await go(b, sleep)
    assert sum(waited) == pytest.approx(0.3, abs=0.05)
    assert len(events) == 1
    assert isinstance(events[0], PauseEvent)
    assert events[0].reason == "429"
    assert events[0].seconds == pytest.approx(0.3, abs=0.05)
    await b.aclose()


async def test_the_learned_limit_is_shared(redis_url: str) -> None:
    limit = tc.RedisRateLimit(redis_url, key=KEY)
    a, b = throttle(limit), throttle(limit)
    waits = Waits()
    await go(a, waits)
    a.observe(200, {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "99"})
    await a.aclose()
    assert b.rate_limit is None
    await go(b, waits)
    assert b.rate_limit == tc.RateLimit(600, 100)
    await b.aclose()


async def test_while_nothing_is_known_five_go_then_the_rest_wait(redis_url: str) -> None:
    limit = tc.RedisRateLimit(redis_url, key=KEY)
    a, b = throttle(limit), throttle(limit)
    waits = Waits()
    for one in (a, b, a, b, a):
        await go(one, waits)
    assert waits.seconds == []

    class AskedError(Exception):
        pass

    async def refuse(seconds: float) -> None:
        waits.seconds.append(seconds)
        raise AskedError

    with pytest.raises(AskedError):
        await b.acquire(refuse)
    assert waits.seconds == [_redis.POLL]  # asked again shortly, nothing booked
    # The first answer teaches the limit; the queue booked at the provisional rate shrinks.
    a.observe(200, {"X-RateLimit-Limit": "6000", "X-RateLimit-Remaining": "999"})
    await a.aclose()
    waits.seconds.clear()
    await go(b, waits)
    assert waits.seconds == [] or waits.seconds[0] < 0.1
    await b.aclose()


async def test_nothing_is_booked_beyond_the_horizon(redis_url: str) -> None:
    one = throttle(tc.RedisRateLimit(redis_url, key=KEY, per_minute=60, burst=2))
    waits = Waits()
    for _ in range(6):
        await go(one, waits)
    assert waits.seconds == [pytest.approx(s, abs=0.05) for s in (1, 2, 3, 4, 5)]

    async def refuse(seconds: float) -> None:
        waits.seconds.append(seconds)
        raise TimeoutError

    admin = redis.asyncio.from_url(redis_url)
    tat = await admin.hget(KEY, "tat")
    for place in (1, 2):  # told when to come back: each stands in line behind the one before
        with pytest.raises(TimeoutError):
            await one.acquire(refuse)
        assert waits.seconds[-1] == pytest.approx(place, abs=0.05)
    assert await admin.hget(KEY, "tat") == tat  # and nothing was booked meanwhile
    await one.aclose()
    await admin.aclose()


async def test_one_round_trip_per_request(redis_url: str) -> None:
    limit = tc.RedisRateLimit(redis_url, key=KEY, per_minute=60_000, burst=10_000)
    one = throttle(limit)
    waits = Waits()
    await go(one, waits)  # loads the script once
    admin = redis.asyncio.from_url(redis_url)
    await admin.config_resetstat()
    for _ in range(50):
        await go(one, waits)
    stats = await admin.info("commandstats")
    calls = {name: value["calls"] for name, value in stats.items()}
    # One EVALSHA per request; the rest ran inside it, on the server.
    inside = {"cmdstat_time", "cmdstat_hmget", "cmdstat_hset", "cmdstat_pexpire"}
    assert calls == {"cmdstat_evalsha": 50, "cmdstat_config|resetstat": 1} | dict.fromkeys(
        inside, 50
    )
    await one.aclose()
    await admin.aclose()


async def test_killing_redis_falls_back_with_one_warning(
    redis_url: str,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    limit = tc.RedisRateLimit(redis_url, key=KEY, per_minute=60_000, burst=10_000)
    one = throttle(limit)
    waits = Waits()
    await go(one, waits)
    redis_server.stop()
    for _ in range(20):  # every request still goes, paced in this process
        await go(one, waits)
    one.pause(0.5)  # publishing fails quietly too
    assert [r.getMessage()[:33] for r in caplog.records] == ["Redis rate limiter unreachable (C"]
    assert one.rate_limit == tc.RateLimit(60_000, 10_000)
    redis_server.start()
    monkeypatch.setattr(_redis, "RETRY", 0.0)
    one._redis._retry_at = 0.0  # type: ignore[union-attr]  # "5 s later"
    await go(one, waits)
    assert caplog.records[-1].getMessage().startswith("Redis rate limiter reachable again")
    await one.aclose()


async def test_aclose_closes_only_a_connection_it_made(redis_url: str) -> None:
    borrowed = redis.asyncio.from_url(redis_url)
    one = throttle(tc.RedisRateLimit(borrowed, key=KEY, per_minute=600))
    await go(one, Waits())
    await one.aclose()
    assert await borrowed.ping()
    await borrowed.aclose()


def test_bad_arguments_fail_fast() -> None:
    with pytest.raises(ValueError, match="key"):
        tc.RedisRateLimit("redis://localhost", key="")
    with pytest.raises(ValueError, match="URL"):
        tc.RedisRateLimit("localhost:6379", key=KEY)
    with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        tc.RedisRateLimit(6379, key=KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="per_minute"):
        tc.RedisRateLimit("redis://localhost", key=KEY, burst=5)
    with pytest.raises(ValueError, match="positive"):
        tc.RedisRateLimit("redis://localhost", key=KEY, per_minute=0)
    assert "redis://" not in repr(tc.RedisRateLimit("redis://:secret@localhost", key=KEY))


async def test_512_waiting_requests_make_at_most_two_round_trips_each(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Most of them are due beyond the booking horizon: each is told when to come back and
    then books, whatever the others do meanwhile (it used to ask again and again)."""
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    one = throttle(tc.RedisRateLimit(redis_url, key=KEY, per_minute=1200, burst=20))
    waits = Waits()
    await go(one, waits)  # loads the script once
    admin = redis.asyncio.from_url(redis_url)
    await admin.config_resetstat()
    await asyncio.wait_for(asyncio.gather(*(go(one, waits) for _ in range(512))), 30)
    stats = await admin.info("commandstats")
    assert 512 <= stats["cmdstat_evalsha"]["calls"] <= 2 * 512
    assert caplog.records == []  # all booked through Redis: no fallback
    # The queue ends where 20 a second puts it (less the burst): nobody was lost or doubled.
    assert 512 / 20 - 2 <= max(waits.seconds) <= 512 / 20
    await one.aclose()
    await admin.aclose()


def busiest(moments: list[float], within: float) -> int:
    """The most ``moments`` in any span of ``within`` seconds."""
    moments = sorted(moments)
    return max((bisect.bisect_right(moments, m + within) - i for i, m in enumerate(moments)),
               default=0)  # fmt: skip


async def test_a_pause_moves_every_booked_slot_past_its_end(redis_url: str) -> None:
    """Four processes of 8 tasks share 40 requests a second (burst 10); one pauses them all
    for a second, longer than the queue booked. When it ends, the requests that waited go at
    the rate: at most the burst at once, never the 8 tasks of a process plus a burst."""
    limit = tc.RedisRateLimit(redis_url, key=KEY, per_minute=2400, burst=10)
    processes = [throttle(limit) for _ in range(4)]
    sent: list[float] = []
    stop = time.monotonic() + 1.8

    async def task(one: Throttle) -> None:
        while time.monotonic() < stop:
            permit = await one.acquire(asyncio.sleep)
            sent.append(time.monotonic())
            one.release(permit)

    runners = [asyncio.create_task(task(one)) for one in processes for _ in range(8)]
    await asyncio.sleep(0.5)
    processes[0].pause(1.0)
    ends = time.monotonic() + 1.0
    await asyncio.gather(*runners)
    after = [moment for moment in sent if moment >= ends - 0.01]
    assert len(after) > 10  # the job went on after the pause
    assert busiest(after, 0.05) <= 10 + 2  # the burst, and two more at 40 a second
    for one in processes:
        await one.aclose()


async def test_the_default_key_is_one_per_api_key_and_base_url(redis_url: str) -> None:
    """Two tenants copying the same recipe (no ``key=``) never share a bucket; the workers of
    one tenant always do. The key names the base URL (without its password) and a hash of the
    API key, never the API key itself."""
    limit = tc.RedisRateLimit(redis_url, per_minute=600)
    base = "https://user:pa55@acme.thoughtindustries.com/incoming/v2"
    tenants = [("sk-tenant-a", base), ("sk-tenant-b", base), ("sk-tenant-a", base)]
    throttles = [
        Throttle(limit, None, emit=lambda event: None, scope=(url, api_key))
        for api_key, url in tenants
    ]
    for one in throttles:
        await go(one, Waits())
        await one.aclose()
    admin = redis.asyncio.from_url(redis_url)
    keys = sorted(key.decode() for key in await admin.keys("*"))
    await admin.aclose()
    assert len(keys) == 2  # tenant a's two workers share one bucket, tenant b has its own
    for key in keys:
        assert key.startswith("thoughtcredits:https://acme.thoughtindustries.com/incoming/v2:")
        assert "sk-tenant" not in key
        assert "pa55" not in key
    assert tc.RedisRateLimit.default_key(base, "sk-tenant-a") in keys


def test_a_key_function_needs_a_redis_key_given() -> None:
    """A key that rotates cannot name the shared quota: each new token would start a bucket of
    its own, so the processes would together send more than the server allows."""
    with pytest.raises(
        ValueError, match=r"RedisRateLimit\(key=\.\.\.\) when api_key is a function"
    ):
        tc.Client(
            "http://127.0.0.1:9",
            lambda: "sk-rotating",
            rate_limit=tc.RedisRateLimit("redis://127.0.0.1:9"),
        )
    client = tc.Client(
        "http://127.0.0.1:9",
        lambda: "sk-rotating",
        rate_limit=tc.RedisRateLimit("redis://127.0.0.1:9", key=KEY),
    )
    assert "sk-rotating" not in repr(client)


async def test_a_refusal_pauses_every_process_even_when_it_asks_little(redis_url: str) -> None:
    """The shared bucket paces the processes, so a 429 (which it should have prevented: a
    client outside the group, a burst the server reckons otherwise) pauses them all for its
    ``Retry-After``, even one second, which a process's own model would have explained."""
    limit = tc.RedisRateLimit(redis_url, key=KEY)
    a, b = throttle(limit), throttle(limit)
    headers = {"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "9"}
    permit = await a.acquire(Waits())
    a.observe(200, headers, permit)  # learned: a has a model of its own now
    a.release(permit)
    permit = await a.acquire(Waits())
    a.observe(429, {**headers, "X-RateLimit-Remaining": "0", "Retry-After": "1"}, permit)
    a.release(permit)
    await a.aclose()  # the publication under way finishes
    waits = Waits()
    await go(b, waits)
    assert waits.seconds[0] == pytest.approx(1.0, abs=0.1)
    await b.aclose()
