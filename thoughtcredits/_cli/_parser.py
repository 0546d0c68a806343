"""The argparse pieces every command shares: the parser class, common options, ``UsageError``.

A command module adds itself with one ``register(commands)`` function: it calls
:func:`api_command` (or ``commands.add_parser``) and sets ``handler`` to an async function
taking the :class:`~thoughtcredits._cli._context.Env`.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from .._config import ENV_API_KEY, ENV_BASE_URL
from . import _types
from ._output import FORMATS

if TYPE_CHECKING:
    from ._context import Env

__all__ = [
    "ArgumentParser",
    "Handler",
    "Subcommands",
    "UsageError",
    "add_api_options",
    "add_list_options",
    "api_command",
]

Handler: TypeAlias = "Callable[[Env], Awaitable[int]]"
Subcommands: TypeAlias = "argparse._SubParsersAction[ArgumentParser]"


class UsageError(Exception):
    """A bad command line or configuration: printed as one line, exit code 2."""


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
        help="write to FILE instead of stdout (written to FILE.part, renamed when complete)",
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
        "--max-items", type=_types.non_negative_int, metavar="N", help="stop after N items"
    )
    group.add_argument(
        "--page-size",
        type=_types.positive_int,
        metavar="N",
        help="items per request (sent as perPage; the server may cap it)",
    )
    group.add_argument(
        "--cursor",
        help="start from this pageInfo.cursor (printed when a listing stops on an error)",
    )


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
