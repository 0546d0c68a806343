"""``serve-fake --state FILE`` as a team relies on it: one server per file, the same key after
a restart, a hostile FILE refused at start, and a ledger never silently lost at stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .served import CLIENT, KEY, Served, http, serve, serve_fake

__all__ = ["serve"]  # the fixture, for pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")


def _account(url: str, key: str = KEY) -> str:
    body = {"name": "Kept", "startingBalance": 7, "notifyEmails": [], "licenseIds": []}
    status, raw = http("POST", f"{url}/incoming/v2/clients/{CLIENT}/creditAccounts",
                       json.dumps(body).encode(), key=key)  # fmt: skip
    assert status == 201
    return str(json.loads(raw)["data"]["APICreateCreditAccount"]["id"])


def _batches(url: str, key: str = KEY) -> bytes:
    status, raw = http("GET", f"{url}/incoming/v2/clients/{CLIENT}/creditBatches?clientId={CLIENT}",
                       key=key)  # fmt: skip
    assert status == 200
    return raw


def test_the_key_is_kept_in_the_state_file_across_restarts(
    serve: type[Served], tmp_path: Path
) -> None:
    """Without --api-key, a restart on the same FILE exports the same key, so variables
    exported before keep working; --api-key replaces it. The key is in FILE (mode 0600) and
    nowhere else: not in GET /_fake/state, not on stderr."""
    state = tmp_path / "ledger.json"
    first = serve("--state", str(state), key=None)
    key = first.exported["THOUGHTCREDITS_API_KEY"]
    _account(first.url, key)
    before = _batches(first.url, key)
    assert key.encode() not in http("GET", f"{first.url}/_fake/state", key=key)[1]
    assert first.stop()[-2:] == [f"# state saved to {state}", "# stopped"]
    assert json.loads(state.read_text())["apiKey"] == key
    assert state.stat().st_mode & 0o777 == 0o600
    again = serve("--state", str(state), key=None)
    assert again.exported["THOUGHTCREDITS_API_KEY"] == key
    assert f"# key: the one kept in {state}" in again.banner
    assert _batches(again.url, key) == before
    assert again.stop()[-1] == "# stopped"
    replaced = serve("--state", str(state), key="other-key")
    assert f"# key: --api-key replaces the one kept in {state}" in replaced.banner
    assert http("GET", f"{replaced.url}/_fake/state", key=key)[0] == 401
    replaced.stop()
    assert json.loads(state.read_text())["apiKey"] == "other-key"
    assert not any(key in line for s in (first, again, replaced) for line in s.err)


def test_a_state_file_with_a_key_loads_over_http_without_changing_the_key(
    serve: type[Served], tmp_path: Path
) -> None:
    """FILE, key and all, can be PUT into another server: the ledger loads, the key stays."""
    state = tmp_path / "ledger.json"
    first = serve("--state", str(state), key="first-key")
    _account(first.url, "first-key")
    first.stop()
    other = serve()
    status, _ = http("PUT", f"{other.url}/_fake/state", state.read_bytes())
    assert status == 200
    assert _batches(other.url) != b""
    assert http("GET", f"{other.url}/_fake/state", key="first-key")[0] == 401


def test_a_second_server_on_one_state_file_refuses_to_start(
    serve: type[Served], tmp_path: Path
) -> None:
    """The second exits at once naming the first; the first's writes are saved at its stop."""
    state = tmp_path / "ledger.json"
    first = serve("--state", str(state))
    _account(first.url)
    second = serve_fake("--state", str(state))
    assert (second.returncode, second.stdout) == (2, "")
    assert second.stderr == (f"error: --state {state}: in use by another serve-fake (pid "
                             f"{first.process.pid}); stop it first, or give this one another "
                             "file\n")  # fmt: skip
    before = _batches(first.url)
    first.stop()
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]  # the lock file is gone
    again = serve("--state", str(state))
    assert _batches(again.url) == before


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda s: s.update(seq=10**18 - 1), "state.seq: must be at most"),
        (lambda s: s.update(lastMs=253_402_300_799_000), "state.lastMs: must be at most"),
        (lambda s: s["clients"][0]["creditBatches"].append(s["creditBatches"][-1]["id"]),
         "listed twice"),
    ],
    ids=["seq 10**18 - 1", "lastMs in the year 9999", "a batch listed twice"],
)  # fmt: skip
def test_a_hostile_state_file_stops_the_start_naming_the_problem(
    serve: type[Served], tmp_path: Path, mutate: object, problem: str
) -> None:
    state = tmp_path / "ledger.json"
    first = serve("--state", str(state))
    _account(first.url)
    first.stop()
    snapshot = json.loads(state.read_text())
    mutate(snapshot)  # type: ignore[operator]
    state.write_text(json.dumps(snapshot))
    content = state.read_bytes()
    done = serve_fake("--state", str(state))
    assert (done.returncode, done.stdout) == (2, "")
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: --state {state}: not a ledger snapshot saved by serve-fake (")
    assert problem in line
    assert state.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]


