"""``thoughtcredits export CLIENT_ID --to DIR``: a client's whole ledger in two files.

The API cannot list a client's credit accounts, so the accounts are collected from the
client's batches (plus any ``--account``). ``DIR/credit-batches.EXT`` holds every batch;
``DIR/credit-actions.EXT`` every credit and debit action of those accounts, with
``creditAccountId`` and ``actionType`` columns first. Both files are written resumably. The
action listings (two per account) are walked several at once, each request paced by the
client's limiter, and written in order (see :mod:`..exports.walks`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from uuid import UUID

from ..._client import Client
from ..._models import ACTION_TYPES, CreditAction, CreditBatch
from ..._resources.pagination import AsyncPaginator
from .. import argtypes
from ..context import Env
from ..errors import UsageError
from ..exports.checkpoint import Checkpoint, checkpoint_of
from ..options import add_output_options, add_progress
from ..parser import CLIENT_HELP, Subcommands, add_rate_limit, api_command, rate_limit
from .exporting import Source, export_sources, listing_identity

__all__ = ["ACTION_COLUMNS", "register"]

ACTION_COLUMNS = ("creditAccountId", "actionType")
"""The columns ``export`` adds before each action's own."""
WALKS = 8
"""Action listings walked at once by default, when a rate limit paces the client."""
MAX_WALKS = 64
"""The most ``--concurrency`` accepts: each walk may hold a few spool files open."""
_EXPORT_FORMATS = ("jsonl", "json", "csv", "parquet")


def register(commands: Subcommands) -> None:
    """Add ``export``."""
    parser = api_command(
        commands,
        "export",
        _run,
        help="export a client's batches and ledger to DIR, resumably",
        description=(
            "Write DIR/credit-batches.EXT (every batch of the client) and "
            "DIR/credit-actions.EXT (every credit and debit action of the accounts those "
            "batches belong to, plus --account), with creditAccountId and actionType columns. "
            "Several action listings are walked at once, within the rate limit; the file holds "
            "them in order. An interrupted export keeps what it wrote; add --resume to "
            "continue it."
        ),
    )
    parser.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid, help=CLIENT_HELP)
    parser.add_argument("--to", required=True, metavar="DIR", help="the directory to write to")
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        type=argtypes.uuid,
        default=[],
        metavar="ID",
        help="also export this account's actions (repeatable)",
    )
    parser.add_argument(
        "--page-size", type=argtypes.positive_int, metavar="N", help="items per request"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted export in DIR"
    )
    parser.add_argument(
        "--concurrency", type=_walk_count, metavar="N",
        help=f"action listings walked at once (default {WALKS} when a rate limit paces the "
        "client, else 1)",
    )  # fmt: skip
    add_rate_limit(parser)
    add_progress(parser, parser)
    add_output_options(parser, formats=_EXPORT_FORMATS, output=False, columns=False, wide=False)
    parser.set_defaults(max_items=None, cursor=None)


def _walk_count(value: str) -> int:
    count = argtypes.positive_int(value)
    if count > MAX_WALKS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_WALKS}, got {count}")
    return count


async def _run(env: Env) -> int:
    args = env.args
    fmt = args.format or "jsonl"
    if fmt not in _EXPORT_FORMATS:
        raise UsageError(f"export: --format must be one of {', '.join(_EXPORT_FORMATS)}")
    args.format = fmt
    folder = Path(args.to)
    batches_file = folder / f"credit-batches.{fmt}"
    actions_file = folder / f"credit-actions.{fmt}"
    resume = bool(args.resume)
    if resume and not any(checkpoint_of(p).exists() for p in (batches_file, actions_file)):
        raise UsageError(f"nothing to resume in {folder}: no export checkpoint there")
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one local call
    async with env.client(rate_limit=rate_limit(args)) as client:
        with env.progress("export", stdout_used=False):
            accounts, counted = await _batches(env, client, batches_file, resume=resume)
            args.resume = resume and checkpoint_of(actions_file).exists()
            await _actions(env, client, actions_file, accounts, counted)
    env.note(f"exported to {batches_file} and {actions_file}")
    return 0


