"""What a sharded job is made of, free of I/O: its plan, its progress, and a shard's time limit.

A plan cuts a client's accounts into shards once; every worker and every rerun of the same
job reads the same plan back, so "shard 7" always means the same accounts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

import attrs

from .. import _args

__all__ = [
    "REQUESTS_PER_ACCOUNT",
    "JobPlan",
    "JobProgress",
    "JobStateError",
    "check_job_id",
    "check_plan",
    "check_prefix",
    "cut",
    "shard_timeout",
]

REQUESTS_PER_ACCOUNT: Final = 4
"""Requests one small account costs a reconciliation: its batches before and after, and one
page each of credits and debits."""
_LONGEST: Final = 7 * 24 * 3600  # a week: no engine holds a task longer
_PREFIX: Final = re.compile(r"[!-~]{1,100}")
_JOB_ID: Final = re.compile(r"[A-Za-z0-9._:@+=-]{1,200}")


def check_job_id(job_id: object) -> str:
    """``job_id`` if it can name Redis keys and log lines safely; ValueError otherwise."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        shown = repr(job_id)[:60]
        raise ValueError(
            f"job_id: 1 to 200 letters, digits or ._:@+=- (e.g. 'nightly-2026-01-31'), got {shown}"
        )
    return job_id


def check_prefix(prefix: object) -> str:
    """``prefix`` if it can start Redis key names (printable ASCII, no space); ValueError."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(
            "prefix: 1 to 100 printable ASCII characters, no spaces (e.g. 'thoughtcredits:job' "
            f"or '{{jobs}}:job' for one Redis Cluster slot), got {repr(prefix)[:60]}"
        )
    return prefix


class JobStateError(RuntimeError):
    """The job's state in Redis is not what this SDK wrote: a key overwritten or of another
    type, a plan edited or lost while a shard ran. Nothing is merged from it; the message
    names the key and how to recover."""


def check_plan(plan: JobPlan, job_id: str, key: str) -> JobPlan:
    """``plan`` if it can be the plan of ``job_id``; JobStateError otherwise.

    An account in two shards would be reported twice, and would keep the job from ever
    counting as done: such a plan is refused, never merged from.
    """
    if plan.job_id != job_id:
        raise JobStateError(f"{key} holds the plan of job {plan.job_id[:60]!r}, not {job_id!r}")
    accounts = [account for shard in plan.shards for account in shard]
    if len(set(accounts)) != len(accounts) or not all(plan.shards):
        raise JobStateError(
            f"{key} is not a plan this SDK wrote (an account in two shards, or an empty "
            "shard): delete the job's keys and plan it again"
        )
    return plan


def cut(account_ids: Sequence[UUID], shard_size: int) -> tuple[tuple[UUID, ...], ...]:
    """The accounts in order, ``shard_size`` to a shard (the last may be smaller)."""
    _args.integer("shard_size", shard_size, minimum=1)
    return tuple(
        tuple(account_ids[i : i + shard_size]) for i in range(0, len(account_ids), shard_size)
    )


def shard_timeout(
    shard_size: int,
    per_minute: float,
    *,
    workers: int = 1,
    requests_per_account: float = REQUESTS_PER_ACCOUNT,
    margin: float = 3.0,
    minimum: float = 30.0,
) -> float:
    """Seconds a shard may run: ``margin`` times how long it takes at its share of the quota.

    ``workers`` processes, each running one shard at a time, share ``per_minute`` requests a
    minute, so a shard of ``shard_size`` accounts takes about ``shard_size *
    requests_per_account * workers * 60 / per_minute`` seconds. A killed worker's shard runs
    again only once this limit has passed (arq), so keep shards small enough that it stays
    short. Never below ``minimum``.

    Raises:
        ValueError: a count below 1, a number that is not finite or not positive, or a limit
            over a week (an engine would never retry such a shard).
    """
    _args.integer("shard_size", shard_size, minimum=1)
    _args.integer("workers", workers, minimum=1)
    numbers = (
        ("per_minute", per_minute), ("margin", margin),
        ("requests_per_account", requests_per_account), ("minimum", minimum),
    )  # fmt: skip
    for name, value in numbers:
        wanted, zero = ("a number of at least 0", True) if name == "minimum" else (
            "a positive number", False)  # fmt: skip
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not (value >= 0 if zero else value > 0)
        ):
            raise ValueError(f"{name}: must be {wanted}, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name}: must be finite, got {value!r}")
    timeout = max(minimum, margin * shard_size * requests_per_account * workers * 60.0 / per_minute)
    if not math.isfinite(timeout) or timeout > _LONGEST:
        # An engine takes the limit as whole seconds; an endless one never retries a shard.
        raise ValueError(
            f"shard_timeout: a shard of {shard_size} accounts at {per_minute:g} requests a "
            f"minute would run for over {_LONGEST:,} s: use smaller shards or check per_minute"
        )
    return timeout


@attrs.frozen
class JobPlan:
    """A job's accounts, cut into shards once and stored; every run reads the same plan.

    Attributes:
        job_id: the job's name.
        client_id: the client whose accounts are reconciled.
        shards: each shard's accounts, in order.
        planned_at: when the plan was made (the merged report starts then).
    """

    job_id: str
    client_id: UUID
    shards: tuple[tuple[UUID, ...], ...]
    planned_at: datetime

    @property
    def accounts(self) -> int:
        """How many accounts the job covers."""
        return sum(len(shard) for shard in self.shards)


@attrs.frozen
class JobProgress:
    """How far a sharded job has got, as every worker sees it.

    Attributes:
        job_id: the job's name.
        client_id: the client whose accounts are reconciled.
        shards: how many shards the plan has.
        shards_done: shards whose every account is reconciled.
        accounts: how many accounts the plan has.
        accounts_done: accounts reconciled so far (each counted once, whatever reran).
        discrepancies: discrepancies found so far.
        planned_at: when the plan was made.
        updated_at: when an account was last reconciled (None before the first).
    """

    job_id: str
    client_id: UUID
    shards: int
    shards_done: int
    accounts: int
    accounts_done: int
    discrepancies: int
    planned_at: datetime
    updated_at: datetime | None

    @property
    def done(self) -> bool:
        """True once every account of the plan is reconciled."""
        return self.accounts_done >= self.accounts

    @property
    def fraction(self) -> float:
        """Accounts done over accounts planned, from 0.0 to 1.0 (1.0 for an empty plan)."""
        return self.accounts_done / self.accounts if self.accounts else 1.0
