"""Argument checks that run before anything is sent, and the ``NOT_GIVEN`` sentinel.

Every check names the argument, so ``ValueError("client_id: ...")`` tells the caller which
one to fix. A request is built only after all of its arguments pass.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final, Literal, TypeAlias
from uuid import UUID

from ._serde.scalars import decimal_hook

__all__ = [
    "MAX_INTEGER",
    "NOT_GIVEN",
    "UNSET",
    "Amount",
    "Id",
    "NotGiven",
    "Unset",
    "amount",
    "aware_datetime",
    "changed",
    "given",
    "header_map",
    "integer",
    "json_body",
    "non_empty_str",
    "query_map",
    "string_list",
    "uuid_arg",
]

Id: TypeAlias = str | UUID
"""An identifier: a ``uuid.UUID`` or its string form."""

Amount: TypeAlias = int | Decimal
"""A credit amount: an ``int`` or a ``Decimal`` (never a float)."""


class NotGiven(enum.Enum):
    """Type of :data:`NOT_GIVEN`: "left out", or "unchanged".

    The one convention of the SDK: an argument that is ``NOT_GIVEN`` is left out of the
    request (``with_options``: keeps the client's setting), and ``None`` means "none". A new
    batch or account with no name has none either way, so creates leave a None out too, and
    callers with optional values can pass them straight through::

        await client.credit_batches.create(cid, starting_balance=10, name=row.get("name"))

    An update refuses None: clearing a field is not something the API documents.
    """

    NOT_GIVEN = "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
"""The default of optional arguments: the field is left out of the request body."""

# The 0.1 names, kept so code written against them keeps working.
Unset = NotGiven
UNSET: Final = NOT_GIVEN


def given(value: object) -> bool:
    """Whether a create's optional argument has a value (neither ``NOT_GIVEN`` nor ``None``)."""
    return value is not NOT_GIVEN and value is not None


def changed(name: str, value: object) -> bool:
    """Whether an update's optional argument was given; ``NOT_GIVEN`` leaves it unchanged.

    None would ask the server to clear the field, which the API does not document, so it is
    refused before anything is sent.
    """
    if value is NOT_GIVEN:
        return False
    if value is None:
        raise TypeError(
            f"{name}: None would clear it, which the API does not support; leave {name} out "
            "(or pass NOT_GIVEN) to keep it unchanged"
        )
    return True


_SHOWN = 40
_MAX_DECIMALS = 12
_MAX_INTEGER_DIGITS = 30
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP header name (RFC 9110 token)
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def uuid_arg(name: str, value: object) -> str:
    """A UUID (or its string) as the canonical lowercase string the API expects."""
    if isinstance(value, UUID):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a UUID or UUID string, got {type(value).__name__}")
    canonical = _canonical_uuid(value) if len(value) == 36 else None  # cache ids, not junk
    if canonical is None:
        raise ValueError(f"{name}: expected a UUID like 123e4567-e89b-…, got {_show(value)}")
    return canonical


@lru_cache(maxsize=1024)
def _canonical_uuid(value: str) -> str | None:
    # The same ids are passed on every call of a bulk job; checking each anew was a cost.
    try:
        parsed = UUID(value)
    except ValueError:
        return None
    # UUID() also accepts braces, "urn:uuid:" and hex without dashes; the API wants one form.
    return str(parsed) if str(parsed) == value.lower() else None


def non_empty_str(name: str, value: object) -> str:
    """A string with at least one non-space character."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name}: must not be empty")
    if "\x00" in value:
        raise ValueError(f"{name}: must not contain NUL characters")
    return _text(name, value)


def header_map(name: str, value: object) -> dict[str, str]:
    """Extra request headers: names are HTTP tokens, values one line of text.

    A newline in a value would let it add headers of its own (or a body) to the request.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping of header names to values")
    headers: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
            raise ValueError(f"{name}: not a header name: {_show(key)}")
        if not isinstance(text, str):
            raise TypeError(f"{name}[{key!r}]: expected a string, got {type(text).__name__}")
        if any(char in text for char in "\r\n\x00"):
            raise ValueError(f"{name}[{key!r}]: must be one line (no CR, LF or NUL)")
        headers[key] = _text(f"{name}[{key!r}]", text)
    return headers


def query_map(name: str, value: object) -> dict[str, str] | None:
    """Query parameters of ``Client.request``: string names and values of valid text."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping of strings to strings")
    query: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise TypeError(f"{name}: expected strings, got {_show(key)}: {_show(text)}")
        query[_text(f"{name} name", key)] = _text(f"{name}[{key!r}]", text)
    return query


def _text(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name}: is not valid text (a lone surrogate?)") from None
    return value


def string_list(name: str, value: object) -> list[str]:
    """A list of non-empty strings (a bare string is refused, not split into characters)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"{name}: expected a list of strings, got {type(value).__name__}")
    items = list(value)
    for index, item in enumerate(items):
        non_empty_str(f"{name}[{index}]", item)
    return items


