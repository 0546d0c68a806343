"""Metrics: each attempt's duration, the clients' counters, and their quota as they see it."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from yarl import URL

import thoughtcredits as tc
from thoughtcredits.testing import MockTransport, RecordingSleep, json_response

from ..conftest import BATCH_ID, CLIENT_ID, payload
from .conftest import Otel

KEY = "sk-otel-SECRET-metrics-41"
QUOTA = {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "87", "X-RateLimit-Reset": "60"}


class Api:
    """Creates and updates answered with quota headers; ``first`` answers go first."""

    def __init__(self) -> None:
        self.first: list[tc.HTTPResponse] = []

    def __call__(self, request: tc.HTTPRequest) -> tc.HTTPResponse:
        if self.first:
            return self.first.pop(0)
        if request.method == "POST":
            created = {"data": {"CreateCreditBatch": payload("create_credit_batch")}}
            return json_response(created, status=201, headers=QUOTA)
        updated = {"data": {"UpdateCreditBatch": payload("update_credit_batch")}}
        return json_response(updated, headers=QUOTA)


def client_of(api: Api, base_url: str, **kwargs: Any) -> tc.Client:
    """A client answered by ``api``, its waits recorded, not slept."""
    return tc.Client(base_url, KEY, transport=MockTransport(api), sleep=RecordingSleep(), **kwargs)


def by_server(points: list[Any], base_url: str) -> list[Any]:
    """The points of the test's own server."""
    return [p for p in points if p.attributes.get("server.address") == URL(base_url).host]


def value(otel: Otel, name: str, base_url: str) -> Any:
    """The one value of ``name`` for the test's server (None when it has none)."""
    points = by_server(otel.points(name), base_url)
    assert len(points) <= 1
    return points[0].value if points else None


async def test_every_attempt_has_a_duration(otel: Otel, base_url: str) -> None:
    """http.client.request.duration: one count per attempt, by method, template and status."""
    api = Api()
    api.first = [json_response({"message": "busy"}, status=503)]
    async with client_of(api, base_url) as client:
        await client.credit_batches.update(BATCH_ID, current_balance=3)
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    points = by_server(otel.points("http.client.request.duration"), base_url)
    counts = {
        (p.attributes["http.request.method"], p.attributes.get("http.response.status_code"),
         p.attributes.get("error.type")): p.count
        for p in points
    }  # fmt: skip
    assert counts == {("PUT", 503, "503"): 1, ("PUT", 200, None): 1, ("POST", 201, None): 1}
    templates = {p.attributes["url.template"] for p in points}
    assert templates == {
        "/incoming/v2/clients/creditBatches/{id}",
        "/incoming/v2/clients/{id}/creditBatches",
    }
    assert all(p.sum > 0 for p in points)


async def test_the_quota_as_the_client_sees_it_is_a_gauge(otel: Otel, base_url: str) -> None:
    """Limit, remaining and paused come from client.quota while the client is open."""
    api = Api()
    async with client_of(api, base_url, retry=None) as client:
        assert value(otel, "thoughtcredits.quota.limit", base_url) is None  # nothing said yet
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        assert (client.quota.limit, client.quota.remaining) == (120, 87)
        assert value(otel, "thoughtcredits.quota.limit", base_url) == 120
        assert value(otel, "thoughtcredits.quota.remaining", base_url) == 87
        assert value(otel, "thoughtcredits.quota.paused", base_url) == 0
        api.first = [json_response({}, status=429, headers={"Retry-After": "30"})]
        with pytest.raises(tc.RateLimitError):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        assert client.quota.paused_until is not None
        assert value(otel, "thoughtcredits.quota.paused", base_url) == 1
    assert value(otel, "thoughtcredits.quota.limit", base_url) is None  # closed: not reported


async def test_the_counters_follow_client_stats_and_never_go_down(
    otel: Otel, base_url: str
) -> None:
    """Retries, 429s and throttle waits are client.stats, summed by server, kept after close."""
    api = Api()
    api.first = [
        json_response({}, status=429, headers={"Retry-After": "2"}),
        json_response({"message": "busy"}, status=503),
    ]
    async with client_of(api, base_url) as first:
        await first.credit_batches.update(BATCH_ID, current_balance=3)
        stats = first.stats
        assert (stats.retries, stats.rate_limited) == (2, 1)
        assert value(otel, "thoughtcredits.client.retries", base_url) == 2
        assert value(otel, "thoughtcredits.client.rate_limited", base_url) == 1
        waited = value(otel, "thoughtcredits.client.throttle.wait_time", base_url)
        assert waited == pytest.approx(stats.throttle_wait)
    assert value(otel, "thoughtcredits.client.retries", base_url) == 2  # closed: still counted
    api.first = [json_response({"message": "busy"}, status=503)]
    async with client_of(api, base_url) as second:
        await second.credit_batches.update(BATCH_ID, current_balance=3)
        assert value(otel, "thoughtcredits.client.retries", base_url) == 3
    del first, second
    assert value(otel, "thoughtcredits.client.retries", base_url) == 3
    assert value(otel, "thoughtcredits.client.rate_limited", base_url) == 1


async def test_closed_clients_are_let_go_even_if_no_meter_collects(base_url: str) -> None:
    """Without any reader collecting, a process making many clients holds only the open ones."""
    first = client_of(Api(), base_url)
    stats = weakref.ref(first.stats)
    await first.aclose()
    del first
    for _ in range(300):
        async with client_of(Api(), base_url):
            pass
    gc.collect()
    assert stats() is None  # folded into the server's totals, and dropped
