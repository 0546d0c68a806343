"""A real ``redis-server`` on a free loopback port, started and stopped by the tests.

Without a ``redis-server`` binary these tests are skipped (``make test`` says so once); under
``CI=true`` a missing binary is a failure, so CI cannot pass without running them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")
INSTALL = "install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if REDIS_SERVER is not None:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI=true but no redis-server binary: {INSTALL}")
    skip = pytest.mark.skip(reason=f"no redis-server binary; {INSTALL}")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process; :meth:`stop` kills it, :meth:`start` brings it back.

    ``options`` are passed on (``--maxmemory 1``, ``--replicaof ...``).
    """

    def __init__(self, tmp: Path, *options: str) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._tmp = tmp
        self._options = options
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self._process = subprocess.Popen(  # noqa: S603 - the redis-server found on PATH
            [
                REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self._tmp), *self._options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith((b"+PONG", b"-MASTERDOWN")):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def ensure_running(self) -> None:
        """Start the server again if a test killed it."""
        if self._process is None:
            self.start()

    def stop(self) -> None:
        """Kill the server at once (SIGKILL): what a crash or a network cut looks like."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process = None


@contextmanager
def running_redis(tmp: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` started in ``tmp``, killed on exit (the session fixtures' one)."""
    server = RedisServer(tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, emptied before each test."""
    import redis.asyncio

    redis_server.ensure_running()
    client = redis.asyncio.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    return redis_server.url


@pytest.fixture
def spare_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start throwaway ``redis-server``s with options (stopped after the test)."""
    started: list[RedisServer] = []

    def start(*options: str) -> RedisServer:
        server = RedisServer(tmp_path, *options)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class LyingRedis:
    """A RESP server on loopback that handshakes like Redis, then answers every script call
    with ``reply`` (raw RESP bytes): a wrong shape, an error, garbage."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.calls = 0
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> LyingRedis:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}/0"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                if not line.startswith(b"*"):
                    continue
                args = []
                for _ in range(int(line[1:])):
                    size = int((await reader.readline())[1:])
                    args.append((await reader.readexactly(size + 2))[:-2])
                writer.write(self._answer(args[0].upper()))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _answer(self, command: bytes) -> bytes:
        if command == b"HELLO":  # RESP3 handshake: a map
            return b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"
        if command == b"SCRIPT":
            return b"$40\r\n" + b"0" * 40 + b"\r\n"
        if command in (b"EVALSHA", b"EVAL"):
            self.calls += 1
            return self.reply
        return b"+OK\r\n"
