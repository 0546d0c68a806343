"""thoughtcredits.workers: one reconciliation cut into shards, run by many worker processes.

A :class:`ShardedJob` keeps its plan, each account's report and its progress in Redis, so
any worker can run any shard, a killed worker's shard runs again without losing the accounts
it finished, a rerun of a finished job sends no request, and one merged report comes out::

    from thoughtcredits.workers import ShardedJob

    async with ShardedJob("redis://localhost:6379/0", "nightly-2026-01-31") as job:
        plan = await job.plan(client, client_id, shard_size=50)
        for index in await job.pending_shards():
            await job.run_shard(client, index)  # in practice: one worker job per shard
        report = await job.report()

:mod:`thoughtcredits.workers.arq` and :mod:`thoughtcredits.workers.celery` run the shards on
those engines (``pip install 'thoughtcredits[arq]'`` or ``'thoughtcredits[celery]'``).
"""

from __future__ import annotations

from ._job import DEFAULT_TTL, IncompleteJobError, ShardedJob
from ._plan import REQUESTS_PER_ACCOUNT, JobPlan, JobProgress, JobStateError, shard_timeout

__all__ = [
    "DEFAULT_TTL",
    "REQUESTS_PER_ACCOUNT",
    "IncompleteJobError",
    "JobPlan",
    "JobProgress",
    "JobStateError",
    "ShardedJob",
    "shard_timeout",
]
