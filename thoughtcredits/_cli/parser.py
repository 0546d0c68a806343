"""The argparse pieces every command shares: the parser class, common options, ``UsageError``.

A command module adds itself with one ``register(commands)`` function: it calls
:func:`api_command` (or ``commands.add_parser``) and sets ``handler`` to an async function
taking the :class:`~thoughtcredits._cli.context.Env`.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeAlias

from .._config import ENV_API_KEY, ENV_BASE_URL
from .._quota.throttle import RateLimit
from . import argtypes
from .errors import UsageError
from .output.formats import CSV_DIALECTS, FORMATS

if TYPE_CHECKING:
    from .context import Env

__all__ = [
    "CLIENT_HELP",
    "GLOBAL_HELP",
    "ONE_OBJECT",
    "ArgumentParser",
    "Handler",
    "HelpFormatter",
    "Subcommands",
    "add_api_options",
    "add_list_options",
    "add_output_options",
    "add_progress",
    "add_rate_limit",
    "api_command",
    "check_output_options",
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

_OUTPUT_DEFAULTS: dict[str, object] = {
    "format": None, "output": None, "columns": None, "wide": False, "csv_dialect": None,
    "progress": None,
}  # fmt: skip
ONE_OBJECT: dict[str, Any] = {
    "formats": ("table", "json", "jsonl", "csv"), "columns": False, "wide": False,
}  # fmt: skip
"""The output options of a command that prints one object (create, update)."""
_FLAGS = {"format": "--format", "output": "-o/--output", "columns": "--columns",
          "wide": "--wide", "csv_dialect": "--csv-dialect", "progress": "--progress"}  # fmt: skip


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


def add_output_options(
    parser: argparse.ArgumentParser,
    *,
    formats: Sequence[str] = FORMATS,
    output: bool = True,
    columns: bool = True,
    wide: bool = True,
    hidden: bool = False,
) -> None:
    """``--format`` and, as the command can use them, ``-o``, ``--columns``, ``--wide``, CSV.

    The options a command takes are recorded (``accepts``), so one given before the command
    name (``thoughtcredits --wide export ...``) that the command cannot use is refused by
    :func:`check_output_options` rather than ignored. ``hidden`` adds them all, undescribed
    (the top-level parser, for that order).
    """
    group = parser if hidden else parser.add_argument_group("output")
    accepts = {"format"}

    def add(*flags: str, help: str, **kwargs: Any) -> None:
        group.add_argument(
            *flags, default=argparse.SUPPRESS, help=argparse.SUPPRESS if hidden else help,
            **kwargs,
        )  # fmt: skip

    shown = "{" + ",".join(formats) + "}"
    add(
        "--format",
        metavar=shown,
        help="output format (default: table on a terminal, else from the -o file's "
        "extension, else jsonl)"
        if "table" in formats
        else f"output format (default: {formats[0]})",
    )
    if output or hidden:
        accepts.add("output")
        add(
            "-o",
            "--output",
            metavar="FILE",
            help="write to FILE instead of stdout (it appears only when complete; an "
            "interrupted listing is kept as FILE.partial for --resume)",
        )
    if columns or hidden:
        accepts.add("columns")
        add(
            "--columns",
            metavar="A,B,C",
            help="table and CSV columns, in the API's camelCase names, e.g. id,name,currentBalance",
        )
    if wide or hidden:
        accepts.add("wide")
        add(
            "--wide",
            action="store_true",
            help="show every column in tables (a row that does not fit is shown as a block)",
        )
    if "csv" in formats or hidden:
        accepts.add("csv_dialect")
        add(
            "--csv-dialect",
            choices=CSV_DIALECTS,
            help="rfc4180 (default: comma, LF), excel (UTF-8 BOM, CRLF) or excel-eu (also ';' "
            "and decimal comma)",
        )
    if hidden:
        add("--progress", action=argparse.BooleanOptionalAction, help="")
    else:
        _accepts(parser, accepts)
        parser.set_defaults(formats=tuple(formats))


def _accepts(parser: argparse.ArgumentParser, names: set[str]) -> None:
    parser.set_defaults(accepts=frozenset(names) | (parser.get_default("accepts") or set()))


def add_progress(parser: argparse.ArgumentParser, group: argparse._ActionsContainer) -> None:
    """``--progress``/``--no-progress`` (in ``group`` of ``parser``)."""
    group.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help="a progress display on stderr (default: on a terminal, unless the data goes to "
        "stdout)",
    )
    _accepts(parser, {"progress"})


def check_output_options(args: argparse.Namespace, command: str) -> None:
    """Refuse an output option the command cannot use; fill in the defaults of the others.

    Raises:
        UsageError: e.g. ``--wide`` for ``export`` or ``--format csv`` for ``reconcile``.
    """
    accepts: frozenset[str] = getattr(args, "accepts", frozenset())
    for name, default in _OUTPUT_DEFAULTS.items():
        if hasattr(args, name) and name not in accepts:
            raise UsageError(f"{_FLAGS[name]} does not apply to '{command}'")
        if not hasattr(args, name):
            setattr(args, name, default)
    formats: tuple[str, ...] = getattr(args, "formats", ())
    if args.format is not None and args.format not in formats:
        raise UsageError(
            f"argument --format: invalid choice: {args.format!r} ({command}: --format must be "
            f"one of {', '.join(formats)})"
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
        # Filled here: the formatter keeps line breaks as written (for the examples).
        description=textwrap.fill(
            description or help[:1].upper() + help[1:] + ".", 79, break_on_hyphens=False
        ),
        epilog=GLOBAL_HELP,
    )
    add_api_options(parser, defaults=False)
    parser.set_defaults(handler=handler, command=parser.prog.removeprefix("thoughtcredits "))
    return parser
