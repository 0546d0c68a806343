"""``thoughtcredits reconcile``: check every credit account of a client.

Exit 3 when a discrepancy is found; exit 4 when none is, but an account kept changing while
it was read, so it could not be verified (the report says which; run it again later).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import TextIO
from uuid import UUID

import attrs

from ..._serde.exact_json import format_decimal
from ...reconcile import AccountReport, ReconciliationReport, reconcile
from .. import argtypes
from ..context import Env
from ..exports.tempfiles import write_atomically
from ..options import add_output_options, add_progress
from ..output.formats import CsvWriter, columns_of
from ..output.safe import safe
from ..parser import CLIENT_HELP, Subcommands, add_rate_limit, api_command, rate_limit

__all__ = ["DISCREPANCIES_FOUND", "NOT_VERIFIED", "exit_code", "plural", "register", "summary"]

DISCREPANCIES_FOUND = 3
"""Exit code when reconciliation finds inconsistencies (1 stays "the command failed")."""
NOT_VERIFIED = 4
"""Exit code when nothing inconsistent was found, but an account changed during the scan on
every read, so it was not verified: reconcile it again when the ledger is quieter."""
_CHANGED = "changed_during_scan"


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
            "that differs from its balance change, batch whose balances contradict its ledger, "
            f"and row listed twice. Exits {DISCREPANCIES_FOUND} when anything is found, "
            f"{NOT_VERIFIED} when nothing is but an account kept changing while it was read (so "
            "was not verified)."
        ),
    )
    parser.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid, help=CLIENT_HELP)
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        type=argtypes.uuid,
        metavar="ID",
        help="check only this credit account (repeatable; default: every account with a batch)",
    )
    parser.add_argument(
        "--concurrency", type=argtypes.positive_int, default=8, metavar="N",
        help="accounts scanned at once (default 8)",
    )  # fmt: skip
    add_rate_limit(parser)
    parser.add_argument(
        "--report", metavar="FILE", help="write the machine-readable report (JSON) to FILE"
    )
    add_progress(parser, parser)
    add_output_options(
        parser, formats=("text", "json", "jsonl", "csv"), output=False, columns=False, wide=False
    )


async def _reconcile(env: Env) -> int:
    args = env.args
    checked = 0
    # The summary is printed after the display has ended: they never share the screen.
    with env.progress("reconcile", stdout_used=False, unit="accounts") as progress:

        def done(account: AccountReport) -> None:
            nonlocal checked
            checked += 1
            if progress is not None:
                progress.update(checked, total=len(args.accounts) if args.accounts else None)

        async with env.client(rate_limit=rate_limit(args)) as client:
            report = await reconcile(
                client, args.client_id, args.accounts,
                concurrency=args.concurrency, on_account=done,
            )  # fmt: skip
    if not report.accounts:
        # A mistyped client id lists no batches: "no discrepancies" alone would pass it.
        # One line under 80 columns: the summary below names the client.
        env.note("note: the client has no credit batches, so nothing was checked: is the id right?")
    if args.report:
        write_atomically(Path(args.report), report.to_json() + b"\n")
    if args.format in ("json", "jsonl"):
        sys.stdout.write(report.to_json().decode() + "\n")
    elif args.format == "csv":
        write_csv(report, sys.stdout, args.csv_dialect or "rfc4180")
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        sys.stdout.write(summary(report, width))
    return exit_code(report)


def exit_code(report: ReconciliationReport) -> int:
    """0 when every account was verified consistent; else :data:`DISCREPANCIES_FOUND` when
    anything was found, else :data:`NOT_VERIFIED` (an account changed during the scan)."""
    if report.discrepancies:
        return DISCREPANCIES_FOUND
    return NOT_VERIFIED if report.changed_during_scan else 0


def _status(account: AccountReport) -> str:
    """``ok``, ``discrepancies`` or ``changed_during_scan`` (nothing could be proven)."""
    if account.changed_during_scan:
        return _CHANGED
    return "discrepancies" if account.discrepancies else "ok"


@attrs.frozen
class _Row:
    """One account of the CSV report (written with the listings' CSV writer)."""

    account_id: UUID
    status: str
    batches: int
    credit_actions: int
    credited: Decimal
    debit_actions: int
    debited: Decimal
    current_balance: Decimal
    discrepancies: str
    """Each discrepancy as ``[kind] message``, one a line."""


def write_csv(report: ReconciliationReport, stream: TextIO, dialect: str) -> None:
    """The report as CSV: one row per account, its ``status`` and its discrepancies.

    Discrepancy messages quote server values: the CSV writer defuses spreadsheet formulas.
    """
    writer = CsvWriter(stream, columns_of(_Row), dialect=dialect, terminal=stream.isatty())
    for account in report.accounts:
        t = account.totals
        found = "\n".join(f"[{d.kind}] {d.message}" for d in account.discrepancies)
        writer.write(
            _Row(
                account.account_id, _status(account), t.batches, t.credit_actions, t.credited,
                t.debit_actions, t.debited, t.current_balance, found,
            )
        )  # fmt: skip
    writer.close()


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 credit account``, ``2 credit accounts``, ``0 discrepancies``."""
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"


def _money(amount: Decimal) -> str:
    """An exact amount with thousands separators, as counts have: ``12,345.5``."""
    return f"{Decimal(format_decimal(amount)):,f}"


def _moved(sign: str, amount: Decimal) -> str:
    # No "(-0)": an account with no debits says only how many there were.
    return "" if amount == 0 else f" ({sign}{_money(amount)})"


def _fold(parts: list[str], width: int | None, indent: int) -> list[str]:
    """``parts`` joined by two spaces; on a terminal, broken between parts to fit ``width``.

    A part (a count, an amount, an id) is never split across lines.
    """
    if width is None:
        return ["  ".join(parts)]
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += "  " + part
        else:
            lines.append(" " * indent + part)
    return lines


def summary(report: ReconciliationReport, width: int | None = None) -> str:
    """The human summary: one line per account, then every discrepancy.

    Args:
        report: the reconciliation's report.
        width: the terminal's width: an account's line is broken between its parts to fit,
            never inside a number. None (a file or a pipe): one line per account.
    """
    accounts = plural(len(report.accounts), "credit account")
    lines = [f"reconciled {accounts} of client {report.client_id}"]
    for account in report.accounts:
        t = account.totals
        shown = {"ok": "ok", _CHANGED: "CHANGED"}.get(
            _status(account), f"{len(account.discrepancies)} FOUND"
        )
        parts = [
            f"  {account.account_id}  {shown:>9}",
            plural(t.batches, "batch", "batches"),
            f"{plural(t.credit_actions, 'credit')}{_moved('+', t.credited)}",
            f"{plural(t.debit_actions, 'debit')}{_moved('-', t.debited)}",
            f"balance {_money(t.current_balance)}",
        ]
        lines.extend(_fold(parts, width, indent=6))
    found = report.discrepancies
    changed = len(report.changed_during_scan)
    if found:
        lines.append(plural(len(found), "discrepancy", "discrepancies") + ":")
    elif not changed:
        lines.append("no discrepancies")
    elif changed == len(report.accounts):
        lines.append("no credit account could be verified")
    else:
        verified = plural(len(report.accounts) - changed, "verified credit account")
        lines.append(f"no discrepancies in {verified}")
    # Messages quote server-supplied values: neutralize control characters for the terminal.
    lines.extend(_wrapped(f"  [{d.kind}] {safe(d.message)}", width, "    ") for d in found)
    if changed:
        one = changed == 1
        lines.append(
            _wrapped(
                f"{plural(changed, 'credit account')} kept changing while "
                f"{'it was' if one else 'they were'} read (CHANGED above), so "
                f"{'it was' if one else 'they were'} not verified: run reconcile again when "
                "the ledger is quieter",
                width,
            )
        )
    return "\n".join(lines) + "\n"


def _wrapped(text: str, width: int | None, indent: str = "") -> str:
    if width is None:
        return text
    return "\n".join(
        textwrap.wrap(
            text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
        )
    )
