"""The records of the fake server's ledger: clients, accounts, batches and action rows.

Ids are canonical lowercase UUID strings; times are epoch milliseconds. Actions are compact
:class:`ActionRow` tuples (a seeded ledger holds millions); an action's id comes from its seq.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, Inexact
from heapq import merge
from operator import itemgetter
from typing import Final, NamedTuple

__all__ = [
    "REGISTER_HINT",
    "AccountRecord",
    "ActionRow",
    "Amount",
    "BatchRecord",
    "ClientRecord",
    "InvalidChangeError",
    "LedgerError",
    "UnknownEntityError",
    "add",
    "canonical_id",
    "exact_amount",
    "subtract",
    "to_ms",
]

REGISTER_HINT: Final = "register it with POST /_fake/clients or ledger.add_client()"
"""How to make an unknown client id known (said in every "no client" error)."""

Amount = int | Decimal
"""Integral amounts are stored as ``int`` (written as JSON integers), others as ``Decimal``."""


class LedgerError(Exception):
    """A change the ledger refuses; ``field`` names the request field at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class UnknownEntityError(LedgerError):
    """No client, account or batch with that id (HTTP 404)."""


class InvalidChangeError(LedgerError):
    """The change breaks a ledger rule (HTTP 400)."""


class ActionRow(NamedTuple):
    """One credit action, as compact as the millions in a seeded ledger need."""

    seq: int
    action: str
    amount: Amount
    target: str | None
    target_type: str | None
    target_balance_in: Amount | None
    target_balance_out: Amount | None
    initiator: str | None
    initiator_type: str | None
    source: str | None
    source_type: str | None
    source_balance_in: Amount | None
    source_balance_out: Amount | None
    timestamp: int
    """Epoch milliseconds; also the action's ``updatedAt``."""


@dataclass(slots=True, eq=False)
class BatchRecord:
    """A credit batch. ``seq`` is its stable sort key; times are epoch milliseconds."""

    id: str
    client_id: str
    account_id: str
    name: str | None
    seq: int
    starting_balance: Amount
    current_balance: Amount
    allocated_credits: Amount
    created_at: int
    updated_at: int
    expires_on: int | None = None
    status: str = "active"


@dataclass(slots=True, eq=False)
class AccountRecord:
    """A credit account with its batches and its actions, kept per action type in seq order."""

    id: str
    client_id: str
    name: str
    seq: int
    created_at: int
    updated_at: int
    notify_emails: list[str] = field(default_factory=list)
    license_ids: list[str] = field(default_factory=list)
    type: str = "client"
    status: str = "active"
    batch_days_until_expire: int | None = None
    minimum_batch_amount: int | None = None
    credit_batch_name: str | None = None
    batches: list[BatchRecord] = field(default_factory=list)
    actions: dict[str, list[ActionRow]] = field(default_factory=dict)

    @property
    def current_balance(self) -> Amount:
        """The sum of the batches' current balances."""
        total: Amount = 0
        for batch in self.batches:
            total = add(total, batch.current_balance)
        return total

    def all_actions(self) -> list[ActionRow]:
        """Every action of the account, of every type, in seq (= time) order."""
        return list(merge(*self.actions.values(), key=itemgetter(0)))


@dataclass(slots=True, eq=False)
class ClientRecord:
    """A client (Panorama). ``admin_user_id`` initiates every change made through the API."""

    id: str
    admin_user_id: str
    accounts: list[AccountRecord] = field(default_factory=list)
    batches: list[BatchRecord] = field(default_factory=list)


def canonical_id(value: uuid.UUID | str) -> str:
    """The lowercase canonical string of a UUID given as ``UUID`` or text."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Decimal's default 28 digits would round; amounts must add up digit for digit.
_EXACT = Context(prec=10_000, traps=[Inexact])


def add(a: Amount, b: Amount) -> Amount:
    """``a + b`` exactly."""
    if type(a) is int and type(b) is int:
        return a + b
    return exact_amount(_EXACT.add(a, b))


def subtract(a: Amount, b: Amount) -> Amount:
    """``a - b`` exactly."""
    if type(a) is int and type(b) is int:
        return a - b
    return exact_amount(_EXACT.subtract(a, b))


def exact_amount(value: Amount) -> Amount:
    """``int`` for an integral value, else the exact ``Decimal``."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def to_ms(value: datetime) -> int:
    """Epoch milliseconds of ``value`` (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(milliseconds=1)
