"""Wire-level client tests: exact requests, configuration, session lifecycle, security, timeouts."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib.metadata import version
from typing import Any
from uuid import UUID

import aiohttp
import pytest

import thoughtcredits as tc
from tests.conftest import (
    ACCOUNT_ID,
    API_KEY,
    BATCH_ID,
    CLIENT_ID,
    MockScriptedServer,
    RecordingSleep,
    Reply,
    ScriptedServer,
    Seen,
    payload,
    sample,
)
from thoughtcredits._http.endpoint import Endpoint
from thoughtcredits._http.interpreter import RawJSON
from thoughtcredits.testing import MockTransport, json_response

V2 = "/incoming/v2"
LAST_PAGE = {"data": {"creditBatches": [], "pageInfo": {"hasMore": False}}}


def only(server: ScriptedServer) -> Seen:
    """The one request the server received."""
    (seen,) = server.requests
    return seen


# --- every endpoint, byte for byte -----------------------------------------------------------


async def test_list_credit_batches_wire(server: ScriptedServer, client: tc.Client) -> None:
    """GET /clients/:id/creditBatches fills :id and clientId from client_id."""
    server.reply(200, sample("list_credit_batches"))
    listing = client.credit_batches.list(CLIENT_ID, max_items=1)
    (batch,) = [b async for b in listing]
    seen = only(server)
    assert seen.method == "GET"
    assert seen.raw_path == f"{V2}/clients/{CLIENT_ID}/creditBatches?clientId={CLIENT_ID}"
    assert seen.body == b""
    assert "Content-Type" not in seen.headers
    assert batch == tc.CreditBatch(
        id=UUID(int=0),
        name="string",
        expires_on=datetime(2024, 1, 1, tzinfo=UTC),
        starting_balance=Decimal(0),
        current_balance=Decimal(0),
        client_id=UUID(int=0),
        status=tc.CreditBatchStatus.ACTIVE,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        updated_at=datetime(2024, 1, 1, tzinfo=UTC),
        credit_account_id=UUID(int=0),
        allocated_credits=Decimal(0),
    )


async def test_list_credit_batches_filters_wire(server: ScriptedServer, client: tc.Client) -> None:
    """creditAccountId and perPage are sent only when given, after clientId."""
    server.reply(200, LAST_PAGE)
    listing = client.credit_batches.list(
        UUID(CLIENT_ID), credit_account_id=ACCOUNT_ID.upper(), page_size=50
    )
    assert [b async for b in listing] == []
    assert only(server).raw_path == (
        f"{V2}/clients/{CLIENT_ID}/creditBatches"
        f"?clientId={CLIENT_ID}&creditAccountId={ACCOUNT_ID}&perPage=50"
    )


async def test_list_credit_actions_wire(server: ScriptedServer, client: tc.Client) -> None:
    """GET .../creditAccount/:creditAccountId/creditActions sends clientId and actionType."""
    server.reply(200, sample("list_credit_actions"))
    listing = client.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type="debit", max_items=1)
    (action,) = [a async for a in listing]
    seen = only(server)
    assert seen.method == "GET"
    assert seen.raw_path == (
        f"{V2}/clients/{CLIENT_ID}/creditAccount/{ACCOUNT_ID}/creditActions"
        f"?clientId={CLIENT_ID}&actionType=debit"
    )
    assert seen.body == b""
    assert action.action == "string"
    assert action.amount == Decimal(0)


async def test_action_type_is_query_encoded(server: ScriptedServer, client: tc.Client) -> None:
    """An action type with reserved characters is percent-encoded in the query."""
    server.reply(200, {"data": {"creditActions": [], "pageInfo": {}}})
    listing = client.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type="a&b=c d")
    assert [a async for a in listing] == []
    seen = only(server)
    assert seen.raw_path.endswith("&actionType=a%26b%3Dc%20d")
    assert seen.query["actionType"] == "a&b=c d"


async def test_create_credit_batch_wire(server: ScriptedServer, client: tc.Client) -> None:
    """POST /clients/:id/creditBatches sends every given field, exactly."""
    server.reply(201, sample("create_credit_batch"))
    batch = await client.credit_batches.create(
        CLIENT_ID,
        starting_balance=Decimal("100.50"),
        credit_account_id=UUID(ACCOUNT_ID),
        name="Q3",
        expires_on=datetime(2027, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    seen = only(server)
    assert seen.method == "POST"
    assert seen.raw_path == f"{V2}/clients/{CLIENT_ID}/creditBatches"
    assert (
        seen.body
        == (
            f'{{"clientId":"{CLIENT_ID}","startingBalance":100.5,'
            f'"creditAccountId":"{ACCOUNT_ID}","name":"Q3",'
            '"expiresOn":"2027-01-01T00:00:00.000Z"}'
        ).encode()
    )
    assert seen.headers["Content-Type"] == "application/json"
    assert batch.id == UUID(int=0)


async def test_create_credit_batch_minimal_wire(server: ScriptedServer, client: tc.Client) -> None:
    """Unset optional arguments are left out of the body; integral amounts go as integers."""
    server.reply(201, sample("create_credit_batch"))
    await client.credit_batches.create(CLIENT_ID, starting_balance=Decimal("100.00"))
    assert only(server).body == f'{{"clientId":"{CLIENT_ID}","startingBalance":100}}'.encode()


async def test_update_credit_batch_wire(server: ScriptedServer, client: tc.Client) -> None:
    """PUT /clients/creditBatches/:id sends only the fields given."""
    server.reply(200, sample("update_credit_batch"))
    batch = await client.credit_batches.update(BATCH_ID, name="Q3b", current_balance=90)
    seen = only(server)
    assert seen.method == "PUT"
    assert seen.raw_path == f"{V2}/clients/creditBatches/{BATCH_ID}"
    assert seen.body == b'{"name":"Q3b","currentBalance":90}'
    assert seen.headers["Content-Type"] == "application/json"
    assert batch.status == tc.CreditBatchStatus.ACTIVE


async def test_update_credit_batch_expiry_only(server: ScriptedServer, client: tc.Client) -> None:
    """An update of only expires_on sends only expiresOn, in UTC with milliseconds."""
    server.reply(200, sample("update_credit_batch"))
    await client.credit_batches.update(
        UUID(BATCH_ID), expires_on=datetime(2027, 6, 30, 12, 30, 15, 250000, tzinfo=UTC)
    )
    assert only(server).body == b'{"expiresOn":"2027-06-30T12:30:15.250Z"}'


async def test_create_credit_account_wire(server: ScriptedServer, client: tc.Client) -> None:
    """POST /clients/:id/creditAccounts sends every documented field with its wire name."""
    server.reply(201, sample("create_credit_account"))
    account = await client.credit_accounts.create(
        CLIENT_ID,
        name="Training",
        starting_balance=1000,
        notify_emails=["ops@acme.test", "cfo@acme.test"],
        license_ids=("lic-1",),
        batch_days_until_expire=365,
        minimum_batch_amount=10,
        type=tc.CreditAccountType.CLIENT,
        credit_batch_name="Q1",
    )
    seen = only(server)
    assert seen.method == "POST"
    assert seen.raw_path == f"{V2}/clients/{CLIENT_ID}/creditAccounts"
    assert (
        seen.body
        == (
            f'{{"clientId":"{CLIENT_ID}","name":"Training","startingBalance":1000,'
            '"notifyEmails":["ops@acme.test","cfo@acme.test"],"licenseIds":["lic-1"],'
            '"batchDaysUntilExpire":365,"minimumBatchAmount":10,"type":"client",'
            '"creditBatchName":"Q1"}'
        ).encode()
    )
    assert account.sublicenses == (tc.Sublicense(id=UUID(int=0), deleted=True),)
    assert account.notify_emails == ("string",)


async def test_create_credit_account_minimal_wire(
    server: ScriptedServer, client: tc.Client
) -> None:
    """Unset optional account fields are left out of the body."""
    server.reply(201, sample("create_credit_account"))
    await client.credit_accounts.create(
        CLIENT_ID, name="T", starting_balance=0, notify_emails=[], license_ids=[]
    )
    assert only(server).json == {
        "clientId": CLIENT_ID,
        "name": "T",
        "startingBalance": 0,
        "notifyEmails": [],
        "licenseIds": [],
    }


async def test_unknown_account_type_string_is_sent(
    server: ScriptedServer, client: tc.Client
) -> None:
    """A type string the SDK does not know is sent as given."""
    server.reply(201, sample("create_credit_account"))
    await client.credit_accounts.create(
        CLIENT_ID, name="T", starting_balance=0, notify_emails=[], license_ids=[], type="partner"
    )
    assert only(server).json["type"] == "partner"


async def test_headers(server: ScriptedServer, sleeps: RecordingSleep) -> None:
    """Every request carries Bearer auth, Accept and a User-Agent naming the SDK and version."""
    server.default = Reply(200, sample("create_credit_batch"))
    async with server.client(
        sleep=sleeps,
        user_agent="reconciler/2.0",
        default_headers={"X-Team": "billing", "Authorization": "Bearer stolen"},
    ) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        await client.credit_batches.update(BATCH_ID, name="n")
        server.default = Reply(200, LAST_PAGE)
        [b async for b in client.credit_batches.list(CLIENT_ID)]
    assert len(server.requests) == 3
    for seen in server.requests:
        assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
        assert seen.headers["Accept"] == "application/json"
        agent = seen.headers["User-Agent"]
        assert agent.startswith(f"thoughtcredits/{version('thoughtcredits')} ")
        assert agent.endswith(" reconciler/2.0")
        assert seen.headers["X-Team"] == "billing"
        has_body = seen.method in ("POST", "PUT")
        assert ("Content-Type" in seen.headers) is has_body


# --- envelopes and bodies through the client -------------------------------------------------

ITEMS = payload("list_credit_batches")["creditBatches"]


@pytest.mark.parametrize(
    "body",
    [
        sample("list_credit_batches"),
        {"data": {"creditBatches": ITEMS, "pageInfo": {"hasMore": False}}},
        {"data": ITEMS, "pageInfo": {"hasMore": False}},
        {"data": ITEMS},
        {"creditBatches": ITEMS, "pageInfo": {"hasMore": False}},
    ],
    ids=["data-op", "data", "data-list", "data-list-no-pageinfo", "top-level"],
)
async def test_list_envelopes(server: ScriptedServer, client: tc.Client, body: Any) -> None:
    """A listing parses in every envelope shape the API is known to use."""
    server.reply(200, body)
    server.default = Reply(200, LAST_PAGE)
    pages = [p async for p in client.credit_batches.list(CLIENT_ID).pages()]
    assert [len(p.items) for p in pages][:1] == [1]
    assert pages[0].items[0].name == "string"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"not json"),
        (200, b"<html><body>Maintenance</body></html>"),
        (200, b'{"data": {"CreateCreditBatch": {"id": '),
        (200, b""),
        (200, b"[]"),
        (200, b'{"data": {"CreateCreditBatch": {"id": "x"}}}'),
        (201, b"NaN"),
    ],
)
async def test_bad_success_bodies(
    server: ScriptedServer, client: tc.Client, status: int, body: bytes
) -> None:
    """A 2xx body that is not valid JSON or not the model is a ResponseValidationError."""
    server.reply(status, body)
    with pytest.raises(tc.ResponseValidationError) as caught:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    assert caught.value.method == "POST"
    assert caught.value.url.endswith(f"/clients/{CLIENT_ID}/creditBatches")


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"APICreditBatchesByClientAndCreditAccount": {"pageInfo": {}}}},
        {"data": {"APICreditBatchesByClientAndCreditAccount": {"creditBatches": {}}}},
        {"creditBatches": "none"},
        [1, 2],
    ],
)
async def test_bad_list_bodies(server: ScriptedServer, client: tc.Client, body: Any) -> None:
    """A listing without an items array is a ResponseValidationError, not an empty list."""
    server.reply(200, body)
    with pytest.raises(tc.ResponseValidationError, match="creditBatches"):
        [b async for b in client.credit_batches.list(CLIENT_ID)]


async def test_fractional_amounts_are_exact(server: ScriptedServer, client: tc.Client) -> None:
    """Fractional amounts in a response arrive as exact Decimals."""
    raw = json.dumps(sample("create_credit_batch")).replace(
        '"currentBalance": 0', '"currentBalance": 99.10'
    )
    server.reply(200, raw.encode(), headers={"Content-Type": "application/json"})
    batch = await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    assert str(batch.current_balance) == "99.10"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, tc.BadRequestError),
        (401, tc.AuthenticationError),
        (403, tc.PermissionDeniedError),
        (404, tc.NotFoundError),
        (409, tc.ConflictError),
        (422, tc.UnprocessableEntityError),
    ],
)
async def test_status_errors_through_the_client(
    server: ScriptedServer, client: tc.Client, status: int, cls: type[tc.APIStatusError]
) -> None:
    """A 4xx surfaces as its class with method, URL, body and the response headers."""
    server.reply(status, {"message": "nope"}, headers={"X-Request-Id": "req-9"})
    with pytest.raises(cls) as caught:
        await client.credit_batches.update(BATCH_ID, name="x")
    error = caught.value
    assert (error.status, error.method, error.message) == (status, "PUT", "nope")
    assert error.url == f"{server.url}{V2}/clients/creditBatches/{BATCH_ID}"
    assert error.request_id == "req-9"
    assert len(server.requests) == 1


async def test_empty_401(server: ScriptedServer, client: tc.Client) -> None:
    """The API's empty-bodied 401 is an AuthenticationError."""
    server.reply(401, b"")
    with pytest.raises(tc.AuthenticationError) as caught:
        [b async for b in client.credit_batches.list(CLIENT_ID)]
    assert caught.value.body is None


