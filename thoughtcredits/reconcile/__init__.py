"""thoughtcredits.reconcile: check a client's credit accounts for ledger inconsistencies.

:func:`reconcile` lists every batch and every credit and debit action of a client's credit
accounts through your client (so its rate limit and retries apply) and reports each
:class:`Discrepancy`::

    import thoughtcredits as tc
    from thoughtcredits.reconcile import reconcile

    async with tc.Client() as client:
        report = await reconcile(client, client_id, concurrency=8)
    for problem in report.discrepancies:
        print(problem.kind, problem.message)
    print(tc.to_json(report).decode())  # camelCase, exact numbers, Z timestamps
"""

from __future__ import annotations

from ._checks import AccountTotals, Discrepancy, DiscrepancyKind
from ._report import AccountReport, ReconciliationReport
from ._run import reconcile

__all__ = [
    "AccountReport",
    "AccountTotals",
    "Discrepancy",
    "DiscrepancyKind",
    "ReconciliationReport",
    "reconcile",
]
