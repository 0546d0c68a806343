"""examples/concurrent_topup.py tops up every batch once, concurrently, within the rate limit."""

from __future__ import annotations

import json
from decimal import Decimal

from thoughtcredits.testing import FakeCreditsServer, Fault

from . import run_example

SCRIPT = "concurrent_topup.py"


async def test_every_active_batch_gets_exactly_the_amount_without_a_429() -> None:
    """50 batches each gain 25 credits with one PUT each; the server never had to refuse one."""
    # The server allows 20 at once then 50/s; without the client's limit, 51 requests at
    # once would be refused with 429s.
    async with FakeCreditsServer(rate_limit=(3000, 20)) as server:
        client_id = server.ledger.add_client()
        account = server.ledger.create_account(client_id, name="Academy", starting_balance=10)
        for number in range(49):
            server.ledger.create_batch(
                client_id, starting_balance=number, credit_account_id=account.id
            )
        other = server.ledger.create_account(client_id, name="Other", starting_balance=5)
        before = {batch.id: batch.current_balance for batch in account.batches}
        args = ("--client-id", str(client_id), "--account-id", account.id, "--amount", "25")
        run = await run_example(
            SCRIPT, *args, "--per-minute", "2400", "--burst", "10", server=server
        )
        after = {batch.id: batch.current_balance for batch in account.batches}
        puts = [r for r in server.requests if r.method == "PUT"]
    assert run.returncode == 0, run.stderr
    assert {batch_id: after[batch_id] - before[batch_id] for batch_id in after} == dict.fromkeys(
        before, 25
    )
    assert other.batches[0].current_balance == 5
    assert sorted(r.path.rsplit("/", 1)[1] for r in puts) == sorted(before)
    assert [r.status for r in server.requests] == [200] * (len(before) + 1)
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert {(r["batch_id"], Decimal(r["to"]), r["ok"]) for r in results} == {
        (batch_id, Decimal(balance), True) for batch_id, balance in after.items()
    }
    assert "50 of 50 batches topped up; 51 requests, 0 rate limited" in run.stderr


async def test_a_failed_top_up_is_reported_and_the_others_still_happen() -> None:
    """One batch refused by the server is reported with ok=false and exit code 1; the rest land."""
    async with FakeCreditsServer() as server:
        client_id = server.ledger.add_client()
        account = server.ledger.create_account(client_id, name="Academy", starting_balance=10)
        for _ in range(4):
            server.ledger.create_batch(client_id, starting_balance=1, credit_account_id=account.id)
        # A 422 is not retried: the server understood the request and refused it.
        server.inject(Fault(kind="status", status=422, route="update_credit_batch"))
        run = await run_example(
            SCRIPT, "--client-id", str(client_id), "--amount", "1", server=server
        )
        balances = sorted(batch.current_balance for batch in account.batches)
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 1
    assert sorted(r["ok"] for r in results) == [False, True, True, True, True]
    assert balances in ([1, 2, 2, 2, 11], [2, 2, 2, 2, 10])
    assert "4 of 5 batches topped up" in run.stderr
