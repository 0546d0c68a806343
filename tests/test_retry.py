"""Retries: the pure decision table, backoff bounds, and end-to-end behaviour with a fake sleep."""

from __future__ import annotations

import email.utils
import logging
import time
import traceback
from typing import Any

import pytest
import tenacity

import thoughtcredits as tc
from tests.conftest import (
    ACCOUNT_ID,
    API_KEY,
    BATCH_ID,
    CLIENT_ID,
    RecordingSleep,
    Reply,
    ScriptedServer,
    payload,
    sample,
)
from thoughtcredits._http import failures
from thoughtcredits._http.retry import RetryPlan, backoff, should_retry
from thoughtcredits._http.status import error_from_response
from thoughtcredits._resources.table import (
    CREATE_CREDIT_BATCH,
    LIST_CREDIT_BATCHES,
    UPDATE_CREDIT_BATCH,
)

URL = "https://acme.test/incoming/v2/x"


DEFAULT = tc.RetryPolicy()
UNSAFE = tc.RetryPolicy(retry_unsafe_methods=True)


def status(code: int, retry_after: str | None = None) -> tc.APIStatusError:
    """The error the client raises for ``code``."""
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return error_from_response(code, headers, b"", method="GET", url=URL)


def connection(sent: bool) -> tc.APIConnectionError:
    """A connection error; ``sent`` says whether the request may have reached the server."""
    return tc.APIConnectionError("reset", method="GET", url=URL, request_sent=sent)


def timeout(sent: bool = True) -> tc.APITimeoutError:
    """A timeout error."""
    return tc.APITimeoutError("timed out", method="GET", url=URL, request_sent=sent)


RETRYABLE = [408, 429, 500, 502, 503, 504]
FINAL = [400, 401, 403, 404, 405, 409, 422]

TABLE: list[tuple[str, BaseException, tc.RetryPolicy, bool]] = [
    *[(m, status(s), DEFAULT, True) for m in ("GET", "PUT") for s in RETRYABLE],
    *[(m, status(s), DEFAULT, False) for m in ("GET", "PUT", "POST") for s in FINAL],
    ("POST", status(429), DEFAULT, True),
    *[("POST", status(s), DEFAULT, False) for s in (408, 500, 502, 503, 504)],
    *[("POST", status(s), UNSAFE, True) for s in (408, 500, 502, 503, 504)],
    *[("POST", status(s), UNSAFE, False) for s in FINAL],
    ("GET", connection(sent=True), DEFAULT, True),
    ("PUT", connection(sent=True), DEFAULT, True),
    ("GET", connection(sent=False), DEFAULT, True),
    ("POST", connection(sent=False), DEFAULT, True),
    ("POST", connection(sent=True), DEFAULT, False),
    ("POST", connection(sent=True), UNSAFE, True),
    ("GET", timeout(), DEFAULT, True),
    ("POST", timeout(), DEFAULT, False),
    ("POST", timeout(sent=False), DEFAULT, True),
    ("POST", timeout(), UNSAFE, True),
    ("GET", status(429, "90"), DEFAULT, True),
    ("GET", status(429, "91"), DEFAULT, False),
    ("POST", status(429, "91"), DEFAULT, False),
    ("GET", status(503, "3600"), DEFAULT, False),
    ("GET", status(429, "5"), tc.RetryPolicy(max_retry_after=1), False),
    ("GET", tc.ResponseValidationError("bad"), DEFAULT, False),
    ("GET", tc.PaginationError("loop"), DEFAULT, False),
    ("GET", ValueError("bug"), DEFAULT, False),
]


@pytest.mark.parametrize(("method", "error", "policy", "expected"), TABLE)
def test_should_retry(
    method: str, error: BaseException, policy: tc.RetryPolicy, expected: bool
) -> None:
    """GET/PUT retry 408/429/5xx/connection errors; POST only 429 and unsent requests."""
    row = {"GET": LIST_CREDIT_BATCHES, "PUT": UPDATE_CREDIT_BATCH, "POST": CREATE_CREDIT_BATCH}
    assert should_retry(error, row[method].resend, policy) is expected


