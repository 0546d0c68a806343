"""Bounded memory: the request log is a ring buffer, bodies are capped, strangers get nothing."""

from __future__ import annotations

import aiohttp
import pytest

from thoughtcredits.testing import FakeCreditsServer, RecordedRequest
from thoughtcredits.testing._server.log import MAX_BODY_KEPT, MAX_HEADERS_KEPT

from .conftest import KEY, Http, account_body


async def test_log_keeps_the_last_log_size_requests(cid: str) -> None:
    """log_size=3: five requests leave the last three; total counts all five."""
    seen: list[RecordedRequest] = []
    async with (
        FakeCreditsServer(api_key=KEY, log_size=3, on_request=seen.append) as server,
        aiohttp.ClientSession() as session,
    ):
        http = Http(session, server)
        for page in range(1, 6):
            await http.get(f"/clients/{cid}/creditBatches", clientId=cid, page=str(page))
        assert [r.query["page"] for r in server.requests] == ["3", "4", "5"]
        assert (server.log.total, len(server.log), server.log.size) == (5, 3, 3)
    assert [(r.query["page"], r.status) for r in seen] == [(str(p), 200) for p in range(1, 6)]


def test_log_size_must_be_positive() -> None:
    """A log that keeps nothing is refused up front."""
    with pytest.raises(ValueError, match="log_size: must be at least 1"):
        FakeCreditsServer(log_size=0)


async def test_big_body_is_kept_only_up_to_the_cap(
    http: Http, fake: FakeCreditsServer, cid: str
) -> None:
    """A 100 KB body is served, but only its first 64 KiB are kept, and not decoded."""
    body = account_body(name="n" * 100_000)
    assert (await http.post(f"/clients/{cid}/creditAccounts", body)).status == 201
    [seen] = fake.requests
    assert len(seen.body) == MAX_BODY_KEPT
    assert seen.body_size > 100_000
    assert seen.json is None


async def test_unauthenticated_requests_are_logged_without_body(
    http: Http, fake: FakeCreditsServer, cid: str
) -> None:
    """A request without the key is recorded (status 401) but its body is never read."""
    reply = await http.call("POST", f"/clients/{cid}/creditAccounts", json=account_body(), key="x")
    assert reply.status == 401
    [seen] = fake.requests
    assert (seen.status, seen.body, seen.body_size, seen.json) == (401, b"", 0, None)


async def test_headers_are_capped(http: Http, fake: FakeCreditsServer, cid: str) -> None:
    """Fifty 1 KB headers: the log keeps at most 8 KiB of them."""
    headers = {f"X-Filler-{i}": "v" * 1000 for i in range(50)}
    url = f"{fake.url}/incoming/v2/clients/{cid}/creditBatches"
    async with http.session.get(url, params={"clientId": cid}, headers=headers) as response:
        assert response.status == 401
    [seen] = fake.requests
    assert 0 < sum(len(k) + len(v) for k, v in seen.headers.items()) <= MAX_HEADERS_KEPT


async def test_rate_limit_buckets_only_for_the_servers_key(cid: str) -> None:
    """A thousand distinct wrong keys leave no bucket; each gets a full bucket's headers."""
    async with (
        FakeCreditsServer(api_key=KEY, rate_limit=(60, 2)) as server,
        aiohttp.ClientSession() as session,
    ):
        http = Http(session, server)
        for n in range(300):
            reply = await http.call("GET", f"/clients/{cid}/creditBatches", key=f"k{n}")
            assert (reply.status, reply.headers["X-RateLimit-Remaining"]) == (401, "1")
        assert server.limiter is not None
        assert len(server.limiter) == 0
        statuses = [(await http.get(f"/clients/{cid}/creditBatches", clientId=cid)).status
                    for _ in range(3)]  # fmt: skip
        assert statuses == [200, 200, 429]
        assert len(server.limiter) == 1
