"""Nightly reconciliation: check every credit account of a client and alert on discrepancies.

Run it from cron (or any scheduler) with the tenant's credentials in the environment::

    export THOUGHTCREDITS_BASE_URL=https://acme.thoughtindustries.com
    export THOUGHTCREDITS_API_KEY=...
    python examples/nightly_reconciliation.py --client-id CLIENT_ID --report report.json

It prints one line per account as it is checked, writes the full report as JSON, and exits
0 when every account is consistent, 3 when a discrepancy was found, 4 when none was but an
account kept changing while it was read (so was not verified: run it again later) and 1 when
the API failed (the exit codes of ``thoughtcredits reconcile``, the same job on the command
line).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from pathlib import Path

import thoughtcredits as tc
from thoughtcredits.reconcile import AccountReport, ReconciliationReport, reconcile


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--report", type=Path, help="write the full report here as JSON")
    parser.add_argument("--concurrency", type=int, default=8, help="accounts checked at once")
    parser.add_argument(
        "--per-minute", type=int, help="client-side request rate (default: only obey 429s)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    return parser.parse_args(argv)


def print_progress(account: AccountReport) -> None:
    """One line per account, as soon as it is done."""
    status = "ok" if not account.discrepancies else f"{len(account.discrepancies)} PROBLEM(S)"
    if account.changed_during_scan:
        status = "CHANGED during the scan: not verified"
    totals = account.totals
    print(
        f"{account.account_id}  batches={totals.batches} credits={totals.credit_actions} "
        f"debits={totals.debit_actions} balance={totals.current_balance}  {status}",
        file=sys.stderr,
    )


def write_report(path: Path, report: ReconciliationReport) -> None:
    """Write the report atomically: a reader never sees half a file.

    The JSON is ``tc.to_json``'s: camelCase keys, exact numbers, ``Z`` timestamps.
    """
    # A new, uniquely named file (created exclusively, so a planted symlink is not followed).
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(report.to_json() + b"\n")
    os.replace(f.name, path)


async def main(argv: list[str] | None = None) -> int:
    """Reconcile every account of the client; return the exit code."""
    args = parse_args(argv)
    # Retries and rate-limit pauses are logged at INFO on the "thoughtcredits" logger.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    rate_limit = tc.RateLimit(per_minute=args.per_minute) if args.per_minute else None
    async with tc.Client(rate_limit=rate_limit) as client:
        try:
            report = await reconcile(
                client, args.client_id, concurrency=args.concurrency, on_account=print_progress
            )
        except tc.ThoughtCreditsError as error:
            print(f"reconciliation failed: {error}", file=sys.stderr)
            return 1
    if args.report is not None:
        write_report(args.report, report)
    for problem in report.discrepancies:
        print(f"{problem.kind}: account {problem.account_id}: {problem.message}")
    print(
        f"{len(report.accounts)} accounts checked, {len(report.discrepancies)} discrepancies, "
        f"{len(report.changed_during_scan)} not verified (changed during the scan) "
        f"({client.stats.requests} requests, {client.stats.retries} retries)"
    )
    if report.discrepancies:
        return 3
    return 4 if report.changed_during_scan else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
