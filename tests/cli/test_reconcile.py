"""``thoughtcredits reconcile``: the report, the summary, and the exit code."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from thoughtcredits._cli.commands.reconcile import DISCREPANCIES_FOUND, NOT_VERIFIED
from thoughtcredits.testing import ScanWriter, plant_discrepancies, seed_ledger

from .conftest import Result, ThreadedServer

Cli = Callable[..., Result]


def test_clean_ledger_exits_zero_with_a_summary(fake: ThreadedServer, cli: Cli) -> None:
    """A consistent ledger prints one line per account and exits 0."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=3, actions_per_account=50))
    result = cli("reconcile", str(seeded.client_ids[0]), "--rate-limit", "6000/100")
    assert result.code == 0, result
    assert "no discrepancies" in result.out
    for account_id in seeded.account_ids:
        assert f"{account_id}         ok" in result.out


def test_planted_discrepancies_exit_3_and_fill_the_report(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """Every planted discrepancy is in the JSON report and the summary; the exit code is 3."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=4, actions_per_account=80))
    planted = fake.call(lambda: plant_discrepancies(fake.server.ledger, seeded.account_ids))
    report = tmp_path / "report.json"
    result = cli("reconcile", str(seeded.client_ids[0]), "--report", str(report))
    assert result.code == 3, result
    data = json.loads(report.read_text())
    found = {
        (d["kind"], d["accountId"], d["entityId"])
        for account in data["accounts"]
        for d in account["discrepancies"]
    }
    assert found == {(p.kind, str(p.account_id), str(p.entity_id)) for p in planted}
    assert f"{len(planted)} discrepancies:" in result.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_json_format_prints_the_report(fake: ThreadedServer, cli: Cli) -> None:
    """--format json prints the same machine-readable report on stdout."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=2, actions_per_account=20))
    account = str(seeded.account_ids[1])
    result = cli("reconcile", str(seeded.client_ids[0]), "--account", account, "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert [a["accountId"] for a in data["accounts"]] == [account]
    assert data["accounts"][0]["discrepancies"] == []


def test_bad_client_id_is_refused_before_sending(fake: ThreadedServer, cli: Cli) -> None:
    """A client id that is not a UUID exits 2 and sends nothing."""
    result = cli("reconcile", "not-a-uuid")
    assert result.code == 2
    assert fake.server.requests == []


def test_summary_is_grammatical_and_never_shows_minus_zero(fake: ThreadedServer, cli: Cli) -> None:
    """One account, no debits: "1 credit account", "0 debits" with no "(-0)"."""
    cid = fake.call(fake.server.ledger.add_client)
    fake.call(lambda: fake.server.ledger.create_account(cid, name="Solo", starting_balance=100))
    result = cli("reconcile", str(cid))
    assert result.code == 0, result
    first, account, last = result.out.splitlines()
    assert first == f"reconciled 1 credit account of client {cid}"
    assert "1 batch  1 credit (+100)  0 debits  balance 100" in account
    assert "(-" not in account  # no "(-0)" for an account without debits
    assert last == "no discrepancies"


def test_report_json_is_the_sdk_convention(fake: ThreadedServer, cli: Cli) -> None:
    """--format json prints tc.to_json(report): camelCase, exact numbers, Z timestamps."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=1, actions_per_account=20))
    result = cli("reconcile", str(seeded.client_ids[0]), "--format", "json")
    data = json.loads(result.out, parse_float=Decimal)
    assert set(data) == {"clientId", "startedAt", "finishedAt", "accounts"}
    assert data["startedAt"].endswith("Z")
    totals = data["accounts"][0]["totals"]
    assert isinstance(totals["currentBalance"], int | Decimal)


def test_summary_at_80_columns_never_splits_a_number(make_server: Callable[..., Any]) -> None:
    """On an 80-column terminal each account's line breaks between its parts, and amounts
    carry thousands separators like the counts."""
    pytest.importorskip("pyte")
    from .test_terminal import run_on_pty

    server = make_server()

    def build() -> tuple[str, str]:
        ledger = server.server.ledger
        cid = ledger.add_client()
        account = ledger.create_account(cid, name="Big", starting_balance=123456789012)
        (batch,) = [b for b in ledger.batches.values() if b.account_id == account.id]
        ledger.update_batch(batch.id, current_balance=123456788000)
        return str(cid), account.id

    cid, account = server.call(build)
    code, _raw, screen = run_on_pty(server, "reconcile", str(cid), "--no-progress")
    assert code == 0, screen
    assert all(len(line) <= 80 for line in screen)
    text = "\n".join(screen)
    assert f"  {account}         ok" in text
    for part in ("1 credit (+123,456,789,012)", "1 debit (-1,012)", "balance 123,456,788,000"):
        assert any(part in line for line in screen), (part, screen)


def _busy(fake: ThreadedServer, plant: bool = False) -> tuple[str, str, str]:
    """Two accounts; every action listing is followed by a write to the first one's batches,
    so it changes during each of its reads. With ``plant``, the second has a chain break.
    The client, the busy account and the other."""
    seeded = fake.call(
        lambda: seed_ledger(fake.server.ledger, accounts=2, actions_per_account=30, seed=4)
    )
    busy, other = (str(account) for account in seeded.account_ids)
    if plant:
        fake.call(lambda: plant_discrepancies(fake.server.ledger, [other], kinds=("chain_break",)))

    def arm() -> None:
        ledger = fake.server.ledger
        fake.server.on_request = ScanWriter(ledger, [busy], route="list_credit_actions")

    fake.call(arm)
    return str(seeded.client_ids[0]), busy, other


def test_an_account_changed_during_the_scan_is_said_plainly_and_exits_4(
    fake: ThreadedServer, cli: Cli
) -> None:
    """The summary marks it CHANGED, says the others were verified and what to do; exit 4,
    never "ok" and never a bare "no discrepancies"."""
    cid, busy, quiet = _busy(fake)
    result = cli("reconcile", cid)
    assert result.code == NOT_VERIFIED == 4, result
    lines = result.out.splitlines()
    assert lines[0] == f"reconciled 2 credit accounts of client {cid}"
    assert lines[1].startswith(f"  {busy}    CHANGED  ")
    assert lines[2].startswith(f"  {quiet}         ok  ")
    assert lines[3:] == [
        "no discrepancies in 1 verified credit account",
        "1 credit account kept changing while it was read (CHANGED above), so it was not "
        "verified: run reconcile again when the ledger is quieter",
    ]


def test_the_json_report_says_which_account_changed(fake: ThreadedServer, cli: Cli) -> None:
    """--format json (and --report): changedDuringScan per account, no discrepancy; exit 4."""
    cid, busy, quiet = _busy(fake)
    result = cli("reconcile", cid, "--format", "json")
    assert result.code == 4, result
    data = json.loads(result.out)
    assert [
        (a["accountId"], a["changedDuringScan"], a["discrepancies"]) for a in data["accounts"]
    ] == [
        (busy, True, []),
        (quiet, False, []),
    ]


def test_the_csv_report_has_a_status_per_account(fake: ThreadedServer, cli: Cli) -> None:
    """--format csv: one row per account, status ok / discrepancies / changed_during_scan,
    the discrepancies spelled out; a changed account with a found one still exits 3."""
    cid, busy, broken = _busy(fake, plant=True)
    result = cli("reconcile", cid, "--format", "csv")
    assert result.code == DISCREPANCIES_FOUND, result
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert list(rows[0]) == [
        "accountId", "status", "batches", "creditActions", "credited", "debitActions",
        "debited", "currentBalance", "discrepancies",
    ]  # fmt: skip
    assert [(r["accountId"], r["status"]) for r in rows] == [
        (busy, "changed_during_scan"),
        (broken, "discrepancies"),
    ]
    assert rows[0]["discrepancies"] == ""
    assert rows[1]["discrepancies"].startswith("[chain_break] ")
    text = cli("reconcile", cid)
    assert text.code == DISCREPANCIES_FOUND
    assert "1 discrepancy:" in text.out
    assert text.out.splitlines()[-1].startswith("1 credit account kept changing while it was")


def test_a_csv_report_of_a_clean_ledger_exits_zero(fake: ThreadedServer, cli: Cli) -> None:
    """Every account ok, with its totals as exact numbers; exit 0."""
    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, accounts=2, actions_per_account=20))
    result = cli("reconcile", str(seeded.client_ids[0]), "--format", "csv")
    assert result.code == 0, result
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [r["status"] for r in rows] == ["ok", "ok"]
    report = json.loads(cli("reconcile", str(seeded.client_ids[0]), "--format", "json").out)
    assert [Decimal(r["currentBalance"]) for r in rows] == [
        Decimal(str(a["totals"]["currentBalance"])) for a in report["accounts"]
    ]


def test_when_no_account_could_be_verified_the_summary_says_so(
    fake: ThreadedServer, cli: Cli
) -> None:
    """--account names only the busy one: nothing verified, said in those words; exit 4."""
    cid, busy, _ = _busy(fake)
    result = cli("reconcile", cid, "--account", busy)
    assert result.code == NOT_VERIFIED, result
    assert result.out.splitlines()[2:] == [
        "no credit account could be verified",
        "1 credit account kept changing while it was read (CHANGED above), so it was not "
        "verified: run reconcile again when the ledger is quieter",
    ]


def test_a_client_without_accounts_has_no_discrepancies(fake: ThreadedServer, cli: Cli) -> None:
    """No account at all: nothing went unverified either; exit 0."""
    cid = str(fake.call(fake.server.ledger.add_client))
    result = cli("reconcile", cid)
    assert result.code == 0, result
    assert result.out.splitlines() == [
        f"reconciled 0 credit accounts of client {cid}",
        "no discrepancies",
    ]


def test_a_client_without_batches_is_noted(fake: ThreadedServer, cli: Cli) -> None:
    """A client id that lists no batches (a typo, say) is said on stderr: nothing was checked."""
    cid = "11111111-1111-4111-8111-111111111111"
    result = cli("reconcile", cid)
    assert result.code == 0, result
    assert "reconciled 0 credit accounts" in result.out
    assert result.err == (
        "note: the client has no credit batches, so nothing was checked: is the id right?\n"
    )
