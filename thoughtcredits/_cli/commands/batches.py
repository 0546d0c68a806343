"""``thoughtcredits batches list|create|update``."""

from __future__ import annotations

from ..._models import CreditBatch
from ..._resources.pagination import AsyncPaginator
from .. import argtypes
from ..context import Env
from ..errors import UsageError
from ..parser import ArgumentParser, Subcommands, add_list_options, api_command, rate_limit
from .exporting import listing_identity
from .listing import stream_listing

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add ``batches`` and its three actions."""
    batches: ArgumentParser = commands.add_parser(
        "batches", help="list, create and update credit batches"
    )
    actions = batches.add_subparsers(title="actions", metavar="ACTION", required=True)

    listing = api_command(actions, "list", _list, help="list a client's credit batches")
    listing.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid)
    listing.add_argument("--account", type=argtypes.uuid, metavar="ID", help="only this account")
    add_list_options(listing)

    create = api_command(actions, "create", _create, help="issue a new credit batch")
    create.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid)
    create.add_argument("--starting-balance", type=argtypes.amount, required=True, metavar="N")
    create.add_argument("--account", type=argtypes.uuid, metavar="ID", help="the credit account")
    create.add_argument("--name")
    create.add_argument(
        "--expires-on", type=argtypes.iso_datetime, metavar="ISO", help="e.g. 2027-01-01 (UTC)"
    )

    update = api_command(
        actions, "update", _update, help="rename, re-date or set the balance of a batch"
    )
    update.add_argument("batch_id", metavar="BATCH_ID", type=argtypes.uuid)
    update.add_argument("--name")
    update.add_argument("--expires-on", type=argtypes.iso_datetime, metavar="ISO")
    update.add_argument(
        "--current-balance",
        type=argtypes.whole_amount,
        metavar="N",
        help="the new balance; lower writes a debit action, higher a credit",
    )


async def _list(env: Env) -> int:
    args = env.args
    async with env.client(rate_limit=rate_limit(args)) as client:

        def listing(cursor: str | None) -> AsyncPaginator[CreditBatch]:
            return client.credit_batches.list(
                args.client_id,
                credit_account_id=args.account,
                page_size=args.page_size,
                cursor=cursor or args.cursor,
            )

        identity = listing_identity(
            env, "batches list", clientId=args.client_id, creditAccountId=args.account,
            cursor=args.cursor,
        )  # fmt: skip
        await stream_listing(env, listing, CreditBatch, "batches", identity)
    return 0


async def _create(env: Env) -> int:
    args = env.args
    # The output is opened first: a bad -o path must fail before credits are issued.
    with env.output(CreditBatch) as writer:
        async with env.client() as client:
            # An option not given is None, which the SDK leaves out of the request.
            batch = await client.credit_batches.create(
                args.client_id,
                starting_balance=args.starting_balance,
                credit_account_id=args.account,
                name=args.name,
                expires_on=args.expires_on,
            )
        writer.write(batch)
    return 0


async def _update(env: Env) -> int:
    args = env.args
    if args.name is None and args.expires_on is None and args.current_balance is None:
        raise UsageError(
            "batches update: give at least one of --name, --expires-on, --current-balance"
        )
    with env.output(CreditBatch) as writer:
        async with env.client() as client:
            batch = await client.credit_batches.update(
                args.batch_id,
                name=args.name,
                expires_on=args.expires_on,
                current_balance=args.current_balance,
            )
        writer.write(batch)
    return 0
