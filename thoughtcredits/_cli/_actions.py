"""``thoughtcredits actions list``."""

from __future__ import annotations

from .._models import CreditAction
from . import _types
from ._context import Env
from ._listing import stream_listing
from ._parser import ArgumentParser, Subcommands, add_list_options, api_command

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add ``actions list``."""
    actions: ArgumentParser = commands.add_parser("actions", help="list credit actions")
    sub = actions.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = api_command(
        sub, "list", _list, help="list the credit actions (the ledger) of a credit account"
    )
    listing.add_argument("client_id", metavar="CLIENT_ID", type=_types.uuid)
    listing.add_argument("account_id", metavar="ACCOUNT_ID", type=_types.uuid)
    listing.add_argument(
        "--type",
        dest="action_type",
        required=True,
        help="the action type, e.g. debit or credit (required by the API)",
    )
    add_list_options(listing)


async def _list(env: Env) -> int:
    args = env.args
    async with env.client() as client:
        listing = client.credit_actions.list(
            args.client_id,
            args.account_id,
            action_type=args.action_type,
            cursor=args.cursor,
            page_size=args.page_size,
        )
        return await stream_listing(env, listing, CreditAction, f"{args.action_type} actions")
