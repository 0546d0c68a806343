"""``thoughtcredits batches list|create|update``."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from ..._args import NOT_GIVEN, NotGiven
from ..._client import Client
from ..._models import CreditBatch
from ..._resources.pagination import AsyncPaginator
from .. import argtypes
from ..context import Env
from ..errors import UsageError
from ..options import ONE_OBJECT, add_output_options
from ..parser import CLIENT_HELP, ArgumentParser, Subcommands, add_list_options, api_command
from .listing import list_command

__all__ = ["register"]

T = TypeVar("T")


def register(commands: Subcommands) -> None:
    """Add ``batches`` and its three actions."""
    batches: ArgumentParser = commands.add_parser(
        "batches", help="list, create and update credit batches"
    )
    actions = batches.add_subparsers(title="actions", metavar="ACTION", required=True)

    listing = api_command(actions, "list", _list, help="list a client's credit batches")
    listing.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid, help=CLIENT_HELP)
    listing.add_argument("--account", type=argtypes.uuid, metavar="ID", help="only this account")
    add_list_options(listing)
    add_output_options(listing)

    create = api_command(actions, "create", _create, help="issue a new credit batch")
    create.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid, help=CLIENT_HELP)
    create.add_argument(
        "--starting-balance", type=argtypes.amount, required=True, metavar="N",
        help="the credits to issue, exact (e.g. 100 or 12.5)",
    )  # fmt: skip
    create.add_argument(
        "--account", type=argtypes.uuid, metavar="ID",
        help="the credit account (default: the client's only one)",
    )  # fmt: skip
    create.add_argument("--name", help="the batch's name")
    create.add_argument(
        "--expires-on", type=argtypes.iso_datetime, metavar="ISO",
        help="when it expires, e.g. 2027-01-01 (read as UTC)",
    )  # fmt: skip
    add_output_options(create, **ONE_OBJECT)

    update = api_command(
        actions, "update", _update, help="rename, re-date or set the balance of a batch"
    )
    update.add_argument(
        "batch_id", metavar="BATCH_ID", type=argtypes.uuid, help="the batch (a UUID)"
    )
    update.add_argument("--name", help="the new name")
    update.add_argument(
        "--expires-on", type=argtypes.iso_datetime, metavar="ISO",
        help="the new expiry, e.g. 2027-01-01 (read as UTC)",
    )  # fmt: skip
    update.add_argument(
        "--current-balance",
        type=argtypes.whole_amount,
        metavar="N",
        help="the new balance, a whole number (the API takes an integer here); lower writes "
        "a debit action, higher a credit",
    )
    add_output_options(update, **ONE_OBJECT)


async def _list(env: Env) -> int:
    args = env.args

    def listing(client: Client, cursor: str | None) -> AsyncPaginator[CreditBatch]:
        return client.credit_batches.list(
            args.client_id, credit_account_id=args.account, page_size=args.page_size, cursor=cursor
        )

    await list_command(
        env, "batches list", listing, CreditBatch, "batches",
        clientId=args.client_id, creditAccountId=args.account,
    )  # fmt: skip
    return 0


async def _create(env: Env) -> int:
    args = env.args

    def create(client: Client) -> Awaitable[CreditBatch]:
        # An option not given is None, which the SDK leaves out of the request.
        return client.credit_batches.create(
            args.client_id,
            starting_balance=args.starting_balance,
            credit_account_id=args.account,
            name=args.name,
            expires_on=args.expires_on,
        )

    return await env.write_answer(CreditBatch, create)


async def _update(env: Env) -> int:
    args = env.args
    if args.name is None and args.expires_on is None and args.current_balance is None:
        raise UsageError(
            "batches update: give at least one of --name, --expires-on, --current-balance"
        )

    def update(client: Client) -> Awaitable[CreditBatch]:
        # An option not given stays unchanged: NOT_GIVEN (None would ask to clear it).
        return client.credit_batches.update(
            args.batch_id,
            name=_unchanged_if_none(args.name),
            expires_on=_unchanged_if_none(args.expires_on),
            current_balance=_unchanged_if_none(args.current_balance),
        )

    return await env.write_answer(CreditBatch, update)


def _unchanged_if_none(value: T | None) -> T | NotGiven:
    return NOT_GIVEN if value is None else value
