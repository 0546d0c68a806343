"""The progress display on stderr, and plain output when rich is not installed."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from thoughtcredits._serde.exact_json import format_datetime

from .conftest import Result, ThreadedServer

Cli = Callable[..., Result]


def _ledger(fake: ThreadedServer) -> tuple[str, str, int]:
    from thoughtcredits.testing import seed_ledger

    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 400, seed=11))
    aid = str(seeded.account_ids[0])
    count = len(fake.server.ledger.actions(aid, "debit"))
    return str(seeded.client_ids[0]), aid, count


def test_forced_progress_reports_items_and_pages(fake: ThreadedServer, cli: Cli) -> None:
    """--progress shows the final item count, the total, the pages and a rate on stderr only."""
    cid, aid, count = _ledger(fake)
    result = cli("actions", "list", cid, aid, "--type", "debit", "--page-size", "100", "--progress")
    assert result.code == 0, result
    assert len(result.out.splitlines()) == count  # stdout holds only the items
    pages = -(-count // 100)
    (line,) = [line for line in result.err.splitlines() if "items" in line]
    assert f"{count:,}/{count:,} items" in line
    assert f"{pages} pages" in line
    assert "items/s" in line


def test_no_progress_when_stderr_is_not_a_terminal(fake: ThreadedServer, cli: Cli) -> None:
    """Without --progress, a non-terminal stderr stays empty (pipelines and cron stay quiet)."""
    cid, aid, _ = _ledger(fake)
    result = cli("actions", "list", cid, aid, "--type", "debit")
    assert (result.code, result.err) == (0, "")


def test_without_rich_tables_and_progress_are_plain(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without rich, a table is aligned plain text and progress is one line, after one note."""
    monkeypatch.setitem(sys.modules, "rich", None)
    cid, aid, _ = _ledger(fake)
    table = cli(
        "actions", "list", cid, aid, "--type", "debit", "--format", "table", "--max-items", "3",
        "--progress",
    )  # fmt: skip
    assert table.code == 0, table
    lines = table.out.splitlines()
    assert lines[0].split() == [
        "timestamp",
        "action",
        "amount",
        "sourceBalanceIn",
        "sourceBalanceOut",
        "targetBalanceIn",
        "targetBalanceOut",
        "id",
    ]
    assert set(lines[1].replace(" ", "")) == {"-"}
    ledger = fake.server.ledger
    rows = ledger.actions(aid, "debit")[:3]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert [line.split() for line in lines[2:]] == [
        [
            format_datetime(epoch + timedelta(milliseconds=row.timestamp)),
            "debit",
            str(row.amount),
            str(row.source_balance_in),
            str(row.source_balance_out),
            ledger.action_id(row),
        ]
        for row in rows
    ]
    err = table.err.splitlines()
    assert err[0] == (
        "note: tables and progress bars look better with rich: pip install 'thoughtcredits[cli]'"
    )
    assert err[1].startswith("debit actions: 3/")
    assert ", 1 page, " in err[1]
    assert len(err) == 2  # the note is printed once


@pytest.mark.parametrize("outcome", ["interrupted", "failed", "done"])
def test_the_last_line_fits_80_columns_whole_with_a_million_items(
    outcome: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 80 columns, a big count's last line is one line: nothing wrapped, no number cut."""
    pytest.importorskip("rich")
    import io

    from thoughtcredits._cli.output.progress import RichProgress

    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    stream = io.StringIO()
    progress = RichProgress(stream)
    progress.start("debit actions")
    progress.update(919_318, total=1_000_000, pages=9_194)
    progress.stop(outcome)  # type: ignore[arg-type]
    (line,) = [line for line in stream.getvalue().splitlines() if line.strip()]
    assert len(line) < 80, line
    assert line.startswith({"done": "✓ ", "failed": "✗ ", "interrupted": "✗ interrupted "}[outcome])
    count = "919,318/919,318" if outcome == "done" else "919,318/1,000,000"
    assert f" {count} items " in line, line
    assert re.search(r" \d:\d\d:\d\d$", line), line


def test_reconcile_progress_counts_accounts_not_items(fake: ThreadedServer, cli: Cli) -> None:
    """reconcile --progress counts accounts, with a rate that is not rounded to 0."""
    from thoughtcredits.testing import seed_ledger

    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=3, actions_per_account=20))
    result = cli("reconcile", str(seeded.client_ids[0]), "--progress")
    assert result.code == 0, result
    (line,) = [line for line in result.err.splitlines() if "/s" in line]
    assert " 3/3 accounts " in line, line
    assert re.search(r" [\d,.]+ accounts/s ", line), line
    assert "items" not in line, line
