"""``StateFile``: one server per file, atomic saves that survive ``kill -9``, and a copy
written elsewhere when FILE cannot be."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from thoughtcredits.testing._server.statefile import (
    NotSavedError,
    StateFile,
    StateFileError,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks and signals")

KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
from thoughtcredits.testing._server.statefile import StateFile

state = StateFile(Path(sys.argv[1]))
state.lock()
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
setattr(os, sys.argv[2], die)  # kill -9 at that step of the save
state.save(b'{"new": true}')
"""


def test_a_second_lock_on_one_file_is_refused_with_the_holder(tmp_path: Path) -> None:
    """Another process holding FILE: refused, naming its pid; free again once unlocked."""
    path = tmp_path / "ledger.json"
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from pathlib import Path
            from thoughtcredits.testing._server.statefile import StateFile
            state = StateFile(Path(sys.argv[1]))
            state.lock()
            print("locked", flush=True)
            sys.stdin.read()
        """), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        in_use = rf"in use by another serve-fake \(pid {holder.pid}\)"
        with pytest.raises(StateFileError, match=in_use):
            StateFile(path).lock()
    finally:
        holder.communicate("", timeout=30)
    state = StateFile(path)
    state.lock()  # the holder exited: its lock went with it
    state.unlock()
    assert list(tmp_path.iterdir()) == []


def test_unlock_removes_the_lock_file_and_a_later_lock_works(tmp_path: Path) -> None:
    """In one process too: the lock file goes at unlock, and the next lock takes a new one."""
    first = StateFile(tmp_path / "ledger.json")
    first.lock()
    assert first.lock_path.read_text() == str(os.getpid())
    with pytest.raises(StateFileError, match="in use"):
        StateFile(tmp_path / "ledger.json").lock()
    first.unlock()
    assert not first.lock_path.exists()
    again = StateFile(tmp_path / "ledger.json")
    again.lock()
    again.unlock()


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_kill_9_during_a_save_leaves_the_old_file_and_the_next_start_cleans_up(
    tmp_path: Path, step: str
) -> None:
    """kill -9 after the temporary file is written (before fsync, or before the rename):
    FILE keeps its old bytes; the next lock removes that temporary file, and no other."""
    path = tmp_path / "ledger.json"
    path.write_bytes(b'{"old": true}')
    names = [".ledger.json.notours.tmp", ".ledger.json.ABCDEFGH.tmp", ".other.json.abcdefgh.tmp",
             "ledger.json.abcdefgh.tmp"]  # fmt: skip
    others = [tmp_path / name for name in names]
    for other in others:
        other.write_bytes(b"someone else's")
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", KILLED_SAVE, str(path), step], capture_output=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL
    assert path.read_bytes() == b'{"old": true}'
    [stale] = [p for p in tmp_path.glob(".ledger.json.*.tmp") if p not in others]
    assert stale.read_bytes() == b'{"new": true}'
    state = StateFile(path)
    state.lock()
    assert not stale.exists()
    assert all(other.read_bytes() == b"someone else's" for other in others)
    assert state.read() == ({"old": True}, None)
    state.unlock()


def test_a_file_that_cannot_be_written_gets_a_copy_beside_it_or_in_tmp(tmp_path: Path) -> None:
    """FILE's directory gone (as unwritable as a read-only disk, even for root): the copy
    goes to the temporary directory chosen at start; with that gone too, NotSavedError."""
    folder, spare = tmp_path / "state", tmp_path / "spare"
    folder.mkdir()
    spare.mkdir()
    state = StateFile(folder / "ledger.json")
    state._fallback = spare  # what TMPDIR named at start
    folder.rename(tmp_path / "moved")
    folder.write_bytes(b"not a directory")
    where, problem = state.save(b'{"kept": 1}')
    assert where.parent == spare
    assert where.name.startswith("ledger.json.unsaved-")
    assert where.read_bytes() == b'{"kept": 1}'
    assert problem == "Not a directory"
    spare.rename(tmp_path / "spare-moved")
    spare.write_bytes(b"not a directory either")
    with pytest.raises(NotSavedError, match="cannot save the state: Not a directory"):
        state.save(b'{"kept": 2}')


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[" * 100_000, "nested deeper than 64 levels"),
        (json.dumps({"apiKey": "k\x1bey"}).encode(), "apiKey: not printable ASCII"),
        (json.dumps({"apiKey": 5}).encode(), "apiKey: not printable ASCII"),
    ],
)
def test_a_bad_file_is_refused_without_showing_its_key(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "ledger.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as refused:
        StateFile(path).read()
    assert problem in str(refused.value)
    assert "k\x1bey" not in str(refused.value)
    assert path.read_bytes() == content


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read is bounded: a FILE past the limit is refused without reading it all."""
    monkeypatch.setattr("thoughtcredits.testing._server.statefile.MAX_STATE_BODY", 1000)
    path = tmp_path / "ledger.json"
    path.write_bytes(b" " * 1001)
    with pytest.raises(StateFileError, match="larger than 1000 bytes"):
        StateFile(path).read()
