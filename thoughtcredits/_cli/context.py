"""``Env``: what a command needs at run time, each part doing one job.

* :class:`~.output.notes.Notes`: lines on stderr and the one progress display;
* :class:`~.output.signals.SdkSignals`: the SDK's retries and pauses (typed hook events), as
  notes;
* :func:`~.connect.connect`: the client, from the command line or the environment;
* :mod:`.output.writers`: the output format and its writer.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from .._client import Client
from .connect import connect
from .output.formats import Writer
from .output.notes import RICH_MISSING, Notes
from .output.progress import Progress
from .output.signals import SdkSignals
from .output.writers import single_writer
from .redact import secret_values

__all__ = ["RICH_MISSING", "Env"]

T = TypeVar("T")


class Env:
    """The run-time context of one command.

    Args:
        args: the parsed command line.
        sleep: the coroutine the client waits with (tests inject one that does not sleep).
        argv: the command line as given, to print the exact command that resumes an export.
    """

    def __init__(
        self,
        args: argparse.Namespace,
        *,
        sleep: Callable[[float], Awaitable[None]] | None,
        argv: Sequence[str] = (),
    ) -> None:
        self.args = args
        self.argv = tuple(argv)
        self.notes = Notes(getattr(args, "progress", None), secret_values(self.argv))
        self.signals = SdkSignals(
            self.notes, debug=bool(getattr(args, "debug", False)), sleep=sleep
        )

    def note(self, text: str) -> None:
        """Print a line on stderr (above the progress bar while one is shown)."""
        self.notes.note(text)

    def progress(
        self, label: str, *, stdout_used: bool | None = None, unit: str = "items"
    ) -> AbstractContextManager[Progress | None]:
        """The progress display for ``label`` (see :meth:`Notes.progress`).

        Args:
            label: what is counted.
            unit: what one count is, plural (items, accounts).
            stdout_used: the command's data goes to stdout; default: when there is no
                ``-o FILE``.
        """
        if stdout_used is None:
            stdout_used = getattr(self.args, "output", None) in (None, "-")
        return self.notes.progress(label, stdout_used=stdout_used, unit=unit)

    def client(self, **options: Any) -> Client:
        """A client from ``--base-url``/``--api-key`` or the environment."""
        return connect(self.args, self.signals.sleep, [self.signals.hook], **options)

    @contextmanager
    def output(self, cls: type[Any]) -> Iterator[Writer]:
        """A writer for one ``cls`` object; with ``-o FILE`` the file appears when complete."""
        with single_writer(self.args, self.notes, cls) as writer:
            yield writer

    async def write_answer(self, cls: type[T], send: Callable[[Client], Awaitable[T]]) -> int:
        """Send one request with the command's client, write its answer; the exit code (0).

        The output is opened first, so a bad ``-o`` path fails before the request can change
        anything on the server.
        """
        with self.output(cls) as writer:
            async with self.client() as client:
                answer = await send(client)
            writer.write(answer)
        return 0
