"""Pure ledger checks: every inconsistency provable from one account's batches and actions.

An action moves ``amount`` credits from a source to a target, and records each side's balance
before (``…BalanceIn``) and after (``…BalanceOut``). So, per entity, in time order:

* ``amount_mismatch``: target ``out - in`` and source ``in - out`` must equal ``amount``;
* ``chain_break``: an entity's next ``in`` must equal its previous ``out``;
* ``batch_balance``: a batch's balances must not be negative, its ``current_balance`` must
  equal the last balance its ledger recorded (zero for a batch with no ledger rows at all),
  and it cannot have allocated more credits than were ever credited to it;
* ``duplicate``: an action or batch listed twice. It is counted once, so one repeated row
  cannot also break a chain or double a total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Context, Decimal
from enum import StrEnum
from itertools import pairwise
from uuid import UUID

import attrs

from .._models import CreditAction, CreditBatch

__all__ = ["AccountCheck", "AccountTotals", "Discrepancy", "DiscrepancyKind", "check_account"]

_ZERO = Decimal(0)
# Explicit context methods: exact for any amount the API can send, whatever the caller's
# thread-local decimal context is (the default 28 digits would round and cry wolf).
_EXACT = Context(prec=200)


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = _ZERO
    for value in values:
        total = _EXACT.add(total, value)
    return total


class DiscrepancyKind(StrEnum):
    """What a :class:`Discrepancy` found; a ``str``, so ``kind == "chain_break"`` holds."""

    AMOUNT_MISMATCH = "amount_mismatch"
    """An action's ``amount`` differs from its source's or target's balance change."""
    CHAIN_BREAK = "chain_break"
    """An entity's next ``…BalanceIn`` differs from its previous ``…BalanceOut``."""
    BATCH_BALANCE = "batch_balance"
    """A batch's balances are negative or contradict its ledger."""
    DUPLICATE = "duplicate"
    """The same action or batch id was listed twice (it is counted once)."""


@attrs.frozen
class Discrepancy:
    """One inconsistency found by reconciliation.

    Attributes:
        kind: what was found (a :class:`DiscrepancyKind`).
        account_id: the credit account it belongs to.
        entity_id: the batch, source or target whose balances disagree.
        action_id: the action at fault, when there is one.
        expected: the value the rest of the ledger implies.
        actual: the value recorded.
        message: a sentence a person can act on.
    """

    kind: DiscrepancyKind
    account_id: UUID
    entity_id: UUID | None
    action_id: UUID | None
    expected: Decimal | None
    actual: Decimal | None
    message: str


@attrs.frozen
class AccountTotals:
    """Totals for one account, from its batches and actions."""

    batches: int
    credit_actions: int
    debit_actions: int
    credited: Decimal
    debited: Decimal
    current_balance: Decimal
    """Sum of the batches' ``current_balance``."""


@attrs.frozen
class _Event:
    """One side (source or target) of an action, as that entity saw it."""

    at: datetime
    action_id: UUID
    balance_in: Decimal
    balance_out: Decimal


def _sides(action: CreditAction) -> Iterable[tuple[UUID, Decimal | None, Decimal | None, int]]:
    # (entity, in, out, sign): a target gains the amount, a source loses it.
    if action.target is not None:
        yield action.target, action.target_balance_in, action.target_balance_out, 1
    if action.source is not None:
        yield action.source, action.source_balance_in, action.source_balance_out, -1


def _order(events: list[_Event]) -> list[_Event]:
    """Time order; among equal timestamps prefer the event that continues the chain."""
    events.sort(key=lambda e: (e.at, str(e.action_id)))
    ordered: list[_Event] = []
    index = 0
    while index < len(events):
        end = index
        while end < len(events) and events[end].at == events[index].at:
            end += 1
        group = events[index:end]
        while group:
            previous = ordered[-1].balance_out if ordered else None
            pick = next((e for e in group if e.balance_in == previous), group[0])
            group.remove(pick)
            ordered.append(pick)
        index = end
    return ordered


