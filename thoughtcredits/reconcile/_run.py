"""``reconcile()``: scan many credit accounts concurrently and report every inconsistency.

The checks themselves are pure (``_checks``); this module fetches each account's
batches and its credit and debit actions, streams them through the checks, and builds a
report. Every request goes through the client, so its rate limit and retries apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

import attrs

from .. import _args
from .._args import Id
from .._models import CreditBatch
from .._serde.converter import to_json
from ._checks import AccountCheck, AccountTotals, Discrepancy

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["AccountReport", "ReconciliationReport", "reconcile"]

ACTION_TYPES = ("credit", "debit")

T = TypeVar("T")


@attrs.frozen
class AccountReport:
    """The result for one credit account."""

    account_id: UUID
    totals: AccountTotals
    discrepancies: tuple[Discrepancy, ...]


@attrs.frozen
class ReconciliationReport:
    """The result of :func:`reconcile`: per-account totals and every discrepancy found."""

    client_id: UUID
    started_at: datetime
    finished_at: datetime
    accounts: tuple[AccountReport, ...]

    @property
    def discrepancies(self) -> tuple[Discrepancy, ...]:
        """Every discrepancy, account by account."""
        return tuple(d for account in self.accounts for d in account.discrepancies)

    @property
    def ok(self) -> bool:
        """True when nothing inconsistent was found."""
        return not any(account.discrepancies for account in self.accounts)

    def to_json(self) -> bytes:
        """The report as JSON in the SDK's one convention (:func:`thoughtcredits.to_json`).

        camelCase keys, amounts as exact JSON numbers, timestamps in UTC with ``Z``.
        """
        return to_json(self)


async def _all(*coroutines: Coroutine[object, object, T]) -> tuple[T, ...]:
    """Run together; on failure cancel the rest and raise the first error itself.

    A TaskGroup raises an ExceptionGroup; users should get the SDK's typed error.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as errors:
        first: BaseException = errors
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return tuple(task.result() for task in tasks)


async def _account_ids(client: Client, client_id: str) -> list[UUID]:
    # No endpoint lists credit accounts; every account has at least its first batch.
    seen: dict[UUID, None] = {}
    async for batch in client.credit_batches.list(client_id):
        seen.setdefault(batch.credit_account_id)
    return list(seen)


async def _check_one(client: Client, client_id: str, account_id: UUID) -> AccountReport:
    check = AccountCheck(account_id)

    async def batches() -> list[CreditBatch]:
        listing = client.credit_batches.list(client_id, credit_account_id=account_id)
        return [batch async for batch in listing]

    async def actions(action_type: str) -> None:
        async for action in client.credit_actions.list(
            client_id, account_id, action_type=action_type
        ):
            check.add(action)

    found, *_ = await _all(batches(), *(actions(kind) for kind in ACTION_TYPES))
    account_totals = check.finish(found)  # type: ignore[arg-type]
    return AccountReport(account_id, account_totals, tuple(check.discrepancies))


async def reconcile(
    client: Client,
    client_id: Id,
    account_ids: Iterable[Id] | None = None,
    *,
    concurrency: int = 8,
    on_account: Callable[[AccountReport], None] | None = None,
) -> ReconciliationReport:
    """Check every credit account of a client and report every provable inconsistency.

    Accounts are scanned ``concurrency`` at a time; within the client's rate limit each
    account's batches, credit actions and debit actions are listed at once. Checks: breaks
    in each source's and target's balance chain, amounts that differ from their balance
    change, and batches whose balances contradict their ledger (see ``Discrepancy.kind``).

    Args:
        client: the client to use (its rate limit and retries apply).
        client_id: the client whose accounts to check.
        account_ids: the accounts to check; by default every account that has a batch.
        concurrency: how many accounts to scan at once.
        on_account: called with each account's report as soon as it is done (progress).

    Returns:
        The report, with accounts in the order given (or discovered).
    """
    cid = _args.uuid_arg("client_id", client_id)
    _args.integer("concurrency", concurrency, minimum=1)
    started = datetime.now(UTC)
    if account_ids is None:
        ids = await _account_ids(client, cid)
    else:
        ids = [UUID(_args.uuid_arg("account_ids[]", account)) for account in account_ids]
    limit = asyncio.Semaphore(concurrency)

    async def run(account_id: UUID) -> AccountReport:
        async with limit:
            report = await _check_one(client, cid, account_id)
        if on_account is not None:
            on_account(report)
        return report

    reports = await _all(*(run(account_id) for account_id in ids))
    return ReconciliationReport(
        client_id=UUID(cid), started_at=started, finished_at=datetime.now(UTC), accounts=reports
    )
