"""``tc.to_arrow``: SDK models as an Arrow table with exact decimal amounts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

import thoughtcredits as tc

pa = pytest.importorskip("pyarrow")

T0 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def _batch(balance: str) -> tc.CreditBatch:
    return tc.CreditBatch(
        id=UUID(int=1), starting_balance=Decimal(balance), current_balance=Decimal(balance),
        credit_account_id=UUID(int=2), allocated_credits=Decimal(0),
        status=tc.CreditBatchStatus.ACTIVE, created_at=T0, updated_at=T0, name="=x",
    )  # fmt: skip


def test_amounts_are_exact_decimal128_and_times_utc() -> None:
    """Every amount comes back as the same Decimal; timestamps keep UTC; ids are text."""
    values = ["0.000000000001", "12.5", "99999999999999999999999999.999999999999"]
    table = tc.to_arrow([_batch(value) for value in values])
    assert table.schema.field("currentBalance").type == pa.decimal128(38, 12)
    assert table.schema.field("createdAt").type == pa.timestamp("us", tz="UTC")
    assert table.column("currentBalance").to_pylist() == [Decimal(v) for v in values]
    assert table.column("createdAt").to_pylist()[0] == T0
    assert table.column("id").to_pylist()[0] == str(UUID(int=1))
    assert table.column("status").to_pylist()[0] == "active"
    assert table.column("name").to_pylist()[0] == "=x"


def test_an_amount_too_wide_for_decimal128_is_refused_not_rounded() -> None:
    """27 integer digits do not fit decimal128(38, 12): a ValueError names the limit."""
    with pytest.raises(ValueError, match="at most 26 integer digits"):
        tc.to_arrow([_batch("1" + "0" * 26)])


def test_nested_models_and_lists() -> None:
    """An account's notifyEmails and sublicenses become Arrow lists (of structs)."""
    account = tc.CreditAccount(
        id=UUID(int=3), current_balance=Decimal(5), status=tc.CreditAccountStatus("active"),
        type=tc.CreditAccountType("client"), notify_emails=("a@example.com",), created_at=T0,
        updated_at=T0, sublicenses=(tc.Sublicense(id=UUID(int=4), deleted=False),),
    )  # fmt: skip
    row = tc.to_arrow([account]).to_pylist()[0]
    assert row["notifyEmails"] == ["a@example.com"]
    assert row["sublicenses"] == [{"id": str(UUID(int=4)), "deleted": False}]


def test_empty_input_needs_the_class() -> None:
    """No items and no cls: a clear error; with cls, an empty table with the schema."""
    with pytest.raises(ValueError, match="pass cls="):
        tc.to_arrow([])
    assert tc.to_arrow([], tc.CreditAction).num_rows == 0


def test_import_thoughtcredits_never_needs_pyarrow() -> None:
    """Without pyarrow, the SDK imports and to_arrow says which extra to install."""
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "import thoughtcredits as tc\n"
        "try:\n    tc.to_arrow([], tc.CreditBatch)\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'thoughtcredits[parquet]'" in result.stdout
