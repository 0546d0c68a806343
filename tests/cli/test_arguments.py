"""The command line itself: the key never shows, options mean something, help is short."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from thoughtcredits.testing import Fault

from .conftest import API_KEY, Result, ThreadedServer
from .test_resumable import _seed, fail_with_key_on_the_command_line

Cli = Callable[..., Result]

SECRET = "tc-live-9f8e7d6c5b4a39281706"


@pytest.mark.parametrize(
    "spelling",
    [
        ["--api-k", SECRET],
        ["--api", SECRET],
        ["--api-ke=" + SECRET],
        ["--apikey", SECRET],
        ["--api_key", SECRET],
        ["--API-KEY", SECRET],
        ["--api-key-file", SECRET],
        ["--key=" + SECRET],
        ["-api-key", SECRET],
    ],
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_no_misspelling_of_api_key_is_accepted_or_printed(
    fake: ThreadedServer, cli: Cli, spelling: list[str], where: str
) -> None:
    """An abbreviated or misspelt --api-key is refused (exit 2) without echoing the value."""
    cid = str(fake.call(fake.server.ledger.add_client))
    command = ["batches", "list", cid]
    argv = [*spelling, *command] if where == "before" else [*command, *spelling]
    result = cli(*argv)
    assert result.code == 2, result
    assert SECRET not in result.out + result.err
    assert "[redacted]" in result.err or "unrecognized arguments" in result.err
    assert fake.server.requests == []


def test_the_resume_hint_never_carries_the_key_however_given(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--api-key=KEY on the command line: the hint names the variable; the key is nowhere."""
    failed = fail_with_key_on_the_command_line(
        fake, cli, tmp_path, monkeypatch, f"--api-key={API_KEY}"
    )
    assert failed.code == 1, failed
    assert API_KEY not in failed.err + failed.out
    assert '--api-key="$THOUGHTCREDITS_API_KEY"' in failed.err
    for path in tmp_path.iterdir():
        assert API_KEY.encode() not in path.read_bytes(), path


def test_resume_command_replaces_every_key_spelling() -> None:
    """The hint builder itself: separate and joined values, however the option is spelled."""
    from thoughtcredits._cli.redact import resume_command

    for argv in (
        ["export", "X", "--api-key", SECRET],
        ["export", "X", f"--api-key={SECRET}"],
        ["--api", SECRET, "export", "X"],
        ["export", f"--api-k={SECRET}", "X"],
    ):
        hint = resume_command(argv)
        assert SECRET not in hint
        assert "$THOUGHTCREDITS_API_KEY" in hint
        assert hint.endswith(" --resume")


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_debug_output_cannot_drive_the_terminal(fake: ThreadedServer) -> None:
    """--debug's traceback and request log quote the server escaped: no raw control bytes."""
    cid = str(fake.call(fake.server.ledger.add_client))
    evil = "\x1b]0;owned\x07\x1b[2J\x1bc\u202eevil\x07"
    fake.server.inject(
        Fault(kind="status", status=400, body={"error": "bad", "message": evil}, count=1)
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", "--debug", "batches", "list", cid,
         "--format", "jsonl"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **fake.env()},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" in done.stderr  # --debug still explains
    assert "debug: " in done.stderr  # and logs the request
    assert CONTROL.findall(done.stderr) == []
    assert "\\x1b]0;owned\\x07" in done.stderr
    assert API_KEY not in done.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "{cid}", "--to", "{tmp}", "-o", "foo.csv"], "unrecognized arguments: -o"),
        (["-o", "foo.csv", "export", "{cid}", "--to", "{tmp}"], "-o/--output does not apply"),
        (["reconcile", "{cid}", "--format", "parquet"], "reconcile: --format must be one of text"),
        (["--format", "parquet", "reconcile", "{cid}"], "reconcile: --format must be one of text"),
        (["--wide", "export", "{cid}", "--to", "{tmp}"], "--wide does not apply to 'export'"),
        (["batches", "create", "{cid}", "--starting-balance", "1", "--progress"],
         "unrecognized arguments: --progress"),
        (["--progress", "batches", "create", "{cid}", "--starting-balance", "1"],
         "--progress does not apply to 'batches create'"),
        (["--columns", "id", "batches", "create", "{cid}", "--starting-balance", "1"],
         "--columns does not apply to 'batches create'"),
        (["export", "{cid}", "--to", "{tmp}", "--format", "table"],
         "export: --format must be one of jsonl, json, csv, parquet"),
        # A count past what the SDK sends is named by its option, not by the SDK's argument.
        (["batches", "list", "{cid}", "--page-size", "1" + "0" * 23],
         "argument --page-size: must be at most 2**53, got 1" + "0" * 23),
        (["export", "{cid}", "--to", "{tmp}", "--page-size", str(2**53 + 1)],
         "argument --page-size: must be at most 2**53"),
        # ASCII digits only, and a long value quoted short, like --rate-limit's.
        (["batches", "list", "{cid}", "--max-items", "1_0"],
         "argument --max-items: expected a whole number, got '1_0'"),
        (["batches", "list", "{cid}", "--max-items", "\uff11\uff12"],
         "argument --max-items: expected a whole number, got '\uff11\uff12'"),
        (["batches", "list", "{cid}", "--page-size", "9" * 5000],
         "expected a whole number, got '" + "9" * 40 + "' (5,000 characters)"),
    ],
)  # fmt: skip
def test_an_option_a_command_cannot_use_is_refused(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, argv: list[str], message: str
) -> None:
    """Every option works or is refused with a message; nothing is sent or created."""
    cid = str(fake.call(fake.server.ledger.add_client))
    words = [w.replace("{cid}", cid).replace("{tmp}", str(tmp_path / "out")) for w in argv]
    result = cli(*words)
    assert result.code == 2, result
    assert message in result.err
    assert result.err.count("\n") == 1
    assert fake.server.requests == []
    assert not (tmp_path / "out").exists()


