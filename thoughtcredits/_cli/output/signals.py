"""The SDK's retries, rate-limit pauses and warnings, shown as notes on stderr.

Retries and pauses arrive as typed events through the client's instrumentation hooks
(:class:`~thoughtcredits.RetryEvent`, :class:`~thoughtcredits.PauseEvent`); no log text is
parsed. Only the SDK's warnings (and, with ``--debug``, its per-request records) are shown
from the ``thoughtcredits`` logger, as they are.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from ..._events import Event, PauseEvent, RetryEvent
from ..._exceptions import RateLimitError
from ..._http.retry import RetryPolicy
from .notes import Notes

__all__ = ["SdkSignals"]

_sdk_logger = logging.getLogger("thoughtcredits")


class SdkSignals:
    """Turns what the SDK reports into notes, and notes real rate-limit waits.

    Args:
        notes: where to print.
        debug: also show the SDK's debug records (every request).
        sleep: the coroutine to wait with (tests inject one that does not sleep).
        retry: the client's retry policy (for "attempt 1 of 4").
    """

    def __init__(
        self,
        notes: Notes,
        *,
        debug: bool,
        sleep: Callable[[float], Awaitable[None]] | None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._notes = notes
        self._debug = debug
        self._sleep = sleep
        self.retry = retry if retry is not None else RetryPolicy()
        self.pause_announced = False
        """Set by a :class:`PauseEvent`; the next real wait is noted with its length."""

    def hook(self, event: Event) -> None:
        """The client's instrumentation hook."""
        if isinstance(event, PauseEvent):
            self.pause_announced = True
        elif isinstance(event, RetryEvent):
            # A 429 pauses every request: that is noted once, when the wait really happens.
            if isinstance(event.error, RateLimitError) and self.pause_announced:
                return
            self._notes.note(
                f"note: retrying {event.method} {event.path} in {event.wait:.2f}s "
                f"(attempt {event.attempt} of {self.retry.attempts} failed: {event.reason})"
            )

    async def sleep(self, seconds: float) -> None:
        """The client's sleep: waits, noting a rate-limit pause when one was announced."""
        # Noting the wait here, not when the pause is announced, means a note is printed only
        # when a request really waits, with the time it waits.
        if seconds > 0 and self.pause_announced:
            self.pause_announced = False
            self._notes.note(f"note: rate limited; waiting {_seconds(seconds)} s")
        await (asyncio.sleep if self._sleep is None else self._sleep)(seconds)

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Show the SDK's warnings (and debug records with ``--debug``) while the command runs."""
        handler = _NoteHandler(self._notes, debug=self._debug)
        previous = _sdk_logger.level
        _sdk_logger.addHandler(handler)
        _sdk_logger.setLevel(logging.DEBUG if self._debug else logging.WARNING)
        try:
            yield
        finally:
            _sdk_logger.removeHandler(handler)
            _sdk_logger.setLevel(previous)


class _NoteHandler(logging.Handler):
    """Warnings as ``warning:`` notes; with --debug, per-request records as ``debug:`` notes.

    INFO records (retries, pauses) are skipped: the hooks report those, typed.
    """

    def __init__(self, notes: Notes, *, debug: bool) -> None:
        super().__init__(logging.DEBUG)
        self._notes = notes
        self._debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self._notes.note(f"warning: {record.getMessage()}")
        elif self._debug and record.levelno < logging.INFO:
            self._notes.note(f"debug: {record.getMessage()}")


def _seconds(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 0.05 else f"{value:.1f}"
