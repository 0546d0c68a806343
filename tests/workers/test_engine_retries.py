"""A Redis error mid-shard makes the engine run the shard again, in one process: no worker.

The multi-process runs are in test_arq.py and test_celery.py; these call the registered
shard function itself, with a job store whose first write fails as a Redis restart does.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError

import thoughtcredits as tc
from thoughtcredits.reconcile import AccountReport
from thoughtcredits.testing import FakeCreditsServer, seed_ledger
from thoughtcredits.workers import ShardedJob
from thoughtcredits.workers._store import JobStore


@pytest.fixture
def first_write_fails(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every job store's first account write raises ConnectionError; yields the write count."""
    kept = JobStore.keep
    calls = [0]

    async def flaky(store: JobStore, report: AccountReport) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise RedisConnectionError("Connection reset by peer")
        await kept(store, report)

    monkeypatch.setattr(JobStore, "keep", flaky)
    return calls


async def _planned(server: FakeCreditsServer, redis_url: str, job_id: str) -> list[str]:
    seeded = seed_ledger(server.ledger, accounts=3, actions_per_account=10, seed=11)
    async with server.client() as client, ShardedJob(redis_url, job_id) as job:
        await job.plan(client, seeded.client_ids[0], shard_size=3)
    return [str(account) for account in seeded.account_ids]


@pytest.mark.arq
async def test_arq_retries_a_shard_that_a_redis_error_stopped(
    redis_url: str, first_write_fails: list[int]
) -> None:
    """Before, the error failed the arq job for good (max_tries never applied)."""
    pytest.importorskip("arq")
    from arq import Retry

    from thoughtcredits.workers.arq import worker_settings

    settings = worker_settings(redis_url, per_minute=600)
    shard = settings.functions[0].coroutine  # type: ignore[attr-defined]
    async with FakeCreditsServer() as server:
        accounts = await _planned(server, redis_url, "blip")
        connection = redis.asyncio.from_url(redis_url)
        async with server.client() as client:
            ctx = {"redis": connection, "thoughtcredits_client": client}
            with pytest.raises(Retry) as retry:
                await shard(ctx, "blip", 0)
            assert retry.value.defer_score == 5000
            result = json.loads(await shard(ctx, "blip", 0))
        await connection.aclose()
    assert [a["accountId"] for a in result["accounts"]] == accounts


@pytest.mark.celery
async def test_celery_retries_a_shard_that_a_redis_error_stopped(
    redis_url: str, first_write_fails: list[int]
) -> None:
    """Before, the task failed with the ConnectionError and was acked: never run again."""
    pytest.importorskip("celery")
    from celery import Celery

    from thoughtcredits.workers.celery import install

    async with FakeCreditsServer() as server:
        accounts = await _planned(server, redis_url, "blip")
        app = Celery("retries", set_as_current=False)
        app.conf.task_always_eager = True
        options: tc.ClientOptions = {"base_url": server.url, "api_key": server.api_key}
        task = install(app, redis_url, per_minute=600, client_options=options)
        # Eager, a retry runs again at once, in this thread: off the server's loop.
        outcome = await asyncio.to_thread(task.apply, args=("blip", 0))
    assert outcome.successful(), outcome.traceback
    assert [a["accountId"] for a in json.loads(outcome.result)["accounts"]] == accounts
    assert first_write_fails[0] == len(accounts) + 1
