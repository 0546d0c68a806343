"""Key handling and transport security, as SECURITY.md states them.

The key is distinctive (``tests.faults.KEY``), so every check is a plain substring search.
"""

from __future__ import annotations

import inspect
import logging
import pickle
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import thoughtcredits as tc
from thoughtcredits.testing import Fault, RecordingSleep

from . import KEY, secret_free_text, world
from .test_fault_matrix import CELLS, Endpoint, run_cell

CID = "7b0f8a9c-1d2e-4f30-8a41-5b6c7d8e9f01"


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    """No captured record mentions the key, in its message, arguments or extra fields."""
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(vars(record))
    assert KEY not in caplog.text


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger (root, ``thoughtcredits``, aiohttp) at DEBUG."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="thoughtcredits")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    return caplog


@pytest.mark.parametrize(("endpoint", "name"), CELLS)
async def test_no_key_in_any_fault_matrix_cell(
    endpoint: Endpoint, name: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    """In every matrix cell, the key is in no DEBUG log, error str/repr/traceback or pickle."""
    async with run_cell(endpoint, name) as run:
        if run.error is not None:
            secret_free_text(run.error)
            clone = pickle.loads(pickle.dumps(run.error))  # noqa: S301 - our own bytes
            assert type(clone) is type(run.error)
            assert str(clone) == str(run.error)
    assert_logs_clean(debug_logs)


async def test_no_key_in_logs_of_success_retry_and_failure(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    """Successful, retried and failed requests log at DEBUG/INFO without the key."""
    async with world() as w, w.server.client(sleep=RecordingSleep()) as client:
        [b async for b in client.credit_batches.list(w.client_id)]
        w.server.inject(Fault("status", status=503, route="update_credit_batch"))
        await client.credit_batches.update(w.batch_ids[0], current_balance=1)
        w.server.inject(Fault("status", status=429, headers={"Retry-After": "1"}))
        await client.credit_batches.create(w.client_id, starting_balance=1)
        w.server.inject(Fault("status", status=401, route="create_credit_batch"))
        with pytest.raises(tc.AuthenticationError) as caught:
            await client.credit_batches.create(w.client_id, starting_balance=1)
        secret_free_text(caught.value)
        for request in w.server.requests:  # the key travels only in the Authorization header
            assert request.headers["Authorization"] == f"Bearer {KEY}"
            rest = {k: v for k, v in request.headers.items() if k != "Authorization"}
            assert KEY not in f"{request.path}{request.query}{request.body!r}{rest}"
    messages = [r.getMessage() for r in debug_logs.records if r.name == "thoughtcredits"]
    assert any(r.levelno == logging.DEBUG for r in debug_logs.records)
    assert any(m.startswith("retrying PUT") for m in messages)
    assert any("-> 503" in m for m in messages)
    assert_logs_clean(debug_logs)


async def test_wrong_key_error_has_no_key() -> None:
    """A 401 for a wrong key names neither the wrong key nor the right one."""
    async with world() as w:
        wrong = KEY + "-wrong"
        async with tc.Client(w.server.url, wrong, retry=None) as client:
            with pytest.raises(tc.AuthenticationError) as caught:
                await client.credit_batches.update(w.batch_ids[0], name="x")
        text = secret_free_text(caught.value)
        assert wrong not in text
        assert "Authorization" not in caught.value.headers


def test_repr_and_attributes_hide_the_key() -> None:
    """repr/str of the client and its parts never show the key."""
    client = tc.Client("https://acme.example.com", KEY)
    parts = [
        client, client.credit_batches, client.credit_actions, client.credit_accounts,
        client.retry, client.stats, client.credit_batches.list(CID),
    ]  # fmt: skip
    for part in parts:
        assert KEY not in repr(part)
        assert KEY not in str(part)
    assert repr(client) == "Client(base_url='https://acme.example.com/incoming/v2', api_key='***')"


@pytest.mark.parametrize("bad", [f"{KEY}\nX-Evil: 1", f"{KEY}\rX", f"ab\x00{KEY}", "   "])
def test_key_with_newline_or_nul_is_refused(bad: str) -> None:
    """A key that could inject headers is refused, and the error does not echo it."""
    with pytest.raises(ValueError, match="api_key") as caught:
        tc.Client("https://acme.example.com", bad)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.thoughtindustries.com", "http://10.0.0.8:8080", "http://[2001:db8::1]",
        "http://127.0.0.1.nip.io", "http://localhost.evil.example", "http://0.0.0.0:80",
        "HTTP://example.com", "http://169.254.169.254",
    ],
)  # fmt: skip
def test_plain_http_refused_for_non_loopback_hosts(url: str) -> None:
    """http:// to anything but loopback is refused before any connection is made."""
    with pytest.raises(ValueError, match="http") as caught:
        tc.Client(url, KEY)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1", "http://localhost:8080", "http://[::1]:9", "http://127.9.9.9"]
)
def test_plain_http_allowed_for_loopback(url: str) -> None:
    """Loopback hosts (localhost, 127.0.0.0/8, ::1) may use http:// for local testing."""
    assert tc.Client(url, KEY).base_url.startswith("http://")


