"""``ShardedJob`` against a real redis-server and the local credits server, in one process.

The multi-process runs on arq and Celery are in tests/workers (``make test-workers``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
import redis.asyncio

import thoughtcredits as tc
from thoughtcredits.reconcile import reconcile
from thoughtcredits.testing import FakeCreditsServer, plant_discrepancies, seed_ledger
from thoughtcredits.testing._ledger.plant import KINDS
from thoughtcredits.workers import IncompleteJobError, ShardedJob, shard_timeout
from thoughtcredits.workers._engine import worker_options


def _account_requests(server: FakeCreditsServer, accounts: set[UUID]) -> int:
    """Requests that read one of ``accounts`` (its batches or its actions)."""
    return sum(
        1
        for r in server.requests
        if any(str(a) in r.path + r.query.get("creditAccountId", "") for a in accounts)
    )


async def test_shards_merge_into_the_report_one_process_writes(redis_url: str) -> None:
    """Every account once, in plan order, with exactly the discrepancies a single run finds;
    progress counts up to done, and the report is refused until then."""
    async with FakeCreditsServer(per_page=40) as server:
        seeded = seed_ledger(server.ledger, accounts=11, actions_per_account=60, seed=1)
        planted = plant_discrepancies(server.ledger, seeded.account_ids, kinds=KINDS)
        (client_id,) = seeded.client_ids
        async with server.client() as client, ShardedJob(redis_url, "job-1") as job:
            plan = await job.plan(client, client_id, shard_size=4)
            assert [len(shard) for shard in plan.shards] == [4, 4, 3]
            assert [a for shard in plan.shards for a in shard] == list(seeded.account_ids)
            with pytest.raises(IncompleteJobError, match=r"11 of 11 .* shards: 0, 1, 2\)"):
                await job.report()
            before = await job.progress()
            assert (before.shards, before.shards_done, before.accounts_done) == (3, 0, 0)
            reports = [await job.run_shard(client, index) for index in (2, 0, 1)]
            progress = await job.progress()
            merged = await job.report()
            single = await reconcile(client, client_id)
    assert [a.account_id for a in merged.accounts] == list(seeded.account_ids)
    assert merged.accounts == single.accounts
    assert {(d.kind, d.account_id, d.entity_id, d.action_id) for d in merged.discrepancies} == {
        (p.kind, p.account_id, p.entity_id, p.action_id) for p in planted
    }
    assert [r.accounts for r in reports] == [
        merged.accounts[8:], merged.accounts[:4], merged.accounts[4:8]
    ]  # fmt: skip
    assert progress.done
    assert progress.fraction == 1.0
    assert (progress.shards_done, progress.accounts_done, progress.discrepancies) == (3, 11, 5)
    assert merged.started_at == plan.planned_at <= merged.finished_at


async def test_a_rerun_of_a_finished_job_sends_no_request(redis_url: str) -> None:
    """A second worker (a new ShardedJob, a new connection) planning and running every shard
    of the finished job reads it all from Redis: the server sees nothing."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=5, actions_per_account=30, seed=2)
        (client_id,) = seeded.client_ids
        async with server.client() as client:
            async with ShardedJob(redis_url, "nightly") as first:
                await first.plan(client, client_id, shard_size=2)
                done = [await first.run_shard(client, i) for i in await first.pending_shards()]
            server.reset_requests()
            async with ShardedJob(redis_url, "nightly") as again:
                plan = await again.plan(client, client_id, shard_size=2)
                assert await again.pending_shards() == []
                rerun = [await again.run_shard(client, i) for i in range(len(plan.shards))]
                assert (await again.report()).accounts == tuple(
                    a for report in done for a in report.accounts
                )
    assert server.requests == []
    assert rerun == done


