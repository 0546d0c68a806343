"""``thoughtcredits export CLIENT_ID --to DIR``: every batch and action, counted against the SDK."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from thoughtcredits.testing import DEMO_ACCOUNT_IDS, Fault, seed_demo, seed_ledger

from .conftest import ClockSleep, Result, ThreadedServer

Cli = Callable[..., Result]


async def sdk_listings(server: ThreadedServer, cid: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """The batch ids, and (account, type, action id) of every action, as the SDK lists them."""
    async with server.server.client() as client:
        batches = [batch async for batch in client.credit_batches.list(cid)]
        accounts = list(dict.fromkeys(str(batch.credit_account_id) for batch in batches))
        actions = [
            (account, kind, str(action.id))
            for account in accounts
            for kind in ("credit", "debit")
            async for action in client.credit_actions.list(cid, account, action_type=kind)
        ]
    return [str(batch.id) for batch in batches], actions


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of an export file in any format."""
    if path.suffix == ".jsonl":
        return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines()]
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(path.read_text())))
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_writes_every_batch_and_action_of_the_demo_client(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, fmt: str
) -> None:
    """Both files hold exactly what the SDK lists, actions tagged with account and type."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    cid = str(fake.call(lambda: seed_demo(fake.server.ledger)))
    result = cli("export", cid, "--to", str(tmp_path / "out"), "--format", fmt)
    assert result.code == 0, result
    batch_ids, actions = fake.run(sdk_listings(fake, cid))
    batches = read_rows(tmp_path / "out" / f"credit-batches.{fmt}")
    assert [str(row["id"]) for row in batches] == batch_ids
    assert len(batches) == 3
    exported = read_rows(tmp_path / "out" / f"credit-actions.{fmt}")
    got = [(row["creditAccountId"], row["actionType"], str(row["id"])) for row in exported]
    assert got == actions
    assert {account for account, _, _ in got} == {str(a) for a in DEMO_ACCOUNT_IDS}
    assert {kind for _, kind, _ in got} == {"credit", "debit"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"credit-actions.{fmt}",
        f"credit-batches.{fmt}",
    ]


def test_an_account_given_twice_is_exported_once(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """--account naming an account the batches already name adds no duplicate rows."""
    cid = str(fake.call(lambda: seed_demo(fake.server.ledger)))
    result = cli("export", cid, "--to", str(tmp_path), "--account", str(DEMO_ACCOUNT_IDS[1]))
    assert result.code == 0, result
    _, actions = fake.run(sdk_listings(fake, cid))
    rows = read_rows(tmp_path / "credit-actions.jsonl")
    assert [(r["creditAccountId"], r["actionType"], r["id"]) for r in rows] == actions


def _actions_fail_after_three_pages(
    fake: ThreadedServer, tmp_path: Path
) -> tuple[str, tuple[str, ...]]:
    """A client of 3 accounts whose fourth action page fails after the retries; its export argv."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=3, actions_per_account=60))
    cid = str(seeded.client_ids[0])
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=3, route="list_credit_actions"),
        Fault(kind="status", status=500, count=4, route="list_credit_actions"),
    )
    return cid, ("export", cid, "--to", str(tmp_path), "--page-size", "20")


def test_an_interrupted_export_resumes_every_action_exactly_once(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """A failure in the actions keeps them partial; --resume finishes both files exactly."""
    cid, argv = _actions_fail_after_three_pages(fake, tmp_path)
    failed = cli(*argv, sleep=ClockSleep())
    assert failed.code == 1, failed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "credit-actions.jsonl.checkpoint",
        "credit-actions.jsonl.partial",
        "credit-batches.jsonl",
    ]
    assert f"to continue: thoughtcredits export {cid} --to {tmp_path} --page-size 20 --resume" in (
        failed.err
    )
    resumed = cli(*argv, "--resume")
    assert resumed.code == 0, resumed
    _, actions = fake.run(sdk_listings(fake, cid))
    rows = read_rows(tmp_path / "credit-actions.jsonl")
    assert [(r["creditAccountId"], r["actionType"], r["id"]) for r in rows] == actions
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "credit-actions.jsonl",
        "credit-batches.jsonl",
    ]


def test_export_refuses_table_format(fake: ThreadedServer, cli: Cli, tmp_path: Path) -> None:
    """--format table is for terminals: export exits 2 before sending anything."""
    result = cli("export", str(fake.call(fake.server.ledger.add_client)), "--to", str(tmp_path),
                 "--format", "table")  # fmt: skip
    assert result.code == 2
    assert "export: --format must be one of jsonl, json, csv, parquet" in result.err
    assert fake.server.requests == []


def test_one_progress_display_counts_the_whole_job(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--progress: a single final line counts every batch and action of the export."""
    import sys

    monkeypatch.setitem(sys.modules, "rich", None)  # the plain display: one line at the end
    cid = str(fake.call(lambda: seed_demo(fake.server.ledger)))
    result = cli("export", cid, "--to", str(tmp_path), "--progress")
    assert result.code == 0, result
    batch_ids, actions = fake.run(sdk_listings(fake, cid))
    count = len(batch_ids) + len(actions)
    lines = [line for line in result.err.splitlines() if " items, " in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"export: {count}/{count} items, ")


def test_a_resumed_export_counts_the_whole_job_as_a_fresh_one_does(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted in the actions, then --resume --progress: the last line counts every batch
    and action of the export, as an uninterrupted run's does, not the actions alone."""
    import sys

    monkeypatch.setitem(sys.modules, "rich", None)  # the plain display: one line at the end
    cid, argv = _actions_fail_after_three_pages(fake, tmp_path)
    assert cli(*argv, sleep=ClockSleep()).code == 1
    resumed = cli(*argv, "--resume", "--progress")
    assert resumed.code == 0, resumed
    batch_ids, actions = fake.run(sdk_listings(fake, cid))
    count = len(batch_ids) + len(actions)
    (line,) = [line for line in resumed.err.splitlines() if " items, " in line]
    assert line.startswith(f"export: {count}/{count} items, "), line


def test_an_export_interrupted_in_the_batches_still_exports_every_account(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """Batches fail after one page: --resume lists the rest, and every account's actions follow."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=6, actions_per_account=15))
    cid = str(seeded.client_ids[0])
    route = "list_credit_batches"
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=1, route=route),
        Fault(kind="status", status=500, count=4, route=route),
    )
    argv = ("export", cid, "--to", str(tmp_path), "--page-size", "2")
    failed = cli(*argv, sleep=ClockSleep())
    assert failed.code == 1, failed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "credit-batches.jsonl.checkpoint",
        "credit-batches.jsonl.partial",
    ]
    resumed = cli(*argv, "--resume")
    assert resumed.code == 0, resumed
    batch_ids, actions = fake.run(sdk_listings(fake, cid))
    assert [r["id"] for r in read_rows(tmp_path / "credit-batches.jsonl")] == batch_ids
    rows = read_rows(tmp_path / "credit-actions.jsonl")
    assert [(r["creditAccountId"], r["actionType"], r["id"]) for r in rows] == actions
    assert {r["creditAccountId"] for r in rows} == {str(a) for a in seeded.account_ids}
