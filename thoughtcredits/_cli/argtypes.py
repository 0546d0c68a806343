"""Argument types for argparse: each checks one value before anything is sent.

A bad value raises ``argparse.ArgumentTypeError``; the parser turns it into a one-line
``error: argument --name: ...`` and exit code 2.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from .. import _args

__all__ = [
    "amount",
    "iso_datetime",
    "port",
    "positive_int",
    "rate_limit",
    "uuid",
    "whole_amount",
]


def uuid(value: str) -> str:
    """A canonical UUID string (the SDK's own check, so the wording matches)."""
    try:
        return _args.uuid_arg("value", value).lower()
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(_drop_name(exc)) from None


def amount(value: str) -> Decimal:
    """A non-negative, finite amount, kept exact as ``Decimal`` (never a float)."""
    try:
        return _args.amount("value", _decimal(value))
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(_drop_name(exc)) from None


def whole_amount(value: str) -> Decimal:
    """A non-negative whole amount, e.g. a batch's ``currentBalance``."""
    try:
        return _args.amount("value", _decimal(value), integral=True)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(_drop_name(exc)) from None


def _shown(value: str) -> str:
    """An argument as an error line quotes it: at most 40 characters, and its length past that."""
    return f"{value[:40]!r}" + (f" ({len(value):,} characters)" if len(value) > 40 else "")


# ASCII digits only (int() also reads "1_0" and fullwidth digits), and few enough for int().
_WHOLE_RE = re.compile(r"[+-]?[0-9]{1,30}")


def _whole_number(value: str, minimum: int, problem: str) -> int:
    if _WHOLE_RE.fullmatch(value.strip()) is None:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(value)}")
    number = int(value)
    if number < minimum:
        raise argparse.ArgumentTypeError(f"{problem}, got {number}")
    if number > _args.MAX_INTEGER:  # named here, by its option, not later by the SDK's argument
        raise argparse.ArgumentTypeError(f"must be at most 2**53, got {number}")
    return number


def positive_int(value: str) -> int:
    """A whole number of at least 1."""
    return _whole_number(value, 1, "must be at least 1")


def non_negative_int(value: str) -> int:
    """A whole number of at least 0."""
    return _whole_number(value, 0, "must not be negative")


def port(value: str) -> int:
    """A TCP port, 0 to 65535 (0: the system picks a free one)."""
    number = _whole_number(value, 0, "must not be negative")
    if number > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535, got {number}")
    return number


def iso_datetime(value: str) -> datetime:
    """An ISO 8601 date or datetime; a value without a timezone is read as UTC.

    ``2027-01-01`` means midnight UTC; ``2027-01-01T12:00:00Z`` and offsets like ``+02:00``
    are accepted as written.
    """
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or datetime like 2027-01-01 or "
            f"2027-01-01T12:00:00Z, got {_shown(value)}"
        ) from None
    # The API speaks UTC; a bare local-looking time would otherwise depend on the machine.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# ASCII digits, at most 10: \d would read fullwidth digits, and int() of thousands of digits
# fails with a message that does not say which argument.
_RATE_RE = re.compile(r"([0-9]{1,10})(?:/([0-9]{1,10}))?")


def rate_limit(value: str) -> tuple[int, int]:
    """``PER_MIN[/BURST]`` as ``(per_minute, burst)``; burst defaults to a sixth of the rate."""
    match = _RATE_RE.fullmatch(value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected PER_MIN or PER_MIN/BURST, got {_shown(value)}")
    per_minute = int(match[1])
    burst = int(match[2]) if match[2] is not None else max(1, per_minute // 6)
    if per_minute < 1 or burst < 1:
        raise argparse.ArgumentTypeError(f"rate and burst must be at least 1, got {_shown(value)}")
    return per_minute, burst


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"value: not a number: {_shown(value)}") from None


def _drop_name(exc: BaseException) -> str:
    # The SDK prefixes its messages with the Python argument name; argparse adds the flag.
    message = str(exc)
    return message.removeprefix("value: ")
