"""thoughtcredits.workers.celery: a sharded reconciliation on Celery workers.

``pip install 'thoughtcredits[celery]'``. In the module your workers run::

    from celery import Celery
    from thoughtcredits.workers.celery import install

    app = Celery("jobs", broker=REDIS_URL, backend=REDIS_URL)
    reconcile_shard = install(app, REDIS_URL, per_minute=600,
                              workers=4)

and wherever the nightly job starts::

    async with ShardedJob(REDIS_URL, "nightly-2026-01-31") as job:
        await enqueue_reconciliation(reconcile_shard, job, client, client_id)
        report = await job.wait()

Celery tasks are synchronous, so each worker thread gets its own event loop and its own
``tc.Client``: made in ``worker_process_init`` for a prefork child (never at import, so no
two processes share a loop), or on the first task of a thread for ``--pool=threads`` and
``--pool=solo``; closed when the worker stops. The task acknowledges its message only once
the shard is done (``acks_late``) and hands it back when its process dies
(``task_reject_on_worker_lost``), so a killed worker's shard runs again at once; the
accounts it finished are kept. Each task's result is its shard's report as JSON.
"""

from __future__ import annotations

from ._celery import TASK, enqueue_reconciliation, install

__all__ = ["TASK", "enqueue_reconciliation", "install"]
