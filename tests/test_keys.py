"""The API key: printable ASCII, checked where it is given, never shown; or a callable asked
before each attempt, and once more after a 401 (which did nothing, so is resent once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import MockTransport, RecordingSleep, json_response

from .conftest import CLIENT_ID, payload

BASE = "https://acme.example"
SECRET = "sk-live-0123456789abcdef"
CREATED = {"data": {"CreateCreditBatch": payload("create_credit_batch")}}
PAGE = {"data": {"creditBatches": [], "pageInfo": {"hasMore": False}}}


class Server:
    """A mock API that accepts only the keys in ``valid`` and records the key of each request."""

    def __init__(self, *valid: str) -> None:
        self.valid = set(valid)
        self.keys: list[str] = []
        self.on_refusal: Callable[[], None] = lambda: None

    def __call__(self, request: tc.HTTPRequest) -> tc.HTTPResponse:
        key = request.headers["Authorization"].removeprefix("Bearer ")
        self.keys.append(key)
        if key not in self.valid:
            self.on_refusal()
            return json_response({"message": "invalid key"}, status=401)
        return (
            json_response(CREATED, status=201) if request.method == "POST" else json_response(PAGE)
        )


def client_for(server: Server, api_key: Any, **kwargs: Any) -> tc.Client:
    """A client of ``server`` with ``api_key``."""
    return tc.Client(BASE, api_key, transport=MockTransport(server), **kwargs)


async def create(client: tc.Client) -> tc.CreditBatch:
    """Issue credits: one new batch."""
    return await client.credit_batches.create(CLIENT_ID, starting_balance=1)


# --- a key given as text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (f"{SECRET}\x7f", "character 25 is a control character"),
        (f"{SECRET[:5]}\x1b{SECRET[5:]}", "character 6 is a control character"),
        (f"{SECRET[:3]}\t{SECRET[3:]}", "character 4 is a control character"),
        (f"{SECRET[:7]}é{SECRET[7:]}", "character 8 is not ASCII"),
        (f"{SECRET[:2]}\u200b{SECRET[2:]}", "character 3 is not ASCII"),
        (f"{SECRET[:9]} {SECRET[9:]}", "character 10 is a space"),
        (f"{SECRET}\ud800", "character 25 is not ASCII"),
    ],
)
def test_a_key_that_is_not_printable_ascii_is_refused_at_once(bad: str, what: str) -> None:
    """A control, non-ASCII or space character is refused when the client is built, unechoed."""
    with pytest.raises(ValueError, match=r"^api_key: a key is printable ASCII") as caught:
        tc.Client(BASE, bad)
    message = str(caught.value)
    assert what in message
    assert SECRET[:6] not in message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_a_bad_key_from_the_environment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """$THOUGHTCREDITS_API_KEY goes through the same check."""
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", f"{SECRET}\x7f")
    with pytest.raises(ValueError, match="control character") as caught:
        tc.Client(BASE)
    assert SECRET not in str(caught.value)


def test_surrounding_whitespace_is_dropped_and_a_non_text_key_refused() -> None:
    """A pasted key's newline is dropped; bytes are a TypeError naming api_key."""
    server = Server(SECRET)
    client_for(server, f"  {SECRET}\n")
    with pytest.raises(TypeError, match="api_key: expected the key as a str, got bytes"):
        tc.Client(BASE, SECRET.encode())  # type: ignore[arg-type]


# --- a key given as a callable -----------------------------------------------------------------


async def test_a_key_callable_is_asked_before_every_attempt() -> None:
    """Sync or async, the callable's key of the moment is what each request carries."""
    current = {"key": "k1"}
    server = Server("k1", "k2")

    async def async_key() -> str:
        await asyncio.sleep(0)
        return current["key"]

    for provider in (lambda: current["key"], async_key):
        current["key"] = "k1"
        server.keys.clear()
        async with client_for(server, provider) as client:
            await create(client)
            current["key"] = "k2"
            [b async for b in client.credit_batches.list(CLIENT_ID)]
            await client.with_options(timeout=5).credit_batches.create(
                CLIENT_ID, starting_balance=1
            )
        assert server.keys == ["k1", "k2", "k2"]


