"""Broken answers to creates are read by their status line, and a create that may have landed
is said once.

What aiohttp really does with a cut body is the subject here, so these run against the
loopback socket server; what the SDK makes of an answer runs against the mock one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
from typing import Any, TypeVar

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import MockTransport, RecordingSleep, json_response

from .conftest import API_KEY, BATCH_ID, CLIENT_ID, ScriptedServer, payload

E = TypeVar("E", bound=Exception)
CREATED = {"data": {"CreateCreditBatch": payload("create_credit_batch")}}
UPDATED = {"data": {"UpdateCreditBatch": payload("update_credit_batch")}}
LAST_PAGE = {"data": {"creditBatches": [], "pageInfo": {"hasMore": False}}}
CREATED_BYTES = json.dumps(CREATED).encode()
GZIPPED = gzip.compress(CREATED_BYTES)

# How a 201 can break on the wire after its status line: (reply keywords, what aiohttp saw).
CUTS: dict[str, dict[str, Any]] = {
    "short_content_length": {"body": CREATED_BYTES, "cut": 40},
    "cut_chunk": {"body": CREATED_BYTES, "cut": 40, "chunked": True},
    "bad_gzip": {"body": CREATED_BYTES, "headers": {"Content-Encoding": "gzip"}},
    "cut_gzip": {"body": GZIPPED, "cut": len(GZIPPED) - 8, "headers": {"Content-Encoding": "gzip"}},
    "gzip_cut_short": {  # the declared size matches the cut stream: it inflates to a torso
        "body": GZIPPED[: len(GZIPPED) // 2],
        "headers": {"Content-Encoding": "gzip"},
    },
}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The SDK logger's WARNING records."""
    return [r for r in caplog.records if r.name == "thoughtcredits" and r.levelno >= 30]


async def create(client: tc.Client) -> tc.CreditBatch:
    """Issue credits: one new batch."""
    return await client.credit_batches.create(CLIENT_ID, starting_balance=100)


async def create_fails(client: tc.Client, expected: type[E], caplog: pytest.LogCaptureFixture) -> E:
    """Issue credits, which must raise ``expected``, the SDK's WARNINGs captured meanwhile."""
    with (
        caplog.at_level(logging.WARNING, logger="thoughtcredits"),
        pytest.raises(expected) as caught,
    ):
        await create(client)
    return caught.value


@pytest.mark.parametrize("cut", list(CUTS))
@pytest.mark.parametrize("unsafe", [False, True], ids=["default", "retry_unsafe_methods"])
async def test_a_201_broken_on_the_wire_was_applied(
    socket_server: ScriptedServer, caplog: pytest.LogCaptureFixture, cut: str, unsafe: bool
) -> None:
    """A create answered 201 whose body then breaks raises applied=True, sent once, said once."""
    socket_server.reply(201, **CUTS[cut])
    sleep = RecordingSleep()
    policy = tc.RetryPolicy(retry_unsafe_methods=unsafe)
    async with socket_server.client(sleep=sleep, retry=policy) as client:
        error = await create_fails(client, tc.ResponseValidationError, caplog)
    assert (error.applied, error.status) == (True, 201)
    assert "WAS MADE" in str(error)
    assert len(socket_server.requests) == 1
    assert sleep.calls == []
    (record,) = warnings_of(caplog)
    assert "the change was made on the server" in record.getMessage()
    assert API_KEY not in caplog.text


@pytest.mark.parametrize("cut", ["short_content_length", "cut_chunk", "bad_gzip"])
async def test_a_read_broken_on_the_wire_is_retried(
    socket_server: ScriptedServer, caplog: pytest.LogCaptureFixture, cut: str
) -> None:
    """A listing page whose 200 breaks off is a lost answer to a read: retried, nothing said."""
    reply = {**CUTS[cut], "body": json.dumps(LAST_PAGE).encode()}
    if cut == "bad_gzip":
        reply["cut"] = None
    socket_server.reply(200, **reply)
    socket_server.reply(200, LAST_PAGE)
    async with socket_server.client(sleep=RecordingSleep()) as client:
        with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
            assert [b async for b in client.credit_batches.list(CLIENT_ID)] == []
    assert len(socket_server.requests) == 2
    assert warnings_of(caplog) == []


