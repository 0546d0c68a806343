"""A FIFO or a symlink planted where a command reads its own file: refused at once, in one
line, never waited on (a FIFO's ``open()`` waits for a writer, deaf to SIGTERM)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ThreadedServer
from .served import serve_fake

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symlinks")

_CLIENT = "11111111-1111-4111-8111-111111111111"
_ACCOUNT = "22222222-2222-4222-8222-222222222222"


def _resume(target: Path, server: ThreadedServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", "actions", "list", _CLIENT, _ACCOUNT,
         "--type", "debit", "-o", str(target), "--resume"],
        capture_output=True, text=True, timeout=20, check=False,
        env={**os.environ, **server.env()},
    )  # fmt: skip


@pytest.mark.parametrize("planted", ["fifo", "symlink"])
def test_a_planted_checkpoint_is_refused_at_once(
    fake: ThreadedServer, tmp_path: Path, planted: str
) -> None:
    """``--resume`` with a FIFO or a symlink as FILE.checkpoint: exit 2, one line, nothing
    sent; the FIFO is not waited on, the symlink's target is not read."""
    target = tmp_path / "debits.jsonl"
    checkpoint = tmp_path / "debits.jsonl.checkpoint"
    secret = tmp_path / "elsewhere"
    secret.write_text("{}")
    if planted == "fifo":
        os.mkfifo(checkpoint)
    else:
        checkpoint.symlink_to(secret)
    done = _resume(target, fake)
    why = "not a regular file" if planted == "fifo" else "a symbolic link, not a file"
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {checkpoint} cannot be read as a checkpoint ({why})\n"
    assert fake.server.log.total == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debits.jsonl.checkpoint", "elsewhere"]


def test_a_fifo_as_the_state_file_stops_the_start(tmp_path: Path) -> None:
    """``serve-fake --state FIFO`` exits 2 at once with one line naming FILE."""
    state = tmp_path / "ledger.json"
    os.mkfifo(state)
    done = serve_fake("--state", str(state))
    assert done.returncode == 2
    assert done.stderr == f"error: --state {state}: not a regular file\n"