def _identity(env: Env, file: str) -> dict[str, object]:
    args = env.args
    return listing_identity(
        env, "export", file=file, clientId=args.client_id, accounts=list(args.accounts)
    )


async def _batches(
    env: Env, client: Client, target: Path, *, resume: bool
) -> tuple[list[str], int]:
    """Export the batches (unless a resumed job already has); the account ids and the count."""
    args = env.args
    actions_checkpoint = checkpoint_of(target.with_name(f"credit-actions.{args.format}"))
    if resume and actions_checkpoint.exists():
        # The batches were complete before the actions began; their accounts (and, so the
        # progress counts the whole job, their number) were recorded (the actions export
        # checks the checkpoint belongs to this export before using it).
        kept = Checkpoint.read(actions_checkpoint).position.get("state") or {}
        return list(kept.get("accounts", [])), int(kept.get("batches", 0))
    state: dict[str, Any] = {"accounts": []}
    found = _Accounts(state)
    if resume and not checkpoint_of(target).exists() and target.exists():  # noqa: ASYNC240
        listed = 0
        async for batch in client.credit_batches.list(args.client_id, page_size=args.page_size):
            found.add(batch)
            listed += 1
        return list(state["accounts"]), listed

    def batches(cursor: str | None) -> AsyncPaginator[CreditBatch]:
        return client.credit_batches.list(args.client_id, page_size=args.page_size, cursor=cursor)

    args.resume = resume and checkpoint_of(target).exists()
    written = await export_sources(
        env, target, CreditBatch, [Source(batches)], "export", _identity(env, target.stem),
        state=state, on_item=found.add, totals=False,
    )  # fmt: skip
    return list(state["accounts"]), written


class _Accounts:
    """The accounts of the batches, in order of first appearance, as ``state["accounts"]``.

    A resumed export restores that list before the first batch arrives; the set that
    finds repeats is made from it then (a client may have many thousands of accounts).
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state
        self._seen: set[str] | None = None

    def add(self, batch: CreditBatch) -> None:
        accounts: list[str] = self._state["accounts"]
        if self._seen is None:
            self._seen = set(accounts)
        account = str(batch.credit_account_id)
        if account not in self._seen:
            self._seen.add(account)
            accounts.append(account)


async def _actions(env: Env, client: Client, target: Path, found: list[str], counted: int) -> None:
    args = env.args
    accounts = list(found)
    for account in args.accounts:
        if str(UUID(account)) not in accounts:
            accounts.append(str(UUID(account)))

    walks = _walks(args.concurrency, client)

    def source(account: str, action_type: str) -> Source:
        def open_listing(cursor: str | None) -> AsyncPaginator[CreditAction]:
            # Several walks hide each other's latency: a prefetched page would only be one
            # more request in flight than --concurrency says.
            return client.credit_actions.list(
                args.client_id, account, action_type=action_type,
                page_size=args.page_size, cursor=cursor, prefetch=walks == 1,
            )  # fmt: skip

        return Source(open_listing, {"creditAccountId": account, "actionType": action_type})

    sources = [source(account, kind) for account in accounts for kind in ACTION_TYPES]
    await export_sources(
        env, target, CreditAction, sources, "export", _identity(env, target.stem),
        extra=ACTION_COLUMNS, state={"accounts": accounts, "batches": counted},
        counted=counted, totals=False, walks=walks,
    )  # fmt: skip


def _walks(concurrency: int | None, client: Client) -> int:
    """How many action listings to walk at once.

    Walking several at once fills the quota across the network's latency; the client's
    limiter paces them. A server that sets no quota (no ``X-RateLimit-*`` headers, and no
    ``--rate-limit``) gets one listing at a time, as before: nothing paces more, so the
    count is the user's to choose. By now the batches' answers have taught the client its
    quota.
    """
    if concurrency is not None:
        return int(concurrency)
    return WALKS if client.rate_limit is not None else 1
