"""examples/resumable_export.py: killed at any point, rerun, every action exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from thoughtcredits.testing import FakeCreditsServer, seed_ledger

from . import finish, run_example, start_example

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the script kills itself")

SCRIPT = "resumable_export.py"


def lines(path: Path) -> list[dict[str, object]]:
    """The exported actions, one per JSON line."""
    return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines()]


def list_requests(server: FakeCreditsServer) -> list[dict[str, str]]:
    """The queries of the action-listing requests the server answered, in order."""
    return [r.query for r in server.requests if r.route == "list_credit_actions"]


async def test_killed_twice_then_resumed_exports_each_action_exactly_once(tmp_path: Path) -> None:
    """Two SIGKILLs mid-page (one from outside), then a rerun: no duplicate, no gap, in order."""
    output = tmp_path / "debits.jsonl"
    checkpoint = tmp_path / "debits.jsonl.checkpoint"
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=1, actions_per_account=1200, seed=4)
        (client_id,), (account_id,) = seeded.client_ids, seeded.account_ids
        args = ("--client-id", str(client_id), "--account-id", str(account_id))
        args += ("--action-type", "debit", "--output", str(output), "--checkpoint-every", "100")

        first = await run_example(SCRIPT, *args, "--stop-after", "250", server=server)
        assert first.returncode == -signal.SIGKILL
        assert len(lines(output)) == 250  # 50 lines past the checkpoint at 200
        assert json.loads(checkpoint.read_text())["offset"] < output.stat().st_size

        server.reset_requests()
        second = await run_example(SCRIPT, *args, "--stop-after", "333", server=server)
        assert second.returncode == -signal.SIGKILL
        # It continued from the checkpoint's page instead of starting over.
        assert "cursor" in list_requests(server)[0]
        assert len(lines(output)) == 200 + 333

        # A SIGKILL from outside, while the script waits for a (slowed down) page.
        server.latency = 0.05
        line_size = output.stat().st_size / (200 + 333)
        process = await start_example(SCRIPT, *args, server=server)
        # Polls a file another process writes; there is no event to wait on.
        while process.returncode is None and output.stat().st_size < 750 * line_size:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if process.returncode is None:
            process.kill()
        await finish(process)
        server.latency = 0.0

        last = await run_example(SCRIPT, *args, server=server)
        expected = [
            (server.ledger.action_id(row), row.amount)
            for row in server.ledger.actions(account_id, "debit")
        ]
    assert last.returncode == 0, last.stderr
    assert f"{output} is complete" in last.stdout
    assert not checkpoint.exists()
    assert [(item["id"], item["amount"]) for item in lines(output)] == expected
    assert len(expected) > 1000


async def test_a_checkpoint_of_another_export_is_refused(tmp_path: Path) -> None:
    """Resuming with a different account's checkpoint stops with a message, writing nothing."""
    output = tmp_path / "out.jsonl"
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=300, seed=5)
        (client_id,) = seeded.client_ids
        common = ("--client-id", str(client_id), "--output", str(output))
        killed = await run_example(
            SCRIPT, *common, "--account-id", str(seeded.account_ids[0]), "--stop-after", "150",
            server=server,
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL
        before = output.read_bytes()
        other = await run_example(
            SCRIPT, *common, "--account-id", str(seeded.account_ids[1]), server=server
        )
    assert other.returncode == 1
    assert "belongs to another export" in other.stderr
    assert output.read_bytes() == before
