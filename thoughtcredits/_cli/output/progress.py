"""The progress display on stderr: items, pages and rate while a listing streams.

rich draws a live bar when it is installed; otherwise a plain line is rewritten in place on a
terminal, or printed once at the end when stderr is a file. Notes printed during a listing go
through the display so they appear above the bar instead of tearing it.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

__all__ = ["PlainProgress", "Progress", "RichProgress"]


class Progress(Protocol):
    """What a listing reports to: one call per page, and notes."""

    def start(self, label: str) -> None:
        """Show the display."""

    def advance(self, items: int, *, total: int | None, pages: int = 1) -> None:
        """Count ``items`` (``pages`` pages of them); ``total`` is ``pageInfo.total``."""

    def print(self, text: str) -> None:
        """Print a line above the display."""

    def finish(self) -> None:
        """Mark the work complete at what was counted (e.g. ``--max-items`` stopped it)."""

    def stop(self) -> None:
        """Leave the final state on screen."""


def _pages(count: int) -> str:
    # An export counts items, not pages: then no page count is shown at all.
    if count == 0:
        return ""
    return f"{count:,} page" if count == 1 else f"{count:,} pages"


def _rate(items: int, elapsed: float) -> str:
    return f"{items / elapsed:,.0f} items/s" if elapsed > 0 else "- items/s"


class PlainProgress:
    """A one-line progress report without rich."""

    _INTERVAL = 0.2

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._label = ""
        self._items = 0
        self._pages = 0
        self._total: int | None = None
        self._started = time.monotonic()
        self._drawn = 0.0

    def _text(self) -> str:
        total = f"/{self._total:,}" if self._total is not None else ""
        elapsed = time.monotonic() - self._started
        pages = f"{_pages(self._pages)}, " if self._pages else ""
        return (
            f"{self._label}: {self._items:,}{total} items, {pages}"
            f"{_rate(self._items, elapsed)}, {elapsed:.1f}s"
        )

    def start(self, label: str) -> None:
        """Start the clock."""
        self._label = label
        self._started = time.monotonic()

    def advance(self, items: int, *, total: int | None, pages: int = 1) -> None:
        """Count items and pages; redraw at most five times a second on a terminal."""
        self._items += items
        self._pages += pages
        self._total = total if total is not None else self._total
        now = time.monotonic()
        if self._tty and now - self._drawn >= self._INTERVAL:
            self._drawn = now
            self._stream.write("\r" + self._text())
            self._stream.flush()

    def print(self, text: str) -> None:
        """Print a line, then redraw the progress line under it."""
        if self._tty and self._drawn:
            self._stream.write("\r\033[K")
        self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self) -> None:
        """The count is final: the last line shows it as the total."""
        self._total = self._items

    def stop(self) -> None:
        """Print the final line."""
        self._stream.write(("\r" if self._tty else "") + self._text() + "\n")
        self._stream.flush()


class RichProgress:
    """A rich progress bar: spinner, bar (when the total is known), items, pages, rate."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            """Items per second over the whole run."""

            def render(self, task: Any) -> Text:
                return Text(_rate(int(task.completed), task.elapsed or 0.0), style="cyan")

        console = Console(file=stream if stream is not None else sys.stderr, highlight=False)
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}{task.fields[of]} items"),
            TextColumn("{task.fields[pages]}"),
            RateColumn(),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: Any = None
        self._pages = 0

    def start(self, label: str) -> None:
        """Show the bar."""
        self._task = self._progress.add_task(label, total=None, pages=_pages(0), of="")
        self._progress.start()

    def advance(self, items: int, *, total: int | None, pages: int = 1) -> None:
        """Count items and pages."""
        self._pages += pages
        fields: dict[str, Any] = {"pages": _pages(self._pages)}
        if total is not None:
            fields.update(total=total, of=f"/{total:,}")
        self._progress.update(self._task, advance=items, **fields)

    def print(self, text: str) -> None:
        """Print a line above the bar."""
        self._progress.console.print(text, markup=False, highlight=False)

    def finish(self) -> None:
        """Fill the bar at what was counted, so an early stop does not look half done."""
        if self._task is not None:
            completed = self._progress.tasks[0].completed
            self._progress.update(self._task, total=completed, of=f"/{int(completed):,}")

    def stop(self) -> None:
        """Complete the bar and leave it on screen."""
        task = self._progress.tasks[0] if self._progress.tasks else None
        if task is not None and task.total is None:
            # An unknown total ends at what was read, so the bar shows as finished.
            self._progress.update(self._task, total=task.completed)
        self._progress.stop()