async def test_a_shard_cut_short_keeps_its_finished_accounts(redis_url: str) -> None:
    """A run cancelled midway (a killed worker, a timeout) stored the accounts it finished:
    the next run reads only the others, and the shard still reports every account once."""
    async with FakeCreditsServer(per_page=10, latency=0.01) as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=80, seed=3)
        (client_id,) = seeded.client_ids
        async with server.client() as client, ShardedJob(redis_url, "cut") as job:
            await job.plan(client, client_id, shard_size=6)
            run = asyncio.ensure_future(job.run_shard(client, 0, concurrency=2))
            while (await job.progress()).accounts_done < 2:  # noqa: ASYNC110 - as a watcher polls
                await asyncio.sleep(0.01)
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            kept = (await job.progress()).accounts_done
            assert 2 <= kept < 6
            finished = {
                a.account_id for a in (await job._store.reports(seeded.account_ids)).values()
            }
            server.reset_requests()
            report = await job.run_shard(client, 0)
    assert [a.account_id for a in report.accounts] == list(seeded.account_ids)
    assert _account_requests(server, finished) == 0
    assert _account_requests(server, set(seeded.account_ids) - finished) > 0


async def test_a_borrowed_decoding_client_works_and_is_not_closed(redis_url: str) -> None:
    """A redis.asyncio.Redis with decode_responses=True (an app's own) is borrowed as is."""
    borrowed = redis.asyncio.from_url(redis_url, decode_responses=True)
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=20, seed=4)
        async with server.client() as client, ShardedJob(borrowed, "borrowed") as job:
            await job.plan(client, seeded.client_ids[0], shard_size=1)
            for index in await job.pending_shards():
                await job.run_shard(client, index)
            assert (await job.report()).ok
            assert (await job.progress()).updated_at is not None
    assert await borrowed.ping()
    await borrowed.aclose()


async def test_given_accounts_expiry_and_refusals(redis_url: str) -> None:
    """account_ids plans exactly those (once each); the keys expire after ttl; another
    client, a bad id, a shard out of range and an unplanned job are refused clearly."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=3, actions_per_account=20, seed=5)
        (client_id,) = seeded.client_ids
        wanted = [seeded.account_ids[2], seeded.account_ids[0], seeded.account_ids[2]]
        async with server.client() as client:
            async with ShardedJob(redis_url, "given", ttl=timedelta(seconds=60)) as job:
                plan = await job.plan(client, client_id, account_ids=wanted, shard_size=5)
                assert plan.shards == ((seeded.account_ids[2], seeded.account_ids[0]),)
                await job.run_shard(client, 0)
                with pytest.raises(ValueError, match=f"planned for client {client_id}"):
                    await job.plan(client, uuid4())
                with pytest.raises(IndexError, match="has 1 shards, not 2"):
                    await job.run_shard(client, 1)
            async with ShardedJob(redis_url, "never-planned") as unplanned:
                with pytest.raises(LookupError, match="no plan for job 'never-planned'"):
                    await unplanned.run_shard(client, 0)
    probe = redis.asyncio.from_url(redis_url)
    keys = await probe.keys("thoughtcredits:job:given:*")
    ttls = [await probe.pttl(key) for key in keys]
    await probe.aclose()
    assert len(keys) == 5
    assert all(0 < ttl <= 60_000 for ttl in ttls)
    for bad in ("", "has space", "x" * 201, "new\nline", "ünï"):
        with pytest.raises(ValueError, match="job_id"):
            ShardedJob(redis_url, bad)


def test_shard_timeout_comes_from_the_shard_size_and_the_quota() -> None:
    """Three times a shard's share of the quota, never below the floor."""
    # 50 accounts x 4 requests x 4 workers at 10 requests a second: 80 s, times 3.
    assert shard_timeout(50, 600, workers=4) == pytest.approx(240)
    assert shard_timeout(1, 6000) == 30
    assert shard_timeout(10, 120, margin=2, minimum=0) == pytest.approx(40)
    for bad in ({"per_minute": 0}, {"per_minute": -1.0}, {"workers": 0}, {"margin": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            shard_timeout(**{"shard_size": 5, "per_minute": 600, **bad})  # type: ignore[arg-type]


def test_a_workers_client_options_may_not_set_the_rate_limit() -> None:
    """The integrations' limit is the one every worker shares in Redis: a ``rate_limit`` in
    ``client_options`` would replace it in one process only, so it is refused when the
    integration is set up, not when a worker first runs; other options pass through."""
    with pytest.raises(ValueError, match=r"client_options: give per_minute=, burst= and key="):
        worker_options({"rate_limit": None})
    options: tc.ClientOptions = {"max_concurrency": 4, "base_url": "http://127.0.0.1:9"}
    assert worker_options(options) == options
    assert worker_options(None) == {}
