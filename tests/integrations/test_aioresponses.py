"""Code that uses the SDK, tested by mocking aiohttp with aioresponses (docs/testing.md's recipe).

The recipe's own block runs in tests/test_docs.py; these check what its list promises: the
SDK's requests are intercepted at their full URL with their exact body and headers, an
unregistered URL reads as a lost connection, and error statuses keep the SDK's retry rules.
"""

from __future__ import annotations

import json

import pytest
from aioresponses import aioresponses
from yarl import URL

import thoughtcredits as tc
from tests.conftest import API_KEY, BATCH_ID, CLIENT_ID, sample
from thoughtcredits.testing import RecordingSleep

BASE = "https://acme.thoughtindustries.com"
BATCHES = f"{BASE}/incoming/v2/clients/{CLIENT_ID}/creditBatches"
UPDATE = f"{BASE}/incoming/v2/clients/creditBatches/{BATCH_ID}"


async def test_a_create_is_intercepted_with_its_body_and_headers() -> None:
    """The POST reaches aiohttp at its full URL, with the exact JSON and the bearer key."""
    with aioresponses() as mocked:
        mocked.post(BATCHES, status=201, payload=sample("create_credit_batch"))
        async with tc.Client(BASE, API_KEY) as client:
            batch = await client.credit_batches.create(CLIENT_ID, starting_balance=100)
    assert batch.current_balance == 0  # the seed page's answer, parsed
    (call,) = mocked.requests[("POST", URL(BATCHES))]
    assert json.loads(call.kwargs["data"]) == {"clientId": CLIENT_ID, "startingBalance": 100}
    headers = call.kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("method", "url", "sent"), [("PUT", UPDATE, 3), ("POST", BATCHES, 1)])
async def test_an_unregistered_url_fails_as_a_lost_connection(
    method: str, url: str, sent: int
) -> None:
    """aioresponses answers an unknown URL with a bare ClientConnectionError: it may have been
    sent, so a PUT is retried up to the attempts and a POST is not sent twice."""
    sleep = RecordingSleep()
    with aioresponses() as mocked:
        async with tc.Client(BASE, API_KEY, retry=tc.RetryPolicy(attempts=3), sleep=sleep) as c:
            call = (
                c.credit_batches.update(BATCH_ID, current_balance=1)
                if method == "PUT"
                else c.credit_batches.create(CLIENT_ID, starting_balance=1)
            )
            with pytest.raises(tc.APIConnectionError) as caught:
                await call
    assert caught.value.request_sent is True
    assert len(mocked.requests[(method, URL(url))]) == sent
    assert len(sleep.waits) == sent - 1


async def test_a_mocked_503_is_retried_and_a_500_on_a_post_is_not() -> None:
    """Error statuses keep the SDK's rules: a PUT is sent again, a POST is not."""
    sleep = RecordingSleep()
    with aioresponses() as mocked:
        mocked.put(UPDATE, status=503, payload={"message": "busy"})
        mocked.put(UPDATE, status=200, payload=sample("update_credit_batch"))
        mocked.post(BATCHES, status=500, payload={"message": "oops"})
        async with tc.Client(BASE, API_KEY, sleep=sleep) as client:
            updated = await client.credit_batches.update(BATCH_ID, current_balance=90)
            with pytest.raises(tc.InternalServerError, match="oops"):
                await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    assert updated.id is not None
    assert len(mocked.requests[("PUT", URL(UPDATE))]) == 2
    assert len(mocked.requests[("POST", URL(BATCHES))]) == 1
    assert len(sleep.waits) == 1
