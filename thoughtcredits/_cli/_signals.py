"""The SDK's retries, rate-limit pauses and warnings, shown as notes on stderr."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from ._notes import Notes

__all__ = ["SdkSignals"]

_sdk_logger = logging.getLogger("thoughtcredits")


class SdkSignals:
    """Turns what the SDK reports into notes, and notes real rate-limit waits.

    Args:
        notes: where to print.
        debug: also show the SDK's debug records (every request).
        sleep: the coroutine to wait with (tests inject one that does not sleep).
    """

    def __init__(
        self, notes: Notes, *, debug: bool, sleep: Callable[[float], Awaitable[None]] | None
    ) -> None:
        self._notes = notes
        self._debug = debug
        self._sleep = sleep
        self.pause_announced = False
        """Set when the SDK announces a rate-limit pause; the next real wait is noted."""

    async def sleep(self, seconds: float) -> None:
        """The client's sleep: waits, noting a rate-limit pause when one was announced."""
        # Noting the wait here, not when the SDK announces the pause, means a note is printed
        # only when a request really waits, with the time it waits.
        if seconds > 0 and self.pause_announced:
            self.pause_announced = False
            self._notes.note(f"note: rate limited; waiting {_seconds(seconds)} s")
        await (asyncio.sleep if self._sleep is None else self._sleep)(seconds)

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Route the SDK's log records to notes while the command runs."""
        handler = _NoteHandler(self)
        previous = _sdk_logger.level
        _sdk_logger.addHandler(handler)
        _sdk_logger.setLevel(logging.DEBUG if self._debug else logging.INFO)
        try:
            yield
        finally:
            _sdk_logger.removeHandler(handler)
            _sdk_logger.setLevel(previous)

    def _record(self, record: logging.LogRecord) -> None:
        if getattr(record, "tc_pause", None) is not None:
            self.pause_announced = True
        elif (reason := getattr(record, "tc_reason", None)) is not None:
            # A 429 with a server delay is noted when the client waits; other failures say
            # what is retried and when.
            if not (self.pause_announced and reason == "HTTP 429"):
                self._notes.note(f"note: {record.getMessage()}")
        elif record.levelno >= logging.WARNING:
            self._notes.note(f"warning: {record.getMessage()}")
        elif self._debug:
            self._notes.note(f"debug: {record.getMessage()}")


class _NoteHandler(logging.Handler):
    def __init__(self, signals: SdkSignals) -> None:
        super().__init__(logging.DEBUG)
        self._signals = signals

    def emit(self, record: logging.LogRecord) -> None:
        self._signals._record(record)


def _seconds(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 0.05 else f"{value:.1f}"