async def test_post_is_not_redirected(server: ScriptedServer, client: tc.Client) -> None:
    """A redirect answering a POST is surfaced, never followed (it could re-send or become GET)."""
    server.reply(307, b"", headers={"Location": "/elsewhere"})
    with pytest.raises(tc.APIStatusError) as caught:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    assert caught.value.status == 307
    assert len(server.requests) == 1


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segments", "query", "expected"),
    [
        (["clients", "a/b", "x"], None, "B/clients/a%2Fb/x"),
        (["c d", "é", "?#%"], None, "B/c%20d/%C3%A9/%3F%23%25"),
        (["..", "."], None, "B/../."),
        (["x"], {"cursor": "ab+c/d=="}, "B/x?cursor=ab%2Bc%2Fd%3D%3D"),
        (["x"], {"a": "1 2", "b": "&"}, "B/x?a=1%202&b=%26"),
    ],
)
def test_path_values_and_query_are_quoted(
    segments: list[str], query: dict[str, str] | None, expected: str
) -> None:
    """Path values are quoted whole (a slash cannot add a segment) and queries encoded."""
    template = "".join(f"/:{index}" for index in range(len(segments)))
    endpoint = Endpoint("GET", template, "", RawJSON(), resend=True)
    assert endpoint.target("B", "", tuple(segments), query)[0] == expected


