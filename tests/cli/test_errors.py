"""Errors end a command with one line on stderr, the right exit code, and no traceback."""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from thoughtcredits.testing import Fault

from .conftest import API_KEY, ClockSleep, Result, ThreadedServer, use_server

Cli = Callable[..., Result]


def _one_error_line(result: Result) -> str:
    """The single stderr line starting with ``error:`` (and assert there is no traceback)."""
    assert "Traceback" not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.err
    return errors[0]


def test_bad_key_is_a_401_message(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rejected key exits 1 with a 401 message that never echoes the key."""
    cid = str(fake.call(fake.server.ledger.add_client))
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", "wrong-secret-key")
    result = cli("batches", "list", cid)
    assert (result.code, result.out) == (1, "")
    line = _one_error_line(result)
    assert line.startswith("error: 401 Unauthorized: the API key was rejected")
    assert "wrong-secret-key" not in result.err
    assert [r.status for r in fake.server.requests] == [401]  # never retried


def test_bad_uuid_is_refused_before_sending(fake: ThreadedServer, cli: Cli) -> None:
    """A malformed id exits 2 naming the argument, and nothing reaches the server."""
    cid = str(fake.call(fake.server.ledger.add_client))
    for argv in (
        ("batches", "list", "not-a-uuid"),
        ("batches", "list", cid, "--account", "{" + cid + "}"),
        ("batches", "update", "1234", "--name", "x"),
        ("actions", "list", cid, cid.replace("-", ""), "--type", "debit"),
    ):
        result = cli(*argv)
        assert (result.code, result.out) == (2, ""), argv
        assert "expected a UUID" in _one_error_line(result)
    assert fake.server.requests == []


def test_unknown_batch_is_a_404_message(fake: ThreadedServer, cli: Cli) -> None:
    """Updating a batch that does not exist exits 1 with the server's 404 message."""
    missing = str(uuid.uuid4())
    result = cli("batches", "update", missing, "--current-balance", "5")
    assert result.code == 1
    line = _one_error_line(result)
    assert line.startswith("error: 404 Not Found: ")
    assert f"PUT /incoming/v2/clients/creditBatches/{missing}" in line


def test_server_validation_is_a_400_message(fake: ThreadedServer, cli: Cli) -> None:
    """A change the server refuses exits 1 with its 400 message."""
    cid = str(fake.call(fake.server.ledger.add_client))
    account = fake.call(
        lambda: fake.server.ledger.create_account(
            cid, name="A", starting_balance=100, minimum_batch_amount=50
        )
    )
    result = cli("batches", "create", cid, "--account", account.id, "--starting-balance", "5")
    assert result.code == 1
    line = _one_error_line(result)
    assert line.startswith("error: 400 Bad Request: startingBalance")
    assert [r.status for r in fake.server.requests] == [400]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("batches",), "the following arguments are required: ACTION"),
        (("batches", "frobnicate"), "invalid choice: 'frobnicate'"),
        (("batches", "update", str(uuid.UUID(int=1))), "give at least one of --name"),
        (("batches", "create", str(uuid.UUID(int=1)), "--starting-balance", "-1"), "negative"),
        (("batches", "create", str(uuid.UUID(int=1)), "--starting-balance", "1e999999"), "digits"),
        (("batches", "create", str(uuid.UUID(int=1)), "--starting-balance", "abc"), "number"),
        (("batches", "update", str(uuid.UUID(int=1)), "--current-balance", "1.5"), "whole"),
        (("batches", "update", str(uuid.UUID(int=1)), "--expires-on", "soon"), "ISO 8601"),
        (("batches", "list", str(uuid.UUID(int=1)), "--format", "xml"), "invalid choice"),
        (("batches", "list", str(uuid.UUID(int=1)), "--page-size", "0"), "at least 1"),
        (("actions", "list", str(uuid.UUID(int=1)), str(uuid.UUID(int=2))), "--type"),
        (("serve-fake", "--rate-limit", "fast"), "PER_MIN"),
    ],
)
def test_usage_errors_exit_2(
    fake: ThreadedServer, cli: Cli, argv: tuple[str, ...], message: str
) -> None:
    """A bad command line exits 2 with one error line naming the problem; nothing is sent."""
    result = cli(*argv)
    assert (result.code, result.out) == (2, "")
    assert message in _one_error_line(result)
    assert fake.server.requests == []


def test_missing_configuration_exits_2(cli: Cli) -> None:
    """Without a base URL or key, the command says which variable to set and exits 2."""
    result = cli("batches", "list", str(uuid.UUID(int=1)))
    assert result.code == 2
    assert _one_error_line(result) == (
        "error: no API address: pass --base-url or set THOUGHTCREDITS_BASE_URL"
    )
    plain = cli(
        "batches", "list", str(uuid.UUID(int=1)), "--base-url", "http://example.com",
        "--api-key", "k",
    )  # fmt: skip
    assert plain.code == 2
    assert "--base-url: plain http://" in _one_error_line(plain)


