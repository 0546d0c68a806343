"""The default limiter through ``tc.Client`` against the fake server: the probe and learning.

The server limits the key to 20 requests a second with a burst of 20, so these run in about a
second each.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import time as _real_time
import types
import uuid

import pytest

import thoughtcredits as tc
from thoughtcredits._quota import hints
from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep

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


# -- one clock, and hints read once ------------------------------------------------------------


class SteppedTime(types.ModuleType):
    """The ``time`` module as the SDK sees it, with its wall clock moved by ``step`` seconds."""

    def __init__(self, step: float) -> None:
        super().__init__("time")
        self.step = step

    def time(self) -> float:
        return _real_time.time() + self.step

    def __getattr__(self, name: str) -> object:
        return getattr(_real_time, name)


def step_the_wall_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Step the SDK's wall clock (not the server's, which runs on another machine)."""
    shim = SteppedTime(seconds)
    for name, module in list(sys.modules.items()):
        sdk = name.startswith("thoughtcredits") and not name.startswith("thoughtcredits.testing")
        if sdk and getattr(module, "time", None) is _real_time:
            monkeypatch.setattr(module, "time", shim)


async def test_a_wall_clock_stepped_back_an_hour_mid_job_fails_no_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NTP or a restored VM steps the wall clock back an hour while 16 tasks run: every wait
    and deadline is monotonic, so nothing waits for the hour and no request fails."""
    async with (
        FakeCreditsServer(KEY, rate_limit=(1200, 10)) as server,
        tc.Client(server.url, KEY) as client,
    ):
        done = 0

        async def worker() -> None:
            nonlocal done
            for _ in range(4):
                await get(client)
                done += 1
                if done == 20:
                    step_the_wall_clock(monkeypatch, -3600)

        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(16))), 30)
        assert done == 64
        assert time.monotonic() - started < 10  # 64 requests at 20 a second, burst 10
        assert client.stats.rate_limited <= 1


async def refused_then_served(headers: dict[str, str], tasks: int) -> tuple[list[int], list[float]]:
    """``tasks`` GETs, each refused once with ``headers``; the statuses and the waits."""
    sleep = RecordingSleep()
    async with (
        FakeCreditsServer(KEY) as server,
        tc.Client(server.url, KEY, sleep=sleep, rate_limit=None) as client,
    ):
        server.inject(Fault("status", status=429, headers=headers, count=tasks))
        await asyncio.gather(*(get(client) for _ in range(tasks)))
        return [r.status for r in server.requests], sleep.waits


async def test_a_retry_after_below_the_back_off_floor_is_the_back_off() -> None:
    """``Retry-After: 0.001`` (or 1e-300) is no invitation to a retry storm: 20 tasks refused
    that way each wait at least ``wait_initial`` before trying again."""
    statuses, waits = await refused_then_served({"Retry-After": "0.001"}, 20)
    assert len(statuses) == 40
    retry_waits = [wait for wait in waits if wait > 0.01]
    assert len(retry_waits) == 20
    assert min(retry_waits) >= tc.RetryPolicy().wait_initial


async def test_a_reset_in_milliseconds_is_ignored_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An ``X-RateLimit-Reset`` in epoch milliseconds is 55 years ahead: it is ignored (the
    refusal is retried after the back-off) and said once, however many answers carry it."""
    caplog.set_level(logging.WARNING, logger="thoughtcredits")
    hints._warned.clear()
    in_ms = str(int(_real_time.time() * 1000) + 5000)
    statuses, waits = await refused_then_served({"X-RateLimit-Reset": in_ms}, 5)
    assert statuses.count(200) == 5
    assert all(0.5 <= wait <= 1.5 for wait in waits)  # the back-off, not 1.8e12 s
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("ignoring the server's X-RateLimit-Reset")