async def test_a_rotated_key_is_picked_up_after_one_401_with_no_failed_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server stops taking k1 mid-flight; one 401, the callable is asked again, k2 lands."""
    store = {"key": "k1"}
    server = Server("k1")
    events: list[tc.Event] = []
    async with client_for(server, lambda: store["key"], hooks=[events.append]) as client:
        await create(client)
        server.valid = {"k2"}  # rotated at the server: the request in flight still carries k1

        def rotate() -> None:
            store["key"] = "k2"

        server.on_refusal = rotate
        with caplog.at_level(logging.INFO, logger="thoughtcredits"):
            batch = await create(client)
        assert batch.current_balance == payload("create_credit_batch")["currentBalance"]
        assert client.stats.retries == 1
    assert server.keys == ["k1", "k1", "k2"]
    (event,) = events
    assert isinstance(event, tc.RetryEvent)
    assert (event.reason, event.wait, event.method) == ("HTTP 401", 0.0, "POST")
    assert "answered 401; resending once" in caplog.text
    assert "k1" not in caplog.text
    assert "k2" not in caplog.text


async def test_a_rotated_key_is_picked_up_with_retry_none_too() -> None:
    """retry=None sends nothing twice on failure, but a key function's 401 is not a failure
    of the request: the key changed. The docs promise the one resend with either setting."""
    store = {"key": "k1"}
    server = Server("k2")
    server.on_refusal = lambda: store.update(key="k2")
    async with client_for(server, lambda: store["key"], retry=None) as client:
        await create(client)
        assert client.stats.retries == 1
    assert server.keys == ["k1", "k2"]


async def test_many_requests_refused_at_once_each_resend_once() -> None:
    """Twenty creates in flight when the key rotates: twenty 401s, twenty resends, twenty made."""
    store = {"key": "k1"}
    server = Server("k2")
    server.on_refusal = lambda: store.update(key="k2")
    async with client_for(server, lambda: store["key"]) as client:
        made = await asyncio.gather(*(create(client) for _ in range(20)))
    assert len(made) == 20
    assert server.keys.count("k2") == 20
    assert server.keys.count("k1") <= 20  # each create was refused at most once


async def test_the_same_key_after_a_401_is_not_sent_again() -> None:
    """A callable that still returns the refused key: the 401 is raised, nothing is resent."""
    server = Server("other")
    async with client_for(server, lambda: "k1") as client:
        with pytest.raises(tc.AuthenticationError) as caught:
            await create(client)
    assert server.keys == ["k1"]
    assert caught.value.applied is False


async def test_a_second_401_is_raised() -> None:
    """A new key refused too: one resend only, then the 401 is the caller's."""
    keys = iter(["k1", "k2", "k3"])
    server = Server()
    async with client_for(server, lambda: next(keys)) as client:
        with pytest.raises(tc.AuthenticationError):
            await create(client)
    assert server.keys == ["k1", "k2"]


async def test_a_fixed_key_is_not_resent_after_a_401() -> None:
    """Without a callable there is no other key to try."""
    server = Server()
    async with client_for(server, SECRET) as client:
        with pytest.raises(tc.AuthenticationError):
            await create(client)
    assert server.keys == [SECRET]


@pytest.mark.parametrize(
    ("returned", "error", "match"),
    [
        (f"{SECRET}\x7f", ValueError, "api_key \\(the callable\\): .*control character"),
        (f"{SECRET}\r\nX-Evil: 1", ValueError, "api_key \\(the callable\\): .*control character"),
        ("  ", ValueError, "api_key \\(the callable\\): the key is empty"),
        (None, TypeError, "api_key \\(the callable\\): expected the key as a str, got NoneType"),
        (SECRET.encode(), TypeError, "got bytes"),
    ],
)
async def test_what_a_key_callable_returns_is_checked_like_a_key(
    returned: object, error: type[Exception], match: str
) -> None:
    """A bad key from the callable is refused before anything is sent, and never shown."""
    server = Server(SECRET)
    async with client_for(server, lambda: returned) as client:
        with pytest.raises(error, match=match) as caught:
            await create(client)
    assert server.keys == []
    assert SECRET not in str(caught.value)


async def test_a_failing_key_callable_sends_nothing() -> None:
    """The callable's own error reaches the caller; no request leaves without a key."""
    server = Server(SECRET)

    async def broken() -> str:
        raise LookupError("vault unreachable")

    async with client_for(server, broken) as client:
        with pytest.raises(LookupError, match="vault unreachable"):
            await create(client)
    assert server.keys == []


async def test_a_key_callable_is_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    """Neither the client, its parts, nor its DEBUG logs show the callable's key."""
    server = Server(SECRET)
    caplog.set_level(logging.DEBUG, logger="thoughtcredits")
    async with client_for(server, lambda: SECRET) as client:
        await create(client)
        parts = [client, client.credit_batches, client._view, client._view.core.keys]
        assert all(SECRET not in repr(part) for part in parts)
    assert SECRET not in caplog.text


