"""thoughtcredits.workers.arq: a sharded reconciliation on arq workers.

``pip install 'thoughtcredits[arq]'``. One Redis URL holds arq's queue, the shared rate
limit and the job's state. In the module your workers run (``arq jobs.WorkerSettings``)::

    from thoughtcredits.workers.arq import worker_settings

    WorkerSettings = worker_settings(REDIS_URL, per_minute=600,
                                     workers=4)

and wherever the nightly job starts::

    async with ShardedJob(REDIS_URL, "nightly-2026-01-31") as job:
        await enqueue_reconciliation(pool, job, client, client_id)
        report = await job.wait()

Each worker runs one shard at a time (``max_jobs=1``: the reconciler already keeps the quota
busy) with one ``tc.Client`` per process, opened on startup and closed on shutdown. A shard's
time limit comes from its size and the quota (:func:`~thoughtcredits.workers.shard_timeout`):
a shard that reaches it is retried at once, keeping the accounts it finished, and a killed
worker's shard runs again when arq's in-progress key expires (the limit plus 10 s). Each
job's result is its shard's report as JSON.
"""

from __future__ import annotations

from ._arq import FUNCTION, enqueue_reconciliation, worker_settings

__all__ = ["FUNCTION", "enqueue_reconciliation", "worker_settings"]
