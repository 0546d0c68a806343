"""``thoughtcredits accounts create``."""

from __future__ import annotations

from collections.abc import Awaitable

from ..._client import Client
from ..._models import CreditAccount
from .. import argtypes
from ..context import Env
from ..options import ONE_OBJECT, add_output_options
from ..parser import CLIENT_HELP, ArgumentParser, Subcommands, api_command

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add ``accounts create``."""
    accounts: ArgumentParser = commands.add_parser("accounts", help="create credit accounts")
    sub = accounts.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = api_command(
        sub, "create", _create, help="create a credit account (and its first credit batch)"
    )
    create.add_argument("client_id", metavar="CLIENT_ID", type=argtypes.uuid, help=CLIENT_HELP)
    create.add_argument("--name", required=True, help="the account's name")
    create.add_argument(
        "--starting-balance", type=argtypes.amount, required=True, metavar="N",
        help="the credits of its first batch, exact (e.g. 1000 or 12.5)",
    )  # fmt: skip
    create.add_argument(
        "--notify-email",
        dest="notify_emails",
        action="append",
        required=True,
        metavar="EMAIL",
        help="notified of account activity; repeat for several",
    )
    create.add_argument(
        "--license-id",
        dest="license_ids",
        action="append",
        required=True,
        metavar="ID",
        help="a license to associate; repeat for several",
    )
    create.add_argument(
        "--type", dest="account_type", choices=("client", "company"),
        help="the account's classification",
    )  # fmt: skip
    create.add_argument(
        "--batch-days-until-expire",
        type=argtypes.positive_int,
        metavar="N",
        help="days after issue before each batch expires",
    )
    create.add_argument(
        "--minimum-batch-amount",
        type=argtypes.non_negative_int,
        metavar="N",
        help="the fewest credits a batch may hold",
    )
    create.add_argument("--credit-batch-name", metavar="NAME", help="name of the first batch")
    add_output_options(create, **ONE_OBJECT)


async def _create(env: Env) -> int:
    args = env.args

    def create(client: Client) -> Awaitable[CreditAccount]:
        return client.credit_accounts.create(
            args.client_id,
            name=args.name,
            starting_balance=args.starting_balance,
            notify_emails=args.notify_emails,
            license_ids=args.license_ids,
            # An option not given is None, which the SDK leaves out of the request.
            type=args.account_type,
            batch_days_until_expire=args.batch_days_until_expire,
            minimum_batch_amount=args.minimum_batch_amount,
            credit_batch_name=args.credit_batch_name,
        )

    return await env.write_answer(CreditAccount, create)