def test_connection_refused_is_one_line(cli: Cli, free_port: int) -> None:
    """A server that is not there exits 1 with a one-line connection error."""
    result = cli(
        "batches", "list", str(uuid.UUID(int=1)), "--base-url", f"http://127.0.0.1:{free_port}",
        "--api-key", API_KEY, sleep=ClockSleep(),
    )  # fmt: skip
    assert result.code == 1
    assert "could not connect" in _one_error_line(result)


def test_rate_limit_is_waited_out_with_a_note(
    make_server: Callable[..., ThreadedServer], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 from the server's limiter is waited out (Retry-After) with a note; all items arrive."""
    sleep = ClockSleep()
    fake = make_server(rate_limit=(60, 1), clock=sleep.clock)
    use_server(fake, monkeypatch)

    def build() -> str:
        ledger = fake.server.ledger
        cid = ledger.add_client()
        account = ledger.create_account(cid, name="A", starting_balance=1)
        for amount in (2, 3):
            ledger.create_batch(cid, starting_balance=amount, credit_account_id=account.id)
        return str(cid)

    cid = fake.call(build)
    # Another consumer of the same key takes the only token, so the CLI's first call gets 429.
    drain = urllib.request.Request(  # noqa: S310 - loopback only
        f"{fake.url}/incoming/v2/clients/{cid}/creditBatches?clientId={cid}",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    urllib.request.urlopen(drain, timeout=10).close()  # noqa: S310
    fake.server.reset_requests()
    result = cli("batches", "list", cid, "--format", "json", sleep=sleep)
    assert result.code == 0, result
    assert [item["startingBalance"] for item in json.loads(result.out)] == [1, 2, 3]
    assert result.err == "note: rate limited; waiting 1 s\n"  # the server's Retry-After: 1
    assert [r.status for r in fake.server.requests] == [429, 200]
    waits = [delay for delay in sleep.calls if delay]
    assert waits[0] == pytest.approx(1.0, abs=0.05)  # the server's Retry-After, waited once
    # Since the SDK paces by the X-RateLimit headers (299f65c), the next request may wait a
    # few milliseconds more; that is pacing, not a second pause, and gets no note.
    assert sum(waits[1:]) < 0.1


@pytest.mark.parametrize("silenced", [False, True], ids=["logging", "logger-silenced"])
def test_retried_server_error_is_noted(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch, silenced: bool
) -> None:
    """A 503 on a listing is retried after a note saying what failed, then succeeds.

    With the SDK's logger silenced the retry is still noted: the CLI reads hook events, not
    log records.
    """
    if silenced:
        monkeypatch.setattr(logging.getLogger("thoughtcredits"), "disabled", True)
    cid = str(fake.call(fake.server.ledger.add_client))
    fake.server.inject(Fault(kind="status", status=503, route="list_credit_batches"))
    result = cli("batches", "list", cid, "--format", "json", sleep=ClockSleep())
    assert (result.code, result.out) == (0, "[]\n")
    (note,) = result.err.splitlines()
    assert note.startswith(f"note: retrying GET /incoming/v2/clients/{cid}/creditBatches in ")
    assert note.endswith("(attempt 1 of 4 failed: HTTP 503)")


def test_failure_mid_listing_prints_a_resume_cursor(fake: ThreadedServer, cli: Cli) -> None:
    """Items already streamed stay written; the --cursor printed continues after them exactly."""
    from thoughtcredits.testing import seed_ledger

    seeded = fake.call(lambda: seed_ledger(fake.server.ledger, 1, 400, seed=5))
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    route = "list_credit_actions"
    # Two pages answer normally (a zero delay), then page 3 fails on every attempt.
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=2, route=route),
        Fault(kind="status", status=500, count=4, route=route),
    )
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "100")
    failed = cli(*argv, sleep=ClockSleep())
    assert failed.code == 1
    assert _one_error_line(failed).startswith("error: 500 Internal Server Error")
    first = [json.loads(line)["id"] for line in failed.out.splitlines()]
    assert len(first) == 200
    (hint,) = [line for line in failed.err.splitlines() if "--cursor" in line]
    assert hint.startswith("note: 200 items were written before the error; add --cursor ")
    cursor = hint.split("--cursor ", 1)[1].split()[0]
    rest = cli(*argv, "--cursor", cursor)
    assert rest.code == 0, rest
    ledger = fake.server.ledger
    expected = [ledger.action_id(row) for row in ledger.actions(aid, "debit")]
    assert first + [json.loads(line)["id"] for line in rest.out.splitlines()] == expected


