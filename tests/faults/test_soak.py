"""Soak: thousands of requests from 50 tasks through one client, with faults and rate limits.

The same workload runs twice: once fault-free against a plain server, once with about 5%
injected faults plus the server's own token bucket. Each task owns one credit account and
works on it in order (create batches, set balances to absolute values, list them), so the
fault-free ledger is the exact ledger the faulty run must leave behind.
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer, Fault

from . import KEY, AdvancingSleep, Clock, other_tasks, sdk_tasks

TASKS = 50
STEPS = 16  # per task; every step is 2-4 requests
FAULT_RATE = 0.085  # of operations; a listing operation is several requests
RATE_PER_MINUTE, BURST = 12_000, 40  # 200 tokens a (virtual) second, 40 at once
# Faults an SDK must ride out. POST gets only refusals (it must never be re-sent after acting).
GET_PUT_FAULTS = [
    Fault("status", status=500), Fault("status", status=502), Fault("status", status=503),
    Fault("status", status=504), Fault("drop"), Fault("drop_mid_body"),
    Fault("status", status=429, headers={"Retry-After": "1"}),
]  # fmt: skip
PUT_ONLY_FAULTS = [Fault("status", status=500, when="after"), Fault("drop", when="after")]
POST_FAULTS = [
    Fault("status", status=429, headers={"Retry-After": "1"}),
    Fault("status", status=429, headers={"Retry-After": "2"}),
]


@dataclass
class Injector:
    """Injects a fault before about ``rate`` of the operations, reproducibly."""

    server: FakeCreditsServer | None
    rng: random.Random
    rate: float = FAULT_RATE
    injected: int = 0

    def maybe(self, route: str) -> None:
        """Queue one fault for ``route`` with probability ``rate``."""
        if self.server is None or self.rng.random() >= self.rate:
            return
        if route.startswith("create"):
            pool = POST_FAULTS
        elif route == "update_credit_batch":
            pool = GET_PUT_FAULTS + PUT_ONLY_FAULTS
        else:
            pool = GET_PUT_FAULTS
        template = self.rng.choice(pool)
        self.server.inject(
            Fault(template.kind, status=template.status, route=route,
                  headers=template.headers, when=template.when)
        )  # fmt: skip
        self.injected += 1


async def task_work(
    client: tc.Client, client_id: str, account_id: str, batch_ids: list[str], inject: Injector
) -> None:
    """One task's ordered work on its own account; every answer is checked as it arrives."""
    expected: dict[str, int] = {}
    for step in range(STEPS):
        batch_id = batch_ids[step % len(batch_ids)]
        inject.maybe("update_credit_batch")
        value = (step * 7) % 23
        batch = await client.credit_batches.update(batch_id, current_balance=value)
        assert (str(batch.id), batch.current_balance) == (batch_id, value)
        expected[batch_id] = value
        if step % 4 == 0:
            inject.maybe("create_credit_batch")
            created = await client.credit_batches.create(
                client_id, starting_balance=Decimal(f"{step}.25"), credit_account_id=account_id,
                name=f"s{step}",
            )  # fmt: skip
            assert created.current_balance == Decimal(f"{step}.25")
        if step % 2 == 0:
            inject.maybe("list_credit_batches")
            listed = [
                b async for b in client.credit_batches.list(client_id, credit_account_id=account_id)
            ]
            balances = {str(b.id): b.current_balance for b in listed}
            assert len(balances) == len(listed)  # no duplicate
            assert all(balances[bid] == value for bid, value in expected.items())
        if step % 4 == 3:
            inject.maybe("list_credit_actions")
            debits = [
                a
                async for a in client.credit_actions.list(
                    client_id, account_id, action_type="debit"
                )
            ]
            assert len({a.id for a in debits}) == len(debits)


