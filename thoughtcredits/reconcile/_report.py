"""The reports of :func:`reconcile`: one per account, one per run; to JSON, back, and merged.

A sharded job (``thoughtcredits.workers``) reconciles its accounts in many processes; each
shard's report travels as JSON and :meth:`ReconciliationReport.merge` joins them into the
report one process would have written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import attrs

from .._exceptions import ResponseValidationError
from .._serde.converter import structure, to_json
from .._serde.exact_json import loads_exact
from ._checks import AccountTotals, Discrepancy

__all__ = ["AccountReport", "ReconciliationReport"]


@attrs.frozen
class AccountReport:
    """The result for one credit account.

    Attributes:
        account_id: the credit account.
        totals: its batches' and actions' counts and sums, as read.
        discrepancies: every inconsistency found in one consistent read of the account.
        changed_during_scan: True when the account's batches moved while its actions were
            being listed, on every read: nothing could be proven either way, so
            ``discrepancies`` is empty and ``totals`` are those of the last read. Reconcile
            it again when the ledger is quieter.
    """

    account_id: UUID
    totals: AccountTotals
    discrepancies: tuple[Discrepancy, ...]
    changed_during_scan: bool = False


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
    def changed_during_scan(self) -> tuple[UUID, ...]:
        """The accounts that kept changing while they were read, so were not verified."""
        return tuple(a.account_id for a in self.accounts if a.changed_during_scan)

    @property
    def ok(self) -> bool:
        """True when every account was verified and nothing inconsistent was found.

        An account that kept changing during the scan was not verified, so it makes
        ``ok`` False without adding a discrepancy (see :attr:`changed_during_scan`).
        """
        return not any(a.discrepancies or a.changed_during_scan for a in self.accounts)

    def to_json(self) -> bytes:
        """The report as JSON in the SDK's one convention (:func:`thoughtcredits.to_json`).

        camelCase keys, amounts as exact JSON numbers, timestamps in UTC with ``Z``.
        """
        return to_json(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> ReconciliationReport:
        """Read back a report written by :meth:`to_json`, amounts exact.

        Raises:
            ValueError: not JSON, a key twice in one object, not a report (the message names
                the bad field), or an account reported twice.
        """
        try:
            decoded = loads_exact(data, unique_keys=True)
        except ValueError as exc:
            raise ValueError(f"not a reconciliation report: not JSON ({exc})") from None
        try:
            report = structure(decoded, cls)
        except ResponseValidationError as exc:
            raise ValueError(f"not a reconciliation report: {exc.message}") from None
        twice = _repeated(account.account_id for account in report.accounts)
        if twice is not None:
            raise ValueError(f"not a reconciliation report: account {twice} is reported twice")
        return report

    @classmethod
    def merge(cls, reports: Iterable[ReconciliationReport]) -> ReconciliationReport:
        """One report from the reports of disjoint sets of accounts (e.g. a job's shards).

        Accounts keep the order of ``reports``; the run starts with the earliest start and
        finishes with the latest finish.

        Raises:
            ValueError: no reports, reports of different clients, or an account reported
                twice (its two reports could disagree, and neither may be dropped silently).
        """
        parts = list(reports)
        if not parts:
            raise ValueError("merge: no reports to merge")
        clients = {part.client_id for part in parts}
        if len(clients) > 1:
            raise ValueError(f"merge: reports of {len(clients)} different clients")
        accounts = tuple(account for part in parts for account in part.accounts)
        twice = _repeated(account.account_id for account in accounts)
        if twice is not None:
            raise ValueError(f"merge: account {twice} is reported twice")
        return cls(
            client_id=parts[0].client_id,
            started_at=min(part.started_at for part in parts),
            finished_at=max(part.finished_at for part in parts),
            accounts=accounts,
        )


def _repeated(account_ids: Iterable[UUID]) -> UUID | None:
    """The first account id seen twice, if any."""
    seen: set[UUID] = set()
    for account_id in account_ids:
        if account_id in seen:
            return account_id
        seen.add(account_id)
    return None
