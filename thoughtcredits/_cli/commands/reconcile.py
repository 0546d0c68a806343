"""``thoughtcredits reconcile``: check every credit account of a client; exit 3 on findings."""

from __future__ import annotations

import shutil
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

from ..._serde.exact_json import format_decimal
from ...reconcile import AccountReport, ReconciliationReport, reconcile
from .. import argtypes
from ..context import Env
from ..exports.tempfiles import write_atomically
from ..options import add_output_options, add_progress
from ..output.safe import safe
from ..parser import CLIENT_HELP, Subcommands, add_rate_limit, api_command, rate_limit

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
        parser, formats=("text", "json", "jsonl"), output=False, columns=False, wide=False
    )


async def _reconcile(env: Env) -> int:
    args = env.args
    checked = 0
    # The summary is printed after the display has ended: they never share the screen.
    with env.progress("accounts", stdout_used=False) as progress:

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
    if args.report:
        write_atomically(Path(args.report), report.to_json() + b"\n")
    if args.format in ("json", "jsonl"):
        sys.stdout.write(report.to_json().decode() + "\n")
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        sys.stdout.write(summary(report, width))
    return 0 if report.ok else DISCREPANCIES_FOUND


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
        status = "ok" if not account.discrepancies else f"{len(account.discrepancies)} FOUND"
        parts = [
            f"  {account.account_id}  {status:>9}",
            plural(t.batches, "batch", "batches"),
            f"{plural(t.credit_actions, 'credit')}{_moved('+', t.credited)}",
            f"{plural(t.debit_actions, 'debit')}{_moved('-', t.debited)}",
            f"balance {_money(t.current_balance)}",
        ]
        lines.extend(_fold(parts, width, indent=6))
    found = report.discrepancies
    lines.append(
        "no discrepancies"
        if not found
        else plural(len(found), "discrepancy", "discrepancies") + ":"
    )
    # Messages quote server-supplied values: neutralize control characters for the terminal.
    for d in found:
        text = f"  [{d.kind}] {safe(d.message)}"
        if width is None:
            lines.append(text)
        else:
            lines.extend(
                textwrap.wrap(
                    text,
                    width,
                    subsequent_indent="    ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    return "\n".join(lines) + "\n"
