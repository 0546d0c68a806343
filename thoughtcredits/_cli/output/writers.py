"""Choose the output format and build its writer, for stdout or for an export file."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ..errors import UsageError
from ..exports.files import ExportFile
from ..exports.tempfiles import create_exclusive
from .columns import table_columns, table_priority
from .formats import CsvWriter, JsonLinesWriter, JsonWriter, Writer, columns_of
from .notes import Notes
from .table import PlainTable, RichTable

__all__ = [
    "export_writer",
    "file_target",
    "output_format",
    "single_writer",
    "stdout_stream",
    "stdout_writer",
]

_EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def file_target(args: argparse.Namespace) -> Path | None:
    """The ``-o FILE`` to export to, or None for stdout (``-`` or a device like /dev/stdout)."""
    if args.output in (None, "-"):
        return None
    target = Path(args.output)
    if target.exists() and not target.is_file():
        return None
    return target


def output_format(args: argparse.Namespace) -> str:
    """``--format``, else from the ``-o`` file's extension, else table on a terminal."""
    if args.format:
        return str(args.format)
    if args.output not in (None, "-"):
        return _EXTENSIONS.get(Path(args.output).suffix.lower(), "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


@contextmanager
def stdout_stream(args: argparse.Namespace) -> Iterator[TextIO]:
    """stdout, or the device ``-o`` names (e.g. /dev/stdout, a FIFO), written as it comes."""
    if args.output in (None, "-"):
        yield sys.stdout
        return
    with open(args.output, "w", encoding="utf-8", newline="") as stream:
        yield stream


def _columns(
    args: argparse.Namespace, cls: type[Any], extra: Sequence[str], fmt: str
) -> tuple[str, ...]:
    known = columns_of(cls, extra)
    chosen: str | None = getattr(args, "columns", None)
    if not chosen:
        return known
    names = tuple(name.strip() for name in chosen.split(",") if name.strip())
    unknown = list(dict.fromkeys(name for name in names if name not in known))
    if unknown or not names:
        raise UsageError(
            f"--columns: unknown column {_some(unknown) or '(none given)'}; "
            f"choose from {', '.join(known)}"
        )
    twice = next((name for index, name in enumerate(names) if name in names[:index]), None)
    if twice is not None:
        raise UsageError(f"--columns: {twice} is given more than once")
    if fmt not in ("table", "csv"):
        # JSON and parquet always hold every field: --columns would be silently ignored.
        raise UsageError(
            f"--columns applies to table and csv output, not to {fmt} (add --format csv)"
        )
    return names


def _some(names: Sequence[str], shown: int = 3) -> str:
    """The first few ``names``, each cut to 40 characters: one line, whatever was given."""
    cut = [name if len(name) <= 40 else name[:39] + "…" for name in names[:shown]]
    more = f" (and {len(names) - shown:,} more)" if len(names) > shown else ""
    return ", ".join(cut) + more


def _text_writer(
    fmt: str,
    stream: TextIO,
    args: argparse.Namespace,
    cls: type[Any],
    extra: Sequence[str] = (),
    *,
    single: bool = False,
    items_before: int = 0,
    continued: bool = False,
) -> Writer:
    columns = _columns(args, cls, extra, fmt)
    if fmt == "jsonl":
        return JsonLinesWriter(stream)
    if fmt == "json":
        return JsonWriter(stream, single=single, items_before=items_before)
    if fmt == "csv":
        return CsvWriter(
            stream,
            columns,
            dialect=getattr(args, "csv_dialect", None) or "rfc4180",
            continued=continued,
            terminal=stream.isatty(),
        )
    raise UsageError(f"--format {fmt}: write it to a file with -o FILE.{fmt}")


def stdout_writer(
    args: argparse.Namespace, notes: Notes, cls: type[Any], stream: TextIO, *, single: bool = False
) -> Writer:
    """A writer to ``stream`` (see :func:`stdout_stream`) in the chosen format."""
    fmt = output_format(args)
    _columns(args, cls, (), fmt)  # a misspelt --columns fails before anything is sent
    if fmt != "table":
        return _text_writer(fmt, stream, args, cls, single=single)
    wide = bool(getattr(args, "wide", False))
    chosen = getattr(args, "columns", None)
    columns = _columns(args, cls, (), fmt) if (chosen or wide) else table_columns(cls)
    if not notes.need_rich():
        return PlainTable(stream, columns, single=single)
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; a reader that has gone (`| head`) is a normal end: exit 0.
            self.quiet = True
            raise BrokenPipeError

    # file=None makes rich look up sys.stdout on every write; not a terminal: never cut.
    width = None if stream.isatty() else 1000
    console = QuietConsole(
        file=None if stream is sys.stdout else stream,
        width=width,
        highlight=False,
        soft_wrap=False,
    )
    keep = table_priority(cls, getattr(args, "action_type", None))
    return RichTable(
        console, columns, single=single, fit=not (chosen or wide), note=notes.note, keep=keep
    )


@contextmanager
def single_writer(args: argparse.Namespace, notes: Notes, cls: type[Any]) -> Iterator[Writer]:
    """A writer for one object (create/update): ``-o FILE`` appears only when written."""
    target = file_target(args)
    if target is None:
        with stdout_stream(args) as stream:
            writer = stdout_writer(args, notes, cls, stream, single=True)
            yield writer
            writer.close()
        return
    fmt = output_format(args)
    if fmt in ("table", "parquet"):
        raise UsageError(f"--format {fmt} cannot be written to a file here; use json or jsonl")
    path, binary = create_exclusive(target)
    try:
        with io.TextIOWrapper(binary, encoding="utf-8", newline="") as stream:
            writer = _text_writer(fmt, stream, args, cls, single=True)
            yield writer
            writer.close()
        path.replace(target)
    finally:
        path.unlink(missing_ok=True)


def export_writer(
    args: argparse.Namespace,
    fmt: str,
    export: ExportFile,
    cls: type[Any],
    extra: Sequence[str] = (),
) -> Writer:
    """A writer that continues ``export``'s file (empty, or a partial being resumed)."""
    items_before = 0 if export.resumed is None else export.resumed.items
    _columns(args, cls, extra, fmt)
    if fmt == "parquet":
        from .parquet import ParquetWriter

        return ParquetWriter(export, cls, extra=extra)
    if fmt == "table":
        raise UsageError("--format table is for terminals; write json, jsonl, csv or parquet")
    continued = export.resumed is not None and export.resumed.parts[0].size > 0
    return _text_writer(
        fmt, export.text(), args, cls, extra, items_before=items_before, continued=continued
    )
