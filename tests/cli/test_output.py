"""Every output format writes exactly the items the server holds, with exact amounts."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .conftest import API_KEY, Result, ThreadedServer

Cli = Callable[..., Result]


def _seed(fake: ThreadedServer) -> tuple[str, str]:
    """A client with one account holding three batches, one with a fractional balance."""

    def build() -> tuple[str, str]:
        ledger = fake.server.ledger
        cid = ledger.add_client()
        account = ledger.create_account(
            cid,
            name="Training",
            starting_balance=1000,
            notify_emails=["ops@example.com"],
            license_ids=["9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f"],
        )
        ledger.create_batch(
            cid, starting_balance=Decimal("12.50"), credit_account_id=account.id, name="Odd, one"
        )
        top_up = ledger.create_batch(
            cid, starting_balance=300, credit_account_id=account.id, name="Q3 top-up"
        )
        ledger.update_batch(top_up.id, current_balance=275)
        return str(cid), account.id

    return fake.call(build)


def _wire_batches(fake: ThreadedServer, client_id: str) -> list[dict[str, Any]]:
    """The batches exactly as the server sends them (read without the SDK)."""
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{fake.url}/incoming/v2/clients/{client_id}/creditBatches"
        f"?clientId={client_id}&perPage=1000",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body = json.loads(response.read(), parse_float=Decimal)
    (payload,) = body["data"].values()
    items: list[dict[str, Any]] = payload["creditBatches"]
    assert len(items) == 3
    return items


def _cell(value: object) -> str:
    """The expected CSV text: null empty, an amount as its exact value without padding zeros."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def test_jsonl_is_the_wire_items_one_per_line(fake: ThreadedServer, cli: Cli) -> None:
    """jsonl (the default when stdout is not a terminal) writes each server item on its own line."""
    client_id, _ = _seed(fake)
    result = cli("batches", "list", client_id)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert [json.loads(line, parse_float=Decimal) for line in lines] == _wire_batches(
        fake, client_id
    )
    assert result.err == ""


def test_json_is_one_array_of_the_wire_items(fake: ThreadedServer, cli: Cli) -> None:
    """--format json writes one valid JSON array with every item, amounts exact."""
    client_id, _ = _seed(fake)
    result = cli("batches", "list", client_id, "--format", "json")
    assert result.code == 0, result
    assert json.loads(result.out, parse_float=Decimal) == _wire_batches(fake, client_id)
    assert '"startingBalance":12.5,' in result.out
    assert '"startingBalance":1000,' in result.out  # an integer, not 1000.0


def test_json_of_an_empty_listing_is_an_empty_array(fake: ThreadedServer, cli: Cli) -> None:
    """An empty listing in json format is still valid JSON: []."""
    client_id = str(fake.call(fake.server.ledger.add_client))
    result = cli("batches", "list", client_id, "--format", "json")
    assert (result.code, result.out) == (0, "[]\n")


def test_csv_has_wire_names_and_exact_amounts(fake: ThreadedServer, cli: Cli) -> None:
    """--format csv writes a header of wire names and one row per item, null as empty."""
    client_id, _ = _seed(fake)
    result = cli("batches", "list", client_id, "--format", "csv")
    assert result.code == 0, result
    rows = list(csv.DictReader(io.StringIO(result.out)))
    wire = _wire_batches(fake, client_id)
    assert [row["id"] for row in rows] == [item["id"] for item in wire]
    for row, item in zip(rows, wire, strict=True):
        assert row == {key: _cell(item.get(key)) for key in row}
    assert [row["startingBalance"] for row in rows] == ["1000", "12.5", "300"]
    assert rows[1]["name"] == "Odd, one"  # the comma is quoted, not a new column


def test_table_shows_one_row_per_item(fake: ThreadedServer, cli: Cli) -> None:
    """--format table prints a header and one aligned row per item with exact amounts."""
    client_id, _ = _seed(fake)
    result = cli("batches", "list", client_id, "--format", "table")
    assert result.code == 0, result
    lines = [line for line in result.out.splitlines() if line.strip()]
    assert lines[0].split() == [
        "id",
        "name",
        "status",
        "startingBalance",
        "currentBalance",
        "allocatedCredits",
        "expiresOn",
    ]
    rows = [line.split() for line in lines[2:]]
    wire = _wire_batches(fake, client_id)
    assert [row[0] for row in rows] == [item["id"] for item in wire]
    assert rows[1][1:6] == ["Odd,", "one", "active", "12.5", "12.5"]
    assert rows[2][1:7] == ["Q3", "top-up", "active", "300", "275", "25"]


