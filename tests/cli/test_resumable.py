"""Exports to -o FILE survive Ctrl-C, SIGTERM and API errors, resume exactly, and are locked."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from thoughtcredits.testing import Fault, seed_ledger

from .conftest import API_KEY, ClockSleep, Result, ThreadedServer, use_server

Cli = Callable[..., Result]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")


def _seed(server: ThreadedServer, actions: int = 200) -> tuple[str, str, list[str]]:
    """One account with ``actions`` actions; its client, account and debit ids in order."""
    seeded = server.call(
        lambda: seed_ledger(server.server.ledger, accounts=1, actions_per_account=actions, seed=1)
    )
    cid, aid = str(seeded.client_ids[0]), str(seeded.account_ids[0])
    ledger = server.server.ledger
    debits = server.call(lambda: [ledger.action_id(row) for row in ledger.actions(aid, "debit")])
    return cid, aid, debits


def read_ids(path: Path, fmt: str) -> list[str]:
    """The ``id`` of every item in an export file, in file order."""
    if fmt == "jsonl":
        return [json.loads(line)["id"] for line in path.read_text().splitlines()]
    if fmt == "json":
        return [item["id"] for item in json.loads(path.read_text())]
    if fmt == "csv":
        return [row["id"] for row in csv.DictReader(io.StringIO(path.read_text()))]
    import pyarrow.parquet as pq

    return [str(value) for value in pq.read_table(path).column("id").to_pylist()]


def resume_words(err: str) -> list[str]:
    """The arguments of the command the CLI printed to continue (after ``thoughtcredits``)."""
    (line,) = [line for line in err.splitlines() if "to continue: " in line]
    words = shlex.split(line.split("to continue: ", 1)[1])
    assert words[0] == "thoughtcredits"
    assert words[-1] == "--resume"
    return words[1:]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_an_api_error_keeps_the_partial_and_resume_finishes_exactly_once(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, fmt: str
) -> None:
    """Page 3 fails for good: 20 items stay in FILE.partial; --resume ends with each once."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    cid, aid, debits = _seed(fake)
    route = "list_credit_actions"
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=2, route=route),
        Fault(kind="status", status=500, count=4, route=route),
    )
    target = tmp_path / f"debits.{fmt}"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target))
    failed = cli(*argv, sleep=ClockSleep())
    assert failed.code == 1, failed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"debits.{fmt}.checkpoint",
        f"debits.{fmt}.partial",
    ]
    assert f"stopped: 20 items kept in {target}.partial" in failed.err
    assert failed.err.splitlines()[-1].startswith("error: 500 Internal Server Error")
    if fmt in ("jsonl", "csv"):  # readable as it is: every item written so far, once
        assert read_ids(Path(f"{target}.partial"), fmt) == debits[:20]
    resumed = cli(*resume_words(failed.err))
    assert resumed.code == 0, resumed
    assert read_ids(target, fmt) == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"debits.{fmt}"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_export_keeps_the_partial_and_prints_the_resume_command(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    signum: signal.Signals,
    code: int,
) -> None:
    """Ctrl-C or SIGTERM in a slow, rate-limited export; the printed command completes it."""
    server = make_server(rate_limit=(600, 1))  # 10 requests a second: a slow export
    cid, aid, debits = _seed(server)
    target = tmp_path / "debits.jsonl"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "20", "-o", str(target))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **server.env()},
    )
    deadline = time.monotonic() + 30
    while len(server.server.requests) < 4:  # a few pages are written, more to come
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.01)
    process.send_signal(signum)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "debits.jsonl.checkpoint",
        "debits.jsonl.partial",
    ]
    kept = read_ids(Path(f"{target}.partial"), "jsonl")
    assert 0 < len(kept) < len(debits)
    assert kept == debits[: len(kept)]
    assert f"{len(kept):,} items kept in {target}.partial; to continue: " in err
    words = resume_words(err)
    assert words == [*argv, "--resume"]
    use_server(server, monkeypatch)
    resumed = cli(*words)
    assert resumed.code == 0, resumed
    assert read_ids(target, "jsonl") == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debits.jsonl"]


