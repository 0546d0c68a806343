"""The output and progress options, each command taking only those it can use.

A command records the options it takes (``accepts``); :func:`check_output_options` refuses one
it cannot use, also when given before the command name, and fills in the defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .errors import UsageError
from .output.formats import CSV_DIALECTS, FORMATS

__all__ = ["ONE_OBJECT", "add_output_options", "add_progress", "check_output_options"]

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
