"""What the engine integrations (``_arq``, ``_celery``) share: a worker's client, planning
before enqueueing, and one engine run of a shard within the engine's time limit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from .._args import Id
from .._client import Client
from ._job import ShardedJob

if TYPE_CHECKING:
    from .._options import ClientOptions
    from .._quota.redis_limit import RedisRateLimit

__all__ = [
    "REDIS_RETRY",
    "make_client",
    "pending_after_plan",
    "shard_report_json",
    "worker_options",
]

_RESERVE: Final = 0.1  # of an engine's time limit, left to store the last accounts and retry
REDIS_RETRY: Final = 5.0
"""Seconds before an engine runs again a shard that a Redis error stopped (a restart, a
failover, a full memory): the shard was not marked done and keeps every account it stored."""


def worker_options(options: ClientOptions | None) -> ClientOptions:
    """The user's ``client_options`` for a worker's client, refused at once if they set the
    rate limit: that is the integration's, the one every worker shares in Redis."""
    if options and "rate_limit" in options:
        raise ValueError("client_options: give per_minute=, burst= and key= for rate_limit")
    return {**(options or {})}


def make_client(options: ClientOptions, limit: RedisRateLimit) -> Client:
    """A worker's client: its ``worker_options`` with the shared limit."""
    arguments: ClientOptions = {**options, "rate_limit": limit}
    return Client(**arguments)


async def pending_after_plan(
    job: ShardedJob, client: Client, client_id: Id, *, shard_size: int
) -> list[int]:
    """Plan the job (or read its stored plan); the shards an engine still has to run."""
    await job.plan(client, client_id, shard_size=shard_size)
    return await job.pending_shards()


async def shard_report_json(
    job: ShardedJob, client: Client, index: int, *, concurrency: int, time_limit: float
) -> str:
    """One engine run of a shard: its report as JSON.

    Raises:
        TimeoutError: a reserve before the engine's ``time_limit``; the engine retries the shard,
            and the next run does only the accounts left.
    """
    async with asyncio.timeout(time_limit * (1 - _RESERVE)):
        report = await job.run_shard(client, index, concurrency=concurrency)
    return report.to_json().decode()