def test_a_second_export_to_the_same_file_is_refused_while_one_runs(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """While one export holds FILE, a second exits 2 at once; FILE ends up whole, each item once."""
    cid, aid, debits = _seed(fake, actions=120)
    route = "list_credit_actions"
    # The first page answers, the second hangs: the first export is mid-way while we try.
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=1, route=route),
        Fault(kind="delay", delay=30.0, count=1, route=route),
    )
    target = tmp_path / "debits.jsonl"
    argv = ["actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target)]
    first = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **fake.env()},
    )
    deadline = time.monotonic() + 60
    while len(fake.server.requests) < 2:  # the second page is held
        assert time.monotonic() < deadline
        assert first.poll() is None
        time.sleep(0.01)
    second = cli(*argv)
    assert second.code == 2
    assert second.err == (
        f"error: another export to {target} is running (its lock is {target}.lock); "
        "wait for it to finish\n"
    )
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    resumed = cli(*resume_words(err))
    assert resumed.code == 0, resumed
    assert read_ids(target, "jsonl") == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debits.jsonl"]


def test_planted_symlinks_are_never_followed(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """FILE.part and FILE.partial symlinks to a victim: the victim is never written."""
    cid, aid, debits = _seed(fake, actions=30)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "debits.jsonl"
    Path(f"{target}.part").symlink_to(victim)
    argv = ("actions", "list", cid, aid, "--type", "debit", "-o", str(target))
    assert cli(*argv).code == 0
    assert read_ids(target, "jsonl") == debits
    Path(f"{target}.partial").symlink_to(victim)
    refused = cli(*argv)
    assert refused.code == 2
    assert "holds an interrupted export" in refused.err
    refused = cli(*argv, "--resume")  # there is no checkpoint: nothing to resume
    assert refused.code == 2
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink()


def test_a_temporary_name_taken_by_a_symlink_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file is created exclusively: an existing name (a symlink) is not opened."""
    from thoughtcredits._cli.exports import tempfiles as _files

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "out.jsonl"
    names = iter(["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(_files.secrets, "token_hex", lambda n: next(names))
    (tmp_path / ".out.jsonl.aaaaaaaaaaaa.tmp").symlink_to(victim)
    path, stream = _files.create_exclusive(target)
    with stream:
        stream.write(b"new\n")
    assert path.name == ".out.jsonl.bbbbbbbbbbbb.tmp"
    assert victim.read_text() == "precious\n"


def test_resume_without_a_checkpoint_is_a_usage_error(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """--resume with nothing to resume exits 2 before any request is sent."""
    target = tmp_path / "debits.jsonl"
    result = cli("batches", "list", str(fake.call(fake.server.ledger.add_client)), "-o",
                 str(target), "--resume")  # fmt: skip
    assert result.code == 2
    assert result.err == f"error: nothing to resume: {target}.checkpoint does not exist\n"
    assert fake.server.requests == []
    assert list(tmp_path.iterdir()) == []


def fail_with_key_on_the_command_line(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *key: str
) -> Result:
    """An export given the key as ``key`` (not the variable) that fails at page 2."""
    cid, aid, _ = _seed(fake, actions=60)
    monkeypatch.delenv("THOUGHTCREDITS_API_KEY")
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=1, route="list_credit_actions"),
        Fault(kind="status", status=500, count=4, route="list_credit_actions"),
    )
    target = tmp_path / "d.jsonl"
    return cli("actions", "list", cid, aid, "--type", "debit", "--page-size", "10",
               *key, "-o", str(target), sleep=ClockSleep())  # fmt: skip


def test_the_api_key_is_never_printed_in_the_resume_command(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --api-key on the command line, the printed command names the variable instead."""
    failed = fail_with_key_on_the_command_line(
        fake, cli, tmp_path, monkeypatch, "--api-key", API_KEY
    )
    assert failed.code == 1
    assert API_KEY not in failed.err
    assert '--api-key "$THOUGHTCREDITS_API_KEY"' in failed.err
