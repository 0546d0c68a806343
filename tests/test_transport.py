"""The aiohttp transport against real loopback servers: body caps, borrowed sessions, proxies.

Also the key's absence from every error chain the transport can produce, and the
``THOUGHTCREDITS_LOG`` switch.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import thoughtcredits as tc
from tests.conftest import CLIENT_ID, ScriptedServer, sample
from thoughtcredits.testing import RecordingSleep


def last_page() -> Any:
    """The seed listing as a single, final page (one batch)."""
    body = sample("list_credit_batches")
    body["data"]["APICreditBatchesByClientAndCreditAccount"]["pageInfo"]["hasMore"] = False
    return body


KEY = "sk-secret-transport-77c1e0"


@pytest.fixture
async def server(socket_server: ScriptedServer) -> ScriptedServer:
    """aiohttp's own behaviour is the subject here: a scripted server on a real socket."""
    return socket_server


@pytest.fixture
async def app_server(request: pytest.FixtureRequest) -> AsyncIterator[TestServer]:
    """A loopback server running the handler the test puts in ``request.param``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", request.param)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def base(server: TestServer) -> str:
    """The server's root URL."""
    return str(server.make_url("")).rstrip("/")


def chain(error: BaseException) -> list[BaseException]:
    """``error`` and everything reachable through ``__cause__``/``__context__``."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        item = todo.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return seen


def assert_no_key(error: BaseException) -> None:
    """The key is in no str/repr of the chain, nor in a traceback with locals."""
    for item in chain(error):
        assert KEY not in str(item)
        assert KEY not in repr(item)
        request_info = getattr(item, "request_info", None)
        assert KEY not in repr(request_info)
    formatted = "".join(traceback.TracebackException.from_exception(error, capture_locals=True)
                        .format())  # fmt: skip
    assert KEY not in formatted


# One gzip member inflating to 1 MiB (about 1 KB on the wire); gzip allows members to be
# concatenated, so 600 of them are a 600 MiB bomb that costs nothing to build.
_MEMBER = gzip.compress(b"0" * (1 << 20))


async def _gzip_bomb(request: web.Request) -> web.StreamResponse:
    """200 with a gzip body that inflates to 600 MiB (about 600 KB on the wire)."""
    response = web.StreamResponse(headers={"Content-Encoding": "gzip",
                                           "Content-Type": "application/json"})  # fmt: skip
    await response.prepare(request)
    for _ in range(600):
        await response.write(_MEMBER)
    return response


async def _big_plain(request: web.Request) -> web.StreamResponse:
    """200 with a 40 MiB body and no Content-Length (chunked)."""
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(40):
        await response.write(b" " * (1 << 20))
    return response


class TestBodyCap:
    """Bodies are read incrementally and refused past the cap, compressed or not."""

    @pytest.mark.parametrize("app_server", [_big_plain], indirect=True)
    async def test_plain_body_over_cap(self, app_server: TestServer) -> None:
        """A 40 MiB chunked body is refused at the 32 MiB default cap."""
        async with tc.Client(base(app_server), KEY) as api:
            with pytest.raises(tc.ResponseTooLargeError) as caught:
                await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert caught.value.applied is False
        assert caught.value.status == 200

    @pytest.mark.parametrize("app_server", [_gzip_bomb], indirect=True)
    async def test_gzip_bomb_small_cap(self, app_server: TestServer) -> None:
        """A POST answered with a gzip bomb: too large, and applied (it landed)."""
        async with tc.Client(base(app_server), KEY, max_response_size=1 << 20) as api:
            with pytest.raises(tc.ResponseTooLargeError) as caught:
                await api.credit_batches.create(CLIENT_ID, starting_balance=1)
        assert caught.value.applied is True

    def test_gzip_bomb_peak_memory(self, tmp_path: Any) -> None:
        """The 600 MB bomb is refused with peak RSS growth under 100 MB (a fresh process)."""
        script = textwrap.dedent(
            f"""
            import asyncio, resource, sys, zlib
            from aiohttp import web
            from aiohttp.test_utils import TestServer
            import thoughtcredits as tc
            sys.path.insert(0, {os.getcwd()!r})
            from tests.test_transport import _gzip_bomb

            async def main():
                app = web.Application()
                app.router.add_route("*", "/{{tail:.*}}", _gzip_bomb)
                server = TestServer(app, host="127.0.0.1")
                await server.start_server()
                async with tc.Client(str(server.make_url("")).rstrip("/"), "k") as api:
                    await api.credit_batches.list({CLIENT_ID!r}).__aiter__().__anext__()

            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            try:
                asyncio.run(main())
            except tc.ResponseTooLargeError:
                pass
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print((after - before) // 1024)
            """
        )
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, check=True,
        )  # fmt: skip
        growth_mb = int(out.stdout.strip().splitlines()[-1])
        assert growth_mb < 100, out.stdout


class TestBorrowedSession:
    """A borrowed session's settings cannot change the SDK's behaviour."""

    async def test_raise_for_status_session_still_retries_429(self, server: ScriptedServer) -> None:
        """A session made with raise_for_status=True: a 429 is retried after its delay."""
        server.reply(429, {"error": "rate_limit_exceeded"}, headers={"Retry-After": "2"})
        server.reply(200, last_page())
        sleep = RecordingSleep()
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            api = tc.Client(server.url, KEY, session=session, sleep=sleep)
            items = [b async for b in api.credit_batches.list(CLIENT_ID)]
            await api.aclose()
            assert not session.closed
        assert len(items) == 1
        assert sleep.waits == [2.0]


class TestProxy:
    """The SDK's own session honours the proxy variables (trust_env)."""

    async def test_http_proxy_variable(
        self, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, free_port: int
    ) -> None:
        """With HTTP_PROXY set, the request goes to the proxy in absolute form."""
        server.reply(200, last_page())
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        target = f"http://127.0.0.1:{free_port}"
        async with tc.Client(target, KEY) as api:
            items = [b async for b in api.credit_batches.list(CLIENT_ID)]
        assert len(items) == 1
        assert server.requests[0].raw_path.startswith(f"{target}/incoming/v2/clients/")


async def _redirect_loop(request: web.Request) -> web.Response:
    raise web.HTTPFound(location=str(request.url))


async def _huge_header(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"X-Big": "a" * 20_000})
    await response.prepare(request)
    return response