def snapshot(server: FakeCreditsServer) -> dict[str, Any]:
    """The ledger by names and amounts (ids and times differ between runs)."""
    ledger = server.ledger
    names = {
        b.id: f"{ledger.accounts[b.account_id].name}/{b.name}" for b in ledger.batches.values()
    }
    result: dict[str, Any] = {}
    for account in ledger.accounts.values():
        result[account.name] = {
            "batches": [
                (b.name, b.starting_balance, b.current_balance, b.allocated_credits)
                for b in account.batches
            ],
            "actions": [
                (row.action, row.amount, row.target_balance_in, row.target_balance_out,
                 row.source_balance_in, row.source_balance_out,
                 names.get(row.target or "", "user"), names.get(row.source or ""))
                for row in account.all_actions()
            ],
        }  # fmt: skip
    return result


@dataclass
class SoakRun:
    """The figures of one run."""

    ledger: dict[str, Any]
    requests: int
    faults_served: int
    faults_injected: int
    rate_limited: int
    retries: int
    seconds: float


async def soak(*, faults: bool, seed: int = 5) -> SoakRun:
    """Run the whole workload once; with ``faults``, inject them and turn the rate limit on."""
    # The client's sleeps are recorded, not slept: they move the server's clock instead, so
    # the bucket refills as it would while a real client waits out its Retry-After. Only they
    # move it, so the 429s do not depend on how fast this machine is.
    clock = Clock()
    server = FakeCreditsServer(
        api_key=KEY, per_page=3, clock=clock,
        rate_limit=(RATE_PER_MINUTE, BURST) if faults else None,
    )  # fmt: skip
    async with server:
        ledger = server.ledger
        cid = str(ledger.add_client("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"))
        accounts = []
        for task in range(TASKS):
            account = ledger.create_account(cid, name=f"t{task:02d}", starting_balance=50)
            for extra in range(2):
                ledger.create_batch(
                    cid, starting_balance=20 + extra, credit_account_id=account.id, name=f"x{extra}"
                )
            accounts.append((account.id, [b.id for b in account.batches]))
        injector = Injector(server if faults else None, random.Random(seed))
        sleep = AdvancingSleep(clock)
        policy = tc.RetryPolicy(attempts=8)
        # rate_limit=None: the client does not space requests at the quota it learns from the
        # server (the default), so the server's own bucket refuses some and they are retried.
        started = time.monotonic()
        client = server.client(sleep=sleep, retry=policy, rate_limit=None)
        async with client:
            await asyncio.gather(
                *(task_work(client, cid, aid, bids, injector) for aid, bids in accounts)
            )
            session = client._view.core.transport.session
            assert session is not None
            assert session.connector is not None
            connector = session.connector
            assert len(connector._acquired) == 0  # every connection went back to the pool
        seconds = time.monotonic() - started
        assert connector.closed
        assert client.closed
        assert not sdk_tasks()
        served = sum(1 for r in server.requests if r.fault is not None)
        limited = sum(1 for r in server.requests if r.status == 429 and r.fault is None)
        return SoakRun(
            snapshot(server), len(server.requests), served, injector.injected, limited,
            client.stats.retries, seconds,
        )  # fmt: skip


@pytest.mark.soak
async def test_soak_leaves_the_fault_free_ledger(capsys: pytest.CaptureFixture[str]) -> None:
    """50 tasks on one client through ~5% faults and 429s leave the fault-free ledger, cleanly."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clean = await soak(faults=False)
        faulty = await soak(faults=True)
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert not other_tasks()
    assert faulty.ledger == clean.ledger
    assert clean.requests >= 2000
    assert faulty.faults_served >= 0.03 * clean.requests
    assert faulty.rate_limited > 0  # the server's own token bucket refused some
    assert faulty.requests > clean.requests
    with capsys.disabled():
        sys.stdout.write(
            f"\nsoak: {faulty.requests} requests ({clean.requests} fault-free), "
            f"{faulty.faults_served} injected faults served ({faulty.faults_injected} queued), "
            f"{faulty.rate_limited} rate-limit 429s, {faulty.retries} retries, "
            f"{faulty.seconds:.1f}s (fault-free {clean.seconds:.1f}s)\n"
        )
