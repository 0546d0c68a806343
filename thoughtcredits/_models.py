"""Frozen models for the credits API, with snake_case fields that transliterate the wire names.

The wire format (envelopes, timestamps, exact numbers) lives in ``_serde``, never here; only
the naming rule, :func:`camel`, is here, because :meth:`to_dict` and ``_serde`` both use it.
"""

from __future__ import annotations

import enum
import logging
import weakref
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs

__all__ = [
    "ACTION_TYPES",
    "CreditAccount",
    "CreditAccountStatus",
    "CreditAccountType",
    "CreditAction",
    "CreditBatch",
    "CreditBatchStatus",
    "Page",
    "PageInfo",
    "Sublicense",
    "attribute_names",
    "camel",
]

logger = logging.getLogger("thoughtcredits")

T = TypeVar("T")

_MAX_LOGGED_VALUES = 32


class _OpenEnum(enum.StrEnum):
    """A str enum that keeps values it does not know instead of failing.

    The API may add a status tomorrow; a reconciliation job must keep running and see it.
    An unknown value becomes a pseudo-member whose ``value`` is the raw string and whose
    ``known`` is False. It is logged once per value as a drift alarm, for a bounded number
    of values per enum (a hostile server cannot flood the log).

    Pseudo-members live in the SDK's own weak map, never in the enum class: the class stays
    as defined, and ``Enum(value) is Enum(value)`` holds for every value while either is
    alive. The map holds only what the caller holds, so its memory is bounded by theirs.
    """

    @classmethod
    def _missing_(cls, value: object) -> _OpenEnum | None:
        if not isinstance(value, str):
            return None
        pseudo = _pseudo_members.setdefault(cls, weakref.WeakValueDictionary())
        member = pseudo.get(value)
        if member is not None:
            return member
        member = str.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        pseudo[value] = member
        _log_unknown(cls, value)
        return member

    @property
    def known(self) -> bool:
        """False for a value this SDK version does not know."""
        return type(self).__members__.get(self._name_) is self


_pseudo_members: dict[type[_OpenEnum], weakref.WeakValueDictionary[str, _OpenEnum]] = {}
# The hashes of the unknown values logged: a server's values can be megabytes long.
_logged: dict[type[_OpenEnum], set[int]] = {}


def _log_unknown(cls: type[_OpenEnum], value: str) -> None:
    logged = _logged.setdefault(cls, set())
    if hash(value) in logged or len(logged) > _MAX_LOGGED_VALUES:
        return
    logged.add(hash(value))
    if len(logged) > _MAX_LOGGED_VALUES:
        logger.warning(
            "%s: more than %d unknown values from the API; not logging further ones",
            cls.__name__,
            _MAX_LOGGED_VALUES,
        )
        return
    logger.warning(
        "%s: unknown value %r from the API; passing it through", cls.__name__, value[:64]
    )


class _Model:
    """What every model can do besides hold its fields."""

    __slots__ = ()

    def to_dict(self, *, use_api_names: bool = True) -> dict[str, object]:
        """The model as a dict: the wire's camelCase keys, as in :func:`thoughtcredits.to_json`.

        Values stay what the model holds (``Decimal`` amounts, ``UUID`` ids, aware
        datetimes): nothing is rounded. Nested models become dicts and tuples lists, so
        ``pandas.DataFrame([b.to_dict() for b in batches])`` has one column per field.

        Args:
            use_api_names: camelCase wire names (``currentBalance``); False gives the
                attribute names (``current_balance``).

        >>> import thoughtcredits as tc
        >>> tc.PageInfo(has_more=True, cursor="Mg").to_dict()
        {'hasMore': True, 'cursor': 'Mg', 'perPage': None, 'total': None}
        """
        names = _api_names(type(self)) if use_api_names else attribute_names(type(self))
        return {
            key: _plain(getattr(self, name), use_api_names)
            for name, key in zip(attribute_names(type(self)), names, strict=True)
        }


_NAMES: dict[type[Any], tuple[str, ...]] = {}
_API_NAMES: dict[type[Any], tuple[str, ...]] = {}