class TestSecrets:
    """No error chain and no traceback with locals shows the key."""

    @pytest.mark.parametrize("app_server", [_redirect_loop, _huge_header], indirect=True)
    async def test_error_chain_has_no_key(self, app_server: TestServer) -> None:
        """A redirect loop or a >8 KB header: the error and its causes hold no key."""
        async with tc.Client(base(app_server), KEY, retry=None) as api:
            with pytest.raises(tc.APIConnectionError) as caught:
                await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert_no_key(caught.value)
        assert caught.value.__cause__ is not None  # the aiohttp error is kept, scrubbed


class TestLogSwitch:
    """THOUGHTCREDITS_LOG=debug sends the SDK's records to stderr, never the key."""

    def test_env_debug(self) -> None:
        """A script with no logging code prints each exchange on stderr."""
        script = textwrap.dedent(
            f"""
            import asyncio
            import thoughtcredits as tc
            from thoughtcredits.testing import FakeCreditsServer

            async def main():
                async with FakeCreditsServer(api_key={KEY!r}) as server:
                    async with server.client() as api:
                        async for _ in api.credit_batches.list({CLIENT_ID!r}):
                            pass
            asyncio.run(main())
            """
        )
        env = {**os.environ, "THOUGHTCREDITS_LOG": "debug"}
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert "DEBUG thoughtcredits] GET /incoming/v2/clients/" in out.stderr, out.stderr
        assert KEY not in out.stderr

    def test_unknown_level_adds_nothing(self) -> None:
        """An unknown value is ignored."""
        from thoughtcredits._logs import setup_from_env

        assert setup_from_env({"THOUGHTCREDITS_LOG": "loud"}) is None
