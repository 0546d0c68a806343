"""``JobStore``: where a sharded job's state lives in Redis, and every read and write of it.

Keys, all under ``{prefix}:{job_id}:`` and expiring ``ttl`` after the last write:

- ``plan``: the plan, JSON, written once (``SET NX``): every run of the job reads it back, so
  a rerun makes no listing request to find the accounts again;
- ``accounts``: account id -> that account's report (JSON). An account is written once
  (``HSETNX``), as soon as it is reconciled: a shard that is killed or times out keeps the
  accounts it finished, and its next run does only the rest;
- ``done``: shard index -> when its last account was stored; ``started``: shard index ->
  when it first started; ``stats``: discrepancies found so far and when an account was last
  stored; ``runs``: how many times the job was enqueued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from .._serde.converter import structure, to_json
from .._serde.exact_json import format_datetime, loads_exact
from ..reconcile import AccountReport
from ._plan import JobPlan

__all__ = ["JobStore"]

_KEEP: Final = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'discrepancies', ARGV[3])
end
redis.call('HSET', KEYS[2], 'updatedAt', ARGV[4])
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[5]) end
return 1
"""


def _text(value: bytes | str) -> str:
    # A borrowed client may decode responses already (decode_responses=True).
    return value.decode() if isinstance(value, bytes) else value


def _when(value: bytes | str) -> datetime:
    return datetime.fromisoformat(_text(value).replace("Z", "+00:00"))


def _now() -> str:
    return format_datetime(datetime.now(UTC))


class JobStore:
    """One job's keys on one Redis connection (``redis.asyncio.Redis``, any decoding)."""

    def __init__(self, redis: Any, prefix: str, job_id: str, ttl_ms: int) -> None:
        self.redis = redis
        self._ttl_ms = ttl_ms
        base = f"{prefix}:{job_id}"
        self._plan, self._accounts = f"{base}:plan", f"{base}:accounts"
        self._done, self._started = f"{base}:done", f"{base}:started"
        self._stats, self._runs = f"{base}:stats", f"{base}:runs"
        self._keep = redis.register_script(_KEEP)

    async def plan(self) -> JobPlan | None:
        """The stored plan, if any."""
        raw = await self.redis.get(self._plan)
        return None if raw is None else structure(loads_exact(raw), JobPlan)

    async def offer_plan(self, plan: JobPlan) -> None:
        """Store ``plan`` unless a plan is stored already (the first one stays)."""
        await self.redis.set(self._plan, to_json(plan), nx=True, px=self._ttl_ms)

    async def keep(self, report: AccountReport) -> None:
        """Store an account's report, unless it is stored already."""
        args: list[bytes | str | int] = [
            str(report.account_id), to_json(report), len(report.discrepancies), _now(),
            self._ttl_ms,
        ]  # fmt: skip
        await self._keep(keys=[self._accounts, self._stats], args=args)

    async def reports(self, accounts: Sequence[UUID]) -> dict[UUID, AccountReport]:
        """The stored reports of ``accounts`` (those not stored are left out)."""
        if not accounts:
            return {}
        raw = await self.redis.hmget(self._accounts, [str(a) for a in accounts])
        return {
            account: structure(loads_exact(value), AccountReport)
            for account, value in zip(accounts, raw, strict=True)
            if value is not None
        }

    async def started(self, index: int) -> None:
        """Note when shard ``index`` first started (later starts keep the first time)."""
        await self.redis.hsetnx(self._started, str(index), _now())

    async def finished(self, index: int) -> tuple[datetime, datetime]:
        """Mark shard ``index`` done; when it first started and when it was first done."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(self._done, str(index), _now())
            pipe.hget(self._done, str(index))
            pipe.hget(self._started, str(index))
            for key in (self._done, self._started, self._plan):
                pipe.pexpire(key, self._ttl_ms)
            _, done, started, *_ = await pipe.execute()
        return _when(started), _when(done)

    async def done(self) -> set[int]:
        """The indexes of the shards done."""
        return {int(_text(index)) for index in await self.redis.hkeys(self._done)}

    async def counts(self) -> tuple[int, int, int, datetime | None]:
        """Accounts done, shards done, discrepancies found, when an account was last stored."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hlen(self._accounts)
            pipe.hlen(self._done)
            pipe.hmget(self._stats, ["discrepancies", "updatedAt"])
            accounts, shards, (found, updated) = await pipe.execute()
        return accounts, shards, int(found or 0), None if updated is None else _when(updated)

    async def new_run(self) -> int:
        """A number no earlier run of the job got (1, 2, ...)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._runs)
            pipe.pexpire(self._runs, self._ttl_ms)
            run, _ = await pipe.execute()
        return int(run)
