"""``thoughtcredits actions list``."""

from __future__ import annotations

from ..._client import Client
from ..._models import ACTION_TYPES, CreditAction
from ..._resources.pagination import AsyncPaginator
from .. import argtypes
from ..context import Env
from ..options import add_output_options
from ..parser import CLIENT_HELP, ArgumentParser, Subcommands, add_list_options, api_command
from .listing import list_command

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add ``actions list``."""
    actions: ArgumentParser = commands.add_parser("actions", help="list credit actions")
    sub = actions.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = api_command(
        sub, "list", _list, help="list the credit actions (the ledger) of a credit account"
    )
    listing.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid, help=CLIENT_HELP)
    listing.add_argument(
        "account_id", metavar="ACCOUNT_ID", type=argtypes.uuid, help="the credit account (a UUID)"
    )
    listing.add_argument(
        "--type",
        dest="action_type",
        required=True,
        help="the action type: credit or debit (required by the API)",
    )
    add_list_options(listing)
    add_output_options(listing)


async def _list(env: Env) -> int:
    args = env.args

    def listing(client: Client, cursor: str | None) -> AsyncPaginator[CreditAction]:
        return client.credit_actions.list(
            args.client_id,
            args.account_id,
            action_type=args.action_type,
            page_size=args.page_size,
            cursor=cursor,
        )

    written = await list_command(
        env, "actions list", listing, CreditAction, f"{args.action_type} actions",
        clientId=args.client_id, creditAccountId=args.account_id, actionType=args.action_type,
    )  # fmt: skip
    if written == 0 and args.action_type not in ACTION_TYPES:
        # The set of types is open, so this is not an error; but an empty answer for a
        # misspelt type must not look like "no data".
        env.note(
            f"warning: no actions of type {args.action_type!r}; the known types are "
            f"{' and '.join(ACTION_TYPES)} (case-sensitive)"
        )
    return 0
