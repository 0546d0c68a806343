"""``thoughtcredits reconcile``: check every credit account of a client; exit 3 on findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .._ratelimit import RateLimit
from .._reconcile import AccountReport, ReconciliationReport, reconcile
from . import _types
from ._context import Env
from ._parser import Subcommands, api_command

__all__ = ["DISCREPANCIES_FOUND", "register"]

DISCREPANCIES_FOUND = 3
"""Exit code when reconciliation finds inconsistencies (1 stays "the command failed")."""


def register(commands: Subcommands) -> None:
    """Add ``reconcile``."""
    parser = api_command(
        commands,
        "reconcile",
        _reconcile,
        help="check a client's credit accounts for ledger inconsistencies",
        description=(
            "List every batch and every credit and debit action of a client's credit accounts, "
            "concurrently within the rate limit, and report each balance-chain break, amount "
            "that differs from its balance change, and batch whose balances contradict its "
            f"ledger. Exits {DISCREPANCIES_FOUND} when anything is found."
        ),
    )
    parser.add_argument("client_id", metavar="CLIENT_ID", type=_types.uuid)
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        type=_types.uuid,
        metavar="ID",
        help="check only this credit account (repeatable; default: every account with a batch)",
    )
    parser.add_argument(
        "--concurrency", type=_types.positive_int, default=8, metavar="N",
        help="accounts scanned at once (default 8)",
    )  # fmt: skip
    parser.add_argument(
        "--rate-limit", type=_types.rate_limit, metavar="PER_MIN[/BURST]",
        help="stay within this request rate, e.g. 120/20 (your plan's quota)",
    )  # fmt: skip
    parser.add_argument(
        "--report", metavar="FILE", help="write the machine-readable report (JSON) to FILE"
    )


async def _reconcile(env: Env) -> int:
    args = env.args
    limit = None if args.rate_limit is None else RateLimit(*args.rate_limit)
    with env.progress("accounts") as progress:

        def done(account: AccountReport) -> None:
            if progress is not None:
                progress.advance(1, total=len(args.accounts) if args.accounts else None)

        async with env.client(rate_limit=limit) as client:
            report = await reconcile(
                client, args.client_id, args.accounts,
                concurrency=args.concurrency, on_account=done,
            )  # fmt: skip
    if args.report:
        _write_report(Path(args.report), report)
    if args.format == "json":
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(summary(report))
    return 0 if report.ok else DISCREPANCIES_FOUND


def _write_report(path: Path, report: ReconciliationReport) -> None:
    # Write then rename, so a reader never sees half a report.
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def summary(report: ReconciliationReport) -> str:
    """The human summary: one line per account, then every discrepancy."""
    lines = [f"reconciled {len(report.accounts)} credit accounts of client {report.client_id}"]
    for account in report.accounts:
        t = account.totals
        status = "ok" if not account.discrepancies else f"{len(account.discrepancies)} FOUND"
        lines.append(
            f"  {account.account_id}  {status:>9}  batches {t.batches}  "
            f"credits {t.credit_actions} (+{t.credited})  debits {t.debit_actions} (-{t.debited})  "
            f"balance {t.current_balance}"
        )
    found = report.discrepancies
    lines.append("no discrepancies" if not found else f"{len(found)} discrepancies:")
    lines.extend(f"  [{d.kind}] {d.message}" for d in found)
    return "\n".join(lines) + "\n"