async def test_cursor_with_reserved_characters(server: ScriptedServer, client: tc.Client) -> None:
    """Base64 cursors with + / = are percent-encoded so the server gets them back intact."""
    server.reply(200, {"creditBatches": [], "pageInfo": {"hasMore": True, "cursor": "x+y/z=="}})
    server.reply(200, LAST_PAGE)
    assert [b async for b in client.credit_batches.list(CLIENT_ID, cursor="ab+c/d=")] == []
    first, second = server.requests
    assert first.raw_path.endswith(f"?clientId={CLIENT_ID}&cursor=ab%2Bc%2Fd%3D")
    assert first.query["cursor"] == "ab+c/d="
    assert second.raw_path.endswith("&cursor=x%2By%2Fz%3D%3D")
    assert second.query["cursor"] == "x+y/z=="


@pytest.mark.parametrize("suffix", ["", "/", "/incoming/v2", "/incoming/v2/"])
async def test_base_url_forms_on_the_wire(
    server: MockScriptedServer, sleeps: RecordingSleep, suffix: str
) -> None:
    """The base URL works with or without /incoming/v2 and a trailing slash."""
    server.default = Reply(200, LAST_PAGE)
    transport = server.transport()
    async with tc.Client(server.url + suffix, API_KEY, sleep=sleeps, transport=transport) as client:
        [b async for b in client.credit_batches.list(CLIENT_ID)]
    assert only(server).path == f"{V2}/clients/{CLIENT_ID}/creditBatches"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://acme.thoughtindustries.com", "https://acme.thoughtindustries.com/incoming/v2"),
        ("https://acme.thoughtindustries.com/", "https://acme.thoughtindustries.com/incoming/v2"),
        (
            "https://acme.thoughtindustries.com/incoming/v2",
            "https://acme.thoughtindustries.com/incoming/v2",
        ),
        (
            "https://acme.thoughtindustries.com/incoming/v2/",
            "https://acme.thoughtindustries.com/incoming/v2",
        ),
        ("  https://learn.acme.com:8443/lms  ", "https://learn.acme.com:8443/lms/incoming/v2"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/incoming/v2"),
        ("http://localhost", "http://localhost/incoming/v2"),
        ("http://[::1]:9000/", "http://[::1]:9000/incoming/v2"),
        ("http://127.9.9.9", "http://127.9.9.9/incoming/v2"),
    ],
)
def test_base_url_normalised(base_url: str, expected: str) -> None:
    """The client's base URL always ends in /incoming/v2 with no trailing slash."""
    assert tc.Client(base_url, API_KEY).base_url == expected