async def test_an_update_broken_on_the_wire_is_resent_and_then_said_made(
    socket_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A PUT whose 200 breaks off may be resent (it sets values); if it never reads, it was made."""
    socket_server.reply(200, UPDATED, cut=30)
    socket_server.reply(200, UPDATED)
    async with socket_server.client(sleep=RecordingSleep()) as client:
        batch = await client.credit_batches.update(BATCH_ID, current_balance=90)
        assert str(batch.id) == payload("update_credit_batch")["id"]
        assert len(socket_server.requests) == 2
        socket_server.reply(200, UPDATED, cut=30)
        socket_server.reply(503)
        with (
            caplog.at_level(logging.WARNING, logger="thoughtcredits"),
            pytest.raises(tc.InternalServerError) as caught,
        ):
            await client.with_options(retry=tc.RetryPolicy(attempts=2)).credit_batches.update(
                BATCH_ID, current_balance=90
            )
    assert caught.value.applied is True  # the first attempt's 200 said so
    assert "WAS MADE" in str(caught.value)
    (record,) = warnings_of(caplog)
    assert "was carried out on the server but its answer was lost" in record.getMessage()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_answering_a_create_says_it_may_have_been_acted_on(
    socket_server: ScriptedServer, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    """A 3xx to a POST is not followed, and the error says the create may have landed."""
    socket_server.reply(status, headers={"Location": "/incoming/v2/elsewhere/1"})
    async with socket_server.client(sleep=RecordingSleep()) as client:
        error = await create_fails(client, tc.APIStatusError, caplog)
    assert type(error) is tc.APIStatusError
    assert (error.status, error.applied) == (status, None)
    assert "redirected to /incoming/v2/elsewhere/1" in str(error)
    assert "the SDK sends a POST only to the address it was given" in str(error)
    assert "MAY HAVE BEEN MADE" in str(error)
    assert ("usually means the server acted on it" in str(error)) is (status == 303)
    assert [r.path for r in socket_server.requests] == [
        f"/incoming/v2/clients/{CLIENT_ID}/creditBatches"
    ]
    (record,) = warnings_of(caplog)
    assert "may have reached the server" in record.getMessage()


async def test_a_redirect_never_shows_the_password_in_its_location(
    socket_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A Location with user:password@ is named without them."""
    where = "https://ops:hunter2@elsewhere.example/incoming/v2/x"
    socket_server.reply(307, headers={"Location": where})
    async with socket_server.client(sleep=RecordingSleep()) as client:
        error = await create_fails(client, tc.APIStatusError, caplog)
    assert "redirected to https://elsewhere.example/incoming/v2/x;" in str(error)
    assert "hunter2" not in str(error) + caplog.text
    assert "ops" not in str(error).split("redirected")[1]


async def test_a_500_to_a_create_is_said_once(
    server: ScriptedServer, client: tc.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx answering a POST is not retried, says applied None, and logs one WARNING."""
    server.reply(500, {"message": "boom"})
    error = await create_fails(client, tc.InternalServerError, caplog)
    assert error.applied is None
    assert "MAY HAVE BEEN MADE" in str(error)
    (record,) = warnings_of(caplog)
    assert record.tc_reason == "HTTP 500"  # type: ignore[attr-defined]
    assert record.tc_applied is None  # type: ignore[attr-defined]


async def test_a_refused_create_and_a_failed_read_say_nothing(
    server: ScriptedServer, client: tc.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A 4xx to a create, and a read's final 5xx, changed nothing: applied False, no WARNING."""
    server.reply(422, {"message": "no"})
    server.reply(500, times=4)
    with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
        with pytest.raises(tc.UnprocessableEntityError) as refused:
            await create(client)
        with pytest.raises(tc.InternalServerError) as failed:
            await anext(client.credit_batches.list(CLIENT_ID).pages())
    assert (refused.value.applied, failed.value.applied) == (False, False)
    assert "MADE" not in str(refused.value) + str(failed.value)
    assert warnings_of(caplog) == []


async def test_a_resent_create_whose_first_attempt_may_have_landed_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """retry_unsafe_methods: a timeout then a 400 is not "not applied": the first may have."""
    answers: list[Any] = [tc.APITimeoutError("slow", method="POST", url="u")]
    answers.append(json_response({"message": "bad"}, status=400))

    def answer(request: tc.HTTPRequest) -> tc.HTTPResponse:
        now = answers.pop(0)
        if isinstance(now, Exception):
            raise now
        return now  # type: ignore[no-any-return]

    policy = tc.RetryPolicy(retry_unsafe_methods=True)
    async with tc.Client(
        "https://x.test", API_KEY, transport=MockTransport(answer), retry=policy,
        sleep=RecordingSleep(),
    ) as client:  # fmt: skip
        error = await create_fails(client, tc.BadRequestError, caplog)
    assert error.applied is None
    assert "MAY HAVE BEEN MADE" in str(error)
    assert len(warnings_of(caplog)) == 1


async def test_a_create_cancelled_after_sending_leaves_a_warning(
    socket_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """wait_for cancels a create whose bytes left: TimeoutError for the caller, and a WARNING."""
    socket_server.reply(201, CREATED, delay=5)
    async with socket_server.client() as client:
        with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(create(client), 0.3)
            assert len(socket_server.requests) == 1  # it reached the server
    (record,) = warnings_of(caplog)
    message = record.getMessage()
    assert "may have reached the server" in message
    assert "cancelled after it was sent" in message
    assert record.tc_applied is None  # type: ignore[attr-defined]


async def test_cancelling_what_was_not_sent_says_nothing(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A create cancelled while it waits out a 429, and a cancelled read, leave no WARNING."""
    server.reply(429, headers={"Retry-After": "30"})
    server.reply(200, LAST_PAGE, delay=5)
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        gate.set()
        await asyncio.sleep(seconds)

    async with server.client(sleep=sleep) as client:
        with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
            task = asyncio.create_task(create(client))
            await gate.wait()  # refused, and waiting to retry
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(
                    client.credit_batches.list(CLIENT_ID).pages().__anext__(), 0.1
                )
    assert warnings_of(caplog) == []


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.1 2O1 Created\r\n", b"HTTP/1.1 2O1 " + b"C" * 8000 + b"\x1b[2J\r\n", b'{"data": {}}'],
    ids=["bad_status_code", "8_kib_status_line", "no_status_line"],
)
async def test_a_garbled_answer_to_a_create_is_one_bounded_line(
    caplog: pytest.LogCaptureFixture, answer: bytes
) -> None:
    """aiohttp quotes the bad status line over several lines; the error says it in one line of
    at most a few hundred characters (it reaches one-line logs), and that it may have landed."""

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer + b"Content-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(reply, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, tc.Client(f"http://127.0.0.1:{port}", API_KEY) as client:
        error = await create_fails(client, tc.APIConnectionError, caplog)
    message = str(error)
    assert message.startswith("connection failed: ClientResponseError: 400, ")
    assert message.isprintable()
    assert len(message) < 600
    assert error.applied is None
    assert len(warnings_of(caplog)) == 1


@pytest.mark.parametrize(
    ("where", "warned"),
    [("key", 0), ("gate", 0), ("answer", 1), ("body", 1)],
    ids=["asking_the_key", "waiting_for_a_slot", "waiting_for_the_answer", "reading_the_body"],
)
async def test_a_create_cancelled_at_each_await_warns_once_if_it_was_sent(
    caplog: pytest.LogCaptureFixture, where: str, warned: int
) -> None:
    """Cancelled while its key is fetched or while it waits for a slot, a create says nothing;
    once its bytes left, exactly one WARNING. The caller sees a CancelledError every time."""
    stall, arrived, key_asked = asyncio.Event(), asyncio.Event(), asyncio.Event()
    seen: list[bytes] = []

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        arrived.set()
        if where == "body":  # the status line, then a body that stops after 4 bytes
            writer.write(b'HTTP/1.1 201 Created\r\nContent-Length: 99\r\n\r\n{"da')
            await writer.drain()
        await stall.wait()
        writer.close()

    async def key() -> str:
        key_asked.set()
        await stall.wait()
        return API_KEY

    server = await asyncio.start_server(reply, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    options: dict[str, Any] = {"api_key": key} if where == "key" else {"api_key": API_KEY}
    if where == "gate":
        options["max_concurrency"] = 1
    async with server, tc.Client(f"http://127.0.0.1:{port}", **options) as client:
        first = asyncio.create_task(create(client)) if where == "gate" else None
        if first is not None:
            await arrived.wait()  # the one slot is taken by a create in flight
        with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
            task = asyncio.create_task(create(client))
            if where == "key":
                await key_asked.wait()
            elif where == "gate":
                for _ in range(20):  # no I/O before the slot's wait: a few turns of the loop
                    await asyncio.sleep(0)
            else:
                await arrived.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(warnings_of(caplog)) == warned
        assert len(seen) == (0 if where == "key" else 1)
        if first is not None:
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
        stall.set()
    if warned:
        (record,) = warnings_of(caplog)
        assert "cancelled after it was sent" in record.getMessage()
