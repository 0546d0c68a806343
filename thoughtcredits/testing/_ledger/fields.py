"""The value rules of the credits wire format: ids, amounts, integers, text and times.

One set of rules serves both doors into the ledger: the server's request checks and the
snapshot loader. Each check raises :class:`FieldError` naming the wire field, which the
server sends as ``400 {"error": "bad_request", "message": "<field>: <problem>"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from .records import Amount, LedgerError, exact_amount

__all__ = [
    "MAX_CLOCK_MS",
    "MAX_DATE_MS",
    "MAX_DAYS",
    "MAX_DECIMALS",
    "MAX_INTEGER_DIGITS",
    "MAX_INT_DIGITS",
    "MAX_SEQ",
    "MIN_DATE_MS",
    "UUID_PATTERN",
    "FieldError",
    "account_settings",
    "amount",
    "integer",
    "kind",
    "number",
    "show",
    "string",
    "string_list",
    "timestamp",
    "uuid_value",
]

MAX_INTEGER_DIGITS: Final = 30
"""Amounts have at most 30 digits before the point (``Decimal.adjusted() <= 29``), the bound
the SDK checks before sending and on what it reads, so the two always agree."""
MAX_DECIMALS: Final = 12
"""... and at most 12 significant decimal places."""
MAX_INT_DIGITS: Final = 18
"""Integer fields and query parameters have at most 18 digits."""
MAX_DAYS: Final = 1_000_000
"""Largest ``batchDaysUntilExpire``: an expiry date must stay within the year 9999."""
MAX_SEQ: Final = 16**11
"""Largest sort key, in a snapshot and in a running ledger alike. An action's id ends in its
seq as 12 hex digits, so seqs must stay below ``16**12``; this bound keeps far from it."""
MIN_DATE_MS: Final = -62_135_596_800_000
"""0001-01-01T00:00:00Z in epoch ms: the earliest ``expiresOn`` the API accepts."""
MAX_DATE_MS: Final = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the latest ``expiresOn`` the API accepts."""
MAX_CLOCK_MS: Final = 32_503_680_000_000
"""3000-01-01T00:00:00Z: the ledger's clock (``createdAt``, action times) stays below it, so
every later write still has a timestamp that can be written."""
_MAX_DIGITS: Final = 100
UUID_PATTERN: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


class FieldError(LedgerError):
    """A value outside its wire format or bounds (HTTP 400); ``field`` names it."""


def show(value: Decimal | int) -> str:
    """A refused number for a message: whole when short, else its start and its length."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


def uuid_value(name: str, value: object) -> str:
    """A canonical lowercase UUID string."""
    if not isinstance(value, str):
        raise FieldError(name, f"must be a UUID string, got {kind(value)}")
    if not UUID_PATTERN.match(value):
        raise FieldError(name, f"not a valid UUID: {value[:60]!r}")
    return value.lower()


def number(name: str, value: object) -> Amount:
    """A JSON number (``int`` when integral, else ``Decimal``) within the amount bounds.

    Checked on the ``Decimal`` before any conversion to ``int``: ``1e700000`` is refused
    in microseconds instead of being expanded to 700,000 digits.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FieldError(name, f"must be a number, got {kind(value)}")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_INTEGER_DIGITS:
            raise FieldError(name, f"too large: more than {MAX_INTEGER_DIGITS} digits")
        return value
    if not value.is_finite():
        raise FieldError(name, "must be a finite number")
    _, digits, exponent = value.as_tuple()
    if len(digits) > _MAX_DIGITS:
        raise FieldError(name, f"too many digits ({show(value)})")
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise FieldError(name, f"too large: more than {MAX_INTEGER_DIGITS} digits ({show(value)})")
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    assert isinstance(exponent, int)  # finite
    if value and exponent + trailing_zeros < -MAX_DECIMALS:
        raise FieldError(name, f"more than {MAX_DECIMALS} decimal places ({show(value)})")
    return exact_amount(value)


def amount(name: str, value: object) -> Amount:
    """A credits amount: a :func:`number` that is not negative."""
    result = number(name, value)
    if result < 0:
        raise FieldError(name, "must not be negative")
    return result


def integer(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A JSON integer (``3.0`` is accepted as 3) of at most 18 digits, within the bounds."""
    result = number(name, value)
    if not isinstance(result, int):
        raise FieldError(name, f"must be an integer, got {show(result)}")
    if abs(result) >= 10**MAX_INT_DIGITS:
        raise FieldError(name, f"too large: more than {MAX_INT_DIGITS} digits")
    if minimum is not None and result < minimum:
        raise FieldError(name, f"must be at least {minimum}")
    if maximum is not None and result > maximum:
        raise FieldError(name, f"must be at most {maximum}")
    return result


def string(name: str, value: object) -> str:
    """A JSON string that is valid Unicode text.

    JSON can spell a lone surrogate (``"\\ud800"``); Python decodes it, but no UTF-8 writer
    (nor the SDK) accepts it, so it is refused here rather than served.
    """
    if not isinstance(value, str):
        raise FieldError(name, f"must be a string, got {kind(value)}")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise FieldError(name, "not valid text (a lone surrogate?)") from None
    return value


def string_list(name: str, value: object) -> list[str]:
    """A JSON array of strings."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError(name, f"must be an array of strings, got {kind(value)}")
    for index, item in enumerate(value):
        string(f"{name}[{index}]", item)
    return list(value)


def timestamp(name: str, value: object) -> datetime:
    """An ISO 8601 timestamp (naive means UTC)."""
    text = string(name, value)
    try:
        parsed = datetime.fromisoformat(text)
        # The UTC moment must exist too: 9999-12-31T23:00-05:00 is past datetime's range.
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FieldError(name, f"not an ISO 8601 timestamp: {text[:60]!r}") from None


def account_settings(
    name: str,
    notify_emails: Iterable[str],
    license_ids: Iterable[str],
    type: str,
    batch_days_until_expire: int | None,
    minimum_batch_amount: int | None,
    credit_batch_name: str | None,
) -> tuple[list[str], list[str]]:
    """A new account's settings checked as the API checks them (for callers in Python, who
    skip the request checks); returns the e-mails and license ids as lists."""
    for label, text in (("name", name), ("type", type), ("creditBatchName", credit_batch_name)):
        if text is not None:
            string(label, text)
    if batch_days_until_expire is not None:
        integer("batchDaysUntilExpire", batch_days_until_expire, minimum=0, maximum=MAX_DAYS)
    if minimum_batch_amount is not None:
        integer("minimumBatchAmount", minimum_batch_amount, minimum=0)
    return string_list("notifyEmails", list(notify_emails)), string_list(
        "licenseIds", list(license_ids)
    )


def kind(value: object) -> str:
    """The JSON type name of a decoded value, for messages."""
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        Decimal: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)