async def test_https_url_on_the_wire() -> None:
    """An https base URL is requested exactly at <base>/incoming/v2/... (through the seam)."""
    transport = MockTransport(lambda request: json_response(sample("create_credit_batch")))
    base = "https://acme.thoughtindustries.com/"
    async with tc.Client(base, API_KEY, retry=None, transport=transport) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    ((method, url),) = [(request.method, request.url) for request in transport.requests]
    assert method == "POST"
    assert str(url) == f"https://acme.thoughtindustries.com{V2}/clients/{CLIENT_ID}/creditBatches"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://acme.thoughtindustries.com",
        "http://10.0.0.1",
        "http://192.168.1.10:8080",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.com",
        "http://[::2]",
    ],
)
def test_plain_http_refused_for_remote_hosts(base_url: str) -> None:
    """http:// is refused unless the host is loopback, so the key is never sent in clear."""
    with pytest.raises(ValueError, match="https") as caught:
        tc.Client(base_url, API_KEY)
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    [
        "acme.thoughtindustries.com",
        "ftp://acme.thoughtindustries.com",
        "https://",
        "https://user:pw@acme.thoughtindustries.com",
        "https://acme.thoughtindustries.com?x=1",
        "https://acme.thoughtindustries.com#frag",
    ],
)
def test_invalid_base_urls(base_url: str) -> None:
    """A base URL that is not a plain absolute https URL is refused."""
    with pytest.raises(ValueError, match="base_url"):
        tc.Client(base_url, API_KEY)


