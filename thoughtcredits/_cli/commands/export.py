"""``thoughtcredits export CLIENT_ID --to DIR``: a client's whole ledger in two files.

The API cannot list a client's credit accounts, so the accounts are collected from the
client's batches (plus any ``--account``). ``DIR/credit-batches.EXT`` holds every batch;
``DIR/credit-actions.EXT`` every credit and debit action of those accounts, with
``creditAccountId`` and ``actionType`` columns first. Both files are written resumably.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from ..._client import Client
from ..._models import CreditAction, CreditBatch
from ..._resources.pagination import AsyncPaginator
from ...reconcile._run import ACTION_TYPES
from .. import argtypes
from ..context import Env
from ..errors import UsageError
from ..exports.checkpoint import Checkpoint
from ..exports.files import CHECKPOINT_SUFFIX
from ..parser import Subcommands, add_rate_limit, api_command, rate_limit
from .listing import Source, export_sources

__all__ = ["ACTION_COLUMNS", "register"]

ACTION_COLUMNS = ("creditAccountId", "actionType")
"""The columns ``export`` adds before each action's own."""
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
            "An interrupted export keeps what it wrote; add --resume to continue it."
        ),
    )
    parser.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid)
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
    add_rate_limit(parser)
    parser.set_defaults(max_items=None, cursor=None)


def _checkpoint(path: Path) -> Path:
    return path.with_name(path.name + CHECKPOINT_SUFFIX)


async def _run(env: Env) -> int:
    args = env.args
    fmt = args.format or "jsonl"
    if fmt not in _EXPORT_FORMATS:
        raise UsageError(f"export: --format must be one of {', '.join(_EXPORT_FORMATS)}")
    args.format = fmt
    folder = Path(args.to)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one local call
    batches_file = folder / f"credit-batches.{fmt}"
    actions_file = folder / f"credit-actions.{fmt}"
    resume = bool(args.resume)
    if resume and not any(_checkpoint(p).exists() for p in (batches_file, actions_file)):
        raise UsageError(f"nothing to resume in {folder}: no export checkpoint there")
    async with env.client(rate_limit=rate_limit(args)) as client:
        with env.progress("export"):
            accounts = await _batches(env, client, batches_file, resume=resume)
            args.resume = resume and _checkpoint(actions_file).exists()
            await _actions(env, client, actions_file, accounts)
    env.note(f"exported to {batches_file} and {actions_file}")
    return 0


async def _batches(env: Env, client: Client, target: Path, *, resume: bool) -> list[str]:
    """Export the batches (unless a resumed job already has) and return the account ids."""
    args = env.args
    actions_checkpoint = _checkpoint(target.with_name(f"credit-actions.{args.format}"))
    if resume and actions_checkpoint.exists():
        # The batches were complete before the actions began; their accounts were recorded.
        return list(Checkpoint.read(actions_checkpoint).position["state"]["accounts"])
    accounts: list[str] = []
    if resume and not _checkpoint(target).exists() and target.exists():  # noqa: ASYNC240
        async for batch in client.credit_batches.list(args.client_id, page_size=args.page_size):
            _add(accounts, batch)
        return accounts

    def batches(resume_from: str | None) -> AsyncPaginator[CreditBatch]:
        return client.credit_batches.list(
            args.client_id, page_size=args.page_size, resume_from=resume_from
        )

    args.resume = resume and _checkpoint(target).exists()
    state: dict[str, Any] = {"accounts": accounts}
    await export_sources(
        env, target, CreditBatch, [Source(batches)], "export", state=state,
        on_item=lambda batch: _add(state["accounts"], batch), finish_progress=False,
    )  # fmt: skip
    return list(state["accounts"])


def _add(accounts: list[str], batch: CreditBatch) -> None:
    account = str(batch.credit_account_id)
    # A client has few accounts and many batches: the list stays small.
    if account not in accounts:
        accounts.append(account)


async def _actions(env: Env, client: Client, target: Path, found: list[str]) -> None:
    args = env.args
    accounts = list(found)
    for account in args.accounts:
        if str(UUID(account)) not in accounts:
            accounts.append(str(UUID(account)))

    def source(account: str, action_type: str) -> Source:
        def open_listing(resume_from: str | None) -> AsyncPaginator[CreditAction]:
            return client.credit_actions.list(
                args.client_id, account, action_type=action_type,
                page_size=args.page_size, resume_from=resume_from,
            )  # fmt: skip

        return Source(open_listing, {"creditAccountId": account, "actionType": action_type})

    sources = [source(account, kind) for account in accounts for kind in ACTION_TYPES]
    await export_sources(
        env, target, CreditAction, sources, "export", extra=ACTION_COLUMNS,
        state={"accounts": accounts},
    )  # fmt: skip