class AccountCheck:
    """Streams one account's actions in any order, then checks them against its batches.

    Only a small event per balance change is kept, never the actions themselves, so an
    account with millions of actions is checked in bounded memory per entity.
    """

    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id
        self.discrepancies: list[Discrepancy] = []
        self._events: dict[UUID, list[_Event]] = defaultdict(list)
        self._credited_to: dict[UUID, Decimal] = defaultdict(lambda: _ZERO)
        self._counts = [0, 0]
        self._sums = [_ZERO, _ZERO]
        # Each action id seen, with the hash of what was listed under it: a repeat is
        # reported and then ignored, and a repeat with other contents says so.
        self._seen: dict[UUID, int] = {}

    def add(self, action: CreditAction) -> None:
        """Check one action's amounts and remember its balance changes.

        An action whose id was already added is reported as a ``duplicate`` and not counted
        again.
        """
        first = self._seen.get(action.id)
        if first is not None:
            self._repeated(action, same=first == hash(action))
            return
        self._seen[action.id] = hash(action)
        debit = action.action == "debit"
        self._counts[debit] += 1
        self._sums[debit] = _EXACT.add(self._sums[debit], action.amount)
        for entity, balance_in, balance_out, sign in _sides(action):
            if balance_in is None or balance_out is None:
                continue
            change = _EXACT.subtract(balance_out, balance_in)
            if sign < 0:
                change = _EXACT.minus(change)
            if change != action.amount:
                self._flag(
                    DiscrepancyKind.AMOUNT_MISMATCH, entity, action.id, change, action.amount,
                    f"action {action.id}: amount {action.amount} but {entity}'s balance "
                    f"moved {balance_in} -> {balance_out}",
                )  # fmt: skip
            self._events[entity].append(
                _Event(action.timestamp, action.id, balance_in, balance_out)
            )
            if sign > 0:
                self._credited_to[entity] = _EXACT.add(self._credited_to[entity], action.amount)

    def _repeated(self, action: CreditAction, *, same: bool) -> None:
        entity = action.source if action.source is not None else action.target
        contents = "" if same else ", with different contents"
        self._flag(
            DiscrepancyKind.DUPLICATE, entity, action.id, None, None,
            f"action {action.id} was listed twice{contents}; it is counted once",
        )  # fmt: skip

    def _unique(self, batches: Sequence[CreditBatch]) -> list[CreditBatch]:
        unique: dict[UUID, CreditBatch] = {}
        for batch in batches:
            first = unique.get(batch.id)
            if first is None:
                unique[batch.id] = batch
            else:
                contents = "" if first == batch else ", with different contents"
                self._flag(
                    DiscrepancyKind.DUPLICATE, batch.id, None, None, None,
                    f"batch {batch.id} was listed twice{contents}; it is counted once",
                )  # fmt: skip
        return list(unique.values())

    def finish(self, batches: Sequence[CreditBatch]) -> AccountTotals:
        """Check the balance chains and the batches; return the account's totals.

        A batch listed twice is reported as a ``duplicate`` and counted once.
        """
        batches = self._unique(batches)
        last_out: dict[UUID, Decimal] = {}
        for entity, events in self._events.items():
            ordered = _order(events)
            for before, after in pairwise(ordered):
                if after.balance_in != before.balance_out:
                    self._flag(
                        DiscrepancyKind.CHAIN_BREAK, entity, after.action_id, before.balance_out,
                        after.balance_in,
                        f"{entity}: action {after.action_id} starts from {after.balance_in} "
                        f"but the previous action {before.action_id} left {before.balance_out}",
                    )  # fmt: skip
            last_out[entity] = ordered[-1].balance_out
        for batch in batches:
            # A batch with no ledger row at all has had nothing moved into it: its ledger
            # ends at zero, so any credits it holds are unaccounted for.
            self._check_batch(batch, last_out.get(batch.id, _ZERO))
        return AccountTotals(
            batches=len(batches),
            credit_actions=self._counts[0],
            debit_actions=self._counts[1],
            credited=self._sums[0],
            debited=self._sums[1],
            current_balance=_sum(b.current_balance for b in batches),
        )

    def _flag(
        self,
        kind: DiscrepancyKind,
        entity: UUID | None,
        action_id: UUID | None,
        expected: Decimal | None,
        actual: Decimal | None,
        message: str,
    ) -> None:
        self.discrepancies.append(
            Discrepancy(kind, self.account_id, entity, action_id, expected, actual, message)
        )

    def _check_batch(self, batch: CreditBatch, ledger_balance: Decimal) -> None:
        def flag(expected: Decimal | None, actual: Decimal, message: str) -> None:
            self._flag(
                DiscrepancyKind.BATCH_BALANCE,
                batch.id,
                None,
                expected,
                actual,
                f"batch {batch.id}: {message}",
            )

        for name in ("starting_balance", "current_balance", "allocated_credits"):
            value: Decimal = getattr(batch, name)
            if value < 0:
                flag(_ZERO, value, f"{name} is negative ({value})")
        if batch.current_balance != ledger_balance:
            ends = (
                f"its ledger ends at {ledger_balance}"
                if batch.id in self._events
                else "it has no ledger rows"
            )
            flag(ledger_balance, batch.current_balance,
                 f"current_balance {batch.current_balance} but {ends}")  # fmt: skip
        issued = self._credited_to.get(batch.id, batch.starting_balance)
        if batch.allocated_credits > issued:
            flag(
                issued,
                batch.allocated_credits,
                f"allocated {batch.allocated_credits} of only {issued} credits ever issued",
            )


def check_account(
    account_id: UUID, batches: Sequence[CreditBatch], actions: Iterable[CreditAction]
) -> tuple[list[Discrepancy], AccountTotals]:
    """Every discrepancy provable from one account's batches and actions, and its totals."""
    check = AccountCheck(account_id)
    for action in actions:
        check.add(action)
    account_totals = check.finish(batches)
    return check.discrepancies, account_totals
