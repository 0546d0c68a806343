"""Hostile input: a quick 400 (or 413), never a 500 or a stalled loop, and nothing stored.

Each case was once a 500 that stored half a write, or a freeze: ``1e5000`` stored a batch
that broke every later listing, ``1e-2000000`` a batch without its credit action, and
``1e700000`` froze the server for 12 s.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from thoughtcredits.testing import FakeCreditsServer

from .conftest import Http, account_body
from .invariants import assert_consistent

FAST_MS = 250  # generous for a loaded CI box; measured figures are a few ms


def _num(text: str) -> bytes:
    return text.encode()


DEEP_ARRAY = b'{"startingBalance": 1, "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_OBJECT = b'{"a":' * 40_000 + b"1" + b"}" * 40_000
DEEP_UNBALANCED = b"[" * 200_000
DEEP_IN_STRING = b'{"startingBalance": 1, "name": "' + b"[" * 200_000 + b'"}'


BATCH_BODIES = {
    "1e5000": b'{"startingBalance": 1e5000}',
    "1e-2000000": b'{"startingBalance": 1e-2000000}',
    "1e700000": b'{"startingBalance": 1e700000}',
    "5000-digit integer": b'{"startingBalance": ' + b"9" * 5000 + b"}",
    "32-digit integer": b'{"startingBalance": ' + b"1" + b"0" * 31 + b"}",
    "32 digits before the point": b'{"startingBalance": 1' + b"0" * 31 + b".5}",
    "1e31": b'{"startingBalance": 1e31}',
    "13 decimal places": b'{"startingBalance": 0.0000000000001}',
    "100 digits": b'{"startingBalance": 1.' + b"1" * 100 + b"}",
    "NaN": b'{"startingBalance": NaN}',
    "-Infinity": b'{"startingBalance": -Infinity}',
    "deep array": DEEP_ARRAY,
    "deep object": DEEP_OBJECT,
    "unbalanced": DEEP_UNBALANCED,
    "expiry past year 9999": b'{"startingBalance": 1, "expiresOn": "9999-12-31T23:00:00-05:00"}',
    "expiry before year 1": b'{"startingBalance": 1, "expiresOn": "0001-01-01T00:00:00+05:00"}',
}


async def timed(http: Http, method: str, path: str, **kwargs: object) -> tuple[int, dict, float]:  # type: ignore[type-arg]
    started = time.perf_counter()
    reply = await http.call(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    return reply.status, reply.json if reply.raw else {}, elapsed


@pytest.fixture
async def arranged(fake: FakeCreditsServer, cid: str) -> tuple[str, str, str]:
    """A client with one account and its batch; returns their ids."""
    account = fake.ledger.create_account(cid, name="A", starting_balance=100)
    return cid, account.id, account.batches[0].id


@pytest.mark.parametrize("case", list(BATCH_BODIES))
async def test_hostile_batch_body_is_a_quick_400_and_stores_nothing(
    http: Http, fake: FakeCreditsServer, arranged: tuple[str, str, str], case: str
) -> None:
    """POST creditBatches with a hostile body: 400 in milliseconds, ledger byte-identical."""
    cid, _, _ = arranged
    before = fake.snapshot_json()
    status, body, ms = await timed(http, "POST", f"/clients/{cid}/creditBatches",
                                   data=BATCH_BODIES[case])  # fmt: skip
    assert status == 400, body
    assert body["error"] == "bad_request"
    assert ms < FAST_MS
    assert fake.snapshot_json() == before
    assert_consistent(fake.ledger)
    listing = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    assert listing.status == 200


@pytest.mark.parametrize(
    "body",
    [
        account_body(startingBalance=None) | {"startingBalance": "placeholder"},
        account_body(batchDaysUntilExpire=10**17),
        account_body(batchDaysUntilExpire=-1),
        account_body(minimumBatchAmount=10**18),
        account_body(minimumBatchAmount=-5),
    ],
    ids=["string amount", "expiry days past 9999", "negative days", "19-digit int", "negative"],
)
async def test_hostile_account_body_leaves_no_client_account_or_action(
    http: Http, fake: FakeCreditsServer, body: dict[str, object]
) -> None:
    """A refused create-account for a new client registers nothing at all."""
    stranger = "0e2c4c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
    status, _, ms = await timed(http, "POST", f"/clients/{stranger}/creditAccounts", json=body)
    assert status == 400
    assert ms < FAST_MS
    assert (fake.ledger.clients, fake.ledger.accounts, fake.ledger.batches) == ({}, {}, {})


@pytest.mark.parametrize(
    "data", [b'{"name": "x", "startingBalance": 1e700000, "notifyEmails": [], "licenseIds": []}',
             b'{"name": "x", "startingBalance": 1e-2000000, "notifyEmails": [], "licenseIds": []}',
             DEEP_IN_STRING + b"x"],
    ids=["1e700000", "1e-2000000", "unterminated deep string"],
)  # fmt: skip
async def test_hostile_numbers_in_new_account_for_new_client(
    http: Http, fake: FakeCreditsServer, data: bytes
) -> None:
    """The same numbers, for a client used for the first time: nothing registered."""
    stranger = "1e2c4c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
    status, _, ms = await timed(http, "POST", f"/clients/{stranger}/creditAccounts", data=data)
    assert status == 400
    assert ms < FAST_MS
    assert fake.ledger.clients == {}


@pytest.mark.parametrize(
    "data",
    [b'{"currentBalance": 1e700000}', b'{"currentBalance": 1e5000}',
     b'{"currentBalance": 1e-2000000}', b'{"currentBalance": ' + b"7" * 19 + b"}",
     b'{"name": "x", "currentBalance": -1}', b'{"name": "x", "expiresOn": "+999999-01-01"}'],
)  # fmt: skip
async def test_hostile_update_changes_nothing(
    http: Http, fake: FakeCreditsServer, arranged: tuple[str, str, str], data: bytes
) -> None:
    """PUT creditBatches with a hostile body: 400 at once; not even the name changes."""
    _, _, batch_id = arranged
    before = fake.snapshot_json()
    status, _, ms = await timed(http, "PUT", f"/clients/creditBatches/{batch_id}", data=data)
    assert status == 400
    assert ms < FAST_MS
    assert fake.snapshot_json() == before


@pytest.mark.parametrize(
    "query",
    [{"perPage": "--5"}, {"perPage": "-5"}, {"perPage": "5-"}, {"page": "9" * 5000},
     {"page": "1" * 19}, {"perPage": "\u0663"}, {"page": " 2"}, {"page": "2.0"},
     {"cursor": "x" * 5000}, {"cursor": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
     {"cursor": "LTU"}],
    ids=["--5", "-5", "5-", "5000 digits", "19 digits", "arabic digit", "space", "2.0",
         "long cursor", "cursor of a 30-digit seq", "cursor of -5"],
)  # fmt: skip
async def test_hostile_query_is_a_quick_400(
    http: Http, fake: FakeCreditsServer, arranged: tuple[str, str, str], query: dict[str, str]
) -> None:
    """A bad page, perPage or cursor is a 400 naming it, on both listings."""
    cid, aid, _ = arranged
    name = next(iter(query))
    for path, extra in [
        (f"/clients/{cid}/creditBatches", {}),
        (f"/clients/{cid}/creditAccount/{aid}/creditActions", {"actionType": "credit"}),
    ]:
        params = {"clientId": cid, **extra, **query}
        status, body, ms = await timed(http, "GET", path, params=params)
        assert status == 400
        assert body["message"].startswith(f"{name}: ")
        assert ms < FAST_MS


async def test_body_over_the_limit_is_413_without_reading_it_all(
    http: Http, fake: FakeCreditsServer, arranged: tuple[str, str, str]
) -> None:
    """A body over 256 KiB is refused with 413; the log keeps its size, not its bytes."""
    cid, _, _ = arranged
    before = fake.snapshot_json()
    status, body, _ = await timed(http, "POST", f"/clients/{cid}/creditBatches",
                                  data=b" " * (300 * 1024) + b'{"startingBalance": 1}')  # fmt: skip
    assert (status, body["error"]) == (413, "payload_too_large")
    assert fake.snapshot_json() == before
    assert (fake.requests[-1].body, fake.requests[-1].body_size > 256 * 1024) == (b"", True)


async def test_every_write_after_refusals_still_chains(
    http: Http, fake: FakeCreditsServer, arranged: tuple[str, str, str]
) -> None:
    """After every hostile write, normal writes work and every ledger invariant holds."""
    cid, aid, batch_id = arranged
    for data in BATCH_BODIES.values():
        await http.call("POST", f"/clients/{cid}/creditBatches", data=data)
    good = await http.post(f"/clients/{cid}/creditBatches",
                           {"startingBalance": 5, "creditAccountId": aid})  # fmt: skip
    assert good.status == 201
    assert (
        await http.put(f"/clients/creditBatches/{batch_id}", {"currentBalance": 40})
    ).status == 200
    assert_consistent(fake.ledger)
    assert len(fake.ledger.batches) == 2


async def test_the_largest_amount_the_sdk_sends_is_accepted(
    fake: FakeCreditsServer, cid: str
) -> None:
    """Server and SDK bounds agree: 30 integer digits and 12 places pass, one more digit fails."""
    account = fake.ledger.create_account(cid, name="A", starting_balance=1)
    largest = Decimal("9" * 30 + "." + "9" * 12)
    async with fake.client(retry=None) as client:
        batch = await client.credit_batches.create(
            cid, starting_balance=largest, credit_account_id=account.id
        )
        assert batch.starting_balance == largest
        with pytest.raises(ValueError, match="starting_balance: more than 30 integer digits"):
            await client.credit_batches.create(
                cid, starting_balance=largest + 1, credit_account_id=account.id
            )
    assert_consistent(fake.ledger)
