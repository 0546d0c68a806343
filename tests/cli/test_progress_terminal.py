"""Progress on a real terminal: shown by default for long commands, honest about how it ended.

stderr is an 80-column pty replayed into a pyte screen, as a person would see it; stdout is a
pty too, or a pipe, as the case needs.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from thoughtcredits.testing import Fault, seed_demo

from .conftest import ThreadedServer
from .test_resumable import _seed

pyte = pytest.importorskip("pyte")
pytest.importorskip("rich")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ptys")


class Terminal:
    """``thoughtcredits ARGV`` with stderr (and stdout unless piped) on an 80-column pty."""

    def __init__(self, server: ThreadedServer, *argv: str, pipe_stdout: bool = False) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 80, 0, 0))
        env = {**os.environ, **server.env(), "TERM": "xterm-256color"}
        for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
            env.pop(name, None)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "thoughtcredits", *argv],
            stdin=slave,
            stdout=subprocess.PIPE if pipe_stdout else slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.raw = bytearray()

    def finish(self) -> tuple[int, list[str], bytes]:
        """Read to the end; the exit code, the screen's lines and what went to a piped stdout."""
        out = b""
        if self.process.stdout is not None:
            out = self.process.stdout.read()
            self.process.stdout.close()
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            self.raw += chunk
        os.close(self.master)
        code = self.process.wait(timeout=60)
        screen = pyte.Screen(80, 50)
        pyte.ByteStream(screen).feed(bytes(self.raw))
        return code, [line.rstrip() for line in screen.display if line.strip()], out


def _bar_lines(screen: list[str]) -> list[str]:
    return [line for line in screen if " items/s" in line]


def test_export_shows_progress_on_a_terminal_without_asking(
    make_server: Callable[..., ThreadedServer], tmp_path: Path
) -> None:
    """export on a terminal: one bar line left, ✓, counting every item written."""
    server = make_server()
    cid = str(server.call(lambda: seed_demo(server.server.ledger)))
    code, screen, _ = Terminal(server, "export", cid, "--to", str(tmp_path)).finish()
    assert code == 0, screen
    written = sum(
        len(path.read_text().splitlines()) for path in tmp_path.iterdir() if path.is_file()
    )
    (line,) = _bar_lines(screen)
    assert line.startswith("✓ export")
    assert f"{written:,}/{written:,} items" in line


def test_no_progress_turns_it_off(
    make_server: Callable[..., ThreadedServer], tmp_path: Path
) -> None:
    """--no-progress: the terminal shows only the closing note."""
    server = make_server()
    cid = str(server.call(lambda: seed_demo(server.server.ledger)))
    terminal = Terminal(server, "export", cid, "--to", str(tmp_path), "--no-progress")
    code, screen, _ = terminal.finish()
    assert code == 0, screen
    assert _bar_lines(screen) == []
    assert "".join(screen) == (
        f"exported to {tmp_path}/credit-batches.jsonl and {tmp_path}/credit-actions.jsonl"
    )


def test_a_listing_to_a_file_counts_what_was_written_with_its_total(
    fake: ThreadedServer, tmp_path: Path
) -> None:
    """-o FILE on a terminal: the bar shows N/N with the server's total, and ✓."""
    cid, aid, debits = _seed(fake, actions=300)
    target = tmp_path / "d.jsonl"
    terminal = Terminal(fake, "actions", "list", cid, aid, "--type", "debit", "--page-size", "50",
                        "-o", str(target))  # fmt: skip
    code, screen, _ = terminal.finish()
    assert code == 0, screen
    (line,) = _bar_lines(screen)
    count = len(debits)
    assert line.startswith("✓ debit actions")
    assert f"{count:,}/{count:,} items" in line
    assert f"{-(-count // 50)} pages" in line


def test_a_failed_export_ends_with_a_cross_at_the_count_kept(
    fake: ThreadedServer, tmp_path: Path
) -> None:
    """An API error: the bar ends ✗ at exactly the items kept in the partial, one line."""
    cid, aid, _ = _seed(fake)
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=3, route="list_credit_actions"),
        Fault(kind="status", status=404, count=1, route="list_credit_actions"),
    )
    target = tmp_path / "d.jsonl"
    terminal = Terminal(fake, "actions", "list", cid, aid, "--type", "debit", "--page-size", "10",
                        "-o", str(target))  # fmt: skip
    code, screen, _ = terminal.finish()
    assert code == 1, screen
    kept = json.loads(Path(f"{target}.checkpoint").read_bytes())["items"]
    assert kept == len(Path(f"{target}.partial").read_text().splitlines()) == 30
    (line,) = _bar_lines(screen)
    assert line.startswith("✗ debit actions")
    assert f" {kept:,}/" in line
    assert "✓" not in "\n".join(screen)


def test_ctrl_c_leaves_one_interrupted_line(
    make_server: Callable[..., ThreadedServer], tmp_path: Path
) -> None:
    """Ctrl-C mid-export: one bar line, marked interrupted, never ✓."""
    server = make_server(latency=0.05)
    cid, aid, _ = _seed(server, actions=600)
    target = tmp_path / "d.jsonl"
    terminal = Terminal(server, "actions", "list", cid, aid, "--type", "debit", "--page-size",
                        "10", "-o", str(target))  # fmt: skip
    deadline = time.monotonic() + 30
    while len(server.server.requests) < 5:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    terminal.process.send_signal(signal.SIGINT)
    code, screen, _ = terminal.finish()
    assert code == 130, screen
    (line,) = _bar_lines(screen)
    assert line.startswith("✗ interrupted debit actions")
    kept = json.loads(Path(f"{target}.checkpoint").read_bytes())["items"]
    assert f" {kept:,} items" in line or f" {kept:,}/" in line
    # The command to continue is one line of text (the terminal wraps it), so it pastes whole.
    resume = f"thoughtcredits actions list {cid} {aid} --type debit --page-size 10 -o {target} "
    assert f"to continue: {resume}--resume\r\n".encode() in terminal.raw, terminal.raw


def test_a_listing_piped_to_another_program_shows_no_bar(fake: ThreadedServer) -> None:
    """stdout piped (it may end up on the same screen): no bar, the data untouched."""
    cid, aid, debits = _seed(fake, actions=100)
    terminal = Terminal(fake, "actions", "list", cid, aid, "--type", "debit", pipe_stdout=True)
    code, screen, out = terminal.finish()
    assert code == 0, screen
    assert screen == []
    assert len(out.decode().splitlines()) == len(debits)


def test_a_refused_resume_leaves_no_bar(fake: ThreadedServer, tmp_path: Path) -> None:
    """--resume of another listing on a terminal: the one-line error, and no bar line."""
    cid, aid, _ = _seed(fake, actions=60)
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=1, route="list_credit_actions"),
        Fault(kind="status", status=404, count=1, route="list_credit_actions"),
    )
    target = tmp_path / "d.jsonl"
    argv = ["actions", "list", cid, aid, "--page-size", "10", "-o", str(target)]
    code, _, _ = Terminal(fake, *argv, "--type", "debit").finish()
    assert code == 1
    code, screen, _ = Terminal(fake, *argv, "--type", "credit", "--resume").finish()
    assert code == 2, screen
    assert _bar_lines(screen) == []
    assert "".join(screen).startswith(f"error: {target}.checkpoint is for another export")