def test_reconcile_formats_text_and_json_work(fake: ThreadedServer, cli: Cli) -> None:
    """The formats reconcile offers do what they say."""
    cid, _, _ = _seed(fake, actions=10)
    text = cli("reconcile", cid, "--format", "text")
    assert (text.code, text.out.splitlines()[0]) == (
        0,
        f"reconciled 1 credit account of client {cid}",
    )
    as_json = cli("reconcile", cid, "--format", "json")
    assert as_json.code == 0
    assert as_json.out.startswith('{"clientId":')


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _parsers(child)


def test_every_option_of_every_command_has_help_text() -> None:
    """No option or argument is listed without saying what it does."""
    from thoughtcredits._cli.app import build_parser

    missing = [
        f"{parser.prog}: {'/'.join(action.option_strings) or action.dest}"
        for parser in _parsers(build_parser())
        for action in parser._actions
        if action.help is not argparse.SUPPRESS
        and not action.help
        # The list of commands: each command's own line says what it does.
        and not isinstance(action, argparse._SubParsersAction)
    ]
    assert missing == []


def test_every_help_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every --help, the top one and each command's, has no line a terminal must wrap."""
    from thoughtcredits._cli.app import build_parser

    monkeypatch.setenv("COLUMNS", "80")
    too_long = [
        f"{parser.prog}: {line}"
        for parser in _parsers(build_parser())
        for line in parser.format_help().splitlines()
        if len(line) >= 80
    ]
    assert too_long == []


def _help(*argv: str) -> list[str]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv, "--help"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "COLUMNS": "80", "LINES": "30"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    ("command", "own"),
    [
        (["batches", "create"], ["--starting-balance", "--account", "--name", "--expires-on"]),
        (["batches", "update"], ["--name", "--expires-on", "--current-balance"]),
        (["actions", "list"], ["--type"]),
        (["export"], ["--to", "--account", "--page-size", "--resume"]),
        (["reconcile"], ["--account", "--concurrency", "--report"]),
    ],
)
def test_subcommand_help_shows_its_own_options_on_the_first_screen(
    command: list[str], own: list[str]
) -> None:
    """At 80x30, a command's own options are on the first screen; global ones are not listed."""
    lines = _help(*command)
    first = "\n".join(lines[:30])
    for option in own:
        assert re.search(rf"^  {re.escape(option)}\b", first, re.M), (option, first)
    assert not any(line.lstrip().startswith(("--base-url", "--api-key")) for line in lines)
    assert lines[-1] == "global options (before or after the command): see 'thoughtcredits --help'"
    assert all(len(line) <= 80 for line in lines)


def test_global_options_are_listed_once_at_the_top() -> None:
    """thoughtcredits --help describes --base-url, --api-key and --debug."""
    text = "\n".join(_help())
    for option in ("--base-url URL", "--api-key KEY", "--debug"):
        assert text.count(f"  {option}") == 1


@pytest.mark.parametrize(
    ("port", "problem"),
    [
        ("65536", "a port is at most 65535, got 65536"),
        ("99999", "a port is at most 65535, got 99999"),
        ("-1", "must not be negative, got -1"),
    ],
)
def test_serve_fake_refuses_a_port_out_of_range(
    port: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port past 65535 is a bad argument (exit 2), not an "unexpected OverflowError"."""
    from thoughtcredits._cli.app import run

    assert run(["serve-fake", "--port", port]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: argument --port: {problem} (see 'thoughtcredits serve-fake --help')\n"


@pytest.mark.parametrize("given", ["environment", "--api-key"])
def test_a_key_pasted_as_another_argument_is_not_echoed_in_a_note(
    fake: ThreadedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """``--type KEY`` lists nothing (an unknown type is not an error) and warns; the warning
    names the type as ``[redacted]``, as an error would, whether the key came from
    ``$THOUGHTCREDITS_API_KEY`` or from ``--api-key``."""
    cid, account, _ = _seed(fake, actions=5)
    key_args: list[str] = []
    if given == "--api-key":
        monkeypatch.delenv("THOUGHTCREDITS_API_KEY")
        key_args = ["--api-key", API_KEY]
    result = cli("actions", "list", cid, account, "--type", API_KEY, "--format", "jsonl",
                 *key_args)  # fmt: skip
    assert result.code == 0, result
    assert API_KEY not in result.out + result.err
    assert result.err == (
        "warning: no actions of type '[redacted]'; the known types are credit and debit "
        "(case-sensitive)\n"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("\uff11\uff12\uff10/20", "'\uff11\uff12\uff10/20'"),
        ("9" * 5000, f"'{'9' * 40}' (5,000 characters)"),
    ],
)
def test_a_rate_limit_in_other_digits_or_of_5000_digits_is_refused_in_one_line(
    cli: Cli, value: str, shown: str
) -> None:
    """ASCII digits only (``int()`` reads fullwidth ones); the value is quoted cut to 40."""
    cid = "11111111-1111-4111-8111-111111111111"
    result = cli("batches", "list", cid, "--api-key", "k" * 8, "--rate-limit", value)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"error: argument --rate-limit: expected PER_MIN or PER_MIN/BURST, got {shown} "
        "(see 'thoughtcredits batches list --help')\n"
    )
