"""Tables on a real 80-column pseudo-terminal, read back from a screen model (pyte).

The CLI runs as a subprocess whose stdout and stderr are a pty of 80 columns, so rich sees a
real terminal of that size; pyte replays the bytes into the screen a person would see.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from decimal import Decimal

import pytest

from thoughtcredits._serde.exact_json import format_decimal
from thoughtcredits.testing import DEMO_ACCOUNT_IDS, seed_demo

from .conftest import ThreadedServer

pyte = pytest.importorskip("pyte")
pytest.importorskip("rich")

EVIL = "\x1b]0;owned\x07\x1b[2Jevil \u202etxt.exe"


def run_on_pty(
    server: ThreadedServer, *argv: str, columns: int = 80
) -> tuple[int, bytes, list[str]]:
    """Run ``thoughtcredits ARGV`` on a pty; return its exit code, raw output and the screen."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 200, columns, 0, 0))
    env = {**os.environ, **server.env(), "TERM": "xterm-256color"}
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        env.pop(name, None)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    raw = bytearray()
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            raw += chunk
    finally:
        os.close(master)
    code = process.wait(timeout=60)
    screen = pyte.Screen(columns, 200)
    pyte.ByteStream(screen).feed(bytes(raw))
    assert screen.title == "", "server text set the window title"
    return code, bytes(raw), [line.rstrip() for line in screen.display if line.strip()]


def money(value: object) -> str:
    """An amount as the CLI writes it: exact, no exponent, no trailing ``.0``."""
    return format_decimal(Decimal(str(value)))


def _row(screen: list[str], identifier: str) -> str:
    (line,) = [line for line in screen if identifier in line]
    return line


@pytest.fixture
def demo(make_server: Callable[..., ThreadedServer]) -> tuple[ThreadedServer, str]:
    """The demo ledger plus a batch with a huge balance and a hostile name."""
    server = make_server()

    def seed() -> str:
        cid = seed_demo(server.server.ledger)
        server.server.ledger.create_batch(
            cid,
            starting_balance=123456789012345678,
            credit_account_id=DEMO_ACCOUNT_IDS[0],
            name=EVIL,
        )
        return str(cid)

    return server, server.call(seed)


def test_batches_list_keeps_every_id_and_balance_whole_at_80_columns(
    demo: tuple[ThreadedServer, str],
) -> None:
    """Every batch's id and currentBalance are on screen, whole; dropped columns are noted."""
    server, cid = demo
    code, _raw, screen = run_on_pty(server, "batches", "list", cid)
    assert code == 0, screen
    assert all(len(line) <= 80 for line in screen)
    batches = server.call(lambda: list(server.server.ledger.batches.values()))
    assert len(batches) == 4
    for batch in batches:
        row = _row(screen, batch.id)
        assert row.split()[-1] == money(batch.current_balance), row
    assert any(line.endswith("hidden to fit 80 columns;") for line in screen), screen
    assert any(line.startswith("use --wide or --columns to choose") for line in screen), screen
    header = _row(screen, "currentBalance")
    assert header.split() == ["id", "name", "status", "currentBalance"]


def test_escape_sequences_in_a_batch_name_never_reach_the_terminal(
    demo: tuple[ThreadedServer, str],
) -> None:
    """The hostile name is shown as visible escapes: no title change, no clear, no bidi flip."""
    server, cid = demo
    code, raw, screen = run_on_pty(server, "batches", "list", cid, "--columns", "id,name")
    assert code == 0
    for sequence in (b"\x1b]0;", b"\x07", b"\x1b[2J", "\u202e".encode()):
        assert sequence not in raw
    start = screen[0].index("name")
    names = "".join(line[start:] for line in screen[2:])  # the folded name column, unfolded
    # (a fold may fall on the space)
    assert "\\x1b]0;owned\\x07\\x1b[2Jevil\\u202etxt.exe" in names.replace(" ", ""), screen


def records(screen: list[str]) -> list[dict[str, str]]:
    """The ``name | value`` blocks of a record-per-block listing (folded values joined)."""
    found: list[dict[str, str]] = []
    key = ""
    for line in screen:
        if line.startswith("-[ RECORD "):
            found.append({})
        elif found and " |" in line:
            name, value = (part.strip() for part in line.split(" |", 1))
            key = name or key
            found[-1][key] = found[-1].get(key, "") + value
    return found


def test_actions_list_keeps_every_amount_whole_at_80_columns(
    demo: tuple[ThreadedServer, str],
) -> None:
    """At 80 columns each debit's timestamp, action, amount, balance after and id are whole.

    They cannot share one line at 80 columns, so each action is a block of lines.
    """
    server, cid = demo
    account = str(DEMO_ACCOUNT_IDS[0])
    code, _raw, screen = run_on_pty(server, "actions", "list", cid, account, "--type", "debit")
    assert code == 0, screen
    assert all(len(line) <= 80 for line in screen)
    ledger = server.server.ledger
    rows = server.call(lambda: [(ledger.action_id(r), r) for r in ledger.actions(account, "debit")])
    assert len(rows) == 4
    shown = records(screen)
    assert [list(record) for record in shown] == [
        ["timestamp", "action", "amount", "sourceBalanceOut", "id"]
    ] * 4
    for (action_id, action), record in zip(rows, shown, strict=True):
        assert record["id"] == action_id
        assert record["action"] == "debit"
        assert record["amount"] == money(action.amount)
        assert record["sourceBalanceOut"] == money(action.source_balance_out)
        assert record["timestamp"].endswith("Z")
        assert len(record["timestamp"]) == len("2027-01-01T00:00:00.000Z")


