"""``Notes``: short lines on stderr, routed above the progress display while one is shown.

Streams are looked up on ``sys`` when used, never cached at import, so redirections (tests,
``contextlib.redirect_stderr``) apply.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..errors import UsageError
from ..redact import scrub
from .progress import Outcome, PlainProgress, Progress, RichProgress
from .safe import safe
from .table import rich_available

__all__ = ["RICH_MISSING", "Notes"]

RICH_MISSING = (
    "note: tables and progress bars look better with rich: pip install 'thoughtcredits[cli]'"
)


class Notes:
    """Notes and the one progress display of a command.

    Args:
        progress: ``--progress``/``--no-progress``, or None to decide from the terminals.
        secrets: the API key as given (see :func:`..redact.secret_values`), shown as
            ``[redacted]`` in every note, as in every error: a note may quote an argument
            (``--type``) that a slip of the paste filled with the key.
    """

    def __init__(self, progress: bool | None, secrets: Sequence[str] = ()) -> None:
        self._wanted = progress
        self._secrets = tuple(secrets)
        self._display: Progress | None = None
        self._warned_rich = False

    def note(self, text: str) -> None:
        """Print a line on stderr; control characters in it are shown as escapes."""
        text = safe(scrub(text, self._secrets))
        if self._display is not None:
            self._display.print(text)
        else:
            print(text, file=sys.stderr, flush=True)

    def need_rich(self) -> bool:
        """True when rich is installed; otherwise say once how to get it."""
        if rich_available():
            return True
        if not self._warned_rich:
            self._warned_rich = True
            self.note(RICH_MISSING)
        return False

    @contextmanager
    def progress(
        self, label: str, *, stdout_used: bool, unit: str = "items"
    ) -> Iterator[Progress | None]:
        """Show a progress display when wanted; it is stopped on every way out.

        By default a display is shown when stderr is a terminal and the command's data does
        not go to stdout: a bar beside a table would tear it, and beside piped output (which
        may end up on the same terminal, ``| cat``) it would share its lines.

        Args:
            label: what is counted.
            unit: what one count is, plural (items, accounts).
            stdout_used: the command writes its data to stdout.
        """
        wanted = self._wanted
        if wanted is None:
            wanted = sys.stderr.isatty() and not stdout_used
        if not wanted or self._display is not None:
            yield self._display
            return
        display: Progress = RichProgress() if self.need_rich() else PlainProgress(sys.stderr)
        display.start(safe(label), unit)
        self._display = display
        outcome: Outcome = "failed"
        try:
            yield display
            outcome = "done"
        except (KeyboardInterrupt, asyncio.CancelledError, BrokenPipeError):
            outcome = "interrupted"
            raise
        except UsageError:
            outcome = "refused"
            raise
        finally:
            self._display = None
            display.stop(outcome)
