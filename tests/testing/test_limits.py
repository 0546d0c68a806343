"""The server-side token bucket: headers on every response, 429s, refill on an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from thoughtcredits.testing import FakeCreditsServer
from thoughtcredits.testing._server.limits import RateLimiter

from .conftest import Http

START = 1_716_505_200.0


class Clock:
    """A settable epoch clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_burst_then_refuses_until_refill() -> None:
    """A bucket of 3 at 60/min gives 3 requests, refuses the 4th for 1 s, then allows 1 more."""
    clock = Clock()
    limiter = RateLimiter(60, 3, clock=clock)
    decisions = [limiter.take("k") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[3].retry_after == 1
    assert decisions[3].reset == int(START) + 1
    assert decisions[0].reset == int(START) + 1  # one token short of full
    assert limiter.take("other").allowed  # buckets are per key
    clock.now += 1.0
    assert limiter.take("k").allowed
    assert not limiter.take("k").allowed


def test_slow_refill_gives_whole_second_retry_after() -> None:
    """At 6/min a token takes 10 s; Retry-After and Reset say so in whole seconds."""
    clock = Clock()
    limiter = RateLimiter(6, 1, clock=clock)
    assert limiter.take("k").allowed
    clock.now += 2.5
    refused = limiter.take("k")
    assert (refused.allowed, refused.retry_after, refused.reset) == (False, 8, int(START) + 10)
    assert refused.headers() == {
        "X-RateLimit-Limit": "6", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(START) + 10), "Retry-After": "8",
    }  # fmt: skip
    assert refused.body() == {
        "error": "rate_limit_exceeded",
        "message": "Request rate limit reached. Retry after 8 seconds.",
        "retryAfter": 8,
    }


def test_bad_limits_are_refused() -> None:
    """per_minute and burst must be positive."""
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0, 5)


@pytest.fixture
async def limited() -> AsyncIterator[tuple[FakeCreditsServer, Http, Clock]]:
    """A server limited to 120/min with a burst of 2, on a settable clock."""
    clock = Clock()
    async with (
        FakeCreditsServer(rate_limit=(120, 2), clock=clock) as fake,
        aiohttp.ClientSession() as session,
    ):
        yield fake, Http(session, fake), clock


async def test_every_response_carries_rate_limit_headers(
    limited: tuple[FakeCreditsServer, Http, Clock],
) -> None:
    """200, 400, 401 and 404 answers all carry X-RateLimit-Limit/Remaining/Reset."""
    fake, http, clock = limited
    cid = str(fake.ledger.add_client())
    replies = [
        await http.get(f"/clients/{cid}/creditBatches", clientId=cid),
        await http.get(f"/clients/{cid}/creditBatches"),
        await http.call("GET", f"/clients/{cid}/creditBatches", key="wrong"),
    ]
    clock.now += 1.0  # two tokens back at 120/min
    replies.append(await http.get("/nowhere"))
    assert [r.status for r in replies] == [200, 400, 401, 404]
    for reply in replies:
        assert reply.headers["X-RateLimit-Limit"] == "120"
        assert reply.headers["X-RateLimit-Reset"].isdigit()
        assert "Retry-After" not in reply.headers
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["1", "0", "1", "1"]


async def test_exhausted_bucket_answers_429_until_refilled(
    limited: tuple[FakeCreditsServer, Http, Clock],
) -> None:
    """Past the burst the server answers 429 with Retry-After and the documented body, and
    changes nothing; after the clock moves on, requests pass again."""
    fake, http, clock = limited
    cid = str(fake.ledger.add_client())
    body = {"name": "A", "startingBalance": 1, "notifyEmails": [], "licenseIds": []}
    for _ in range(2):
        assert (await http.post(f"/clients/{cid}/creditAccounts", body)).status == 201
    refused = await http.post(f"/clients/{cid}/creditAccounts", body)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == str(int(START) + 1)
    assert refused.json == {
        "error": "rate_limit_exceeded",
        "message": "Request rate limit reached. Retry after 1 seconds.",
        "retryAfter": 1,
    }
    assert len(fake.ledger.accounts) == 2
    assert fake.requests[-1].status == 429
    clock.now += 0.5
    assert (await http.post(f"/clients/{cid}/creditAccounts", body)).status == 201


async def test_no_headers_without_a_rate_limit(http: Http, cid: str) -> None:
    """A server without rate_limit sends no X-RateLimit-* headers."""
    reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    assert not [name for name in reply.headers if name.lower().startswith("x-ratelimit")]
