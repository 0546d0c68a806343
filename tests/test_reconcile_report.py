"""ReconciliationReport: read back from its JSON exactly, and merged from shard reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from thoughtcredits.reconcile import (
    AccountReport,
    AccountTotals,
    Discrepancy,
    DiscrepancyKind,
    ReconciliationReport,
)

CLIENT = UUID("00000000-0000-0000-0000-0000000000c1")
T0 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def account(*, found: int = 0, changed: bool = False) -> AccountReport:
    """An account report with ``found`` discrepancies and amounts no float can hold."""
    account_id = uuid4()
    totals = AccountTotals(
        batches=2, credit_actions=3, debit_actions=4, credited=Decimal("100.000000000001"),
        debited=Decimal("0.1"), current_balance=Decimal("99.900000000001"),
    )  # fmt: skip
    kind = DiscrepancyKind.CHAIN_BREAK
    problems = tuple(
        Discrepancy(kind, account_id, uuid4(), uuid4(), Decimal("1e-12"), Decimal(0), f"n{n}")
        for n in range(found)
    )
    return AccountReport(account_id, totals, problems, changed_during_scan=changed)


def report(*accounts: AccountReport, start: int = 0, end: int = 1) -> ReconciliationReport:
    """A report of ``accounts`` that ran from T0 + start s to T0 + end s."""
    return ReconciliationReport(
        CLIENT, T0 + timedelta(seconds=start), T0 + timedelta(seconds=end), accounts
    )


def test_an_unknown_discrepancy_kind_is_refused() -> None:
    """A kind this SDK does not know is an error, never a plain string passed along."""
    raw = report(account(found=1)).to_json().replace(b'"chain_break"', b'"chain_brake"')
    with pytest.raises(ValueError, match="chain_brake"):
        ReconciliationReport.from_json(raw)


def test_from_json_reads_back_exactly_what_to_json_wrote() -> None:
    """Every field comes back equal: exact Decimals, enum kinds, UUIDs, aware datetimes."""
    original = report(account(found=2), account(changed=True), account())
    again = ReconciliationReport.from_json(original.to_json())
    assert again == original
    assert again.discrepancies[0].kind is DiscrepancyKind.CHAIN_BREAK
    assert again.accounts[0].totals.credited == Decimal("100.000000000001")
    assert again.changed_during_scan == (original.accounts[1].account_id,)
    assert ReconciliationReport.from_json(original.to_json().decode()) == original


def test_from_json_of_a_report_written_before_changed_during_scan_existed() -> None:
    """A 0.1 report has no ``changedDuringScan``: it reads as False."""
    raw = report(account()).to_json().replace(b',"changedDuringScan":false', b"")
    assert b"changedDuringScan" not in raw
    assert ReconciliationReport.from_json(raw).accounts[0].changed_during_scan is False


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"not json", "JSON"),
        (b"[]", "ReconciliationReport"),
        (b'{"clientId": "x"}', "client_id"),
    ],
)
def test_from_json_refuses_what_is_not_a_report(raw: bytes, names: str) -> None:
    """A ValueError that says what is wrong, never a half-read report."""
    with pytest.raises(ValueError, match=names):
        ReconciliationReport.from_json(raw)


def test_merge_joins_shards_in_order_with_the_whole_run_s_times() -> None:
    """Accounts in shard order, started at the first start and finished at the last finish."""
    first, second, third = account(), account(found=1), account()
    merged = ReconciliationReport.merge(
        [report(first, second, start=5, end=9), report(third, start=2, end=7)]
    )
    assert merged.accounts == (first, second, third)
    assert (merged.started_at, merged.finished_at) == (
        T0 + timedelta(seconds=2), T0 + timedelta(seconds=9)
    )  # fmt: skip
    assert merged.discrepancies == second.discrepancies
    assert not merged.ok


def test_merge_refuses_an_account_twice_other_clients_and_nothing() -> None:
    """Overlapping shards, two clients or no report at all are errors, never a guess."""
    twice = account()
    with pytest.raises(ValueError, match=f"account {twice.account_id} is reported twice"):
        ReconciliationReport.merge([report(twice), report(account(), twice)])
    other = ReconciliationReport(uuid4(), T0, T0, ())
    with pytest.raises(ValueError, match="2 different clients"):
        ReconciliationReport.merge([report(account()), other])
    with pytest.raises(ValueError, match="no reports"):
        ReconciliationReport.merge([])


def test_ok_is_false_for_an_account_that_could_not_be_verified() -> None:
    """No discrepancy, but an account changed during every read: not ok."""
    assert report(account(), account()).ok
    unsettled = report(account(), account(changed=True))
    assert unsettled.discrepancies == ()
    assert not unsettled.ok


def test_from_json_refuses_an_account_twice_and_a_key_twice() -> None:
    """Both loaded before: an account listed twice (counted twice by whoever sums the report)
    and a repeated key, of which JSON silently keeps the last (a clientId swapped by an edit)."""
    one = account(found=1)
    doubled = report(one).to_json().replace(b'"accounts":[', b'"accounts":[' + _json(one) + b",")
    with pytest.raises(ValueError, match=f"^not a reconciliation report: account {one.account_id} "
                       "is reported twice$"):  # fmt: skip
        ReconciliationReport.from_json(doubled)
    other = b'{"clientId":"00000000-0000-0000-0000-0000000000c2",'
    swapped = report(one).to_json().replace(b"{", other, 1)
    with pytest.raises(ValueError, match="not JSON \\(key 'clientId' appears twice in one obj"):
        ReconciliationReport.from_json(swapped)
    assert ReconciliationReport.from_json(report(one).to_json()) == report(one)


def _json(one: AccountReport) -> bytes:
    whole = report(one).to_json()
    return whole[whole.index(b'"accounts":[') + len(b'"accounts":[') : -2]