def test_no_switch_turns_tls_verification_off() -> None:
    """The client takes no ssl/verify argument: verification cannot be turned off."""
    names = {name.lower() for name in inspect.signature(tc.Client).parameters}
    assert not names & {"ssl", "verify", "verify_ssl", "ssl_context", "insecure", "cafile"}


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_untrusted_certificate_is_refused(self_signed: ssl.SSLContext) -> None:
    """An https server with an untrusted certificate gets a TLS error and never the key."""
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with tc.Client(f"https://127.0.0.1:{port}", KEY, retry=None) as client:
            with pytest.raises(tc.APIConnectionError) as caught:
                await client.credit_batches.update("7b0f8a9c-1d2e-4f30-8a41-5b6c7d8e9f01", name="x")
        assert "TLS" in str(caught.value) or "certificate" in str(caught.value).lower()
        secret_free_text(caught.value)
        assert seen == []
    finally:
        await runner.cleanup()


# --- redirects ----------------------------------------------------------------------------------


class Recorder:
    """An in-process aiohttp server that records requests and answers from ``reply``."""

    def __init__(self, reply: Any) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.reply = reply
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))
        result: web.StreamResponse = self.reply(request)
        return result


@pytest.fixture
async def two_hosts() -> AsyncIterator[tuple[Recorder, Recorder]]:
    """Server A (the client's base URL, 127.0.0.1) redirects to server B, reached as localhost."""
    page = {"data": {"creditBatches": [], "pageInfo": {"hasMore": False}}}
    other = Recorder(lambda request: web.json_response(page))
    await other.server.start_server()

    def redirect(request: web.Request) -> web.StreamResponse:
        status = int(request.headers.get("X-Test-Status", "302"))
        target = f"http://localhost:{other.server.port}{request.path_qs}"
        return web.Response(status=status, headers={"Location": target})

    origin = Recorder(redirect)
    await origin.server.start_server()
    try:
        yield origin, other
    finally:
        await origin.server.close()
        await other.server.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_get_redirect_to_another_host_drops_the_key(
    two_hosts: tuple[Recorder, Recorder], status: int
) -> None:
    """A GET redirected from 127.0.0.1 to localhost arrives there without Authorization."""
    origin, other = two_hosts
    base = f"http://127.0.0.1:{origin.server.port}"
    async with tc.Client(
        base, KEY, retry=None, default_headers={"X-Test-Status": str(status)}
    ) as client:
        assert [b async for b in client.credit_batches.list(CID)] == []
    assert origin.requests[0][2]["Authorization"] == f"Bearer {KEY}"
    ((method, path, headers),) = other.requests
    assert method == "GET"
    assert path == f"/incoming/v2/clients/{CID}/creditBatches?clientId={CID}"
    assert "Authorization" not in headers
    assert KEY not in repr(headers)


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("http://user:hunter2@127.0.0.1:{port}/elsewhere", "a URL with credentials"),
        ("ftp://user:hunter2@127.0.0.1/elsewhere", "not http:// or https://"),
        ("http://[::1/elsewhere", "not a valid URL"),
        ("{self}", "10 redirects in a row"),
    ],
)
async def test_a_redirect_the_sdk_cannot_follow_says_why(location: str, why: str) -> None:
    """A GET sent where the SDK will not follow is an SDK error saying why, not a bare one.

    A redirect to ``user:password@`` on the same host used to raise aiohttp's bare ValueError
    ("Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL").
    """

    def redirect(request: web.Request) -> web.StreamResponse:
        target = location.format(port=request.url.port, self=request.url)
        return web.Response(status=302, headers={"Location": target})

    origin = Recorder(redirect)
    await origin.server.start_server()
    try:
        base = f"http://127.0.0.1:{origin.server.port}"
        async with tc.Client(base, KEY, retry=None) as client:
            with pytest.raises(tc.APIConnectionError) as caught:
                await client.credit_batches.list(CID).__aiter__().__anext__()
    finally:
        await origin.server.close()
    assert str(caught.value).startswith(f"redirect not followed: {'the server ' * (why[0] != '1')}")
    assert why in str(caught.value)
    assert "hunter2" not in secret_free_text(caught.value)
    assert all(path.startswith("/incoming/v2/") for _, path, _ in origin.requests)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_post_and_put_never_follow_redirects(
    two_hosts: tuple[Recorder, Recorder], status: int, method: str
) -> None:
    """POST and PUT answered with a redirect raise APIStatusError; the other host sees nothing."""
    origin, other = two_hosts
    base = f"http://127.0.0.1:{origin.server.port}"
    sleep = RecordingSleep()
    headers = {"X-Test-Status": str(status)}
    async with tc.Client(base, KEY, sleep=sleep, default_headers=headers) as client:
        send = (
            client.credit_batches.create(CID, starting_balance=1)
            if method == "POST"
            else client.credit_batches.update(CID, current_balance=1)
        )
        with pytest.raises(tc.APIStatusError) as caught:
            await send
    assert type(caught.value) is tc.APIStatusError
    assert caught.value.status == status
    secret_free_text(caught.value)
    assert [m for m, _, _ in origin.requests] == [method]
    assert other.requests == []
    assert sleep.calls == []
