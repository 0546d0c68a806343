"""Four real Celery pool processes reconcile a 2,000-account ledger through one Redis.

Every account lands in the merged report exactly once, at the full quota with no 429; a pool
process killed with SIGKILL mid-run hands its shard back (acks_late, reject on worker lost)
and costs no account; a rerun of the finished job sends no request; the threads pool works
with one loop and client per thread.
"""

from __future__ import annotations

import asyncio
import os
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

celery = pytest.importorskip("celery")
from thoughtcredits.workers.celery import enqueue_reconciliation  # noqa: E402

pytestmark = pytest.mark.celery
READY = "ready."


def _command(pool: str) -> list[str]:
    return [
        str(Path(sys.executable).parent / "celery"), "-A", "tests.workers.celery_app", "worker",
        f"--pool={pool}", f"--concurrency={WORKERS}", "--loglevel=INFO", "--without-gossip",
        "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


async def _run(
    server: LedgerServer,
    redis_url: str,
    job_id: str,
    *,
    workers: Workers,
    kill_at: float | None = None,
) -> tuple[ReconciliationReport, list[str]]:
    """Send the job, optionally SIGKILL one pool process once ``kill_at`` of it is done, wait,
    and read every shard's report from the result backend."""
    os.environ["REDIS_URL"] = redis_url
    from .celery_app import reconcile_shard

    async with (
        planning_client(server, redis_url) as client,
        ShardedJob(redis_url, job_id) as job,
    ):
        sent = await enqueue_reconciliation(
            reconcile_shard, job, client, server.client_id, shard_size=SHARD_SIZE
        )
        if kill_at is not None:
            while (await job.progress()).fraction < kill_at:  # noqa: ASYNC110 - a watcher
                await asyncio.sleep(0.2)
            workers.kill(workers.children(0)[0])
        async with asyncio.timeout(600):
            report = await job.wait(poll=0.5)
    results = [] if sent is None else await asyncio.to_thread(sent.get, timeout=120)
    return report, results


async def test_four_pool_processes_use_the_whole_quota_and_a_rerun_sends_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    with ledger_server(tmp_path) as server:
        workers = Workers(_command("prefork"), 1, server.env(redis_url), tmp_path)
        try:
            workers.wait_ready(READY)
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
    print(f"\ncelery prefork, {WORKERS} processes: {used}")  # noqa: T201 - for the notes
    assert used.rate_limited == 0
    assert used.quota_used >= 0.95, used
    assert (rerun.accounts, rerun_results, after) == (report.accounts, [], seen)


async def test_a_pool_process_killed_mid_run_loses_no_account(
    tmp_path: Path, redis_url: str
) -> None:
    with ledger_server(tmp_path) as server:
        workers = Workers(_command("prefork"), 1, server.env(redis_url), tmp_path)
        try:
            workers.wait_ready(READY)
            report, results = await _run(server, redis_url, "killed", kill_at=0.3, workers=workers)
            await asyncio.sleep(1)
            used = usage(server.answers())
        finally:
            workers.stop()
        log = workers.output(tail=None)
    print(f"\ncelery prefork, one of {WORKERS} processes killed: {used}")  # noqa: T201
    assert_every_account_once(report, server)
    assert len(results) == -(-len(server.account_ids) // SHARD_SIZE)
    assert "signal 9 (SIGKILL)" in log, workers.output()
    assert used.longest_idle < 60, used
    assert used.rate_limited == 0


async def test_the_threads_pool_runs_one_loop_and_client_per_thread(
    tmp_path: Path, redis_url: str
) -> None:
    with ledger_server(tmp_path, accounts=300) as server:
        workers = Workers(_command("threads"), 1, server.env(redis_url), tmp_path)
        try:
            workers.wait_ready(READY)
            report, results = await _run(server, redis_url, "threads", workers=workers)
            await asyncio.sleep(1)
            used = usage(server.answers())
        finally:
            workers.stop()
    assert_every_account_once(report, server)
    assert len(results) == -(-300 // SHARD_SIZE)
    assert used.rate_limited == 0
