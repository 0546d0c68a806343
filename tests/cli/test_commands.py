"""Each command sends the request the seed pages describe and changes the ledger as expected."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from .conftest import Result, ThreadedServer

Cli = Callable[..., Result]


def _client(fake: ThreadedServer) -> str:
    return str(fake.call(fake.server.ledger.add_client))


def test_accounts_create_sends_every_option(fake: ThreadedServer, cli: Cli) -> None:
    """accounts create sends the repeatable and optional flags as the wire body fields."""
    cid = _client(fake)
    result = cli(
        "accounts", "create", cid, "--name", "Sales", "--starting-balance", "1000.5",
        "--notify-email", "a@example.com", "--notify-email", "b@example.com",
        "--license-id", "9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f", "--type", "company",
        "--batch-days-until-expire", "30", "--minimum-batch-amount", "5",
        "--credit-batch-name", "Opening", "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result
    (request,) = fake.server.requests
    assert (request.method, request.path) == ("POST", f"/incoming/v2/clients/{cid}/creditAccounts")
    assert b'"startingBalance":1000.5' in request.body
    assert request.json == {
        "clientId": cid,
        "name": "Sales",
        "startingBalance": Decimal("1000.5"),
        "notifyEmails": ["a@example.com", "b@example.com"],
        "licenseIds": ["9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f"],
        "batchDaysUntilExpire": 30,
        "minimumBatchAmount": 5,
        "type": "company",
        "creditBatchName": "Opening",
    }
    account = json.loads(result.out, parse_float=Decimal)
    assert (account["name"], account["type"], account["currentBalance"]) == (
        "Sales",
        "company",
        Decimal("1000.5"),
    )
    batches = fake.server.ledger.account(account["id"]).batches
    assert [(b.name, b.starting_balance) for b in batches] == [("Opening", Decimal("1000.5"))]


def test_batches_create_and_update_change_the_ledger(fake: ThreadedServer, cli: Cli) -> None:
    """batches create issues a batch; update to a lower balance writes one debit of the gap."""
    cid = _client(fake)
    account = fake.call(
        lambda: fake.server.ledger.create_account(
            cid, name="A", starting_balance=10, notify_emails=["a@example.com"]
        )
    )
    created = cli(
        "batches", "create", cid, "--account", account.id, "--starting-balance", "250",
        "--name", "Q4", "--expires-on", "2027-01-31", "--format", "json",
    )  # fmt: skip
    assert created.code == 0, created
    assert fake.server.requests[-1].json == {
        "clientId": cid,
        "startingBalance": 250,
        "creditAccountId": account.id,
        "name": "Q4",
        "expiresOn": "2027-01-31T00:00:00.000Z",
    }
    batch_id = json.loads(created.out)["id"]
    updated = cli(
        "batches", "update", batch_id, "--current-balance", "210", "--name", "Q4 (used)",
        "--format", "json",
    )  # fmt: skip
    assert updated.code == 0, updated
    request = fake.server.requests[-1]
    assert (request.method, request.path) == (
        "PUT",
        f"/incoming/v2/clients/creditBatches/{batch_id}",
    )
    assert request.json == {"name": "Q4 (used)", "currentBalance": 210}
    batch = json.loads(updated.out)
    assert (batch["currentBalance"], batch["allocatedCredits"], batch["name"]) == (
        210,
        40,
        "Q4 (used)",
    )
    debits = cli("actions", "list", cid, account.id, "--type", "debit")
    (debit,) = [json.loads(line) for line in debits.out.splitlines()]
    assert (
        debit["source"],
        debit["amount"],
        debit["sourceBalanceIn"],
        debit["sourceBalanceOut"],
    ) == (
        batch_id,
        40,
        250,
        210,
    )


def test_batches_list_filters_by_account(fake: ThreadedServer, cli: Cli) -> None:
    """--account sends creditAccountId and lists only that account's batches."""
    cid = _client(fake)

    def build() -> tuple[str, str]:
        ledger = fake.server.ledger
        first = ledger.create_account(cid, name="A", starting_balance=1)
        second = ledger.create_account(cid, name="B", starting_balance=2)
        return first.id, second.batches[0].id

    account_id, other_batch = fake.call(build)
    result = cli("batches", "list", cid, "--account", account_id)
    assert result.code == 0, result
    (item,) = [json.loads(line) for line in result.out.splitlines()]
    assert item["creditAccountId"] == account_id
    assert item["id"] != other_batch
    assert fake.server.requests[-1].query == {"clientId": cid, "creditAccountId": account_id}


def test_base_url_and_key_flags_override_the_environment(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--base-url and --api-key work without the environment variables, before or after."""
    cid = _client(fake)
    env = fake.env()
    monkeypatch.delenv("THOUGHTCREDITS_BASE_URL")
    monkeypatch.delenv("THOUGHTCREDITS_API_KEY")
    result = cli(
        "batches", "list", cid, "--base-url", env["THOUGHTCREDITS_BASE_URL"],
        "--api-key", env["THOUGHTCREDITS_API_KEY"], "--format", "json",
    )  # fmt: skip
    assert (result.code, result.out) == (0, "[]\n")
    before = cli(
        "--base-url", env["THOUGHTCREDITS_BASE_URL"], "--api-key", env["THOUGHTCREDITS_API_KEY"],
        "--format", "csv", "batches", "list", cid,
    )  # fmt: skip
    assert (before.code, before.out.splitlines()[0].split(",")[0]) == (0, "id")
