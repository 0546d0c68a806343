"""Shared fixtures: a clean environment, seed samples, a recording sleep and scripted servers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
import tracemalloc
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict
from yarl import URL

import thoughtcredits as tc
from thoughtcredits.testing import MockTransport, RecordingSleep

# A shell that starts `make test` in the background leaves SIGINT ignored, and processes
# inherit an ignored signal: the Ctrl-C tests would send a SIGINT that no child hears. A
# handled signal is reset to the default in a child, so handling it here restores Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SAMPLES = Path(__file__).parent / "samples"
API_KEY = "sk-test-0123456789abcdef"
CLIENT_ID = "7b0f8a9c-1d2e-4f30-8a41-5b6c7d8e9f01"
ACCOUNT_ID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
BATCH_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"


def sample(name: str) -> Any:
    """The JSON of ``tests/samples/<name>.json`` (a fresh copy each call)."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


def payload(name: str) -> Any:
    """The single object inside a seed sample's ``{"data": {"<Operation>": ...}}`` envelope."""
    (inner,) = sample(name)["data"].values()
    return inner


def retained(action: Callable[[], object]) -> int:
    """Bytes of Python memory still allocated after ``action`` ran and gc ran (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No THOUGHTCREDITS_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("THOUGHTCREDITS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def sleeps() -> RecordingSleep:
    """A fresh recording sleep."""
    return RecordingSleep()


@dataclass
class Reply:
    """One scripted answer of :class:`ScriptedServer`."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    cut: int | None = None  # send the status line and only this many body bytes, then drop
    chunked: bool = False  # with ``cut``: the body in chunked encoding, its last chunk unsent


@dataclass
class Seen:
    """One request as it arrived at :class:`ScriptedServer`."""

    method: str
    raw_path: str
    path: str
    query_string: str
    query: MultiDict[str]
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)


class ScriptedServer:
    """An in-process aiohttp server on 127.0.0.1 that answers from a script and records requests.

    Replies are consumed in order; when the script is empty every request gets ``default``,
    or, when ``respond`` is set, the reply it computes from the request.
    A reply with ``drop=True`` closes the connection after reading the request, without answering.
    A reply with ``delay`` answers late (released at teardown, so nothing hangs). A reply with
    ``cut=N`` sends its status line and headers (with the whole body's ``Content-Length``, or
    chunked) and then only N bytes of its body before it drops the connection.
    """

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: deque[Reply] = deque()
        self.default = Reply(200, {})
        self.release = asyncio.Event()
        self.respond: Callable[[Seen], Reply] | None = None
        self._server: TestServer | None = None

    def reply(
        self,
        status: int = 200,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int = 1,
        cut: int | None = None,
        chunked: bool = False,
    ) -> None:
        """Queue ``times`` identical replies."""
        for _ in range(times):
            self.script.append(Reply(status, body, dict(headers or {}), delay, drop, cut, chunked))

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:PORT``."""
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    def client(self, **kwargs: Any) -> tc.Client:
        """A client for this server with the test key (no real sleeping unless overridden)."""
        return tc.Client(self.url, API_KEY, **kwargs)

    def _record(self, seen: Seen) -> Reply:
        """Record a request and pick its reply: the script, then ``respond``, then ``default``."""
        self.requests.append(seen)
        if self.script:
            return self.script.popleft()
        if self.respond is not None:
            return self.respond(seen)
        return self.default

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        reply = self._record(
            Seen(
                method=request.method,
                raw_path=request.raw_path,
                path=request.path,
                query_string=request.query_string,
                query=MultiDict(request.query),
                headers=CIMultiDict(request.headers),
                body=await request.read(),
            )
        )
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.05)  # let the client see the close first
            raise asyncio.CancelledError
        if reply.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), reply.delay)
        if reply.cut is not None:
            return await self._cut(request, reply)
        if isinstance(reply.body, bytes):
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        if reply.body is None and reply.status >= 300:
            return web.Response(status=reply.status, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    @staticmethod
    async def _cut(request: web.Request, reply: Reply) -> web.StreamResponse:
        """The status line and headers, then ``reply.cut`` bytes of the body, then a drop."""
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        if reply.chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: reply.cut])
        assert request.transport is not None
        request.transport.abort()
        return response

    async def start(self, port: int = 0) -> None:
        """Serve on ``port`` (0: a free port)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=port)
        await self._server.start_server()

    async def close(self) -> None:
        """Release delayed handlers and stop serving."""
        self.release.set()
        if self._server is not None:
            await self._server.close()


class MockScriptedServer(ScriptedServer):
    """The same script, answered through ``MockTransport``: no socket, no event-loop server.

    For tests of the SDK's own rules (retries, waits, pagination): the default ``server``.
    What aiohttp itself does (timeouts, drops, redirects, proxies, sessions) is tested against
    the socket ``ScriptedServer`` (the ``socket_server`` fixture).
    """

    url = "https://scripted.example"

    def client(self, **kwargs: Any) -> tc.Client:
        """A client answered by this script through a mock transport."""
        return tc.Client(self.url, API_KEY, transport=self.transport(), **kwargs)

    def transport(self) -> MockTransport:
        """A mock transport answered by this script (for a client built by hand)."""
        return MockTransport(self._answer)

    async def _answer(self, request: tc.HTTPRequest) -> tc.HTTPResponse:
        url = URL(request.url, encoded=True)
        reply = self._record(
            Seen(
                method=request.method,
                raw_path=url.raw_path_qs,
                path=url.path,
                query_string=url.query_string,
                query=MultiDict(url.query),
                headers=CIMultiDict(request.headers),
                body=request.body or b"",
            )
        )
        assert not reply.drop, "drops need the socket server"
        assert reply.cut is None, "cuts need the socket server"
        if reply.delay:  # answered late (released at teardown), as the socket server does
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), reply.delay)
        await asyncio.sleep(0)
        headers = CIMultiDict(reply.headers)
        if isinstance(reply.body, bytes):
            body = reply.body
        elif reply.body is None and reply.status >= 300:
            body = b""
        else:
            body = json.dumps(reply.body).encode()
            headers.setdefault("Content-Type", "application/json")
        return tc.HTTPResponse(reply.status, CIMultiDictProxy(headers), body)

    async def start(self, port: int = 0) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Release delayed answers."""
        self.release.set()


@pytest.fixture
async def mock_server() -> AsyncIterator[MockScriptedServer]:
    """A :class:`MockScriptedServer` (no socket)."""
    scripted = MockScriptedServer()
    try:
        yield scripted
    finally:
        await scripted.close()


@pytest.fixture
async def socket_server() -> AsyncIterator[ScriptedServer]:
    """A running socket :class:`ScriptedServer`, for what only aiohttp itself does."""
    scripted = ScriptedServer()
    await scripted.start()
    try:
        yield scripted
    finally:
        await scripted.close()


@pytest.fixture
async def server(mock_server: MockScriptedServer) -> MockScriptedServer:
    """The scripted server of a test: the mock one (the SDK's own unit tests use no socket)."""
    return mock_server


@pytest.fixture
async def client(server: ScriptedServer, sleeps: RecordingSleep) -> AsyncIterator[tc.Client]:
    """A client for the scripted server whose waits are recorded, not slept."""
    async with server.client(sleep=sleeps) as api:
        yield api


@pytest.fixture
def free_port() -> int:
    """A loopback port with nothing listening on it (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
