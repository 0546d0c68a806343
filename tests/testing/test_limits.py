"""The server-side limiters (token bucket, fixed and sliding window): headers on every
response, 429s, refill on an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from thoughtcredits.testing import FakeCreditsServer, FixedWindow, SlidingWindow, TokenBucket
from thoughtcredits.testing._server.limits import LimiterSpec, limiter_for, parse_limit

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
    limiter = limiter_for((60, 3), clock=clock)
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
    limiter = limiter_for(TokenBucket(6, 1), clock=clock)
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
        limiter_for((0, 5))


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


# -- the window models ------------------------------------------------------------------------


def test_fixed_window_counts_each_minute_of_the_clock_afresh() -> None:
    """300 per minute: the 301st request of a minute waits for the next one, whatever the
    spacing; Reset is the minute's end, exact."""
    clock = Clock()
    clock.now = 1_716_505_230.25  # 29.75 s before the minute ends
    limiter = limiter_for(FixedWindow(3, 60), clock=clock)
    decisions = [limiter.take("k") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert {d.reset for d in decisions} == {1_716_505_260}
    assert decisions[3].headers() == {
        "X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1716505260", "Retry-After": "30",
    }  # fmt: skip
    clock.now = 1_716_505_259.99
    assert not limiter.take("k").allowed
    clock.now = 1_716_505_260.0  # the next minute: a fresh count
    fresh = limiter.take("k")
    assert (fresh.allowed, fresh.remaining, fresh.reset) == (True, 2, 1_716_505_320)


def test_sliding_window_frees_each_request_one_window_after_it() -> None:
    """3 in any 10 s: the 4th waits for the oldest to leave, and only that one frees."""
    clock = Clock()
    limiter = limiter_for(SlidingWindow(3, 10), clock=clock)
    for step in (0.0, 1.0, 2.0):
        clock.now = START + step
        assert limiter.take("k").allowed
    clock.now = START + 2.5
    refused = limiter.take("k")
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert (refused.retry_after, refused.reset) == (8, int(START) + 10)
    clock.now = START + 10.0  # the first request leaves: one more, no more
    again = limiter.take("k")
    assert (again.allowed, again.remaining, again.reset) == (True, 0, int(START) + 11)
    assert not limiter.take("k").allowed
    clock.now = START + 30.0  # all have left: the whole window again
    assert limiter.take("k").remaining == 2
    assert limiter.take("other").remaining == 2  # per key


@pytest.mark.parametrize("spec", [FixedWindow(2, 10), SlidingWindow(2, 10)])
def test_a_clock_that_goes_back_does_not_hold_the_window_for_as_long(spec: LimiterSpec) -> None:
    """The system clock is set back an hour (an NTP step): the requests a window had seen
    are not held "in the future" for that hour (Retry-After: 3610)."""
    clock = Clock()
    limiter = limiter_for(spec, clock=clock)
    assert [limiter.take("k").allowed for _ in range(3)] == [True, True, False]
    clock.now = START - 3600.0
    again = limiter.take("k")
    assert (again.allowed, again.retry_after, again.remaining) == (True, 0, 1)


def test_unknown_keys_are_not_remembered_by_any_model() -> None:
    for spec in (TokenBucket(60, 3), FixedWindow(3), SlidingWindow(3)):
        limiter = limiter_for(spec, clock=Clock())
        for _ in range(10):
            assert limiter.take(None).allowed
        assert len(limiter) == 0
        limiter.take("k")
        assert len(limiter) == 1
        limiter.reset()
        assert len(limiter) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120/20", TokenBucket(120, 20)),
        ("120", TokenBucket(120, 20)),
        (" token-bucket:600/1 ", TokenBucket(600, 1)),
        ("fixed-window:300/60", FixedWindow(300, 60)),
        ("fixed-window:300", FixedWindow(300, 60)),
        ("sliding-window:50/10", SlidingWindow(50, 10)),
    ],
)
def test_limits_parse_from_their_spec(text: str, expected: LimiterSpec) -> None:
    assert parse_limit(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fixed:300/60", "expected PER_MIN"),
        ("120/0", "burst must be a whole number, at least 1"),
        ("0", "per_minute must be a whole number, at least 1"),
        ("sliding-window:5/0", "seconds must be from 0.001 to 86400"),
        ("fixed-window:5/100000", "seconds must be from 0.001 to 86400"),
        ("9999999999/1", "at most 10\\*\\*9"),
        ("1" * 5000, "expected PER_MIN"),
        ("120/20\ud800", "expected PER_MIN"),
        ("fixed-window:\uff11/5", "expected PER_MIN"),
        ("\u0661\u0662\u0660", "expected PER_MIN"),
    ],
)
def test_bad_limit_specs_are_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_limit(text)


def test_allowance_is_what_a_perfect_client_gets() -> None:
    assert TokenBucket(1200, 10).allowance(10.0) == 210.0
    # From 30 s into a minute, 45 s touch two minutes: 300 in each.
    assert FixedWindow(300).allowance(45.0, start=1_716_505_230.0) == 600.0
    assert FixedWindow(300).allowance(25.0, start=1_716_505_230.0) == 300.0
    assert SlidingWindow(300).allowance(59.0) == 300.0
    assert SlidingWindow(300).allowance(60.0) == 600.0


@pytest.mark.parametrize(
    "spec", [FixedWindow(2, 60), SlidingWindow(2, 60)], ids=["fixed", "sliding"]
)
async def test_window_servers_send_the_documented_headers_and_refuse_past_the_limit(
    spec: LimiterSpec,
) -> None:
    clock = Clock()
    async with (
        FakeCreditsServer(rate_limit=spec, clock=clock) as fake,
        aiohttp.ClientSession() as session,
    ):
        http = Http(session, fake)
        cid = str(fake.ledger.add_client())
        replies = [await http.get(f"/clients/{cid}/creditBatches", clientId=cid) for _ in range(3)]
        assert [r.status for r in replies] == [200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["1", "0", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in replies} == {"2"}
        assert replies[2].headers["Retry-After"] == "60"
        assert replies[2].json["retryAfter"] == 60
        clock.now += 60.0
        assert (await http.get(f"/clients/{cid}/creditBatches", clientId=cid)).status == 200


def test_bad_limiter_objects_are_refused() -> None:
    with pytest.raises(TypeError, match="FixedWindow or SlidingWindow"):
        limiter_for("120/20")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit must be a whole number"):
        FixedWindow(True)  # type: ignore[arg-type]
