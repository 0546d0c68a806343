"""``ShardedJob``: one reconciliation cut into shards, its state in Redis for every worker.

How the state is kept is :mod:`._store`'s job; this module plans, runs shards and merges.
"""

from __future__ import annotations

import asyncio
import math
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
from ._plan import JobPlan, JobProgress, JobStateError, check_job_id, check_prefix, cut
from ._store import JobStore

if TYPE_CHECKING:
    from redis.asyncio import Redis


__all__ = ["DEFAULT_TTL", "IncompleteJobError", "ShardedJob"]

DEFAULT_TTL: Final = timedelta(days=7)


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
        ValueError: a job id that is empty, too long or holds other than ``[A-Za-z0-9._:@+=-]``,
            a prefix that is not printable ASCII, or a ttl under a second.
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
        check_prefix(prefix)
        if not isinstance(ttl, timedelta) or ttl < timedelta(seconds=1):
            # Redis refuses an expiry of 0 ms: a shorter ttl would fail only at the first write.
            raise ValueError(f"ttl: must be a timedelta of at least 1 second, got {ttl!r}")
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
        """The indexes of the shards not done yet, in order.

        A shard marked done whose reports are no longer all in Redis (evicted by a
        ``maxmemory-policy`` other than ``noeviction``, deleted by hand) is pending again, so
        the next enqueue runs it and the job can still finish.
        """
        plan = await self.load_plan()
        done = await self._store.done()
        if done:
            owners = [index for index, shard in enumerate(plan.shards) for _ in shard]
            order = [account for shard in plan.shards for account in shard]
            done -= {owners[position] for position in await self._store.missing(order)}
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
            JobStateError: the job's state in Redis was lost or is not what this SDK wrote;
                the shard is not marked done.
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
            await self._reconcile_and_keep(client, plan.client_id, pending, concurrency)
        started, finished = await self._store.finished(index, accounts)
        stored = await self._store.reports(accounts)
        if len(stored) < len(accounts):  # lost between the check and this read
            raise JobStateError(f"job {self.job_id!r}: shard {index}'s reports left Redis")
        return ReconciliationReport(  # the two stamps may come from two workers' clocks
            plan.client_id, started, max(started, finished), tuple(stored[a] for a in accounts)
        )

    async def _reconcile_and_keep(
        self, client: Client, client_id: UUID, accounts: list[UUID], concurrency: int
    ) -> None:
        """Reconcile ``accounts``, storing each report as it comes; raise the first failed
        write once every write has ended (the account it lost is then done again)."""
        writes: set[asyncio.Task[None]] = set()
        failed: list[BaseException] = []

        def ended(task: asyncio.Task[None]) -> None:
            writes.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failed.append(task.exception())  # type: ignore[arg-type]

        def keep(report: AccountReport) -> None:
            task = asyncio.ensure_future(self._store.keep(report))
            writes.add(task)
            task.add_done_callback(ended)

        try:
            await reconcile(client, client_id, accounts, concurrency=concurrency,
                            on_account=keep)  # fmt: skip
        finally:
            await asyncio.gather(*writes, return_exceptions=True)
        if failed:
            raise failed[0]

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
            poll: seconds between two looks at the progress (a positive, finite number).
            on_progress: called with the progress after each look.
        """
        if isinstance(poll, bool) or not isinstance(poll, int | float) or not 0 < poll < math.inf:
            raise ValueError(f"poll: must be a positive, finite number of seconds, got {poll!r}")
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
        # Each worker stamps with its own clock: one running behind must not end the run
        # before it started.
        finished = plan.planned_at if updated is None else max(plan.planned_at, updated)
        return ReconciliationReport(
            plan.client_id, plan.planned_at, finished, tuple(stored[a] for a in order)
        )
