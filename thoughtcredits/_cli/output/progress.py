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
from datetime import timedelta
from typing import Any, Literal, Protocol, TextIO

__all__ = ["MARKS", "Outcome", "PlainProgress", "Progress", "RichProgress"]

Outcome = Literal["done", "failed", "interrupted", "refused"]
MARKS: dict[str, str] = {"done": "✓", "failed": "✗", "interrupted": "✗ interrupted"}
"""How the last frame says the command ended ("refused", a bad command line, erases it)."""


class Progress(Protocol):
    """What a long command reports to: the count so far, and notes."""

    def start(self, label: str, unit: str = "items") -> None:
        """Show the display, counting ``unit`` (a plural noun: items, accounts)."""

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


def _rate(items: int, elapsed: float, unit: str = "items") -> str:
    if elapsed <= 0:
        return f"- {unit}/s"
    rate = items / elapsed
    # A slow count (accounts, each many requests) keeps a decimal rather than showing 0.
    return f"{rate:,.1f} {unit}/s" if 0 < rate < 10 else f"{rate:,.0f} {unit}/s"


class PlainProgress:
    """A one-line progress report without rich."""

    _INTERVAL = 0.2

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._label = ""
        self._unit = "items"
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
            f"{self._label}: {self._items:,}{total} {self._unit}, {pages}"
            f"{_rate(self._items, elapsed, self._unit)}, {elapsed:.1f}s"
        )

    def start(self, label: str, unit: str = "items") -> None:
        """Start the clock."""
        self._label = label
        self._unit = unit
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
    """A rich progress bar: spinner, bar (when the total is known), items, pages, rate.

    The line is kept from wrapping, with its numbers whole: the bar takes the room the text
    leaves (up to 20 cells, one cell short of the edge so an echoed ^C cannot wrap it) and
    goes when there is none; when even the text does not fit, the page count goes, then the
    rate (80 columns fit a million items with room to spare).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.cells import cell_len
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn
        from rich.table import Column
        from rich.text import Text

        console = Console(file=stream if stream is not None else sys.stderr, highlight=False)

        class MarkColumn(SpinnerColumn):
            """A spinner while running; then ✓ or ✗ (the description says "interrupted")."""

            def render(self, task: Any) -> Any:
                outcome = task.fields.get("outcome")
                if outcome is None:
                    return super().render(task)
                if outcome == "done":
                    return Text("✓", style="green")
                return Text("✗", style="red")

        def stats(task: Any, room: int) -> list[str]:
            """Items, pages, rate and time ("" for what does not fit in ``room``)."""
            parts = [
                f"{int(task.completed):,}{task.fields['of']} {task.fields['unit']}",
                task.fields["pages"],
                _rate(int(task.completed), task.elapsed or 0.0, task.fields["unit"]),
                str(timedelta(seconds=int(task.elapsed or 0))),
            ]
            for drop in (None, 1, 2):  # the page count, then the rate, go first
                if drop is not None:
                    parts[drop] = ""
                if len(" ".join(part for part in parts if part)) <= room:
                    break
            return parts

        def room(task: Any) -> int:
            # The mark, the description and three gaps; one cell spare at the edge.
            return console.width - 1 - 1 - cell_len(task.description) - 3

        class Bar(BarColumn):
            """As wide as the text leaves room for; none for a total never known (a frozen
            pulse would look half done) or when there is no room."""

            def render(self, task: Any) -> Any:
                if task.total is None and task.fields.get("outcome") is not None:
                    return Text("")
                text = " ".join(part for part in stats(task, room(task)) if part)
                self.bar_width = min(20, room(task) - len(text))
                return Text("") if self.bar_width < 4 else super().render(task)

        class StatsColumn(ProgressColumn):
            """Items written (of the total), pages, items per second, time: never wrapped."""

            def render(self, task: Any) -> Text:
                items, pages, rate, elapsed = stats(task, room(task))
                text = Text(" ".join(part for part in (items, pages) if part))
                for part, style in ((rate, "cyan"), (elapsed, "progress.elapsed")):
                    if part:
                        text.append(" " if text else "").append(part, style=style)
                return text

        self._progress = Progress(
            MarkColumn(),
            TextColumn("{task.description}", table_column=Column(no_wrap=True)),
            Bar(),
            StatsColumn(table_column=Column(no_wrap=True)),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: Any = None

    def start(self, label: str, unit: str = "items") -> None:
        """Show the bar."""
        self._task = self._progress.add_task(
            label, total=None, pages="", of="", outcome=None, unit=unit
        )
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
        """Print a line above the bar, unbroken: the terminal wraps it, so a command in it
        (the one that resumes an export) is copied whole, not as several lines."""
        self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

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
