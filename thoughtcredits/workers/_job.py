"""``ShardedJob``: one reconciliation cut into shards, its state in Redis for every worker.

How the state is kept is :mod:`._store`'s job; this module plans, runs shards and merges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from .. import _args
from .._args import Id
from .._client import Client
from ..reconcile import AccountReport, ReconciliationReport, reconcile
from ..reconcile._run import discover_accounts
from ._plan import JobPlan, JobProgress, check_job_id, cut
from ._store import JobStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from .._options import ClientOptions
    from .._quota.redis_limit import RedisRateLimit

__all__ = [
    "DEFAULT_TTL",
    "IncompleteJobError",
    "ShardedJob",
    "make_client",
    "pending_after_plan",
    "shard_report_json",
    "worker_options",
]

DEFAULT_TTL: Final = timedelta(days=7)
_RESERVE: Final = 0.1  # of an engine's time limit, left to store the last accounts and retry


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


class IncompleteJobError(RuntimeError):
    """The job's report was asked for before every account was reconciled."""


class ShardedJob:
    """One reconciliation job, cut into shards that any worker, in any process, can run.

    Args:
        url_or_client: a Redis URL (a connection is made, and closed by :meth:`aclose`) or a
            ``redis.asyncio.Redis`` to borrow (never closed), e.g. arq's ``ctx["redis"]``.
        job_id: the job's name, the same in every worker and every rerun of the job, e.g.
            ``"nightly-2026-01-31"``; a new name starts a new job.
        prefix: the prefix of the job's Redis keys.
        ttl: how long the job's state outlives its last write.

    Raises:
        ValueError: a job id that is empty, too long or holds other than ``[A-Za-z0-9._:@+=-]``.
        ImportError: redis-py is not installed (``pip install 'thoughtcredits[redis]'``).
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        job_id: str,
        *,
        prefix: str = "thoughtcredits:job",
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.job_id = check_job_id(job_id)
        if ttl <= timedelta(0):
            raise ValueError(f"ttl: must be positive, got {ttl}")
        try:
            from redis.asyncio import from_url
        except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
            raise ImportError(
                "ShardedJob needs redis-py: pip install 'thoughtcredits[redis]'"
            ) from exc
        self._owned = isinstance(url_or_client, str)
        self._redis: Any = (
            from_url(url_or_client) if isinstance(url_or_client, str) else url_or_client
        )
        self._store = JobStore(self._redis, prefix, job_id, int(ttl.total_seconds() * 1000))
        self._plan: JobPlan | None = None

    def __repr__(self) -> str:
        return f"ShardedJob(job_id={self.job_id!r})"

    async def aclose(self) -> None:
        """Close the Redis connection, if this job made it."""
        if self._owned:
            await self._redis.aclose()

    async def __aenter__(self) -> ShardedJob:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def plan(
        self,
        client: Client,
        client_id: Id,
        *,
        shard_size: int = 50,
        account_ids: Iterable[Id] | None = None,
    ) -> JobPlan:
        """The job's plan: read back if stored, else made from the accounts and stored.

        The first call lists the client's accounts (every account with a batch) unless
        ``account_ids`` are given, cuts them ``shard_size`` to a shard and stores the plan.
        Every later call, in any process, reads the stored plan and sends no request.

        Raises:
            ValueError: the job was planned for another client.
        """
        cid = UUID(_args.uuid_arg("client_id", client_id))
        _args.integer("shard_size", shard_size, minimum=1)
        stored = await self._stored_plan()
        if stored is None:
            if account_ids is None:
                ids = list(await discover_accounts(client, str(cid)))
            else:
                ids = list({UUID(_args.uuid_arg("account_ids[]", a)): None for a in account_ids})
            await self._store.offer_plan(
                JobPlan(self.job_id, cid, cut(ids, shard_size), datetime.now(UTC))
            )
            stored = await self._stored_plan()
            assert stored is not None  # this call or a concurrent one stored it
        if stored.client_id != cid:
            raise ValueError(
                f"job {self.job_id!r} was planned for client {stored.client_id}, not {cid}"
            )
        return stored

    async def load_plan(self) -> JobPlan:
        """The stored plan. Raises LookupError when the job was never planned (or expired)."""
        stored = await self._stored_plan()
        if stored is None:
            raise LookupError(f"no plan for job {self.job_id!r}: plan it first (or it expired)")
        return stored

    async def _stored_plan(self) -> JobPlan | None:
        if self._plan is None:
            self._plan = await self._store.plan()  # a plan never changes: read it once
        return self._plan

    async def pending_shards(self) -> list[int]:
        """The indexes of the shards not done yet, in order."""
        plan = await self.load_plan()
        done = await self._store.done()
        return [index for index in range(len(plan.shards)) if index not in done]

    async def run_shard(
        self, client: Client, index: int, *, concurrency: int = 8
    ) -> ReconciliationReport:
        """Reconcile the shard's accounts not reconciled yet, and return the shard's report.

        Each account's report is stored as soon as it is done, so a run that is killed keeps
        what it finished, and a run of a shard already done sends no request at all.

        Raises:
            IndexError: no such shard in the plan.
            LookupError: the job was never planned.
        """
        plan = await self.load_plan()
        _args.integer("index", index, minimum=0)
        if index >= len(plan.shards):
            raise IndexError(f"job {self.job_id!r} has {len(plan.shards)} shards, not {index + 1}")
        accounts = plan.shards[index]
        await self._store.started(index)
        stored = await self._store.reports(accounts)
        pending = [account for account in accounts if account not in stored]
        if pending:
            writes: set[asyncio.Task[None]] = set()

            def keep(report: AccountReport) -> None:
                task = asyncio.ensure_future(self._store.keep(report))
                writes.add(task)
                task.add_done_callback(writes.discard)

            try:
                await reconcile(client, plan.client_id, pending, concurrency=concurrency,
                                on_account=keep)  # fmt: skip
            finally:
                await asyncio.gather(*writes)
            stored = await self._store.reports(accounts)
        started, finished = await self._store.finished(index)
        return ReconciliationReport(
            plan.client_id, started, finished, tuple(stored[a] for a in accounts)
        )

    async def new_run(self) -> int:
        """A number no earlier run of the job got (1, 2, ...), e.g. to name engine jobs."""
        return await self._store.new_run()

    async def wait(
        self,
        *,
        poll: float = 1.0,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> ReconciliationReport:
        """Wait until every account is reconciled (by any worker); return the merged report.

        To give up at some point, wrap it: ``async with asyncio.timeout(3600): ...``.

        Args:
            poll: seconds between two looks at the progress.
            on_progress: called with the progress after each look.
        """
        while True:
            progress = await self.progress()
            if on_progress is not None:
                on_progress(progress)
            if progress.done:
                return await self.report()
            await asyncio.sleep(poll)

    async def progress(self) -> JobProgress:
        """How far the job has got, from any process (one round trip to Redis)."""
        plan = await self.load_plan()
        accounts_done, shards_done, found, updated = await self._store.counts()
        return JobProgress(
            self.job_id, plan.client_id, len(plan.shards), shards_done, plan.accounts,
            accounts_done, found, plan.planned_at, updated,
        )  # fmt: skip

    async def report(self) -> ReconciliationReport:
        """The whole job's report, merged from every account's, in the plan's order.

        Raises:
            IncompleteJobError: some account is not reconciled yet (the message says how
                many, and which shards are pending).
        """
        plan = await self.load_plan()
        order = [account for shard in plan.shards for account in shard]
        stored = await self._store.reports(order)
        if len(stored) < len(order):
            pending = await self.pending_shards()
            shown = ", ".join(map(str, pending[:10])) + (", ..." if len(pending) > 10 else "")
            raise IncompleteJobError(
                f"job {self.job_id!r}: {len(order) - len(stored)} of {len(order)} accounts "
                f"are not reconciled yet (pending shards: {shown})"
            )
        *_, updated = await self._store.counts()
        finished = plan.planned_at if updated is None else updated
        return ReconciliationReport(
            plan.client_id, plan.planned_at, finished, tuple(stored[a] for a in order)
        )


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