def amount(name: str, value: object, *, integral: bool = False) -> Decimal:
    """A non-negative, finite credit amount as ``Decimal``. Floats are refused: they are inexact."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        hint = " (use Decimal or int: floats are inexact)" if isinstance(value, float) else ""
        raise TypeError(f"{name}: expected an int or Decimal, got {type(value).__name__}{hint}")
    # Decimal() would also take "1_000", Arabic-Indic digits and " 12 ": a string amount must
    # be written the way the API writes numbers.
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        raise ValueError(f"{name}: not a number: {_show(value)}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name}: not a number: {_show(value)}") from None
    if not number.is_finite():
        raise ValueError(f"{name}: must be finite, got {number}")
    if number < 0:
        raise ValueError(f"{name}: must not be negative, got {number}")
    if integral and number != number.to_integral_value():
        raise ValueError(f"{name}: must be a whole number, got {number}")
    if number.adjusted() >= _MAX_INTEGER_DIGITS:
        raise ValueError(f"{name}: more than {_MAX_INTEGER_DIGITS} integer digits ({_show(value)})")
    _, digits, exponent = number.as_tuple()
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if isinstance(exponent, int) and exponent + trailing_zeros < -_MAX_DECIMALS:
        # 1E-9999999 is finite and positive, but would go on the wire as a 10 MB number.
        raise ValueError(f"{name}: more than {_MAX_DECIMALS} decimal places ({_show(value)})")
    return number


MAX_INTEGER = 2**53  # the largest count or size sent: every JSON reader holds it exactly


def integer(name: str, value: object, *, minimum: int = 0) -> int:
    """A whole number no smaller than ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {value}")
    if value > MAX_INTEGER:
        raise ValueError(f"{name}: too large ({value})")
    return value


def aware_datetime(name: str, value: object) -> datetime:
    """A timezone-aware datetime; a naive one is ambiguous, so it is refused."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: must be timezone-aware (e.g. tzinfo=datetime.UTC)")
    if not math.isfinite(value.timestamp()):  # pragma: no cover - datetime bounds this
        raise ValueError(f"{name}: out of range")
    return value


_JSON_DEPTH = 64


def json_body(name: str, value: object) -> object:
    """A JSON body of ``Client.request``, checked whole before anything is sent.

    Numbers are ``int`` or finite ``Decimal`` within the SDK's bounds (30 integer digits, 12
    places), never an inexact float; keys are strings; at most 64 levels deep.
    """
    problem = _json_problem(value, 0)
    if problem is not None:
        path, reason = problem
        where = "".join(f"[{key!r}]" for key in reversed(path))
        where = f"at {name}{where[:_SHOWN]}{'…' if len(where) > _SHOWN else ''}, " if path else ""
        raise ValueError(f"{name}: cannot be sent as JSON: {where}{reason}")
    return value


def _json_problem(value: object, depth: int) -> tuple[list[object], str] | None:
    """What is wrong with ``value`` and where (the path from the inside out), or None."""
    if value is None or isinstance(value, bool | UUID | date):
        naive = isinstance(value, datetime) and value.utcoffset() is None
        return ([], "a naive datetime is ambiguous: give it a tzinfo") if naive else None
    if isinstance(value, str):
        try:
            _text("json", value)
        except ValueError:
            return [], "a string is not valid text (a lone surrogate?)"
        return None
    if isinstance(value, float):
        return [], f"a float ({value!r}) is inexact: use Decimal or int"
    if isinstance(value, int | Decimal):
        try:
            decimal_hook(value, Decimal)
        except ValueError:
            return [], f"{_show(value)} is not finite within 30 integer digits and 12 places"
        return None
    if not isinstance(value, Mapping | list | tuple):
        return [], f"{type(value).__name__} is not a JSON value"
    if depth >= _JSON_DEPTH:
        return [], f"nested more than {_JSON_DEPTH} deep"
    is_map = isinstance(value, Mapping)
    for key, item in value.items() if isinstance(value, Mapping) else enumerate(value):
        if is_map and not isinstance(key, str):
            return [], f"a key is not a string: {_show(key)}"
        problem = _json_problem(item, depth + 1)
        if problem is not None:
            problem[0].append(key)
            return problem
    return None
