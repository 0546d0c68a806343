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


@pytest.fixture
def serve_fake() -> Iterator[Callable[..., tuple[subprocess.Popen[str], dict[str, str]]]]:
    """Start ``thoughtcredits serve-fake ARGS``; any process still running is killed after."""
    processes: list[subprocess.Popen[str]] = []

    def start(*argv: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
        process = _spawn("serve-fake", "--port", "0", *argv)
        processes.append(process)
        assert process.stdout is not None
        return process, _until_ready(_lines(process.stdout))

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


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
    serve_fake: Callable[..., tuple[subprocess.Popen[str], dict[str, str]]],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    signum: signal.Signals,
) -> None:
    """serve-fake prints its URL, key and demo ids, answers the CLI, and exits 0 on a signal."""
    process, exported = serve_fake("--seed-demo", "--api-key", "k-123", "--rate-limit", "120/20")
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
    process.send_signal(signum)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert out.splitlines()[-1] == "# stopped"
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