@pytest.mark.parametrize(
    ("attempt", "rng", "expected"),
    [
        (1, 0.0, 0.5),
        (2, 0.0, 1.0),
        (3, 0.0, 2.0),
        (4, 0.0, 4.0),
        (5, 0.0, 8.0),
        (6, 0.0, 8.0),
        (40, 0.0, 8.0),
        (1, 1.0, 1.5),
        (5, 1.0, 9.0),
        (40, 1.0, 9.0),
        (3, 0.5, 2.5),
    ],
)
def test_backoff_values(attempt: int, rng: float, expected: float) -> None:
    """Backoff doubles from wait_initial, caps at wait_max, and adds up to wait_jitter."""
    assert backoff(attempt, DEFAULT, lambda: rng) == pytest.approx(expected)


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_bounds_with_real_jitter(attempt: int) -> None:
    """With real randomness every delay stays within [base, wait_max + wait_jitter]."""
    policy = tc.RetryPolicy(wait_initial=0.2, wait_max=3.0, wait_jitter=0.5)
    base = min(0.2 * 2 ** (attempt - 1), 3.0)
    for _ in range(200):
        assert base <= backoff(attempt, policy) <= 3.5


def test_backoff_without_jitter_is_deterministic() -> None:
    """wait_jitter=0 gives exact exponential delays."""
    policy = tc.RetryPolicy(wait_initial=1, wait_max=100, wait_jitter=0)
    assert [backoff(n, policy) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]


# --- end to end through the client ----------------------------------------------------------

BATCH = {"data": {"CreateCreditBatch": payload("create_credit_batch")}}
ACCOUNT = sample("create_credit_account")
LAST_PAGE = {"data": {"creditBatches": [], "pageInfo": {"hasMore": False}}}


async def list_batches(client: tc.Client) -> list[tc.CreditBatch]:
    """Every batch of the test client."""
    return [b async for b in client.credit_batches.list(CLIENT_ID)]


async def create_batch(client: tc.Client) -> tc.CreditBatch:
    """Create a batch (a POST)."""
    return await client.credit_batches.create(CLIENT_ID, starting_balance=100)


async def create_account(client: tc.Client) -> tc.CreditAccount:
    """Create an account (a POST)."""
    return await client.credit_accounts.create(
        CLIENT_ID, name="T", starting_balance=1, notify_emails=[], license_ids=[]
    )


async def update_batch(client: tc.Client) -> tc.CreditBatch:
    """Update a batch (a PUT)."""
    return await client.credit_batches.update(BATCH_ID, current_balance=90)


@pytest.mark.parametrize("code", RETRYABLE)
async def test_get_retried_until_success(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep, code: int
) -> None:
    """A GET answered 408/429/5xx twice is retried and succeeds on the third request."""
    server.reply(code, {"message": "busy"}, times=2)
    server.reply(200, LAST_PAGE)
    assert await list_batches(client) == []
    assert len(server.requests) == 3
    assert len(sleeps.calls) == 2


@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_put_retried_on_5xx(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep, code: int
) -> None:
    """A PUT sets absolute values, so its 5xx is retried."""
    server.reply(code)
    server.reply(200, BATCH)
    await update_batch(client)
    assert [r.method for r in server.requests] == ["PUT", "PUT"]
    assert server.requests[0].body == server.requests[1].body == b'{"currentBalance":90}'


async def test_attempts_cap(server: ScriptedServer, sleeps: RecordingSleep) -> None:
    """After ``attempts`` tries the last error is raised as-is, never tenacity.RetryError."""
    server.reply(503, {"message": "down"}, times=10)
    async with server.client(sleep=sleeps, retry=tc.RetryPolicy(attempts=3)) as client:
        with pytest.raises(tc.InternalServerError) as caught:
            await list_batches(client)
    assert not isinstance(caught.value, tenacity.RetryError)
    assert caught.value.status == 503
    assert caught.value.message == "down"
    assert len(server.requests) == 3
    assert len(sleeps.calls) == 2