def test_single_object_formats(fake: ThreadedServer, cli: Cli) -> None:
    """A created object is one JSON object, one jsonl line, one CSV row, or a field table."""
    client_id, account_id = _seed(fake)
    base = ("batches", "create", client_id, "--account", account_id, "--starting-balance")
    as_json = json.loads(cli(*base, "7", "--format", "json").out)
    assert (as_json["startingBalance"], as_json["creditAccountId"]) == (7, account_id)
    jsonl = cli(*base, "8", "--format", "jsonl").out.splitlines()
    assert len(jsonl) == 1
    assert json.loads(jsonl[0])["startingBalance"] == 8
    rows = list(csv.DictReader(io.StringIO(cli(*base, "9.25", "--format", "csv").out)))
    assert [row["startingBalance"] for row in rows] == ["9.25"]
    table = cli(*base, "10", "--format", "table").out
    fields = {}
    for line in table.splitlines()[2:]:
        key, _, value = line.strip().partition(" ")
        fields[key] = value.strip()
    assert fields["startingBalance"] == "10"
    assert fields["creditAccountId"] == account_id
    assert fields["expiresOn"] == ""  # null is an empty cell


@pytest.mark.parametrize(("name", "parse"), [("out.csv", "csv"), ("out.json", "json")])
def test_output_file_format_follows_its_extension(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, name: str, parse: str
) -> None:
    """-o FILE writes the file (nothing on stdout) in the format its extension names."""
    client_id, _ = _seed(fake)
    target = tmp_path / name
    result = cli("batches", "list", client_id, "-o", str(target))
    assert (result.code, result.out) == (0, "")
    text = target.read_text()
    if parse == "csv":
        assert len(list(csv.DictReader(io.StringIO(text)))) == 3
    else:
        assert len(json.loads(text)) == 3
    assert list(tmp_path.iterdir()) == [target]  # no .part file left behind


def test_actions_stream_across_pages_in_server_order(fake: ThreadedServer, cli: Cli) -> None:
    """A multi-page listing delivers every action once, in order, with perPage sent."""
    from thoughtcredits.testing import seed_ledger

    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 400, seed=3))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    result = cli("actions", "list", cid, aid, "--type", "debit", "--page-size", "50")
    assert result.code == 0, result
    got = [json.loads(line)["id"] for line in result.out.splitlines()]
    ledger = fake.server.ledger
    expected = [ledger.action_id(row) for row in ledger.actions(aid, "debit")]
    assert got == expected
    assert len(expected) > 150
    listed = [r for r in fake.server.requests if r.route == "list_credit_actions"]
    assert len(listed) == -(-len(expected) // 50)
    assert {r.query["perPage"] for r in listed} == {"50"}
    assert {r.query["actionType"] for r in listed} == {"debit"}


def test_max_items_stops_early(fake: ThreadedServer, cli: Cli) -> None:
    """--max-items N writes exactly the first N items and fetches no page beyond them."""
    from thoughtcredits.testing import seed_ledger

    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 400, seed=3))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    result = cli(
        "actions", "list", cid, aid, "--type", "debit", "--page-size", "50", "--max-items", "60"
    )
    ledger = fake.server.ledger
    expected = [ledger.action_id(row) for row in ledger.actions(aid, "debit")][:60]
    assert [json.loads(line)["id"] for line in result.out.splitlines()] == expected
    assert len([r for r in fake.server.requests if r.route == "list_credit_actions"]) == 2


@pytest.mark.parametrize(
    "data",
    [
        {"amount": Decimal("12.50"), "whole": Decimal("1000"), "exp": Decimal("1E+3")},
        {"tiny": Decimal("0.0000001"), "neg": Decimal("-2.5"), "big": Decimal("1E+40")},
        {"text": 'é " \\ \n', "list": ["a", None, True, 2**70], "nested": [{"id": "x"}]},
    ],
)
def test_fast_encoder_writes_the_exact_encoders_bytes(data: dict[str, object]) -> None:
    """The orjson path writes exactly what the pure, exact encoder writes."""
    from thoughtcredits._cli.output.formats import encode
    from thoughtcredits._serde.exact_json import _encode

    assert encode(data) == _encode(data)
