"""The argparse pieces every command shares: the parser class, common options, ``UsageError``.

A command module adds itself with one ``register(commands)`` function: it calls
:func:`api_command` (or ``commands.add_parser``) and sets ``handler`` to an async function
taking the :class:`~thoughtcredits._cli.context.Env`.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, NoReturn, TypeAlias

from .._config import ENV_API_KEY, ENV_BASE_URL
from .._quota.rate_limit import RateLimit
from . import argtypes
from .errors import UsageError
from .output.formats import CSV_DIALECTS, FORMATS

if TYPE_CHECKING:
    from .context import Env

__all__ = [
    "ArgumentParser",
    "Handler",
    "Subcommands",
    "add_api_options",
    "add_list_options",
    "add_rate_limit",
    "api_command",
    "rate_limit",
    "start",
]

Handler: TypeAlias = "Callable[[Env], Awaitable[int]]"
Subcommands: TypeAlias = "argparse._SubParsersAction[ArgumentParser]"


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of exiting, so ``main`` prints one line and returns 2."""
        raise UsageError(f"{message} (see '{self.prog} --help')")


def add_api_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Connection and output options, on the top-level parser and again on each command.

    On a command the defaults are suppressed, so ``--format csv`` may come before or after the
    command name and a value given before it is not overwritten.
    """

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("connection and output")
    group.add_argument(
        "--base-url",
        default=default(None),
        help=f"your instance, e.g. https://acme.thoughtindustries.com (default: ${ENV_BASE_URL})",
    )
    group.add_argument(
        "--api-key",
        default=default(None),
        help=f"the REST API key (default: ${ENV_API_KEY}; prefer the variable: "
        "arguments are visible to other users of this machine)",
    )
    group.add_argument(
        "--format",
        choices=FORMATS,
        default=default(None),
        help="output format (default: table on a terminal, else from the -o file's "
        "extension, else jsonl)",
    )
    group.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=default(None),
        help="write to FILE instead of stdout (written beside it, renamed when complete; "
        "an interrupted listing is kept as FILE.partial for --resume)",
    )
    group.add_argument(
        "--columns",
        metavar="A,B,C",
        default=default(None),
        help="table and CSV columns, in the API's camelCase names, e.g. id,name,currentBalance",
    )
    group.add_argument(
        "--wide",
        action="store_true",
        default=default(False),
        help="show every column in tables, even wider than the terminal",
    )
    group.add_argument(
        "--csv-dialect",
        choices=CSV_DIALECTS,
        default=default(None),
        help="rfc4180 (default: comma, LF), excel (UTF-8 BOM, CRLF) or excel-eu (also ';' "
        "and decimal comma)",
    )
    group.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=default(None),
        help="show a progress bar on stderr (default: when stderr is a terminal and the "
        "output is not)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log every request and show a traceback on unexpected errors",
    )


def add_list_options(parser: argparse.ArgumentParser) -> None:
    """``--max-items``, ``--page-size`` and ``--cursor`` for a listing command."""
    group = parser.add_argument_group("listing")
    group.add_argument(
        "--max-items", type=argtypes.non_negative_int, metavar="N", help="stop after N items"
    )
    group.add_argument(
        "--page-size",
        type=argtypes.positive_int,
        metavar="N",
        help="items per request (sent as perPage; the server may cap it)",
    )
    group.add_argument(
        "--cursor",
        help="start from this pageInfo.cursor (printed when a listing to stdout stops on an error)",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted export to -o FILE from FILE.checkpoint",
    )
    add_rate_limit(group)


def add_rate_limit(parser: argparse._ActionsContainer) -> None:
    """``--rate-limit PER_MIN[/BURST]``."""
    parser.add_argument(
        "--rate-limit",
        type=argtypes.rate_limit,
        metavar="PER_MIN[/BURST]",
        help="stay within this request rate, e.g. 120/20 (your plan's quota)",
    )


def rate_limit(args: argparse.Namespace) -> RateLimit | Literal["auto"]:
    """The client's rate limit from ``--rate-limit``, else learned from the server."""
    value = getattr(args, "rate_limit", None)
    return "auto" if value is None else RateLimit(*value)


def start(args: argparse.Namespace, resume_from: str | None) -> str | None:
    """The ``cursor=`` a listing starts from: none when resuming from a checkpoint."""
    return None if resume_from is not None else args.cursor


def api_command(
    commands: Subcommands, name: str, handler: Handler, *, help: str, description: str = ""
) -> ArgumentParser:
    """Add a command that talks to the API: it gets the connection and output options."""
    parser = commands.add_parser(
        name,
        help=help,
        description=description or help[:1].upper() + help[1:] + ".",
    )
    add_api_options(parser, defaults=False)
    parser.set_defaults(handler=handler)
    return parser
