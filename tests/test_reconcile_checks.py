"""The pure reconciliation checks: each planted inconsistency is found, nothing else is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import attrs
import pytest

from thoughtcredits import CreditAction, CreditBatch, CreditBatchStatus
from thoughtcredits.reconcile._checks import check_account

ACCOUNT = UUID("00000000-0000-0000-0000-00000000000a")
BATCH = UUID("00000000-0000-0000-0000-00000000000b")
LEARNER = UUID("00000000-0000-0000-0000-00000000000c")
CLIENT = UUID("00000000-0000-0000-0000-00000000000d")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def credit(n: int, amount: int, balance_in: int, balance_out: int) -> CreditAction:
    """A credit into the batch at minute n."""
    at = T0 + timedelta(minutes=n)
    return CreditAction(
        id=uuid4(), client=CLIENT, action="credit", amount=Decimal(amount), timestamp=at,
        updated_at=at, target=BATCH, target_type="creditBatch",
        target_balance_in=Decimal(balance_in), target_balance_out=Decimal(balance_out),
    )  # fmt: skip


def debit(n: int, amount: int, balance_in: int, balance_out: int) -> CreditAction:
    """A debit from the batch to a learner at minute n."""
    at = T0 + timedelta(minutes=n)
    return CreditAction(
        id=uuid4(), client=CLIENT, action="debit", amount=Decimal(amount), timestamp=at,
        updated_at=at, target=LEARNER, target_type="user", source=BATCH,
        source_type="creditBatch", source_balance_in=Decimal(balance_in),
        source_balance_out=Decimal(balance_out),
    )  # fmt: skip


def batch(current: int, *, starting: int = 100, allocated: int = 0) -> CreditBatch:
    """The batch as the API reports it."""
    return CreditBatch(
        id=BATCH, starting_balance=Decimal(starting), current_balance=Decimal(current),
        credit_account_id=ACCOUNT, allocated_credits=Decimal(allocated),
        status=CreditBatchStatus.ACTIVE, created_at=T0, updated_at=T0,
    )  # fmt: skip


CLEAN = [credit(0, 100, 0, 100), debit(1, 30, 100, 70), credit(2, 10, 70, 80)]


def test_consistent_ledger_has_no_discrepancy() -> None:
    """A ledger whose chain, amounts and batch agree is reported clean, with exact totals."""
    found, totals = check_account(ACCOUNT, [batch(80, allocated=30)], reversed(CLEAN))
    assert found == []
    assert (totals.credit_actions, totals.debit_actions) == (2, 1)
    assert (totals.credited, totals.debited) == (Decimal(110), Decimal(30))
    assert totals.current_balance == Decimal(80)


@pytest.mark.parametrize(
    ("actions", "the_batch", "kinds"),
    [
        pytest.param(
            [credit(0, 100, 0, 100), debit(1, 30, 90, 60)],
            batch(60, allocated=30),
            ["chain_break"],
            id="debit-starts-from-wrong-balance",
        ),
        pytest.param(
            [credit(0, 100, 0, 100), debit(1, 25, 100, 70)],
            batch(70, allocated=30),
            ["amount_mismatch"],
            id="amount-differs-from-source-change",
        ),
        pytest.param(
            [credit(0, 100, 0, 90)],
            batch(90),
            ["amount_mismatch"],
            id="amount-differs-from-target-change",
        ),
        pytest.param(CLEAN, batch(75, allocated=30), ["batch_balance"], id="batch-off-ledger"),
        pytest.param(CLEAN, batch(80, allocated=500), ["batch_balance"], id="over-allocated"),
        pytest.param(
            [credit(0, 0, 0, 0), debit(1, 5, 0, -5)],
            batch(-5, starting=0),
            ["batch_balance"],
            id="negative-current-balance",
        ),
        pytest.param([], batch(50, starting=50), ["batch_balance"], id="no-ledger-rows"),
        pytest.param(
            [*CLEAN, CLEAN[1]], batch(80, allocated=30), ["duplicate"], id="action-listed-twice"
        ),
    ],
)
def test_each_inconsistency_is_found_alone(
    actions: list[CreditAction], the_batch: CreditBatch, kinds: list[str]
) -> None:
    """Every planted inconsistency is reported with its kind, and nothing else is."""
    found, _ = check_account(ACCOUNT, [the_batch], actions)
    assert [d.kind for d in found] == kinds
    assert all(d.account_id == ACCOUNT for d in found)


def test_chain_break_names_the_action_and_both_balances() -> None:
    """A chain break says which action starts wrong, from what, and what it expected."""
    bad = debit(1, 30, 90, 60)
    found, _ = check_account(ACCOUNT, [batch(60, allocated=30)], [credit(0, 100, 0, 100), bad])
    (d,) = found
    assert (d.entity_id, d.action_id, d.expected, d.actual) == (BATCH, bad.id, 100, 90)
    assert str(bad.id) in d.message


def test_equal_timestamps_are_ordered_by_the_chain() -> None:
    """Two actions in the same instant are not a break when one continues the other."""
    first, second = debit(1, 10, 100, 90), debit(1, 20, 90, 70)
    found, _ = check_account(
        ACCOUNT, [batch(70, allocated=30)], [second, credit(0, 100, 0, 100), first]
    )
    assert found == []


def test_actions_without_balances_are_counted_but_not_chained() -> None:
    """A side with no recorded balances cannot break a chain; its action is still totalled."""
    bare = CreditAction(
        id=uuid4(), client=CLIENT, action="debit", amount=Decimal(5), timestamp=T0,
        updated_at=T0, target=LEARNER,
    )  # fmt: skip
    found, totals = check_account(ACCOUNT, [], [bare])
    assert found == []
    assert totals.debited == Decimal(5)


def test_a_repeated_action_is_one_duplicate_and_counted_once() -> None:
    """The same action twice: one ``duplicate`` naming it and its batch, totals as if once."""
    repeated = CLEAN[1]
    found, totals = check_account(ACCOUNT, [batch(80, allocated=30)], [*CLEAN, repeated])
    (d,) = found
    assert (d.kind, d.entity_id, d.action_id) == ("duplicate", BATCH, repeated.id)
    assert (d.expected, d.actual) == (None, None)
    assert d.message == f"action {repeated.id} was listed twice; it is counted once"
    assert (totals.debit_actions, totals.debited) == (1, Decimal(30))


def test_an_id_listed_twice_with_other_contents_says_so() -> None:
    """A second action under an id already seen is reported, not counted, whatever it says."""
    other = debit(5, 99, 80, -19)
    other = CreditAction(**{**attrs.asdict(other, recurse=False), "id": CLEAN[1].id})
    found, totals = check_account(ACCOUNT, [batch(80, allocated=30)], [*CLEAN, other])
    assert [(d.kind, d.action_id) for d in found] == [("duplicate", CLEAN[1].id)]
    assert "with different contents" in found[0].message
    assert totals.debited == Decimal(30)


def test_a_batch_listed_twice_is_one_duplicate_and_counted_once() -> None:
    """The batch listing repeating a batch: one ``duplicate``; its balance counts once."""
    found, totals = check_account(ACCOUNT, [batch(80, allocated=30)] * 2, CLEAN)
    assert [(d.kind, d.entity_id, d.action_id) for d in found] == [("duplicate", BATCH, None)]
    assert (totals.batches, totals.current_balance) == (1, Decimal(80))


def test_a_batch_without_ledger_rows_must_hold_nothing() -> None:
    """No ledger rows means the ledger ends at zero: an empty batch is fine, 50 credits not."""
    assert check_account(ACCOUNT, [batch(0, starting=0)], [])[0] == []
    (d,) = check_account(ACCOUNT, [batch(50, starting=50)], [])[0]
    assert (d.kind, d.entity_id, d.expected, d.actual) == ("batch_balance", BATCH, 0, 50)
    assert d.message == f"batch {BATCH}: current_balance 50 but it has no ledger rows"
