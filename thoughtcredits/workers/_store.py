"""``JobStore``: where a sharded job's state lives in Redis, and every read and write of it.

Keys, all under ``{prefix}:{job_id}:`` and expiring together ``ttl`` after the last write:

- ``plan``: the plan, JSON, written once (``SET NX``): every run of the job reads it back, so
  a rerun makes no listing request to find the accounts again;
- ``accounts``: account id -> that account's report (JSON). An account is written once, as
  soon as it is reconciled: a shard that is killed or times out keeps the accounts it
  finished, and its next run does only the rest;
- ``done``: shard index -> when its last account was stored; ``started``: shard index ->
  when it first started; ``stats``: discrepancies found so far and when an account was last
  stored; ``runs``: how many times the job was enqueued.

What is read back is checked, never trusted: a value that is not what this SDK wrote (edited
by hand, of another type, under another account's id) is a :class:`JobStateError`, and a
shard is marked done only if the plan it ran is still the stored one and every one of its
accounts is stored, so a lost write or a Redis that lost its data cannot hide an account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from uuid import UUID

from .._exceptions import ResponseValidationError
from .._serde.converter import structure, to_json
from .._serde.exact_json import format_datetime, loads_exact
from ..reconcile import AccountReport
from ._plan import JobPlan, JobStateError, check_plan

__all__ = ["JobStore"]

T = TypeVar("T")

_REFRESH: Final = "for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[1]) end\n"
# KEYS: plan accounts done started stats runs. ARGV: ttl, account, report, discrepancies, now.
# HINCRBY first: a stats hash that is not numbers fails the script before anything is written.
_KEEP: Final = (
    """
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then
  redis.call('HINCRBY', KEYS[5], 'discrepancies', ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
end
redis.call('HSET', KEYS[5], 'updatedAt', ARGV[5])
"""
    + _REFRESH
)
# ARGV: ttl, index, now, the plan's SHA-1, the shard's accounts...
_FINISH: Final = (
    """
local plan = redis.call('GET', KEYS[1])
if not plan or redis.sha1hex(plan) ~= ARGV[4] then return {'plan'} end
local missing = 0
for i = 5, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then missing = missing + 1 end
end
if missing > 0 then return {'missing', missing} end
redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[3])
redis.call('HSETNX', KEYS[4], ARGV[2], ARGV[3])
"""
    + _REFRESH
    + "return {'done', redis.call('HGET', KEYS[4], ARGV[2]), redis.call('HGET', KEYS[3], ARGV[2])}"
)

# KEYS: accounts. ARGV: account ids. The 0-based positions of those not stored.
_MISSING: Final = """
local missing = {}
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then missing[#missing + 1] = i - 1 end
end
return missing
"""


def _text(value: bytes | str) -> str:
    # A borrowed client may decode responses already (decode_responses=True).
    return value.decode() if isinstance(value, bytes) else value


def _now() -> str:
    return format_datetime(datetime.now(UTC))


class JobStore:
    """One job's keys on one Redis connection (``redis.asyncio.Redis``, any decoding)."""

    def __init__(self, redis: Any, prefix: str, job_id: str, ttl_ms: int) -> None:
        self.redis = redis
        self._job_id = job_id
        self._ttl_ms = ttl_ms
        base = f"{prefix}:{job_id}"
        self._keys = [f"{base}:{name}" for name in ("plan", "accounts", "done", "started",
                                                     "stats", "runs")]  # fmt: skip
        self._plan, self._accounts, self._done, self._started, self._stats, self._runs = self._keys
        self._keep = redis.register_script(_KEEP)
        self._finish = redis.register_script(_FINISH)
        self._missing = redis.register_script(_MISSING)
        self._digest = ""  # the SHA-1 of the plan as read, checked when a shard is marked done

    def _read(self, key: str, raw: bytes | str, cls: type[T], what: str) -> T:
        try:
            return structure(loads_exact(raw, unique_keys=True), cls)
        except (ValueError, ResponseValidationError):
            raise JobStateError(
                f"{key} holds {what} that this SDK did not write ({len(raw):,} bytes, not "
                "readable): delete it (or the job's keys) and run the job again"
            ) from None

    async def plan(self) -> JobPlan | None:
        """The stored plan, if any."""
        raw = await self.redis.get(self._plan)
        if raw is None:
            return None
        plan = check_plan(self._read(self._plan, raw, JobPlan, "a plan"), self._job_id, self._plan)
        encoded = raw.encode() if isinstance(raw, str) else raw
        self._digest = hashlib.sha1(encoded, usedforsecurity=False).hexdigest()
        return plan

    async def offer_plan(self, plan: JobPlan) -> None:
        """Store ``plan`` unless a plan is stored already (the first one stays)."""
        await self.redis.set(self._plan, to_json(plan), nx=True, px=self._ttl_ms)

    async def keep(self, report: AccountReport) -> None:
        """Store an account's report, unless it is stored already."""
        args: list[bytes | str | int] = [
            self._ttl_ms, str(report.account_id), to_json(report), len(report.discrepancies),
            _now(),
        ]  # fmt: skip
        await self._keep(keys=self._keys, args=args)

    async def reports(self, accounts: Sequence[UUID]) -> dict[UUID, AccountReport]:
        """The stored reports of ``accounts`` (those not stored are left out)."""
        if not accounts:
            return {}
        raw = await self.redis.hmget(self._accounts, [str(a) for a in accounts])
        found: dict[UUID, AccountReport] = {}
        for account, value in zip(accounts, raw, strict=True):
            if value is None:
                continue
            where = f"{self._accounts} field {account}"
            report = self._read(where, value, AccountReport, "a report")
            if report.account_id != account:
                # Taken as is, one account would be reported twice and this one not at all.
                raise JobStateError(
                    f"{where} holds the report of account {report.account_id}: delete the "
                    "field (HDEL) and run its shard again"
                )
            found[account] = report
        return found

    async def missing(self, accounts: Sequence[UUID]) -> list[int]:
        """The positions in ``accounts`` of those whose report is not stored (one round trip,
        no report sent back)."""
        if not accounts:
            return []
        positions = await self._missing(keys=[self._accounts], args=[str(a) for a in accounts])
        return [int(position) for position in positions]

    async def started(self, index: int) -> None:
        """Note when shard ``index`` first started (later starts keep the first time)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(self._started, str(index), _now())
            pipe.pexpire(self._started, self._ttl_ms)
            await pipe.execute()

    async def finished(self, index: int, accounts: Sequence[UUID]) -> tuple[datetime, datetime]:
        """Mark shard ``index`` done; when it first started and when it was first done.

        Raises:
            JobStateError: the stored plan is not the one read (lost or replaced while the
                shard ran), or some of ``accounts`` are not stored: the shard is not marked.
        """
        args = [self._ttl_ms, index, _now(), self._digest, *map(str, accounts)]
        answer = [_text(part) for part in await self._finish(keys=self._keys, args=args)]
        if answer[0] == "plan":
            raise JobStateError(
                f"job {self._job_id!r}: its plan ({self._plan}) was lost or replaced while "
                f"shard {index} ran (did Redis restart, or the job expire?): enqueue the job "
                "again; the shards marked done stay done"
            )
        if answer[0] == "missing":
            raise JobStateError(
                f"job {self._job_id!r}: shard {index}: {answer[1]} of {len(accounts)} accounts' "
                "reports are not in Redis (lost, or never stored): run the shard again"
            )
        return self._when(self._started, answer[1]), self._when(self._done, answer[2])

    def _when(self, key: str, value: bytes | str | None) -> datetime:
        try:
            return datetime.fromisoformat(_text(value or "").replace("Z", "+00:00"))
        except ValueError:
            raise JobStateError(f"{key} holds a time this SDK did not write") from None

    async def done(self) -> set[int]:
        """The indexes of the shards done."""
        indexes = [_text(index) for index in await self.redis.hkeys(self._done)]
        if not all(index.isdigit() and index.isascii() for index in indexes):
            raise JobStateError(f"{self._done} holds a field that is not a shard index")
        return set(map(int, indexes))

    async def counts(self) -> tuple[int, int, int, datetime | None]:
        """Accounts done, shards done, discrepancies found, when an account was last stored.

        Raises:
            JobStateError: the plan is gone (Redis lost its data, or the job expired): the
                counts would start again from 0, and a wait on them would never end.
        """
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(self._plan)
            pipe.hlen(self._accounts)
            pipe.hlen(self._done)
            pipe.hmget(self._stats, ["discrepancies", "updatedAt"])
            planned, accounts, shards, (found, updated) = await pipe.execute()
        if not planned:
            raise JobStateError(
                f"job {self._job_id!r}: its plan ({self._plan}) is gone from Redis (did it "
                "restart without persistence, or the job expire?): enqueue the job again"
            )
        found = _text(found or "0")
        if not (found.isdigit() and found.isascii() and len(found) < 20):
            raise JobStateError(f"{self._stats} field discrepancies is not a count")
        when = None if updated is None else self._when(self._stats, updated)
        return accounts, shards, int(found), when

    async def new_run(self) -> int:
        """A number no earlier run of the job got (1, 2, ...)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._runs)
            pipe.pexpire(self._runs, self._ttl_ms)
            run, _ = await pipe.execute()
        return int(run)