def test_failed_export_leaves_no_file(fake: ThreadedServer, cli: Cli, tmp_path: Path) -> None:
    """With -o, a listing that fails before any item leaves no file, partial, lock or temp."""
    cid = str(fake.call(fake.server.ledger.add_client))
    fake.server.inject(Fault(kind="status", status=500, count=4, route="list_credit_batches"))
    target = tmp_path / "batches.jsonl"
    result = cli("batches", "list", cid, "-o", str(target), sleep=ClockSleep())
    assert result.code == 1
    assert list(target.parent.iterdir()) == []


def test_unexpected_exception_is_one_line(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside a command still ends with one line and exit 1, not a traceback."""
    from thoughtcredits._cli import context as _context

    def broken(self: object, **options: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_context.Env, "client", broken)
    result = cli("batches", "list", str(uuid.UUID(int=1)))
    assert result.code == 1
    assert _one_error_line(result) == (
        "error: unexpected RuntimeError: boom (run with --debug for details)"
    )


def test_unwritable_output_is_one_line(fake: ThreadedServer, cli: Cli, tmp_path: Path) -> None:
    """An -o path that cannot be written exits 1 naming it, before any request is sent."""
    target = tmp_path / "missing" / "out.jsonl"
    cid = str(uuid.UUID(int=1))
    for argv in (
        ("batches", "list", cid),
        ("batches", "create", cid, "--starting-balance", "5"),  # no credits issued
        ("batches", "update", cid, "--current-balance", "5"),
    ):
        result = cli(*argv, "-o", str(target))
        assert result.code == 1
        assert _one_error_line(result) == (
            f"error: cannot write {target}: No such file or directory"
        )
    assert fake.server.requests == []


def test_failed_create_warns_it_may_have_been_applied(fake: ThreadedServer, cli: Cli) -> None:
    """A 5xx on a create is not retried and says the batch may exist, which it does."""
    cid = str(fake.call(fake.server.ledger.add_client))
    account = fake.call(
        lambda: fake.server.ledger.create_account(cid, name="A", starting_balance=1)
    )
    fake.server.inject(Fault(kind="status", status=502, when="after", route="create_credit_batch"))
    argv = ("batches", "create", cid, "--account", account.id, "--starting-balance", "5")
    result = cli(*argv, sleep=ClockSleep())
    assert result.code == 1
    assert _one_error_line(result).endswith(
        "; it may have been applied: check before running it again"
    )
    assert [r.status for r in fake.server.requests] == [502]
    assert len(fake.server.ledger.account(account.id).batches) == 2  # it was applied


def test_failed_update_after_its_retries_says_it_may_have_been_applied(
    fake: ThreadedServer, cli: Cli
) -> None:
    """A PUT answered 503 after the change, four times: the error line says it may have been
    applied (the SDK's error.applied is None), as a create's does."""
    cid = str(fake.call(fake.server.ledger.add_client))
    account = fake.call(
        lambda: fake.server.ledger.create_account(cid, name="A", starting_balance=10)
    )
    (batch,) = account.batches
    fake.server.inject(
        Fault(kind="status", status=503, count=4, when="after", route="update_credit_batch")
    )
    result = cli("batches", "update", batch.id, "--current-balance", "5", sleep=ClockSleep())
    assert result.code == 1
    assert _one_error_line(result) == (
        f"error: 503 Service Unavailable: Service Unavailable (injected fault) "
        f"(PUT /incoming/v2/clients/creditBatches/{batch.id})"
        "; it may have been applied: check before running it again"
    )
    assert [r.status for r in fake.server.requests] == [503, 503, 503, 503]


def test_a_read_that_fails_says_nothing_of_applying(fake: ThreadedServer, cli: Cli) -> None:
    """A GET answered 503 every time changed nothing: its error line says only the error."""
    cid = str(fake.call(fake.server.ledger.add_client))
    fake.server.inject(Fault(kind="status", status=503, count=4, route="list_credit_batches"))
    result = cli("batches", "list", cid, sleep=ClockSleep())
    assert result.code == 1
    assert _one_error_line(result) == (
        "error: 503 Service Unavailable: Service Unavailable (injected fault) "
        f"(GET /incoming/v2/clients/{cid}/creditBatches)"
    )


def test_server_text_in_an_error_cannot_drive_the_terminal(fake: ThreadedServer, cli: Cli) -> None:
    """A 400 whose message holds escape sequences is printed with them made visible."""
    cid = str(fake.call(fake.server.ledger.add_client))
    evil = "bad\x1b]0;owned\x07\x1b[2J"
    fake.server.inject(
        Fault(kind="status", status=400, route="list_credit_batches",
              body={"error": "bad_request", "message": evil})
    )  # fmt: skip
    result = cli("batches", "list", cid)
    assert result.code == 1
    assert "\x1b" not in result.err
    assert "\x07" not in result.err
    assert "bad\\x1b]0;owned\\x07\\x1b[2J" in _one_error_line(result)
