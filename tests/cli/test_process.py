"""Real processes: ``python -m thoughtcredits`` help, ``serve-fake`` stopped by a signal, Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import IO

import pytest

from .conftest import API_KEY, Result, ThreadedServer

Cli = Callable[..., Result]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _spawn(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _lines(stream: IO[str]) -> queue.Queue[str | None]:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _until_ready(lines: queue.Queue[str | None]) -> dict[str, str]:
    exported: dict[str, str] = {}
    while (line := lines.get(timeout=30)) is not None:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exported[name] = value
        if line.startswith("# ready"):
            return exported
    raise AssertionError("serve-fake exited before it was ready")


class Served:
    """A running ``serve-fake`` process, the values it exported, and its stdout lines."""

    def __init__(self, *argv: str) -> None:
        self.process = _spawn("serve-fake", "--port", "0", *argv)
        assert self.process.stdout is not None
        self.lines = _lines(self.process.stdout)
        self.exported = _until_ready(self.lines)

    def stop(self, signum: signal.Signals) -> tuple[list[str], str]:
        """Send ``signum``, wait for the exit; return the rest of stdout and all of stderr."""
        self.process.send_signal(signum)
        self.process.wait(timeout=20)
        rest = []
        while (line := self.lines.get(timeout=10)) is not None:
            rest.append(line.rstrip("\n"))
        assert self.process.stderr is not None
        return rest, self.process.stderr.read()


@pytest.fixture
def serve_fake() -> Iterator[Callable[..., Served]]:
    """Start ``thoughtcredits serve-fake ARGS``; any process still running is killed after."""
    processes: list[subprocess.Popen[str]] = []

    def start(*argv: str) -> Served:
        served = Served(*argv)
        processes.append(served.process)
        return served

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_help_runs_as_a_module() -> None:
    """``python -m thoughtcredits --help`` exits 0 and lists every command."""
    done = subprocess.run(
        [sys.executable, "-m", "thoughtcredits", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    for command in ("batches", "actions", "accounts", "serve-fake"):
        assert f"    {command} " in done.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_fake_serves_the_demo_and_stops_on_a_signal(
    serve_fake: Callable[..., Served],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    signum: signal.Signals,
) -> None:
    """serve-fake prints its URL, key and demo ids, answers the CLI, and exits 0 on a signal."""
    served = serve_fake("--seed-demo", "--api-key", "k-123", "--rate-limit", "120/20")
    exported = served.exported
    assert exported["THOUGHTCREDITS_API_KEY"] == "k-123"
    assert exported["THOUGHTCREDITS_BASE_URL"].startswith("http://127.0.0.1:")
    monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", exported["THOUGHTCREDITS_BASE_URL"])
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", "k-123")
    client = exported["THOUGHTCREDITS_DEMO_CLIENT_ID"]
    _, second = exported["THOUGHTCREDITS_DEMO_ACCOUNT_IDS"].split(",")
    result = cli("batches", "list", client, "--account", second, "--format", "csv")
    assert result.code == 0, result
    assert len(result.out.splitlines()) == 2  # the header and the one batch of that account
    big = cli(
        "actions", "list", exported["THOUGHTCREDITS_DEMO_LEDGER_CLIENT_ID"],
        exported["THOUGHTCREDITS_DEMO_LEDGER_ACCOUNT_ID"], "--type", "debit",
        "--page-size", "1000",
    )  # fmt: skip
    assert big.code == 0, big
    assert len(big.out.splitlines()) > 5000
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{exported['THOUGHTCREDITS_BASE_URL']}/incoming/v2/clients/{client}/creditBatches"
        f"?clientId={client}",
        headers={"Authorization": "Bearer k-123"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.headers["X-RateLimit-Limit"] == "120"
    rest, err = served.stop(signum)
    assert served.process.returncode == 0
    assert rest == ["# stopped"]
    assert "Traceback" not in err
    assert f"GET /incoming/v2/clients/{client}/creditBatches -> 200" in err.splitlines()


def test_ctrl_c_exits_130_without_a_traceback(make_server: Callable[..., ThreadedServer]) -> None:
    """Ctrl-C during a slow request ends the command with exit code 130 and one line."""
    fake = make_server(latency=30.0)
    cid = str(fake.call(fake.server.ledger.add_client))
    process = _spawn("batches", "list", cid, env={**fake.env(), "THOUGHTCREDITS_API_KEY": API_KEY})
    deadline = time.monotonic() + 30
    while not fake.server.requests:  # the request is in flight, held by the latency
        assert time.monotonic() < deadline, "the request never arrived"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert (process.returncode, out, err) == (130, "", "error: interrupted\n")