@pytest.mark.parametrize("length", [16_384, 16_385])
async def test_a_key_is_at_most_16_kib(length: int) -> None:
    """A key or token of 16,384 characters is sent; one more is refused, given or returned."""
    key = "k" * length
    server = Server(key)
    if length <= 16_384:
        async with client_for(server, key) as client, client_for(server, lambda: key) as other:
            await create(client)
            await create(other)
        assert server.keys == [key, key]
        return
    with pytest.raises(ValueError, match="api_key: the key is over 16384 characters"):
        tc.Client(BASE, key)
    async with client_for(server, lambda: key) as client:
        with pytest.raises(ValueError, match=r"api_key \(the callable\): the key is over"):
            await create(client)
    assert server.keys == []


async def test_a_key_callable_that_hangs_times_out_before_anything_is_sent() -> None:
    """A token endpoint that never answers: the attempt's timeout covers the callable too."""
    server = Server(SECRET)
    never = asyncio.Event()

    async def hangs() -> str:
        await never.wait()
        return SECRET

    async with client_for(server, hangs, timeout=0.05, retry=None) as client:
        with pytest.raises(tc.APITimeoutError, match=r"^api_key \(the callable\) did not") as err:
            await asyncio.wait_for(create(client), 10)  # (a hang fails here, not for ever)
    assert (err.value.request_sent, err.value.applied) == (False, False)
    assert "nothing was sent" in str(err.value)
    assert server.keys == []


async def test_a_key_callable_that_hung_once_is_asked_again() -> None:
    """Nothing was sent, so the attempt is retried; the callable's own TimeoutError is its own."""
    server = Server(SECRET)
    calls: list[int] = []

    async def slow_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            await asyncio.Event().wait()
        return SECRET

    sleep = RecordingSleep()
    async with client_for(server, slow_once, timeout=0.05, sleep=sleep) as client:
        await asyncio.wait_for(create(client), 10)
    assert (len(calls), server.keys, len(sleep.calls)) == (2, [SECRET], 1)

    async def its_own_timeout() -> str:
        raise TimeoutError("token endpoint: read timed out")

    async with client_for(server, its_own_timeout) as client:
        with pytest.raises(TimeoutError, match="token endpoint: read timed out") as own:
            await create(client)
    assert not isinstance(own.value, tc.ThoughtCreditsError)


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (400, {}, tc.BadRequestError),
        (500, {}, tc.InternalServerError),
        (307, {"Location": "https://acme.example/login?auth={auth}"}, tc.APIStatusError),
    ],
)
@pytest.mark.parametrize("given", ["text", "callable"])
async def test_a_key_the_server_echoes_is_not_quoted_in_the_error(
    status: int, headers: dict[str, str], error: type[tc.APIStatusError], given: str
) -> None:
    """A gateway that quotes the request's Authorization in its error: the message (which
    reaches logs, traces and, for a 400, the FastAPI answer to an app's caller) says ***."""

    def echo(request: tc.HTTPRequest) -> tc.HTTPResponse:
        auth = str(request.headers["Authorization"])
        message = {"message": f"malformed header: Authorization: {auth}"}
        echoed = {name: value.format(auth=auth) for name, value in headers.items()}
        return json_response(message, status=status, headers=echoed)

    key = SECRET if given == "text" else (lambda: SECRET)
    async with tc.Client(BASE, key, transport=MockTransport(echo), retry=None) as client:
        with pytest.raises(error) as caught:
            await create(client)
    assert SECRET not in str(caught.value)
    if status != 307:
        assert caught.value.message == "malformed header: Authorization: Bearer ***"
    else:
        assert "login?auth=Bearer ***" in caught.value.message


async def test_a_client_closed_while_its_key_is_asked_sends_nothing() -> None:
    """Closed while the callable fetched a token: the create was sent after the close (on a new,
    leaked session); now it is a ClientClosedError saying nothing was sent."""
    server = Server(SECRET)
    asked, fetched = asyncio.Event(), asyncio.Event()

    async def token() -> str:
        asked.set()
        await fetched.wait()
        return SECRET

    client = client_for(server, token)
    task = asyncio.create_task(create(client))
    await asked.wait()
    await client.aclose()
    fetched.set()
    with pytest.raises(tc.ClientClosedError, match="closed while this request waited") as err:
        await task
    assert (err.value.request_sent, err.value.applied) == (False, False)
    assert server.keys == []


async def test_the_refused_key_after_a_hung_fetch_still_raises_the_401() -> None:
    """401 with k1; the callable then hangs once (a timeout, nothing sent, retried) and returns
    k1 again: the caller gets the 401, not the fetch's timeout retried until attempts ran out."""
    server = Server("k2")
    calls: list[int] = []

    async def key() -> str:
        calls.append(1)
        if len(calls) == 2:
            await asyncio.Event().wait()
        return "k1"

    async with client_for(server, key, timeout=0.05, sleep=RecordingSleep()) as client:
        with pytest.raises(tc.AuthenticationError) as caught:
            await create(client)
    assert caught.value.applied is False
    assert (server.keys, len(calls)) == (["k1"], 3)
