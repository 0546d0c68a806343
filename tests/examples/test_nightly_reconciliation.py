"""examples/nightly_reconciliation.py finds every planted discrepancy and exits accordingly."""

from __future__ import annotations

import json
import os
from pathlib import Path

from thoughtcredits.testing import FakeCreditsServer, plant_discrepancies, seed_ledger

from . import run_example

SCRIPT = "nightly_reconciliation.py"


async def test_reports_every_planted_discrepancy_and_exits_3(tmp_path: Path) -> None:
    """Each planted discrepancy is in the JSON report and on stdout; the exit code is 3."""
    report_path = tmp_path / "report.json"
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=120, seed=7)
        planted = plant_discrepancies(server.ledger, seeded.account_ids, seed=7)
        (client_id,) = seeded.client_ids
        run = await run_example(
            SCRIPT, "--client-id", str(client_id), "--report", str(report_path), server=server
        )
    assert run.returncode == 3, run.stderr
    report = json.loads(report_path.read_text())
    found = {
        (d["kind"], d["accountId"], d["entityId"], d["actionId"])
        for account in report["accounts"]
        for d in account["discrepancies"]
    }
    assert found == {
        (p.kind, str(p.account_id), str(p.entity_id), p.action_id and str(p.action_id))
        for p in planted
    }
    assert {a["accountId"] for a in report["accounts"]} == {str(a) for a in seeded.account_ids}
    assert sorted(line.split(":")[0] for line in run.stdout.splitlines()[:-1]) == sorted(
        p.kind for p in planted
    )
    assert run.stdout.splitlines()[-1].startswith("6 accounts checked, 3 discrepancies")
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file left


async def test_a_consistent_ledger_exits_0() -> None:
    """With nothing planted, every account is reported ok and the exit code is 0."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=3, actions_per_account=50, seed=2)
        run = await run_example(SCRIPT, "--client-id", str(seeded.client_ids[0]), server=server)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("3 accounts checked, 0 discrepancies")
    progress = [line for line in run.stderr.splitlines() if line.endswith("  ok")]
    assert len(progress) == 3


async def test_an_api_failure_exits_1_without_showing_the_key() -> None:
    """A refused key ends the job with exit code 1 and a message that never holds the key."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=1, actions_per_account=10, seed=1)
        run = await run_example(
            SCRIPT,
            "--client-id",
            str(seeded.client_ids[0]),
            server=server,
            env={"THOUGHTCREDITS_API_KEY": "sk-wrong-secret"},
        )
    assert run.returncode == 1
    assert "reconciliation failed: 401" in run.stderr
    assert "sk-wrong-secret" not in run.stdout + run.stderr
