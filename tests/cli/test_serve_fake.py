"""``python -m thoughtcredits serve-fake`` as another process (or language) uses it: over HTTP.

The first test is the issue's "done when" scenario, with curl alone when curl is installed:
reset, inject a 503, watch the SDK retry through it, read the request log, snapshot the
state into a second server and get identical listings.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import RecordingSleep

from .served import CLIENT, CURL, KEY, Served, http, listings, serve

__all__ = ["serve"]  # the fixture, for pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")


async def sdk_retries_through_the_503(url: str) -> tuple[str, list[float]]:
    """The SDK against the real process: create an account, top up, list through a 503."""
    sleep = RecordingSleep()
    async with tc.Client(url, KEY, sleep=sleep) as client:
        account = await client.credit_accounts.create(
            CLIENT, name="Training", starting_balance=1000, notify_emails=["ops@acme.test"],
            license_ids=["lic-1"],
        )  # fmt: skip
        batch = await client.credit_batches.create(
            CLIENT, starting_balance=100, credit_account_id=account.id, name="Q3"
        )
        await client.credit_batches.update(batch.id, current_balance=90)
        fault = {"kind": "status", "status": 503, "route": "list_credit_batches"}
        status, _ = http("POST", f"{url}/_fake/faults", json.dumps(fault).encode())
        assert status == 201
        batches = [b async for b in client.credit_batches.list(CLIENT)]
        assert [b.name for b in batches] == ["Training", "Q3"]
    return str(account.id), sleep.waits


def test_curl_alone_reset_fault_retry_log_and_snapshot(serve: type[Served]) -> None:
    """The whole cross-language scenario over HTTP against real serve-fake processes."""
    first, second = serve(), serve()
    assert http("POST", f"{first.url}/_fake/reset") == (204, b"")
    account_id, waits = asyncio.run(sdk_retries_through_the_503(first.url))
    assert len(waits) == 1  # one backoff for the one 503, then the retry succeeded
    status, raw = http("GET", f"{first.url}/_fake/requests?bodies=1")
    assert status == 200
    log = json.loads(raw)["requests"]
    assert [(r["route"], r["status"], r["fault"]) for r in log] == [
        ("create_credit_account", 201, None), ("create_credit_batch", 201, None),
        ("update_credit_batch", 200, None), ("list_credit_batches", 503, "status"),
        ("list_credit_batches", 200, None),
    ]  # fmt: skip
    assert json.loads(log[2]["body"]) == {"currentBalance": 90}
    assert KEY.encode() not in raw
    status, state = http("GET", f"{first.url}/_fake/state")
    assert status == 200
    status, counts = http("PUT", f"{second.url}/_fake/state", state)
    assert (status, json.loads(counts)["creditActions"]) == (200, 3)
    assert listings(second.url, account_id) == listings(first.url, account_id)
    assert http("GET", f"{second.url}/_fake/state") == (200, state)
    if CURL is None:
        pytest.skip("curl is not installed: the scenario ran with urllib instead")


def test_readme_quick_start_runs_unchanged_against_a_bare_serve_fake(serve: type[Served]) -> None:
    """The README's Quick start block, as written, with only the two exported variables; the
    banner says why it works (clients register on first use) and names the admin routes."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = readme.split("## Quick start", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    served = serve()
    assert "# clients: any client id works: it is registered on first use" in served.banner
    assert any(line.startswith("# admin (same key): POST /_fake/reset") for line in served.banner)
    admin = [line for line in served.banner if "/_fake/" in line and "curl" not in line]
    assert all(len(line) < 80 for line in admin), admin  # no route cut by an 80-column terminal
    env = {**os.environ, **served.exported}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: S603
                          text=True, timeout=60, check=False)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[0].endswith(" 10")  # the one debit, of 10 credits


