"""``Env``: what a command needs at run time: the client, the output writer, notes and progress.

Streams are looked up on ``sys`` when used, never cached at import, so redirections (tests,
``contextlib.redirect_stdout``) apply.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .._client import Client
from .._config import ENV_API_KEY, ENV_BASE_URL, normalize_base_url
from ._output import CsvWriter, JsonLinesWriter, JsonWriter, Writer, columns_of
from ._parser import UsageError
from ._progress import PlainProgress, Progress, RichProgress
from ._table import PlainTable, RichTable, rich_available, table_columns

__all__ = ["RICH_MISSING", "Env"]

RICH_MISSING = (
    "note: tables and progress bars look better with rich: pip install 'thoughtcredits[cli]'"
)
_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_sdk_logger = logging.getLogger("thoughtcredits")


class Env:
    """The run-time context of one command.

    Args:
        args: the parsed command line.
        sleep: the coroutine the client waits with (tests inject one that does not sleep).
    """

    def __init__(
        self, args: argparse.Namespace, *, sleep: Callable[[float], Awaitable[None]] | None
    ) -> None:
        self.args = args
        self._sleep = sleep
        self._display: Progress | None = None
        self._warned_rich = False
        self.pause_announced = False
        """Set when the SDK announces a rate-limit pause; the next real wait is noted."""

    # --- stderr ---

    def note(self, text: str) -> None:
        """Print a line on stderr (above the progress bar while one is shown)."""
        if self._display is not None:
            self._display.print(text)
        else:
            print(text, file=sys.stderr, flush=True)

    def _need_rich(self) -> bool:
        if rich_available():
            return True
        if not self._warned_rich:
            self._warned_rich = True
            self.note(RICH_MISSING)
        return False

    @contextmanager
    def progress(self, label: str) -> Iterator[Progress | None]:
        """Show a progress display for a listing when wanted, and route notes through it."""
        wanted = self.args.progress
        if wanted is None:
            # A bar and a table on the same terminal would tear each other.
            wanted = sys.stderr.isatty() and not (self._to_stdout() and sys.stdout.isatty())
        if not wanted:
            yield None
            return
        display: Progress = RichProgress() if self._need_rich() else PlainProgress(sys.stderr)
        display.start(label)
        self._display = display
        try:
            yield display
        finally:
            self._display = None
            display.stop()

    @contextmanager
    def sdk_notes(self) -> Iterator[None]:
        """Show the SDK's rate-limit waits, retries and warnings as notes on stderr."""
        handler = _NoteHandler(self)
        previous = _sdk_logger.level
        _sdk_logger.addHandler(handler)
        _sdk_logger.setLevel(logging.DEBUG if self.args.debug else logging.INFO)
        try:
            yield
        finally:
            _sdk_logger.removeHandler(handler)
            _sdk_logger.setLevel(previous)

    # --- the API ---

    def client(self, **options: Any) -> Client:
        """A client from ``--base-url``/``--api-key`` or the environment.

        ``options`` are passed on to :class:`Client` (e.g. ``rate_limit=``).
        """
        base_url = self.args.base_url or os.environ.get(ENV_BASE_URL)
        api_key = self.args.api_key or os.environ.get(ENV_API_KEY)
        if not base_url:
            raise UsageError(f"no API address: pass --base-url or set {ENV_BASE_URL}")
        if not api_key or not api_key.strip():
            raise UsageError(f"no API key: pass --api-key or set {ENV_API_KEY}")
        try:
            normalize_base_url(base_url)
        except ValueError as exc:
            raise UsageError(str(exc).replace("base_url:", "--base-url:", 1)) from None
        try:
            return Client(base_url, api_key, sleep=self._noted_sleep, **options)
        except ValueError as exc:
            raise UsageError(str(exc).replace("api_key:", "--api-key:", 1)) from None

    async def _noted_sleep(self, seconds: float) -> None:
        # Noting the wait here, not when the SDK logs the pause, means a note is printed only
        # when a request really waits, with the time it waits.
        if seconds > 0 and self.pause_announced:
            self.pause_announced = False
            self.note(f"note: rate limited; waiting {_seconds(seconds)} s")
        await (asyncio.sleep if self._sleep is None else self._sleep)(seconds)

    # --- stdout or -o FILE ---

    def _to_stdout(self) -> bool:
        return self.args.output in (None, "-")

    def output_format(self) -> str:
        """``--format``, else from the ``-o`` file's extension, else table on a terminal."""
        if self.args.format:
            return str(self.args.format)
        if not self._to_stdout():
            return _EXTENSIONS.get(Path(self.args.output).suffix.lower(), "jsonl")
        return "table" if sys.stdout.isatty() else "jsonl"

    @contextmanager
    def output(self, cls: type[Any], *, single: bool = False) -> Iterator[Writer]:
        """A writer for ``cls`` items; with ``-o FILE`` the file appears only when complete."""
        fmt = self.output_format()
        with _open_output(None if self._to_stdout() else self.args.output) as stream:
            writer = self._writer(fmt, stream, cls, single=single)
            yield writer
            writer.close()

    def _writer(self, fmt: str, stream: TextIO | None, cls: type[Any], *, single: bool) -> Writer:
        target = stream if stream is not None else sys.stdout
        if fmt == "jsonl":
            return JsonLinesWriter(target)
        if fmt == "json":
            return JsonWriter(target, single=single)
        if fmt == "csv":
            return CsvWriter(target, columns_of(cls))
        columns = table_columns(cls)
        if not self._need_rich():
            return PlainTable(target, columns, single=single)
        from rich.console import Console

        # file=None makes rich look up sys.stdout on every write.
        wide = None if target.isatty() else 400
        console = Console(file=stream, width=wide, highlight=False, soft_wrap=False)
        return RichTable(console, columns, single=single)


@contextmanager
def _open_output(path: str | None) -> Iterator[TextIO | None]:
    """Yield None for stdout, else a file written beside ``path`` and renamed on success."""
    if path is None:
        yield None
        return
    target = Path(path)
    if target.exists() and not target.is_file():
        # /dev/stdout, a FIFO: nothing to rename.
        with target.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    part = target.with_name(target.name + ".part")
    try:
        opened = part.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    try:
        with opened as stream:
            yield stream
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)


class _NoteHandler(logging.Handler):
    """Turns the SDK's log records into short notes on stderr."""

    def __init__(self, env: Env) -> None:
        super().__init__(logging.DEBUG)
        self._env = env

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "tc_pause", None) is not None:
            self._env.pause_announced = True
        elif (reason := getattr(record, "tc_reason", None)) is not None:
            # A 429 with a server delay is noted when the client waits; other failures say
            # what is retried and when.
            if not (self._env.pause_announced and reason == "HTTP 429"):
                self._env.note(f"note: {record.getMessage()}")
        elif record.levelno >= logging.WARNING:
            self._env.note(f"warning: {record.getMessage()}")
        elif self._env.args.debug:
            self._env.note(f"debug: {record.getMessage()}")


def _seconds(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 0.05 else f"{value:.1f}"
