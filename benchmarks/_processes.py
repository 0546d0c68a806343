"""What a benchmark starts on loopback: ``thoughtcredits serve-fake`` and a redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["redis_server", "serve_fake"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free loopback port (None without the binary)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - the redis-server found on PATH
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(5)


@contextmanager
def serve_fake(rate: str) -> Iterator[dict[str, str]]:
    """``thoughtcredits serve-fake`` on a free port; yields the values it exports."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", "serve-fake", "--port", "0", "--quiet",
         "--rate-limit", rate],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    exported: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exported[name] = value
            if line.startswith("# ready"):
                break
        if "THOUGHTCREDITS_BASE_URL" not in exported:
            raise RuntimeError(f"serve-fake exited ({process.wait(10)}) before it was ready")
        yield exported
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
