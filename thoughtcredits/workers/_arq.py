"""The arq integration of ``thoughtcredits.workers.arq`` (see its docstring)."""

from __future__ import annotations

from typing import Any, Final

try:
    from arq import Retry
    from arq.connections import ArqRedis, RedisSettings
    from arq.jobs import Job
    from arq.worker import func
    from redis.exceptions import RedisError
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "thoughtcredits.workers.arq needs arq: pip install 'thoughtcredits[arq]'"
    ) from exc

from .. import RedisRateLimit
from .._client import Client
from .._options import ClientOptions
from ._engine import REDIS_RETRY, make_client, pending_after_plan, shard_report_json, worker_options
from ._job import ShardedJob
from ._plan import shard_timeout

__all__ = ["FUNCTION", "enqueue_reconciliation", "worker_settings"]

FUNCTION: Final = "thoughtcredits_reconcile_shard"
"""The name the shard function is registered under, in the worker and when enqueued."""
_CLIENT: Final = "thoughtcredits_client"


def worker_settings(
    redis_url: str,
    *,
    key: str | None = None,
    per_minute: float,
    burst: int | None = None,
    shard_size: int = 50,
    workers: int = 1,
    concurrency: int = 8,
    max_tries: int = 5,
    client_options: ClientOptions | None = None,
) -> type:
    """arq's ``WorkerSettings`` for running reconciliation shards.

    Args:
        redis_url: the one Redis for arq's queue, the shared rate limit and the job state.
        key: the rate limit's Redis key; by default one derived from the base URL and a
            hash of the API key, so every worker of one key shares it and no other tenant does.
        per_minute: the key's quota; with ``shard_size`` and ``workers`` it sets a shard's
            time limit.
        burst: requests that may go at once (default: a sixth of ``per_minute``).
        shard_size: accounts per shard, as the jobs are planned.
        workers: how many worker processes share the key.
        concurrency: accounts each worker reconciles at once.
        max_tries: runs of one shard before arq gives up on it (each keeps its progress); a
            run stopped by a Redis error is retried after 5 s.
        client_options: more ``tc.Client`` arguments (the base URL and key default to
            ``THOUGHTCREDITS_BASE_URL`` and ``THOUGHTCREDITS_API_KEY``).
    """
    timeout = shard_timeout(shard_size, per_minute, workers=workers)
    options = worker_options(client_options)

    async def startup(ctx: dict[str, Any]) -> None:
        # arq's own connection serves the limiter and the job state too: one pool, one URL.
        limit = RedisRateLimit(ctx["redis"], key=key, per_minute=per_minute, burst=burst)
        ctx[_CLIENT] = make_client(options, limit)

    async def shutdown(ctx: dict[str, Any]) -> None:
        client = ctx.pop(_CLIENT, None)
        if client is not None:
            await client.aclose()

    async def reconcile_shard(ctx: dict[str, Any], job_id: str, index: int) -> str:
        job = ShardedJob(ctx["redis"], job_id)
        try:
            return await shard_report_json(
                job, ctx[_CLIENT], index, concurrency=concurrency, time_limit=timeout
            )
        except TimeoutError:
            raise Retry(defer=0) from None  # the next run does only the accounts left
        except RedisError as exc:  # within max_tries, like a time limit
            raise Retry(defer=REDIS_RETRY) from exc

    shard = func(reconcile_shard, name=FUNCTION, timeout=timeout, max_tries=max_tries)
    return type(
        "WorkerSettings",
        (),
        {
            "functions": [shard],
            "redis_settings": RedisSettings.from_dsn(redis_url),
            "on_startup": startup,
            "on_shutdown": shutdown,
            "max_jobs": 1,
            "job_timeout": timeout,
        },
    )


async def enqueue_reconciliation(
    pool: ArqRedis, job: ShardedJob, client: Client, client_id: str, *, shard_size: int = 50
) -> list[Job]:
    """Plan the job (or read its stored plan) and enqueue one arq job per shard not done.

    A rerun of the same job enqueues only the shards still to do: none, and so no request at
    all, once the job is finished. Wait for the merged report with ``await job.wait()``; each
    arq job's result is its shard's report as JSON.

    Args:
        pool: arq's pool (``await arq.create_pool(RedisSettings.from_dsn(REDIS_URL))``).
        job: the job to run, e.g. ``ShardedJob(REDIS_URL, "nightly-2026-01-31")``.
        client: plans the job: lists the client's accounts the first time.
        client_id: whose accounts to reconcile.
        shard_size: accounts per shard (as in :func:`worker_settings`).
    """
    pending = await pending_after_plan(job, client, client_id, shard_size=shard_size)
    if not pending:
        return []
    # A fresh arq job id per run: arq refuses an id whose (failed) result it still keeps.
    run = await job.new_run()
    queued = []
    for index in pending:
        enqueued = await pool.enqueue_job(FUNCTION, job.job_id, index,
                                          _job_id=f"{job.job_id}:{index}:{run}")  # fmt: skip
        assert enqueued is not None  # the id is new
        queued.append(enqueued)
    return queued
