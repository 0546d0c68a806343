"""The argparse pieces every command shares: the parser class, common options, ``UsageError``.

A command module adds itself with one ``register(commands)`` function: it calls
:func:`api_command` (or ``commands.add_parser``) and sets ``handler`` to an async function
taking the :class:`~thoughtcredits._cli.context.Env`.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeAlias

from .._config import ENV_API_KEY, ENV_BASE_URL
from .._quota.rate_limit import RateLimit
from . import argtypes
from .errors import UsageError
from .options import add_progress

if TYPE_CHECKING:
    from .context import Env

__all__ = [
    "CLIENT_HELP",
    "GLOBAL_HELP",
    "ArgumentParser",
    "Handler",
    "HelpFormatter",
    "Subcommands",
    "add_api_options",
    "add_list_options",
    "add_rate_limit",
    "api_command",
    "rate_limit",
]

Handler: TypeAlias = "Callable[[Env], Awaitable[int]]"
Subcommands: TypeAlias = "argparse._SubParsersAction[ArgumentParser]"


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of printing usage and exiting.

    Abbreviated options are refused (``allow_abbrev=False``) on every parser, subcommands
    included: ``--api KEY`` is an error, never a silent ``--api-key``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", HelpFormatter)
        description = kwargs.get("description")
        if description and "\n" not in description:
            # One paragraph, filled to 79 columns here: the formatter keeps line breaks as
            # written (for the examples), so it would print the paragraph as one long line.
            kwargs["description"] = textwrap.fill(description, 79, break_on_hyphens=False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise instead of exiting, so ``main`` prints one line and returns 2."""
        raise UsageError(f"{message} (see '{self.prog} --help')")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's and epilog's line breaks; options in a column of 28.

    The usage line names only what must be given (``[options]`` stands for the rest), so a
    command's own options start near the top of an 80x30 screen.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)

    def _format_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None,
    ) -> str:
        if usage is not None or prefix == "":  # "": argparse naming a subcommand's prog
            return super()._format_usage(usage, actions, groups, prefix)
        words = [self._prog, "[options]"]
        for action in actions:
            if action.option_strings and action.required:
                words.append(f"{action.option_strings[0]} {self._metavar(action)}")
            elif not action.option_strings:
                words.append(self._metavar(action))
        indent = " " * len(f"usage: {self._prog} ")
        line = textwrap.fill(
            f"usage: {' '.join(words)}", 79, subsequent_indent=indent,
            break_on_hyphens=False, break_long_words=False,
        )  # fmt: skip
        return line + "\n\n"

    def _metavar(self, action: argparse.Action) -> str:
        if action.option_strings:
            return self._format_args(action, self._get_default_metavar_for_optional(action))
        return self._format_args(action, self._get_default_metavar_for_positional(action))


CLIENT_HELP = "the Thought Industries client (a UUID)"
"""The help of every ``CLIENT_ID`` argument."""
GLOBAL_HELP = "global options (before or after the command): see 'thoughtcredits --help'"
"""The epilog of every API command: the connection options are described once, at the top."""


def add_api_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The connection options: described on the top-level parser, accepted on each command.

    On a command they are hidden from ``--help`` (listed once, in ``thoughtcredits --help``)
    and their defaults are suppressed, so ``--api-key`` may come before or after the command
    name and a value given before it is not overwritten.
    """

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    def described(text: str) -> str:
        return text if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("global options") if defaults else parser
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default(None),
        help=described(
            f"your instance, e.g. https://acme.thoughtindustries.com (default: ${ENV_BASE_URL})"
        ),
    )
    group.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(None),
        help=described(
            f"the REST API key (default: ${ENV_API_KEY}; prefer the variable: arguments are "
            "visible to other users of this machine)"
        ),
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help=described("log every request and show a traceback on unexpected errors"),
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
    add_progress(parser, group)


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


def api_command(
    commands: Subcommands, name: str, handler: Handler, *, help: str, description: str = ""
) -> ArgumentParser:
    """Add a command that talks to the API: it gets the connection and output options."""
    parser = commands.add_parser(
        name,
        help=help,
        description=description or help[:1].upper() + help[1:] + ".",
        epilog=GLOBAL_HELP,
    )
    add_api_options(parser, defaults=False)
    parser.set_defaults(handler=handler, command=parser.prog.removeprefix("thoughtcredits "))
    return parser