def _unwritable(folder: Path) -> None:
    """Make ``folder`` unusable for a save, for root too: a file now stands in its place."""
    folder.rename(folder.with_name(f"{folder.name}-moved"))
    folder.write_bytes(b"")


def _restore(folder: Path) -> None:
    folder.unlink()
    folder.with_name(f"{folder.name}-moved").rename(folder)


def test_a_state_that_cannot_be_saved_at_stop_is_copied_to_the_temporary_directory(
    serve: type[Served], tmp_path: Path
) -> None:
    """FILE's directory unwritable at SIGTERM: the copy goes to TMPDIR, the exit code is 1,
    stderr says where, and the copy starts the next server with the same ledger and key."""
    folder, spare = tmp_path / "state", tmp_path / "tmp"
    folder.mkdir()
    spare.mkdir()
    served = serve("--state", str(folder / "ledger.json"), env={**os.environ, "TMPDIR": str(spare)})
    _account(served.url)
    before = _batches(served.url)
    _unwritable(folder)
    assert served.stop() == ["# stopped"]
    assert served.process.returncode == 1
    [copy] = spare.glob("ledger.json.unsaved-*.json")
    served.threads[1].join(timeout=10)
    assert [line for line in served.err if line.startswith("error:")] == [
        f"error: cannot save the state to {folder / 'ledger.json'} (Not a directory); a copy "
        f"was written to {copy}"
    ]
    again = serve("--state", str(copy))
    assert _batches(again.url) == before


def test_with_no_copy_possible_the_server_keeps_running_and_says_so(
    serve: type[Served], tmp_path: Path
) -> None:
    """Neither FILE nor TMPDIR writable: the server keeps serving the ledger and says so; once
    the cause is fixed, the next SIGTERM saves it."""
    folder, spare = tmp_path / "state", tmp_path / "tmp"
    folder.mkdir()
    spare.mkdir()
    state = folder / "ledger.json"
    served = serve("--state", str(state), env={**os.environ, "TMPDIR": str(spare)})
    _account(served.url)
    before = _batches(served.url)
    _unwritable(folder)
    _unwritable(spare)
    served.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while not (said := [line for line in served.err if line.startswith("error:")]):
        assert time.monotonic() < deadline, served.err
        assert served.process.poll() is None, served.err
        time.sleep(0.05)
    expected = f"error: cannot save the state: Not a directory ({state}), nor a copy beside it"
    assert said[0].startswith(f"{expected} or in the temporary directory; still serving")
    assert _batches(served.url) == before  # same address, same ledger
    _restore(folder)
    assert served.stop() == [f"# state saved to {state}", "# stopped"]
    assert served.process.returncode == 0
    again = serve("--state", str(state))
    assert _batches(again.url) == before


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None, reason="mounts a tmpfs: root only"
)
def test_a_read_only_filesystem_at_sigterm_loses_nothing(
    serve: type[Served], tmp_path: Path
) -> None:
    """The case as it happens: the state's filesystem turns read-only under the server."""
    mounted, spare = tmp_path / "ro", tmp_path / "tmp"
    mounted.mkdir()
    spare.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mounted)],  # noqa: S603, S607
                      check=False, capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("cannot mount a tmpfs here")
    try:
        served = serve("--state", str(mounted / "ledger.json"),
                       env={**os.environ, "TMPDIR": str(spare)})  # fmt: skip
        _account(served.url)
        before = _batches(served.url)
        subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)  # noqa: S603, S607
        assert served.stop() == ["# stopped"]
        assert served.process.returncode == 1
        [copy] = spare.glob("ledger.json.unsaved-*.json")
        served.threads[1].join(timeout=10)
        assert any("(Read-only file system); a copy was written to" in e for e in served.err)
        again = serve("--state", str(copy))
        assert _batches(again.url) == before
    finally:
        subprocess.run(["umount", str(mounted)], check=False)  # noqa: S603, S607


def test_the_key_appears_in_no_request_line_and_a_bad_key_is_refused_unrepeated(
    serve: type[Served],
) -> None:
    """A caller that puts the key in a path sees it as *** on stderr; --api-key with a
    control character is refused without repeating it."""
    served = serve()
    assert http("GET", f"{served.url}/incoming/v2/{KEY}/x")[0] == 404
    served.stop()
    served.threads[1].join(timeout=10)
    assert "GET /incoming/v2/***/x -> 404" in served.err
    assert not any(KEY in line for line in served.err)
    bad = "k\x1b]0;pwned\x07"
    done = serve_fake("--api-key", bad)
    assert done.returncode == 2
    assert "--api-key: must be printable ASCII without spaces" in done.stderr
    assert "pwned" not in done.stderr + done.stdout
