"""A ``serve-fake`` process driven as another process (or language) drives it: over HTTP."""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

__all__ = ["CLIENT", "CURL", "KEY", "Served", "http", "listings", "serve", "serve_fake"]

KEY = "serve-fake-test-key"
CLIENT = "6f1c2b8e-0d7a-4b59-9a52-1f0e7c3d2a10"
CURL = shutil.which("curl")


class Served:
    """A running ``serve-fake`` process: its exported values, banner and stderr lines."""

    def __init__(
        self, *argv: str, key: str | None = KEY, env: dict[str, str] | None = None
    ) -> None:
        given = [] if key is None else ["--api-key", key]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "thoughtcredits", "serve-fake", "--port", "0", *given, *argv],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.out: queue.Queue[str | None] = queue.Queue()
        self.err: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.threads = [
            threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self._collect, args=(self.process.stderr,), daemon=True),
        ]
        for thread in self.threads:
            thread.start()
        self.banner: list[str] = []
        self.exported: dict[str, str] = {}
        while (line := self.out.get(timeout=30)) is not None:
            self.banner.append(line)
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                self.exported[name] = value
            if line.startswith("# ready"):
                break
        self.url = self.exported.get("THOUGHTCREDITS_BASE_URL", "")

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.out.put(line.rstrip("\n"))
        self.out.put(None)

    def _collect(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.err.append(line.rstrip("\n"))

    def stop(self, signum: int = signal.SIGTERM) -> list[str]:
        """Stop with ``signum``; the rest of stdout (and :attr:`err` holds all of stderr)."""
        self.process.send_signal(signum)
        self.process.wait(timeout=30)
        rest = []
        while (line := self.out.get(timeout=10)) is not None:
            rest.append(line)
        for thread in self.threads:  # the stderr reader may still be at its last lines
            thread.join(timeout=10)
        return rest


@pytest.fixture
def serve() -> Iterator[type[Served]]:
    """Start ``serve-fake`` processes; any still running is killed after the test."""
    started: list[Served] = []

    class Tracked(Served):
        def __init__(
            self, *argv: str, key: str | None = KEY, env: dict[str, str] | None = None
        ) -> None:
            super().__init__(*argv, key=key, env=env)
            started.append(self)

    yield Tracked
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
        served.process.wait(timeout=10)
        for thread in served.threads:
            thread.join(timeout=10)
        for stream in (served.process.stdout, served.process.stderr):
            if stream is not None:
                stream.close()


def http(method: str, url: str, body: bytes | None = None, key: str = KEY) -> tuple[int, bytes]:
    """One request, with curl when it is installed (as a test in any language would)."""
    if CURL is not None:
        argv = [CURL, "-sS", "-X", method, "-H", f"Authorization: Bearer {key}",
                "-w", "\n%{http_code}", url]  # fmt: skip
        if body is not None:
            argv[1:1] = ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        done = subprocess.run(argv, input=body or b"", capture_output=True, check=True, timeout=30)  # noqa: S603
        raw, _, code = done.stdout.rpartition(b"\n")
        return int(code), raw
    request = urllib.request.Request(url, data=body, method=method,  # noqa: S310 - loopback
                                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def listings(url: str, account_id: str) -> list[bytes]:
    """The raw bytes of the client's batch listing and its account's action listings."""
    api = f"{url}/incoming/v2/clients/{CLIENT}"
    actions = f"{api}/creditAccount/{account_id}/creditActions?clientId={CLIENT}&actionType="
    paths = [f"{api}/creditBatches?clientId={CLIENT}&perPage=2", f"{actions}credit",
             f"{actions}debit"]  # fmt: skip
    pages = []
    for path in paths:
        status, raw = http("GET", path)
        assert status == 200
        pages.append(raw)
    return pages


def serve_fake(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``serve-fake`` that is expected to stop by itself (a refused start)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", "serve-fake", "--port", "0", *argv],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
