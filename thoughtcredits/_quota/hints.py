"""The one reading of the server's hints: ``X-RateLimit-*``, ``Retry-After`` and ``retryAfter``.

Everything here turns header text into seconds *from now*, once, when the answer is read; the
throttle then keeps monotonic deadlines only. Epoch timestamps are read against the server's
own ``Date`` when the local wall clock disagrees with it by more than ten minutes (a clock
stepped by NTP or a restored VM), so a skewed client still reads "10 s from now" as 10 s.

Values that cannot be true are dropped: a ``Remaining`` over the ``Limit``, a reset in the
past, and (logged once) a reset or delay more than a day ahead, such as an epoch in
milliseconds.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal

import attrs
from multidict import istr

__all__ = [
    "MAX_AHEAD",
    "NO_QUOTA",
    "X_RATELIMIT_LIMIT",
    "Delay",
    "Reading",
    "at_least",
    "parse_retry_after",
    "read_quota",
    "server_delay",
]

logger = logging.getLogger("thoughtcredits")

MAX_AHEAD = 86_400.0
"""A reset or delay further ahead than a day is a broken header (an epoch in milliseconds)."""
# A wall clock this far from the server's Date has been stepped (or was never set): epochs
# are then read against Date. Closer than that, the local clock is the more precise one (Date
# is in whole seconds), and a test's fake server clock may run ahead of its real Date.
_SKEW = 600.0
# Below this, and more than a day from now, an X-RateLimit-Reset is seconds from now (some
# servers send a delta, as the IETF RateLimit fields do), not an epoch.
_DELTA_BELOW = 1e8

X_RATELIMIT_LIMIT = istr("X-RateLimit-Limit")
_REMAINING, _RESET = istr("X-RateLimit-Remaining"), istr("X-RateLimit-Reset")
_RETRY_AFTER, _DATE = istr("Retry-After"), istr("Date")
_warned: set[str] = set()


@attrs.frozen
class Reading:
    """One answer's ``X-RateLimit-*`` headers, each None when absent or implausible."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    """Seconds from when the answer was read until the window resets."""
    reset_at: float | None = None
    """The same moment in epoch seconds, as the server said it (for showing)."""
    slack: float = 0.0
    """How much sooner than ``reset`` it may really come (1 s for a whole-second header)."""

    @property
    def empty(self) -> bool:
        """True when the answer said nothing usable about the quota."""
        return self.limit is None and self.remaining is None and self.reset is None


NO_QUOTA = Reading()
"""What :func:`read_quota` returns (this very object) for an answer with no quota header."""


@attrs.frozen
class Delay:
    """A delay the server asked for: ``seconds`` from now, up to ``slack`` s too long."""

    seconds: float
    slack: float = 0.0


def _implausible(kind: str, text: str) -> None:
    if kind not in _warned:
        _warned.add(kind)
        logger.warning(
            "ignoring the server's %s %r: more than a day ahead (milliseconds?); backing off "
            "instead (logged once)",
            kind, text[:40],
        )  # fmt: skip


def _whole(text: str | None, high: int) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()):  # int() also reads "1_0" and other digits
        return None
    value = int(text)
    return value if value <= high else None


# ASCII digits only, as RFC 9110 writes them: float() also reads "1_0" and non-ASCII digits.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _number(text: str) -> float:
    text = text.strip()
    if _NUMBER.fullmatch(text) is None:
        return math.nan
    value = float(text)
    return value if math.isfinite(value) else math.nan


def _reference(headers: Mapping[str, str], wall: float) -> tuple[float, float]:
    """Epoch "now" to read the server's timestamps against, and its uncertainty (seconds).

    The local wall clock, unless the server's ``Date`` says it is off by more than ``_SKEW``
    (10 minutes): then the server's clock (whole seconds, so half a second either way).
    """
    text = headers.get(_DATE)
    if text is not None:
        date = _http_date(text)
        if date is not None and abs(date + 0.5 - wall) > _SKEW:
            return date + 0.5, 0.5
    return wall, 0.0