# --- configuration ---------------------------------------------------------------------------


async def test_env_var_fallback(
    server: MockScriptedServer, sleeps: RecordingSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without arguments the client reads THOUGHTCREDITS_BASE_URL and THOUGHTCREDITS_API_KEY."""
    monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", server.url)
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", "env-key-123")
    server.default = Reply(200, LAST_PAGE)
    async with tc.Client(sleep=sleeps, transport=server.transport()) as client:
        [b async for b in client.credit_batches.list(CLIENT_ID)]
    assert only(server).headers["Authorization"] == "Bearer env-key-123"


def test_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explicit arguments take precedence over the environment."""
    monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", "https://env.example")
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", "env-key")
    assert tc.Client("https://arg.example", "k").base_url == "https://arg.example/incoming/v2"


@pytest.mark.parametrize(
    "env",
    [{}, {"THOUGHTCREDITS_BASE_URL": "https://acme.test"}, {"THOUGHTCREDITS_API_KEY": "k"}],
)
def test_missing_configuration_names_both_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """When base URL or key is missing, the error names both environment variables."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="THOUGHTCREDITS_BASE_URL") as caught:
        tc.Client()
    assert "THOUGHTCREDITS_API_KEY" in str(caught.value)


def test_default_timeout_is_finite() -> None:
    """The default timeout bounds both connect and total time."""
    client = tc.Client("https://acme.test", API_KEY)
    assert client.timeout is tc.DEFAULT_TIMEOUT
    assert tc.DEFAULT_TIMEOUT.total is not None
    assert 0 < tc.DEFAULT_TIMEOUT.total <= 300
    assert tc.DEFAULT_TIMEOUT.connect is not None
    assert 0 < tc.DEFAULT_TIMEOUT.connect <= tc.DEFAULT_TIMEOUT.total


def test_timeout_override() -> None:
    """A number sets the total (and caps connect); a ClientTimeout is used as given."""
    assert tc.Client("https://acme.test", API_KEY, timeout=5).timeout == aiohttp.ClientTimeout(
        total=5, connect=5
    )
    custom = aiohttp.ClientTimeout(total=3, connect=1)
    assert tc.Client("https://acme.test", API_KEY, timeout=custom).timeout is custom


# --- sessions and lifecycle --------------------------------------------------------------------


async def test_injected_session_is_borrowed(socket_server: ScriptedServer) -> None:
    """A session passed in is used for requests and never closed by the client."""
    server = socket_server  # this is about aiohttp's own behaviour, on a real socket
    server.default = Reply(200, LAST_PAGE)
    async with aiohttp.ClientSession(headers={"X-From-Session": "yes"}) as session:
        async with server.client(session=session) as client:
            [b async for b in client.credit_batches.list(CLIENT_ID)]
        assert client.closed
        assert not session.closed
        async with session.get(server.url + "/still-usable") as response:
            assert response.status == 200
    assert server.requests[0].headers["X-From-Session"] == "yes"


async def test_owned_session_closed_by_aclose(socket_server: ScriptedServer) -> None:
    """The client's own session is closed by aclose(), which is idempotent."""
    server = socket_server  # this is about aiohttp's own behaviour, on a real socket
    server.default = Reply(200, LAST_PAGE)
    client = server.client()
    [b async for b in client.credit_batches.list(CLIENT_ID)]
    session = client._view.core.transport.session  # the only way to see the owned session
    assert session is not None
    assert not session.closed
    await client.aclose()
    assert session.closed
    assert client.closed
    await client.aclose()


async def test_owned_session_closed_by_async_with(socket_server: ScriptedServer) -> None:
    """Leaving ``async with`` closes the client's own session, even on error."""
    server = socket_server  # this is about aiohttp's own behaviour, on a real socket
    server.default = Reply(200, LAST_PAGE)
    sessions = []

    async def fail_inside() -> None:
        async with server.client() as client:
            [b async for b in client.credit_batches.list(CLIENT_ID)]
            sessions.append(client._view.core.transport.session)
            raise KeyError("user error")

    with pytest.raises(KeyError):
        await fail_inside()
    (session,) = sessions
    assert session is not None
    assert session.closed


async def test_no_session_until_first_request() -> None:
    """Building and closing an unused client opens nothing and warns about nothing."""
    client = tc.Client("https://acme.test", API_KEY)
    await client.aclose()
    assert client.closed


@pytest.mark.parametrize("step", ["create", "list", "enter"])
async def test_request_after_aclose_raises(server: ScriptedServer, step: str) -> None:
    """Using a closed client raises RuntimeError and sends nothing."""
    client = server.client()
    listing = client.credit_batches.list(CLIENT_ID)
    await client.aclose()

    async def use() -> None:
        if step == "create":
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        elif step == "list":
            [b async for b in listing]
        else:
            async with client:
                pass

    with pytest.raises(RuntimeError, match="closed"):
        await use()
    assert server.requests == []


# --- security -------------------------------------------------------------------------------


def test_repr_hides_the_key() -> None:
    """repr(client) shows the base URL but never the API key."""
    client = tc.Client("https://acme.test", API_KEY)
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    assert "acme.test" in repr(client)


async def test_key_absent_from_errors_and_logs(
    server: ScriptedServer,
    sleeps: RecordingSleep,
    free_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No exception message, attribute or log line contains the API key."""
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    server.reply(500, times=4)
    server.reply(401, b"")
    server.reply(200, b"garbage")
    async with server.client(sleep=sleeps) as client:
        for _ in range(3):
            try:
                await client.credit_batches.update(BATCH_ID, name="x")
            except tc.ThoughtCreditsError as exc:
                errors.append(exc)
    async with tc.Client(
        f"http://127.0.0.1:{free_port}", API_KEY, sleep=sleeps, retry=tc.RetryPolicy(attempts=2)
    ) as offline:
        try:
            await offline.credit_batches.update(BATCH_ID, name="x")
        except tc.ThoughtCreditsError as exc:
            errors.append(exc)
    assert [type(e) for e in errors] == [
        tc.InternalServerError,
        tc.AuthenticationError,
        tc.ResponseValidationError,
        tc.APIConnectionError,
    ]
    for error in errors:
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
        assert API_KEY not in repr(vars(error))
    assert caplog.records
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(vars(record))


# --- concurrency and timeouts -------------------------------------------------------------


async def test_one_client_many_tasks(server: ScriptedServer, client: tc.Client) -> None:
    """One client serves many concurrent tasks, each getting its own response."""

    def echo(seen: Seen) -> Reply:
        if seen.method == "POST":
            batch = payload("create_credit_batch")
            batch["name"] = seen.json["name"]
            return Reply(201, {"data": {"CreateCreditBatch": batch}})
        item = payload("create_credit_batch")
        item["name"] = seen.query["creditAccountId"]
        return Reply(200, {"creditBatches": [item], "pageInfo": {"hasMore": False}})

    server.respond = echo
    accounts = [str(UUID(int=n)) for n in range(25)]

    async def create(n: int) -> str | None:
        batch = await client.credit_batches.create(CLIENT_ID, starting_balance=n, name=f"b{n}")
        return batch.name

    async def listing(account: str) -> list[str | None]:
        return [
            b.name async for b in client.credit_batches.list(CLIENT_ID, credit_account_id=account)
        ]

    created, listed = await asyncio.gather(
        asyncio.gather(*(create(n) for n in range(25))),
        asyncio.gather(*(listing(a) for a in accounts)),
    )
    assert created == [f"b{n}" for n in range(25)]
    assert listed == [[a] for a in accounts]
    assert len(server.requests) == 50


async def test_timeout_raises_api_timeout_error(socket_server: ScriptedServer) -> None:
    """A response slower than the timeout raises APITimeoutError promptly."""
    server = socket_server  # this is about aiohttp's own behaviour, on a real socket
    server.reply(200, LAST_PAGE, delay=10)
    async with server.client(timeout=0.2, retry=None) as client:
        started = time.monotonic()
        with pytest.raises(tc.APITimeoutError) as caught:
            [b async for b in client.credit_batches.list(CLIENT_ID)]
    assert time.monotonic() - started < 3
    assert caught.value.method == "GET"
    assert isinstance(caught.value, tc.APIConnectionError)


async def test_client_timeout_object(socket_server: ScriptedServer) -> None:
    """An aiohttp.ClientTimeout is honoured as the per-attempt limit."""
    server = socket_server  # this is about aiohttp's own behaviour, on a real socket
    server.reply(201, sample("create_credit_batch"), delay=10)
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with server.client(timeout=timeout, retry=None) as client:
        with pytest.raises(tc.APITimeoutError):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