def attribute_names(cls: type[Any]) -> tuple[str, ...]:
    """The attrs field names of ``cls``, in order (cached: read per item by exports)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(field.name for field in attrs.fields(cls))
    return names


def camel(name: str) -> str:
    """The wire name of a field: ``starting_balance`` -> ``startingBalance``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _api_names(cls: type[Any]) -> tuple[str, ...]:
    names = _API_NAMES.get(cls)
    if names is None:
        names = _API_NAMES[cls] = tuple(camel(name) for name in attribute_names(cls))
    return names


def _plain(value: object, use_api_names: bool) -> object:
    if isinstance(value, _Model):
        return value.to_dict(use_api_names=use_api_names)
    if isinstance(value, tuple):
        return [_plain(item, use_api_names) for item in value]
    return value


class CreditBatchStatus(_OpenEnum):
    """Status of a credit batch. Unknown values pass through with ``known == False``."""

    ACTIVE = "active"
    ARCHIVED = "archived"


class CreditAccountStatus(_OpenEnum):
    """Status of a credit account. Unknown values pass through with ``known == False``."""

    ACTIVE = "active"
    DELETED = "deleted"


class CreditAccountType(_OpenEnum):
    """Classification of a credit account. Unknown values pass through with ``known == False``."""

    CLIENT = "client"
    COMPANY = "company"


@attrs.frozen
class CreditBatch(_Model):
    """A batch of credits issued to a credit account (``CreditBatch`` on the wire)."""

    id: UUID
    starting_balance: Decimal
    """Credits originally issued in the batch."""
    current_balance: Decimal
    """Credits remaining after allocations and usage."""
    credit_account_id: UUID
    allocated_credits: Decimal
    """Credits from this batch that have been allocated."""
    status: CreditBatchStatus
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    expires_on: datetime | None = None
    """When the batch expires; None means it does not."""
    client_id: UUID | None = None


ACTION_TYPES = ("credit", "debit")
"""The ``actionType`` values the API lists credit actions by (required, case-sensitive)."""


@attrs.frozen
class CreditAction(_Model):
    """One ledger entry: credits moving from a source to a target (``CreditAction``)."""

    id: UUID
    client: UUID
    action: str
    """Open string, e.g. ``"debit"`` or ``"credit"``."""
    amount: Decimal
    timestamp: datetime
    updated_at: datetime
    target: UUID | None = None
    target_type: str | None = None
    target_balance_in: Decimal | None = None
    """The target's balance before the action."""
    target_balance_out: Decimal | None = None
    """The target's balance after the action."""
    initiator: UUID | None = None
    initiator_type: str | None = None
    credit_account_name: str | None = None
    source: UUID | None = None
    source_type: str | None = None
    source_balance_in: Decimal | None = None
    """The source's balance before the action."""
    source_balance_out: Decimal | None = None
    """The source's balance after the action."""


@attrs.frozen
class Sublicense(_Model):
    """A sublicense tied to a credit account. Deleted ones can appear: check ``deleted``."""

    id: UUID
    deleted: bool


@attrs.frozen
class CreditAccount(_Model):
    """A credit account of a client (``CreditAccount`` on the wire)."""

    id: UUID
    current_balance: Decimal
    status: CreditAccountStatus
    type: CreditAccountType
    notify_emails: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    client_id: UUID | None = None
    name: str | None = None
    sublicenses: tuple[Sublicense, ...] | None = None
    batch_days_until_expire: int | None = None
    minimum_batch_amount: int | None = None


@attrs.frozen
class PageInfo(_Model):
    """Cursor pagination metadata (``CursorPageInfo``). Every field may be missing."""

    has_more: bool = False
    cursor: str | None = None
    per_page: int | None = None
    total: int | None = None


@attrs.frozen
class Page(_Model, Generic[T]):
    """One page of a listing.

    Attributes:
        items: the page's items, in server order.
        page_info: the server's pagination metadata for this page.
        request_cursor: the cursor this page was requested with (None for the first page).
            Saving it and passing it as ``cursor=`` later fetches this same page again.
        request_page: the ``page`` number this page was requested with, if any.
        headers: the response's headers (rate-limit headers, request id, ...).
        request_id: the server's request id header, when it sent one.
    """

    items: tuple[T, ...]
    page_info: PageInfo
    request_cursor: str | None = None
    request_page: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False, eq=False)
    request_id: str | None = attrs.field(default=None, eq=False)