def test_state_file_survives_a_restart(serve: type[Served], tmp_path: Path) -> None:
    """--state FILE: saved atomically on SIGTERM, loaded at the next start, listings equal."""
    state = tmp_path / "ledger.json"
    served = serve("--state", str(state))
    assert (
        f"# state: new; will be saved to {state} (saved again on Ctrl-C or SIGTERM)"
        in served.banner
    )
    account_id, _ = asyncio.run(sdk_retries_through_the_503(served.url))
    before = listings(served.url, account_id)
    assert served.stop(signal.SIGTERM) == [f"# state saved to {state}", "# stopped"]
    assert served.process.returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]  # no temporary file left
    again = serve("--state", str(state))
    assert f"# state: loaded from {state} (saved again on Ctrl-C or SIGTERM)" in again.banner
    assert listings(again.url, account_id) == before
    saved = state.read_bytes()
    assert again.stop(signal.SIGINT)[-1] == "# stopped"
    assert state.read_bytes() == saved  # nothing changed, same bytes


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "x"}', b"[" * 100_000])
def test_corrupt_state_file_is_a_clear_error_and_left_as_is(tmp_path: Path, content: bytes) -> None:
    """A bad --state FILE stops the start-up with one line; the file is untouched."""
    state = tmp_path / "ledger.json"
    state.write_bytes(content)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "thoughtcredits", "serve-fake", "--port", "0", "--state",
         str(state)], capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: --state {state}: not a ledger snapshot saved by serve-fake (")
    assert line.endswith("; the file was left as it is")
    assert state.read_bytes() == content


def test_strict_clients_and_log_size(serve: type[Served]) -> None:
    """--strict-clients restores the 404 (with the way out); --log-size bounds the log."""
    served = serve("--strict-clients", "--log-size", "2")
    assert any("--strict-clients" in line for line in served.banner)
    url = f"{served.url}/incoming/v2/clients/{CLIENT}/creditBatches?clientId={CLIENT}"
    status, raw = http("GET", url)
    hint = "register it with POST /_fake/clients or ledger.add_client()"
    assert (status, json.loads(raw)["message"]) == (404, f"no client {CLIENT}; {hint}")
    assert (
        http("POST", f"{served.url}/_fake/clients", json.dumps({"id": CLIENT}).encode())[0] == 201
    )
    for _ in range(3):
        assert http("GET", url)[0] == 200
    log = json.loads(http("GET", f"{served.url}/_fake/requests")[1])
    assert (log["total"], log["kept"], len(log["requests"])) == (4, 2, 2)


def test_request_lines_carry_no_raw_escapes(serve: type[Served]) -> None:
    """A path with an escape sequence, a newline and a lone backslash is logged escaped."""
    served = serve()
    forged = "/x%1b%5b31mred%0aGET%20/incoming/v2/forged%20-%3E%20200%5c%e2%80%ae"
    assert http("GET", f"{served.url}{forged}")[0] == 404
    served.stop()
    served.threads[1].join(timeout=10)
    [line] = [line for line in served.err if line.startswith("GET /x")]
    assert line == "GET /x\\x1b[31mred\\x0aGET /incoming/v2/forged -> 200\\\\\\u202e -> 404"
    text = "\n".join(served.err)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert not any(line.startswith("GET /incoming/v2/forged") for line in served.err)


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_unauthenticated_big_posts_leave_memory_bounded(serve: type[Served]) -> None:
    """300 unauthenticated 1 MB POSTs: each a 401, and the server's RSS barely moves."""
    served = serve("--quiet")
    url = f"{served.url}/incoming/v2/clients/{CLIENT}/creditAccounts"
    body = b"x" * 2**20

    async def flood() -> list[int]:
        import aiohttp

        statuses = []
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                async with session.post(
                    url, data=body, headers={"Authorization": "Bearer no"}
                ) as r:
                    statuses.append(r.status)
        return statuses

    http("GET", f"{served.url}/incoming/v2/clients/{CLIENT}/creditBatches?clientId={CLIENT}")
    before = _rss_kib(served.process.pid)
    started = time.perf_counter()
    assert asyncio.run(flood()) == [401] * 300
    elapsed = time.perf_counter() - started
    growth = _rss_kib(served.process.pid) - before
    # 300 MB were sent; the old log kept every body, so it grew by all of it.
    assert growth < 20 * 1024, f"RSS {before} KiB, +{growth} KiB in {elapsed:.1f} s"
    log = json.loads(http("GET", f"{served.url}/_fake/requests?limit=1&bodies=1")[1])
    assert (log["total"], log["requests"][0]["body"], log["requests"][0]["bodySize"]) == (
        301,
        None,
        0,
    )


def test_state_in_a_missing_directory_is_refused_at_start(tmp_path: Path) -> None:
    """--state in a directory that does not exist fails at start, not at the final save."""
    missing = tmp_path / "nowhere" / "ledger.json"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "thoughtcredits", "serve-fake", "--port", "0", "--state",
         str(missing)], capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: --state: no such directory ({missing.parent})\n"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/incoming/v2/clients/é∑", "/incoming/v2/clients/é∑"),  # printable text stays
        ("a\tb\rc\x00", "a\\x09b\\x0dc\\x00"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("left\u202eright\u200b", "left\\u202eright\\u200b"),  # bidi override, zero width
        ("\U000e0041", "\\U000e0041"),
        ("C:\\x1b", "C:\\\\x1b"),  # a typed backslash cannot pass for an escape
    ],
)
def test_escape_leaves_only_printable_text(text: str, shown: str) -> None:
    """The request-line escaper: control and non-printable characters and backslashes."""
    from thoughtcredits.testing._server.log import escape

    assert escape(text) == shown
    assert escape(text).isprintable()
