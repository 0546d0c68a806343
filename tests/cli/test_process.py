"""Real processes: ``python -m thoughtcredits`` help, ``serve-fake`` stopped by a signal, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable

import pytest

from .conftest import API_KEY, Result, ThreadedServer
from .served import Served, serve

__all__ = ["serve"]  # the fixture, for pytest

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
    serve: type[Served],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    signum: signal.Signals,
) -> None:
    """serve-fake prints its URL, key and demo ids, answers the CLI, and exits 0 on a signal."""
    served = serve("--seed-demo", "--rate-limit", "120/20", key="k-123")
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
    rest = served.stop(signum)
    assert served.process.returncode == 0
    assert rest == ["# stopped"]
    assert "Traceback" not in "\n".join(served.err)
    assert f"GET /incoming/v2/clients/{client}/creditBatches -> 200" in served.err


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
