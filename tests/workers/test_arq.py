"""Four real arq workers reconcile a 2,000-account ledger through one Redis.

Every account lands in the merged report exactly once, at the full quota with no 429; a
worker killed with SIGKILL mid-run costs no account and never leaves the quota idle for a
minute; a rerun of the finished job sends no request.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from thoughtcredits.reconcile import ReconciliationReport
from thoughtcredits.workers import ShardedJob

from .harness import (
    SHARD_SIZE,
    WORKERS,
    LedgerServer,
    Workers,
    assert_every_account_once,
    assert_shard_results_match,
    ledger_server,
    planning_client,
    usage,
)  # fmt: skip

arq = pytest.importorskip("arq")
from arq.connections import RedisSettings, create_pool  # noqa: E402

from thoughtcredits.workers.arq import enqueue_reconciliation  # noqa: E402

pytestmark = pytest.mark.arq
READY = "Starting worker for 1 functions"
COMMAND = [str(Path(sys.executable).parent / "arq"), "tests.workers.arq_app.WorkerSettings"]


async def _run(
    server: LedgerServer,
    redis_url: str,
    job_id: str,
    *,
    kill_at: float | None = None,
    workers: Workers,
) -> tuple[ReconciliationReport, list[str]]:
    """Enqueue the job, optionally SIGKILL worker 0 once ``kill_at`` of it is done, and wait."""
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        async with (
            planning_client(server, redis_url) as client,
            ShardedJob(redis_url, job_id) as job,
        ):
            queued = await enqueue_reconciliation(
                pool, job, client, server.client_id, shard_size=SHARD_SIZE
            )
            if kill_at is not None:
                while (await job.progress()).fraction < kill_at:  # noqa: ASYNC110 - a watcher
                    await asyncio.sleep(0.2)
                workers.kill(workers.processes[0].pid)
            async with asyncio.timeout(600):
                report = await job.wait(poll=0.5)
                results = [await queued_job.result(poll_delay=0.2) for queued_job in queued]
    finally:
        await pool.aclose()
    return report, results


async def test_four_workers_use_the_whole_quota_and_a_rerun_sends_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    with ledger_server(tmp_path) as server:
        workers = Workers(COMMAND, WORKERS, server.env(redis_url), tmp_path)
        workers.wait_ready(READY)
        try:
            report, results = await _run(server, redis_url, "nightly", workers=workers)
            await asyncio.sleep(1)  # the server flushes its log every half second
            used = usage(server.answers())
            seen = len(server.answers())
            rerun, rerun_results = await _run(server, redis_url, "nightly", workers=workers)
            await asyncio.sleep(1)
            after = len(server.answers())
        finally:
            workers.stop()
    assert_every_account_once(report, server)
    assert_shard_results_match(report, results)
    print(f"\narq, {WORKERS} workers: {used}")  # noqa: T201 - the figures for the notes
    assert used.rate_limited == 0
    assert used.quota_used >= 0.95, used
    assert (rerun.accounts, rerun_results, after) == (report.accounts, [], seen)


async def test_a_worker_killed_mid_run_loses_no_account(tmp_path: Path, redis_url: str) -> None:
    with ledger_server(tmp_path) as server:
        workers = Workers(COMMAND, WORKERS, server.env(redis_url), tmp_path)
        workers.wait_ready(READY)
        try:
            report, results = await _run(server, redis_url, "killed", kill_at=0.3, workers=workers)
            await asyncio.sleep(1)
            used = usage(server.answers())
        finally:
            workers.stop()
    print(f"\narq, one of {WORKERS} workers killed: {used}")  # noqa: T201
    assert_every_account_once(report, server)
    assert len(results) == -(-len(server.account_ids) // SHARD_SIZE)
    assert used.longest_idle < 60, used
    assert used.rate_limited == 0