@pytest.mark.parametrize(
    ("kind", "after"), [("debit", "sourceBalanceOut"), ("credit", "targetBalanceOut")]
)
def test_actions_list_puts_what_people_look_for_first(
    demo: tuple[ThreadedServer, str], kind: str, after: str
) -> None:
    """On a wide terminal: timestamp, action, amount, the balance after, then the id."""
    server, cid = demo
    account = str(DEMO_ACCOUNT_IDS[0])
    code, _raw, screen = run_on_pty(
        server, "actions", "list", cid, account, "--type", kind, columns=120
    )
    assert code == 0, screen
    header = _row(screen, "amount").split()
    assert header[:5] == ["timestamp", "action", "amount", after, "id"]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_wide_shows_every_column_whole_at_any_width(
    demo: tuple[ThreadedServer, str], columns: int
) -> None:
    """--wide: every field of every batch is on screen, whole, and no line is cut."""
    server, cid = demo
    code, _raw, screen = run_on_pty(server, "batches", "list", cid, "--wide", columns=columns)
    assert code == 0, screen
    assert all(len(line) <= columns for line in screen)
    shown = {record["id"]: record for record in records(screen)}
    assert len(shown) == 4
    from thoughtcredits._cli.output.formats import columns_of
    from thoughtcredits._models import CreditBatch

    for record in shown.values():
        assert list(record) == list(columns_of(CreditBatch))
    for batch in server.call(lambda: list(server.server.ledger.batches.values())):
        record = shown[batch.id]
        assert record["currentBalance"] == money(batch.current_balance)
        assert record["startingBalance"] == money(batch.starting_balance)
        assert record["allocatedCredits"] == money(batch.allocated_credits)
        assert record["creditAccountId"] == batch.account_id
        assert record["status"] == "active"
        for stamp in ("createdAt", "updatedAt"):
            assert record[stamp].endswith("Z")
            assert len(record[stamp]) == 24


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_named_columns_are_all_shown_whole_at_any_width(
    demo: tuple[ThreadedServer, str], columns: int
) -> None:
    """--columns id,name,currentBalance,expiresOn: each one shown, the Z of every date kept."""
    server, cid = demo
    wanted = "id,name,currentBalance,expiresOn"
    code, _raw, screen = run_on_pty(
        server, "batches", "list", cid, "--columns", wanted, columns=columns
    )
    assert code == 0, screen
    assert all(len(line) <= columns for line in screen)
    batches = server.call(lambda: list(server.server.ledger.batches.values()))
    if records(screen):
        shown = {record["id"]: record for record in records(screen)}
    else:  # a table: one row per batch, the name folded within its column
        header = _row(screen, "currentBalance")
        assert header.split() == wanted.split(",")
        shown = {}
        for batch in batches:
            row = _row(screen, batch.id)
            shown[batch.id] = {"currentBalance": row.split()[-2 if batch.expires_on else -1]}
            if batch.expires_on:
                shown[batch.id]["expiresOn"] = row.split()[-1]
    for batch in batches:
        assert shown[batch.id]["currentBalance"] == money(batch.current_balance)
        if batch.expires_on:
            assert shown[batch.id]["expiresOn"].endswith("Z")
            assert len(shown[batch.id]["expiresOn"]) == 24
    if columns >= 100:
        assert not records(screen)  # wide enough: a table, the name at least 10 wide
        name_start = _row(screen, "currentBalance").index("name")
        balance_start = _row(screen, "currentBalance").index("currentBalance")
        assert balance_start - name_start >= 10


def test_chosen_columns_are_all_shown_whole_even_when_wider(
    demo: tuple[ThreadedServer, str],
) -> None:
    """--columns shows exactly those columns, none cut, even past the terminal's width."""
    server, cid = demo
    wanted = "id,startingBalance,currentBalance,allocatedCredits,expiresOn"
    code, _raw, screen = run_on_pty(server, "batches", "list", cid, "--columns", wanted)
    assert code == 0
    text = "".join(screen)  # lines wider than the terminal wrap; join them back
    for batch in server.call(lambda: list(server.server.ledger.batches.values())):
        assert batch.id in text
        assert money(batch.starting_balance) in text
    assert not any("hidden" in line for line in screen)


def test_json_lines_on_a_terminal_escape_what_json_allows_raw(
    demo: tuple[ThreadedServer, str],
) -> None:
    """JSON may carry C1 and bidi characters raw; on a terminal they are written as \\uXXXX."""
    server, cid = demo
    code, raw, screen = run_on_pty(server, "batches", "list", cid, "--format", "jsonl")
    assert code == 0
    assert "\u202e".encode() not in raw
    assert b"\x1b]0;" not in raw
    assert b"\\u001b]0;owned\\u0007\\u001b[2Jevil \\u202etxt.exe" in raw
    assert len(screen) >= 4  # the lines are there, wrapped at 80 columns
