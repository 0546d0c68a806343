"""The progress display on stderr: items written, pages, rate, and how the command ended.

rich draws a live bar when it is installed; otherwise a plain line is rewritten in place on a
terminal, or printed once at the end when stderr is a file. The count is always what was
written (set, not added up, so it cannot drift), with the total when the server gives one.
The last frame stays as one line, marked ✓ on success, ✗ on an error, "interrupted" on
Ctrl-C or SIGTERM. Notes printed while it runs go above it instead of tearing it.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Literal, Protocol, TextIO

__all__ = ["MARKS", "Outcome", "PlainProgress", "Progress", "RichProgress"]

Outcome = Literal["done", "failed", "interrupted", "refused"]
MARKS: dict[str, str] = {"done": "✓", "failed": "✗", "interrupted": "✗ interrupted"}
"""How the last frame says the command ended ("refused", a bad command line, erases it)."""


class Progress(Protocol):
    """What a long command reports to: the count so far, and notes."""

    def start(self, label: str) -> None:
        """Show the display."""

    def update(self, done: int, *, total: int | None = None, pages: int = 0) -> None:
        """``done`` items written so far (``pages`` pages read); ``total`` when known."""

    def print(self, text: str) -> None:
        """Print a line above the display."""

    def stop(self, outcome: Outcome) -> None:
        """Leave the final state on screen as one line, marked with the ``outcome``."""


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

    def update(self, done: int, *, total: int | None = None, pages: int = 0) -> None:
        """Set the count; redraw at most five times a second on a terminal."""
        self._items = done
        self._pages = max(self._pages, pages)
        self._total = total if total is not None else self._total
        now = time.monotonic()
        if self._tty and now - self._drawn >= self._INTERVAL:
            self._drawn = now
            self._stream.write("\r\033[K" + self._text())
            self._stream.flush()

    def print(self, text: str) -> None:
        """Print a line, then redraw the progress line under it."""
        if self._tty and self._drawn:
            self._stream.write("\r\033[K")
        self._stream.write(text + "\n")
        if self._tty and self._drawn:
            self._stream.write(self._text())
        self._stream.flush()

    def stop(self, outcome: Outcome) -> None:
        """Print the final line, marked with how the command ended."""
        if outcome == "refused":
            if self._tty and self._drawn:
                self._stream.write("\r\033[K")
                self._stream.flush()
            return
        if outcome == "done":
            self._total = self._items  # complete at what was written (--max-items included)
        start = "\r\033[K" if self._tty else ""
        self._stream.write(f"{start}{self._text()} {MARKS[outcome]}\n")
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

        class MarkColumn(SpinnerColumn):
            """A spinner while running; then ✓ or ✗ (the description says "interrupted")."""

            def render(self, task: Any) -> Any:
                outcome = task.fields.get("outcome")
                if outcome is None:
                    return super().render(task)
                if outcome == "done":
                    return Text("✓", style="green")
                return Text("✗", style="red")

        class Bar(BarColumn):
            """No bar for a total never known (a frozen pulse would look half done)."""

            def render(self, task: Any) -> Any:
                if task.total is None and task.fields.get("outcome") is not None:
                    return Text("")
                return super().render(task)

        class RateColumn(ProgressColumn):
            """Items per second over the whole run."""

            def render(self, task: Any) -> Text:
                return Text(_rate(int(task.completed), task.elapsed or 0.0), style="cyan")

        console = Console(file=stream if stream is not None else sys.stderr, highlight=False)
        self._progress = Progress(
            MarkColumn(),
            TextColumn("{task.description}"),
            Bar(bar_width=20),  # the line stays short of the edge: an echoed ^C cannot wrap it
            TextColumn("{task.completed:,}{task.fields[of]} items"),
            TextColumn("{task.fields[pages]}"),
            RateColumn(),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: Any = None

    def start(self, label: str) -> None:
        """Show the bar."""
        self._task = self._progress.add_task(label, total=None, pages="", of="", outcome=None)
        self._progress.start()

    def update(self, done: int, *, total: int | None = None, pages: int = 0) -> None:
        """Set the count (and the total, once known)."""
        fields: dict[str, Any] = {"completed": done}
        if pages:
            fields["pages"] = _pages(pages)
        if total is not None:
            fields.update(total=total, of=f"/{total:,}")
        self._progress.update(self._task, **fields)

    def print(self, text: str) -> None:
        """Print a line above the bar."""
        self._progress.console.print(text, markup=False, highlight=False)

    def stop(self, outcome: Outcome) -> None:
        """Mark the bar with the outcome and leave it on screen, one line."""
        if outcome == "refused":  # nothing was done: the error line says why
            self._progress.live.transient = True
            self._progress.stop()
            return
        task = self._progress.tasks[0]
        fields: dict[str, Any] = {"outcome": outcome}
        if outcome == "interrupted":
            fields["description"] = f"interrupted {task.description}"
        if outcome == "done":
            # Complete at what was written (an early stop, --max-items, is a success too).
            fields.update(total=task.completed, of=f"/{int(task.completed):,}")
        self._progress.update(self._task, **fields)
        self._progress.stop()