@functools.lru_cache(maxsize=8)  # the same Date (whole seconds) on every answer of a second
def _http_date(text: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds_until(text: str, headers: Mapping[str, str], wall: float) -> Delay | None:
    """An ``X-RateLimit-Reset`` as seconds from now: None if absent, past or implausible."""
    value = _number(text)
    if not value >= 0:
        return None
    whole = value.is_integer()
    now, unsure = _reference(headers, wall)
    if value < _DELTA_BELOW and abs(value - now) > MAX_AHEAD:  # not an epoch: a delta
        seconds, slack = value, 1.0 if whole else 0.0
    else:
        seconds, slack = value - now, (1.0 if whole else 0.0) + unsure
    if seconds > MAX_AHEAD:
        _implausible("X-RateLimit-Reset", text)
        return None
    return Delay(seconds, slack) if seconds > 0 else None


def read_quota(headers: Mapping[str, str], *, wall: float) -> Reading:
    """Parse ``X-RateLimit-Limit/Remaining/Reset``, dropping values that cannot be true.

    A ``Remaining`` over the ``Limit`` contradicts itself, so neither is believed. A ``Reset``
    under 10^8 is read as seconds from now (some servers send a delta, not a timestamp); one
    in the past says nothing.
    """
    limit_text = headers.get(X_RATELIMIT_LIMIT)
    remaining_text = headers.get(_REMAINING)
    reset_text = headers.get(_RESET)
    if limit_text is None and remaining_text is None and reset_text is None:
        return NO_QUOTA  # a server that sets no quota: the common case stays cheap
    limit = _whole(limit_text, 10**9) or None
    remaining = _whole(remaining_text, 10**9)
    if limit is not None and remaining is not None and remaining > limit:
        limit = remaining = None
    reset = None if reset_text is None else _seconds_until(reset_text, headers, wall)
    if reset is None:
        return Reading(limit, remaining)
    return Reading(limit, remaining, reset.seconds, wall + reset.seconds, reset.slack)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), else None.

    Garbage, zero, negative, NaN and infinite values, and dates in the past, give None: the
    server gave no usable delay, so the caller backs off instead of retrying at once.
    """
    if value is None:
        return None
    value = value.strip()
    seconds = _number(value)
    if math.isnan(seconds):
        when = _http_date(value)
        seconds = math.nan if when is None else when - now
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def server_delay(headers: Mapping[str, str], body: object = None, *, wall: float) -> Delay | None:
    """The delay a refusal asks for: ``Retry-After``, then ``X-RateLimit-Reset``, then the
    body's ``retryAfter``; None when none of them is usable (the caller backs off).
    """
    text = headers.get(_RETRY_AFTER)
    if text is not None:
        now, unsure = _reference(headers, wall)
        seconds = parse_retry_after(text, now=now)
        if seconds is not None:
            if seconds <= MAX_AHEAD:
                if _number(text) != seconds:  # an HTTP date: whole seconds, read by a clock
                    return Delay(seconds, 1.0 + unsure)
                return Delay(seconds, 1.0 if seconds.is_integer() else 0.0)
            _implausible("Retry-After", text)
    reset = headers.get(_RESET)
    if reset is not None:
        delay = _seconds_until(reset, headers, wall)
        if delay is not None:
            return delay
    value = body.get("retryAfter") if isinstance(body, dict) else None
    # Bounded before float(): a 4,000-digit integer would overflow it.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    if not 0 < value <= MAX_AHEAD:
        return None
    return Delay(float(value), 1.0 if float(value).is_integer() else 0.0)


def at_least(seconds: float | None, floor: float) -> float | None:
    """A server delay worth honouring: None (back off instead) when it is below ``floor``."""
    return seconds if seconds is not None and seconds >= floor else None
