"""The celery integration of ``thoughtcredits.workers.celery`` (see its docstring)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Final

try:
    from celery import Celery, Task, group
    from celery.result import GroupResult
    from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown
    from redis.exceptions import RedisError
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "thoughtcredits.workers.celery needs celery: pip install 'thoughtcredits[celery]'"
    ) from exc

from .. import RedisRateLimit
from .._client import Client
from .._options import ClientOptions
from ._engine import REDIS_RETRY, make_client, pending_after_plan, shard_report_json, worker_options
from ._job import ShardedJob
from ._plan import shard_timeout

__all__ = ["TASK", "enqueue_reconciliation", "install"]

TASK: Final = "thoughtcredits.reconcile_shard"
"""The name the shard task is registered under."""


class _Runtime:
    """One thread's event loop, with its client and its Redis connection made on it."""

    def __init__(self, redis_url: str, make_client: Callable[[], Client]) -> None:
        from redis.asyncio import from_url

        self.loop = asyncio.new_event_loop()

        async def open_() -> tuple[Client, Any]:
            return make_client(), from_url(redis_url)

        self.client, self.redis = self.loop.run_until_complete(open_())

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.redis.aclose())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


class _Runtimes:
    """Every thread's runtime in this process; a forked child starts with none of its own."""

    def __init__(self, redis_url: str, make_client: Callable[[], Client]) -> None:
        self._redis_url = redis_url
        self._make_client = make_client
        self._local = threading.local()
        self._all: list[_Runtime] = []
        self._lock = threading.Lock()

    def current(self) -> _Runtime:
        """This thread's runtime, made on its first task (threads and solo pools)."""
        runtime: _Runtime | None = getattr(self._local, "runtime", None)
        if runtime is None:
            runtime = self._local.runtime = _Runtime(self._redis_url, self._make_client)
            with self._lock:
                self._all.append(runtime)
        return runtime

    def forked(self, **_: object) -> None:
        """``worker_process_init``: a prefork child opens its own runtime, never the parent's."""
        # A lock another thread of the parent held at the fork would stay held: new ones.
        self._local, self._lock, self._all = threading.local(), threading.Lock(), []
        self.current()

    def close_all(self, **_: object) -> None:
        """``worker_process_shutdown`` / ``worker_shutdown``: close every runtime."""
        with self._lock:
            runtimes, self._all = self._all, []
        for runtime in runtimes:
            runtime.close()


def install(
    app: Celery,
    redis_url: str,
    *,
    key: str | None = None,
    per_minute: float,
    burst: int | None = None,
    shard_size: int = 50,
    workers: int = 1,
    concurrency: int = 8,
    max_retries: int = 5,
    client_options: ClientOptions | None = None,
) -> Task:
    """Register the shard task on ``app``; return it (enqueue with :func:`enqueue_reconciliation`).

    Also sets, unless ``app`` already sets them: one message reserved per worker process at a
    time (``worker_prefetch_multiplier=1``), and a Redis broker's ``visibility_timeout`` above
    a shard's time limit, so a message is never handed to a second worker while its shard
    still runs, and comes back soon after a whole worker dies.

    Args:
        app: your Celery app; give it a result backend to read the shards' reports.
        redis_url: the Redis for the shared rate limit and the job's state.
        key: the rate limit's Redis key; by default one derived from the base URL and a
            hash of the API key, so every worker of one key shares it and no other tenant does.
        per_minute: the key's quota; with ``shard_size`` and ``workers`` it sets a shard's
            time limit.
        burst: requests that may go at once (default: a sixth of ``per_minute``).
        shard_size: accounts per shard, as the jobs are planned.
        workers: how many worker processes (or threads) share the key.
        concurrency: accounts each task reconciles at once.
        max_retries: retries of a shard that reached its time limit or met a Redis error (each
            keeps its progress; after a Redis error, 5 s later).
        client_options: more ``tc.Client`` arguments (the base URL and key default to
            ``THOUGHTCREDITS_BASE_URL`` and ``THOUGHTCREDITS_API_KEY``).
    """
    timeout = shard_timeout(shard_size, per_minute, workers=workers)
    options = worker_options(client_options)

    def new_client() -> Client:
        limit = RedisRateLimit(redis_url, key=key, per_minute=per_minute, burst=burst)
        return make_client(options, limit)

    runtimes = _Runtimes(redis_url, new_client)
    worker_process_init.connect(runtimes.forked, weak=False)
    worker_process_shutdown.connect(runtimes.close_all, weak=False)
    worker_shutdown.connect(runtimes.close_all, weak=False)
    app.conf.worker_prefetch_multiplier = app.conf.get("worker_prefetch_multiplier") or 1
    transport = dict(app.conf.broker_transport_options or {})
    transport.setdefault("visibility_timeout", int(timeout) + 60)
    transport.setdefault("unacked_restore_interval", 5)
    transport.setdefault("unacked_restore_throttle", 1)
    app.conf.broker_transport_options = transport

    def reconcile_shard(task: Task, job_id: str, index: int) -> str:
        runtime = runtimes.current()

        job = ShardedJob(runtime.redis, job_id)
        run = shard_report_json(
            job, runtime.client, index, concurrency=concurrency, time_limit=timeout
        )
        try:
            return runtime.loop.run_until_complete(run)
        except TimeoutError:
            raise task.retry(countdown=0) from None  # the next run does only the accounts left
        except RedisError as exc:  # within max_retries, like a time limit
            raise task.retry(countdown=REDIS_RETRY, exc=exc) from exc

    registered: Task = app.task(
        name=TASK, bind=True, shared=False, acks_late=True, reject_on_worker_lost=True,
        max_retries=max_retries, time_limit=int(timeout) + 30,
    )(reconcile_shard)  # fmt: skip
    return registered


async def enqueue_reconciliation(
    task: Task, job: ShardedJob, client: Client, client_id: str, *, shard_size: int = 50
) -> GroupResult | None:
    """Plan the job (or read its stored plan) and send one task per shard not done.

    A rerun of the same job sends only the shards still to do: none, and so no request at
    all, once the job is finished (then the result is None). Wait for the merged report with
    ``await job.wait()``; with a result backend, the group's results are the shards' reports.

    Args:
        task: the task :func:`install` returned.
        job: the job to run, e.g. ``ShardedJob(REDIS_URL, "nightly-2026-01-31")``.
        client: plans the job: lists the client's accounts the first time.
        client_id: whose accounts to reconcile.
        shard_size: accounts per shard (as in :func:`install`).
    """
    pending = await pending_after_plan(job, client, client_id, shard_size=shard_size)
    if not pending:
        return None
    shards = group(task.s(job.job_id, index) for index in pending)
    # Publishing blocks on the broker: off the event loop.
    result: GroupResult = await asyncio.to_thread(shards.apply_async)
    return result