async def test_the_last_attempts_error_is_raised_from_the_attempt(
    server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """Every attempt runs in one loop: the error raised is the last one, as the attempt raised
    it (its traceback holds no retry machinery), not a replay of the first."""
    for message in ("first", "second", "third"):
        server.reply(503, {"message": message})
    async with server.client(sleep=sleeps, retry=tc.RetryPolicy(attempts=3)) as client:
        with pytest.raises(tc.InternalServerError) as caught:
            await update_batch(client)
    assert caught.value.message == "third"
    assert caught.value.__context__ is None
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert not [frame for frame in frames if "tenacity" in frame.filename]
    assert [frame.name for frame in frames][-4:] == ["update", "_run", "attempt", "decipher"]


async def test_a_request_that_succeeds_builds_no_retry_plan(
    server: ScriptedServer, client: tc.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The success path costs what it did: tenacity's plan is made at a first failure only."""
    made: list[RetryPlan] = []

    class CountedPlan(RetryPlan):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(failures, "RetryPlan", CountedPlan)
    server.default = Reply(200, LAST_PAGE)
    for _ in range(3):
        assert await list_batches(client) == []
    assert made == []
    server.reply(503, times=2)
    assert await list_batches(client) == []
    assert len(made) == 1  # one plan for the request, whatever its number of failures


# --- a 429 is a refusal: it spends no attempt --------------------------------------------------


@pytest.mark.parametrize("call", [list_batches, update_batch, create_batch, create_account])
async def test_refusals_spend_no_attempt(
    server: ScriptedServer, sleeps: RecordingSleep, call: Any
) -> None:
    """Five 429s in a row do not use up two attempts: every method is sent again and succeeds."""
    server.reply(429, sample("error_429"), headers={"Retry-After": "1"}, times=5)
    server.default = Reply(200, LAST_PAGE if call is list_batches else BATCH)
    if call is create_account:
        server.default = Reply(201, sample("create_credit_account"))
    async with server.client(sleep=sleeps, retry=tc.RetryPolicy(attempts=2)) as client:
        await call(client)
        assert client.stats.rate_limited == 5
    assert len(server.requests) == 6
    assert len({request.body for request in server.requests}) == 1
    assert sleeps.waits == [pytest.approx(1.0, abs=0.05)] * 5


async def test_refusals_between_failures_are_not_counted(
    server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """503, 429, 429, 503 with attempts=2: the two 503s spend the two attempts."""
    for code in (503, 429, 429, 503, 200):
        server.reply(code, LAST_PAGE if code == 200 else None)
    async with server.client(sleep=sleeps, retry=tc.RetryPolicy(attempts=2)) as client:
        with pytest.raises(tc.InternalServerError):
            await list_batches(client)
    assert len(server.requests) == 4


async def test_refusals_end_at_the_time_budget(
    server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """A server that refuses for ever is asked again until RetryPolicy.timeout, no longer."""
    server.default = Reply(429, sample("error_429"), {"Retry-After": "7"})
    policy = tc.RetryPolicy(attempts=2, timeout=30)
    async with server.client(sleep=sleeps, retry=policy) as client:
        with pytest.raises(tc.RateLimitError):
            await list_batches(client)
    assert len(server.requests) == 5  # 4 waits of 7 s fit in 30 s; a fifth would not
    assert sleeps.waits == [pytest.approx(7.0, abs=0.05)] * 4


async def test_a_refusal_is_logged_as_one(
    server: ScriptedServer, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    """The retry record of a 429 says it was refused and spent no attempt."""
    caplog.set_level(logging.INFO, logger="thoughtcredits")
    server.reply(429, headers={"Retry-After": "1"})
    server.reply(503)
    server.reply(200, LAST_PAGE)
    async with server.client(sleep=sleeps) as client:
        await list_batches(client)
    refusal, failure = (r.getMessage() for r in caplog.records if r.msg.startswith("retrying"))
    assert refusal.endswith("in 1.00s (attempt 1 refused: HTTP 429; a refusal spends no attempt)")
    assert failure.endswith("(attempt 2 of 4 failed: HTTP 503)")


async def test_retry_none_raises_a_429_at_once(
    server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """``retry=None`` never retries, a refusal included."""
    server.reply(429, headers={"Retry-After": "1"}, times=3)
    async with server.client(sleep=sleeps, retry=None) as client:
        with pytest.raises(tc.RateLimitError):
            await list_batches(client)
    assert len(server.requests) == 1
    assert sleeps.waits == []


async def test_retry_none_sends_once(server: ScriptedServer, sleeps: RecordingSleep) -> None:
    """``retry=None`` disables retries: one request, the error at once."""
    server.reply(503, times=5)
    async with server.client(sleep=sleeps, retry=None) as client:
        with pytest.raises(tc.InternalServerError):
            await list_batches(client)
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_total_time_cap_stops_a_long_wait(
    server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """A retry whose backoff would cross the policy's total-time cap is not made."""
    server.reply(503, times=5)
    policy = tc.RetryPolicy(attempts=5, timeout=1.0, wait_initial=5.0, wait_jitter=0)
    async with server.client(sleep=sleeps, retry=policy) as client:
        with pytest.raises(tc.InternalServerError):
            await list_batches(client)
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_backoff_delays_are_the_recorded_sleeps(
    server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """Without a server delay the client sleeps the exponential backoff."""
    server.reply(500, times=3)
    server.reply(200, LAST_PAGE)
    policy = tc.RetryPolicy(wait_initial=0.25, wait_max=10, wait_jitter=0)
    async with server.client(sleep=sleeps, retry=policy) as client:
        await list_batches(client)
    assert sleeps.calls == [0.25, 0.5, 1.0]


@pytest.mark.parametrize("code", [500, 502, 503, 504])
@pytest.mark.parametrize("call", [create_batch, create_account])
async def test_post_not_retried_on_5xx(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep, code: int, call: Any
) -> None:
    """A POST answered 5xx may have created credits, so it is not re-sent."""
    server.reply(code, {"message": "oops"})
    server.reply(200, BATCH)
    with pytest.raises(tc.InternalServerError) as caught:
        await call(client)
    assert caught.value.status == code
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_post_not_retried_on_timeout(
    socket_server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """A POST that timed out after sending is not re-sent."""
    server = socket_server
    server.reply(200, BATCH, delay=5)
    async with server.client(sleep=sleeps, timeout=0.2) as client:
        with pytest.raises(tc.APITimeoutError):
            await create_batch(client)
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_post_not_retried_after_drop(
    socket_server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """A POST whose connection dropped after sending is not re-sent."""
    server = socket_server
    server.reply(drop=True)
    server.reply(200, BATCH)
    with pytest.raises(tc.APIConnectionError) as caught:
        async with server.client(sleep=sleeps) as client:
            await create_batch(client)
    assert caught.value.request_sent is True
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_post_retried_on_429(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep
) -> None:
    """A 429 means the server refused the POST, so it is re-sent after Retry-After."""
    server.reply(429, sample("error_429"), headers={"Retry-After": "3"})
    server.reply(201, BATCH)
    batch = await create_batch(client)
    assert batch.starting_balance == 0
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body
    assert sleeps.waits == [pytest.approx(3.0, abs=0.05)]


async def test_post_retried_when_connection_refused(
    free_port: int, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused connection means the POST never left, so it is retried up to the cap."""
    caplog.set_level(logging.INFO, logger="thoughtcredits")
    policy = tc.RetryPolicy(attempts=3, wait_jitter=0)
    async with tc.Client(
        f"http://127.0.0.1:{free_port}", API_KEY, sleep=sleeps, retry=policy
    ) as client:
        with pytest.raises(tc.APIConnectionError) as caught:
            await create_batch(client)
    assert caught.value.request_sent is False
    assert type(caught.value) is tc.APIConnectionError
    assert sleeps.calls == [0.5, 1.0]
    retries = [r for r in caplog.records if r.name == "thoughtcredits" and "retrying" in r.message]
    assert len(retries) == 2


async def test_post_retried_after_refusal_then_succeeds(free_port: int) -> None:
    """A POST whose first connect was refused is sent again, once, and its result returned."""
    late = ScriptedServer()
    late.default = Reply(201, BATCH)
    delays: list[float] = []

    async def sleep_then_start_server(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 1:
            await late.start(free_port)  # the server comes up while the client backs off

    try:
        async with tc.Client(
            f"http://127.0.0.1:{free_port}", API_KEY, sleep=sleep_then_start_server
        ) as client:
            batch = await create_batch(client)
    finally:
        await late.close()
    assert batch.id.int == 0
    assert len(delays) == 1
    assert [r.method for r in late.requests] == ["POST"]


@pytest.mark.parametrize("code", [500, 503])
async def test_unsafe_opt_in_resends_post(
    server: ScriptedServer, sleeps: RecordingSleep, code: int
) -> None:
    """With retry_unsafe_methods=True a POST is re-sent after a 5xx."""
    server.reply(code)
    server.reply(201, ACCOUNT)
    async with server.client(sleep=sleeps, retry=UNSAFE) as client:
        account = await create_account(client)
    assert account.type == tc.CreditAccountType.CLIENT
    assert [r.method for r in server.requests] == ["POST", "POST"]
    assert len(sleeps.calls) == 1


async def test_unsafe_opt_in_resends_post_after_drop(
    socket_server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """With retry_unsafe_methods=True a POST is re-sent after a dropped connection."""
    server = socket_server
    server.reply(drop=True)
    server.reply(201, BATCH)
    async with server.client(sleep=sleeps, retry=UNSAFE) as client:
        await create_batch(client)
    assert len(server.requests) == 2


async def test_get_retried_on_refused_connection(free_port: int, sleeps: RecordingSleep) -> None:
    """A GET whose connection is refused is tried exactly ``attempts`` times."""
    async with tc.Client(
        f"http://127.0.0.1:{free_port}",
        API_KEY,
        sleep=sleeps,
        retry=tc.RetryPolicy(attempts=4),
    ) as client:
        with pytest.raises(tc.APIConnectionError):
            await list_batches(client)
    assert len(sleeps.calls) == 3


async def test_get_retried_after_drop(
    socket_server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """A GET whose connection keeps dropping is retried and then succeeds."""
    server = socket_server
    server.reply(drop=True, times=2)
    server.reply(200, sample("list_credit_batches"))
    async with server.client(sleep=sleeps) as client:
        batches = [b async for b in client.credit_batches.list(CLIENT_ID, max_items=1)]
    assert len(batches) == 1
    assert batches[0].name == "string"


async def test_get_retried_on_timeout(
    socket_server: ScriptedServer, sleeps: RecordingSleep
) -> None:
    """A GET that timed out is retried."""
    server = socket_server
    server.reply(200, LAST_PAGE, delay=5)
    server.reply(200, LAST_PAGE)
    async with server.client(sleep=sleeps, timeout=0.2) as client:
        assert await list_batches(client) == []
    assert len(server.requests) == 2
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize("retry_after", ["2", "7.5", "90"])  # "0" backs off: test_pipeline
async def test_retry_after_is_the_sleep(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep, retry_after: str
) -> None:
    """The client waits exactly the server's Retry-After (up to the cap), not its own backoff."""
    server.reply(429, headers={"Retry-After": retry_after})
    server.reply(200, LAST_PAGE)
    await list_batches(client)
    assert sum(sleeps.calls) == pytest.approx(float(retry_after), abs=0.05)
    assert len(server.requests) == 2


async def test_retry_after_http_date(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep
) -> None:
    """Retry-After as an HTTP date is honoured as the time until that date."""
    server.reply(
        503, headers={"Retry-After": email.utils.formatdate(time.time() + 20, usegmt=True)}
    )
    server.reply(200, LAST_PAGE)
    await list_batches(client)
    assert sleeps.waits == [pytest.approx(20, abs=1.5)]


async def test_rate_limit_reset_header_sets_the_wait(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep
) -> None:
    """Without Retry-After, a 429 waits until X-RateLimit-Reset."""
    server.reply(429, headers={"X-RateLimit-Reset": str(time.time() + 6)})
    server.reply(200, LAST_PAGE)
    await list_batches(client)
    assert sleeps.waits == [pytest.approx(6, abs=0.5)]


async def test_body_retry_after_sets_the_wait(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep
) -> None:
    """Without headers, a 429 waits the body's retryAfter."""
    server.reply(429, sample("error_429"))
    server.reply(200, LAST_PAGE)
    await list_batches(client)
    assert sleeps.waits == [pytest.approx(32, abs=0.05)]


@pytest.mark.parametrize("call", [list_batches, create_batch])
async def test_retry_after_over_cap_raises_without_sleeping(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep, call: Any
) -> None:
    """A Retry-After longer than max_retry_after raises RateLimitError at once."""
    server.reply(429, sample("error_429"), headers={"Retry-After": "3600"})
    with pytest.raises(tc.RateLimitError) as caught:
        await call(client)
    assert caught.value.retry_after == 3600
    assert len(server.requests) == 1
    assert sleeps.calls == []


async def test_each_retry_is_logged_with_reason_and_delay(
    server: ScriptedServer,
    client: tc.Client,
    sleeps: RecordingSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every retry logs its reason and delay on the 'thoughtcredits' logger."""
    caplog.set_level(logging.INFO, logger="thoughtcredits")
    server.reply(503)
    server.reply(502)
    server.reply(200, LAST_PAGE)
    await list_batches(client)
    records = [
        r for r in caplog.records if r.name == "thoughtcredits" and r.levelno >= logging.INFO
    ]
    retries = [r for r in records if "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert [r.tc_reason for r in retries] == ["HTTP 503", "HTTP 502"]  # type: ignore[attr-defined]
    assert [r.tc_wait for r in retries] == sleeps.calls  # type: ignore[attr-defined]
    for record, delay in zip(retries, sleeps.calls, strict=True):
        message = record.getMessage()
        assert "HTTP 5" in message
        assert f"{delay:.2f}s" in message
        assert f"/incoming/v2/clients/{CLIENT_ID}/creditBatches" in message
        assert API_KEY not in message


async def test_retry_log_names_connection_errors(
    free_port: int, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    """A retry after a connection error logs the error type as its reason."""
    caplog.set_level(logging.INFO, logger="thoughtcredits")
    async with tc.Client(
        f"http://127.0.0.1:{free_port}", API_KEY, sleep=sleeps, retry=tc.RetryPolicy(attempts=2)
    ) as client:
        with pytest.raises(tc.APIConnectionError):
            await list_batches(client)
    (record,) = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert record.tc_reason == "APIConnectionError"  # type: ignore[attr-defined]


async def test_retry_counts_in_stats(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep
) -> None:
    """Retries and 429s are counted on the client's stats."""
    server.reply(429, headers={"Retry-After": "1"})
    server.reply(500)
    server.reply(200, LAST_PAGE)
    await list_batches(client)
    assert client.stats.retries == 2
    assert client.stats.rate_limited == 1
    assert client.stats.requests == 3


def page(items: list[Any], cursor: str | None) -> dict[str, Any]:
    """A credit-actions page in the seed envelope."""
    return {
        "data": {
            "APICreditActionsByClientIdAndAccountIdAndActionType": {
                "clientId": CLIENT_ID,
                "creditAccountId": ACCOUNT_ID,
                "creditActions": items,
                "pageInfo": {"hasMore": cursor is not None, "cursor": cursor, "total": 6},
            }
        }
    }


def action(n: int) -> dict[str, Any]:
    """A credit action whose creditAccountName is ``a<n>``."""
    item = payload("list_credit_actions")["creditActions"][0]
    item["creditAccountName"] = f"a{n}"
    return item  # type: ignore[no-any-return]


@pytest.mark.parametrize("prefetch", [True, False])
async def test_failure_mid_listing_retries_that_page_only(
    server: ScriptedServer, client: tc.Client, sleeps: RecordingSleep, prefetch: bool
) -> None:
    """A 503 on page 3 retries page 3 with the same cursor: no item duplicated or skipped."""
    server.reply(200, page([action(1), action(2)], "c2"))
    server.reply(200, page([action(3), action(4)], "c3"))
    server.reply(503)
    server.reply(200, page([action(5), action(6)], None))
    listing = client.credit_actions.list(
        CLIENT_ID, ACCOUNT_ID, action_type="debit", prefetch=prefetch
    )
    names = [a.credit_account_name async for a in listing]
    assert names == ["a1", "a2", "a3", "a4", "a5", "a6"]
    cursors = [r.query.get("cursor") for r in server.requests]
    assert cursors == [None, "c2", "c3", "c3"]
    assert len(sleeps.calls) == 1
