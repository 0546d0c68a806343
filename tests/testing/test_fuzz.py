"""Random bodies and queries against every route: never a 500, and a refusal stores nothing."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thoughtcredits.testing import FakeCreditsServer

from .invariants import assert_consistent

KEY = "fuzz-key"
CID = "0e2c4c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
STRANGER = "1e2c4c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
FIELDS = ["startingBalance", "currentBalance", "name", "expiresOn", "creditAccountId", "clientId",
          "notifyEmails", "licenseIds", "type", "batchDaysUntilExpire", "minimumBatchAmount",
          "creditBatchName"]  # fmt: skip
NUMBERS = ["0", "1", "-1", "5.0", "1e5000", "1e-2000000", "1e700000", "-0", "0.1", "1E+30",
           "9" * 31, "9" * 32, "1" * 5000, "0.0000000000001", "123.000000000000000000", "1e-12",
           "NaN", "Infinity", "10000000000000000000"]  # fmt: skip

scalars = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        [
            "null",
            "true",
            "false",
            '""',
            '"x"',
            f'"{CID}"',
            '"2030-01-01T00:00:00Z"',
            '"9999-12-31T23:00:00-05:00"',
            '"client"',
            '"company"',
        ]
    ),
    st.text(max_size=20).map(json.dumps),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]"),
    max_leaves=6,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6).map(
        lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}"
    ),
    values,
    st.just("[" * 5000),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)
queries = st.dictionaries(
    st.sampled_from(["clientId", "creditAccountId", "actionType", "perPage", "page", "cursor"]),
    st.one_of(
        st.sampled_from(["--5", "0", "1", "2", "9" * 5000, CID, "credit", "debit", "MQ"]),
        st.text(max_size=10),
    ),
    max_size=5,
)


class Background:
    """One server on a private loop in a thread, so hypothesis can drive it synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = FakeCreditsServer(api_key=KEY)
        self.call(self.server.start())
        self.host, self.port = urlsplit(self.server.url).hostname, urlsplit(self.server.url).port

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def request(self, method: str, path: str, body: bytes | None) -> int:
        connection = http.client.HTTPConnection(self.host or "", self.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def background() -> Iterator[Background]:
    """A server shared by every example (reset by each)."""
    running = Background()
    yield running
    running.close()


def arrange(server: FakeCreditsServer) -> tuple[str, str]:
    """Reset to one client with one account; its id and its batch's."""
    server.reset()
    server.ledger.add_client(CID)
    account = server.ledger.create_account(CID, name="A", starting_balance=10)
    return account.id, account.batches[0].id


WRITES = ["POST creditBatches", "POST creditAccounts", "PUT batch", "POST new client"]


FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_OK)
@given(route=st.sampled_from(WRITES), body=bodies)
def test_random_write_bodies_never_500_and_refusals_store_nothing(
    background: Background, route: str, body: str
) -> None:
    """Any body: 2xx or 4xx; on a 4xx the ledger is byte-identical; invariants always hold."""
    server = background.server
    _, batch_id = arrange(server)
    before = server.snapshot_json()
    method, path = {
        "POST creditBatches": ("POST", f"/incoming/v2/clients/{CID}/creditBatches"),
        "POST creditAccounts": ("POST", f"/incoming/v2/clients/{CID}/creditAccounts"),
        "PUT batch": ("PUT", f"/incoming/v2/clients/creditBatches/{batch_id}"),
        "POST new client": ("POST", f"/incoming/v2/clients/{STRANGER}/creditAccounts"),
    }[route]
    status = background.request(method, path, body.encode("utf-8", "surrogatepass"))
    assert status in (200, 201, 400, 404), (status, body[:200])
    if status >= 400:
        assert server.snapshot_json() == before
    assert_consistent(server.ledger)


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURE_OK)
@given(query=queries, actions=st.booleans())
def test_random_queries_never_500(
    background: Background, query: dict[str, str], actions: bool
) -> None:
    """Any query on either listing: 200, 400 or 404, and the ledger is untouched."""
    server = background.server
    account_id, _ = arrange(server)
    before = server.snapshot_json()
    path = (f"/incoming/v2/clients/{CID}/creditAccount/{account_id}/creditActions" if actions
            else f"/incoming/v2/clients/{CID}/creditBatches")  # fmt: skip
    encoded = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
    status = background.request("GET", f"{path}?{encoded}", None)
    assert status in (200, 400, 404), (status, query)
    assert server.snapshot_json() == before
