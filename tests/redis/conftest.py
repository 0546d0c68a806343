"""A real ``redis-server`` on a free loopback port, started and stopped by the tests.

Without a ``redis-server`` binary these tests are skipped (``make test`` says so once); under
``CI=true`` a missing binary is a failure, so CI cannot pass without running them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
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
    """One ``redis-server`` process; :meth:`stop` kills it, :meth:`start` brings it back."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._tmp = tmp
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self._process = subprocess.Popen(  # noqa: S603 - the redis-server found on PATH
            [
                REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self._tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, emptied before each test."""
    import redis.asyncio

    redis_server.ensure_running()
    client = redis.asyncio.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    return redis_server.url
