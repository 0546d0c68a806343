"""Exports a finance team can trust: the right listing resumed, kill -9, bad amounts, full disks.

Each test drives the real command line; the files on disk afterwards are what is checked.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from thoughtcredits.testing import Fault

from .conftest import ClockSleep, Result, ThreadedServer, use_server
from .test_resumable import _seed, read_ids, resume_words

Cli = Callable[..., Result]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` (hidden ones too) and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _interrupted(fake: ThreadedServer, cli: Cli, folder: Path, fmt: str = "jsonl") -> list[str]:
    """An actions export stopped for good at page 3; the argv that started it."""
    cid, aid, _ = _seed(fake)
    fake.server.inject(
        Fault(kind="delay", delay=0.0, count=2, route="list_credit_actions"),
        Fault(kind="status", status=500, count=4, route="list_credit_actions"),
    )
    target = folder / f"debits.{fmt}"
    argv = ["actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target)]
    failed = cli(*argv, sleep=ClockSleep())
    assert failed.code == 1, failed
    assert f"stopped: 20 items kept in {target}.partial" in failed.err
    return argv


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--type", "credit"], 'is for another export (actionType "debit", not "credit")'),
        (["--page-size", "20"], "is for another export (pageSize 10, not 20)"),
        (["--format", "csv"], 'is for another export (format "jsonl", not "csv")'),
        (["--max-items", "5"], "is for another export (maxItems (none), not 5)"),
    ],
)
def test_resume_refuses_another_listing_and_touches_nothing(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, change: list[str], message: str
) -> None:
    """Resuming a debit export as another listing exits 2, sends nothing, changes no file."""
    argv = _interrupted(fake, cli, tmp_path)
    if "--type" in change:
        argv[argv.index("--type") + 1] = change[1]
    elif "--page-size" in change:
        argv[argv.index("--page-size") + 1] = change[1]
    else:
        argv += change
    before = _snapshot(tmp_path)
    sent = len(fake.server.requests)
    refused = cli(*argv, "--resume")
    assert refused.code == 2, refused
    assert refused.err.count("\n") == 1
    assert refused.err.startswith(f"error: {tmp_path / 'debits.jsonl'}.checkpoint {message}")
    assert len(fake.server.requests) == sent
    assert _snapshot(tmp_path) == before


def _tamper_bytes(checkpoint: dict[str, object], partial: Path) -> None:
    checkpoint["files"][0]["bytes"] = 0  # type: ignore[index]


def _tamper_items_and_checksum(checkpoint: dict[str, object], partial: Path) -> None:
    import hashlib

    from thoughtcredits._serde.exact_json import dumps

    checkpoint["items"] = 5
    checkpoint["files"][0]["items"] = 5  # type: ignore[index]
    checkpoint.pop("checksum")
    checkpoint["checksum"] = hashlib.sha256(dumps(checkpoint)).hexdigest()


def _tamper_size_and_checksum(checkpoint: dict[str, object], partial: Path) -> None:
    import hashlib

    from thoughtcredits._serde.exact_json import dumps

    checkpoint["files"][0]["bytes"] = 0  # type: ignore[index]
    checkpoint.pop("checksum")
    checkpoint["checksum"] = hashlib.sha256(dumps(checkpoint)).hexdigest()


def _tamper_partial(checkpoint: dict[str, object], partial: Path) -> None:
    data = bytearray(partial.read_bytes())
    data[10] ^= 0x01
    partial.write_bytes(bytes(data))


def _truncate_partial(checkpoint: dict[str, object], partial: Path) -> None:
    partial.write_bytes(partial.read_bytes()[:-5])


def _nest_deeply(checkpoint: dict[str, object], partial: Path) -> bytes:
    return b'{"version": 2, "position": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _bloat(checkpoint: dict[str, object], partial: Path) -> None:
    checkpoint["padding"] = "x" * (2 << 20)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_tamper_bytes, "has been modified since it was written"),
        (_tamper_items_and_checksum, "does not match its checkpoint"),
        (_tamper_size_and_checksum, "does not match its checkpoint"),
        (_tamper_partial, "does not match its checkpoint"),
        (_truncate_partial, "does not match its checkpoint"),
        (_nest_deeply, "cannot be read as a checkpoint"),
        (_bloat, "cannot be read as a checkpoint (over 1,048,576 bytes)"),
    ],
)
def test_resume_refuses_a_checkpoint_its_partial_does_not_match(
    fake: ThreadedServer,
    cli: Cli,
    tmp_path: Path,
    tamper: Callable[[dict[str, object], Path], bytes | None],
    message: str,
) -> None:
    """An edited checkpoint or partial is refused with one line; nothing is sent or changed."""
    argv = _interrupted(fake, cli, tmp_path)
    checkpoint_path = tmp_path / "debits.jsonl.checkpoint"
    checkpoint = json.loads(checkpoint_path.read_bytes())
    raw = tamper(checkpoint, tmp_path / "debits.jsonl.partial")
    checkpoint_path.write_bytes(raw if raw is not None else json.dumps(checkpoint).encode())
    before = _snapshot(tmp_path)
    sent = len(fake.server.requests)
    refused = cli(*argv, "--resume")
    assert refused.code == 2, refused
    assert refused.err.count("\n") == 1
    assert message in refused.err
    assert len(fake.server.requests) == sent
    assert _snapshot(tmp_path) == before


def test_a_crash_between_keeping_the_partial_and_its_checkpoint_still_resumes(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """The checkpoint still names the temporary file FILE.partial was renamed from: --resume
    finds the same bytes in FILE.partial and completes, every item once."""
    import hashlib

    from thoughtcredits._serde.exact_json import dumps

    argv = _interrupted(fake, cli, tmp_path)
    checkpoint_path = tmp_path / "debits.jsonl.checkpoint"
    saved = json.loads(checkpoint_path.read_bytes())
    saved["files"][0]["file"] = ".debits.jsonl.0123456789ab.tmp"
    saved.pop("checksum")
    saved["checksum"] = hashlib.sha256(dumps(saved)).hexdigest()
    checkpoint_path.write_bytes(json.dumps(saved).encode())
    resumed = cli(*argv, "--resume")
    assert resumed.code == 0, resumed
    debits = fake.call(
        lambda: [
            fake.server.ledger.action_id(r) for r in fake.server.ledger.actions(argv[3], "debit")
        ]
    )
    assert read_ids(tmp_path / "debits.jsonl", "jsonl") == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debits.jsonl"]


def test_the_checkpoint_names_the_listing_its_file_and_the_sdk(
    fake: ThreadedServer, cli: Cli, tmp_path: Path
) -> None:
    """The checkpoint records command, client, account, type, format, SDK version and file."""
    import thoughtcredits as tc

    argv = _interrupted(fake, cli, tmp_path)
    saved = json.loads((tmp_path / "debits.jsonl.checkpoint").read_bytes())
    assert saved["identity"] == {
        "command": "actions list",
        "server": f"{fake.url}/incoming/v2",
        "clientId": argv[2],
        "creditAccountId": argv[3],
        "actionType": "debit",
        "columns": None,
        "csvDialect": None,
        "pageSize": 10,
        "maxItems": None,
        "format": "jsonl",
    }
    assert saved["sdk"] == tc.__version__
    assert saved["items"] == 20
    assert saved["files"] == [
        {
            "file": "debits.jsonl.partial",
            "bytes": (tmp_path / "debits.jsonl.partial").stat().st_size,
            "sha256": hashlib.sha256((tmp_path / "debits.jsonl.partial").read_bytes()).hexdigest(),
            "items": 20,
        }
    ]


def _spawn(server: ThreadedServer, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **server.env()},
    )


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet"])  # csv resumes like jsonl
def test_kill_9_mid_export_resumes_with_every_item_once_and_no_temp_file(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fmt: str,
) -> None:
    """SIGKILL after a checkpoint: the hidden file and its checkpoint carry --resume to the end.

    Parquet is checkpointed as closed segments (the first page's at once): pages after it
    are in an open segment the kill leaves footerless, which the resume sweeps away.
    """
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    server = make_server(latency=0.05)  # about 20 pages a second, a checkpoint a second
    cid, aid, debits = _seed(server, actions=600)
    target = tmp_path / f"debits.{fmt}"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target))
    process = _spawn(server, *argv)
    checkpoint = Path(f"{target}.checkpoint")
    deadline = time.monotonic() + 30

    def past_second_checkpoint() -> bool:
        # The first page's checkpoint and a later one are in, and pages written after it:
        # the resume must drop those.
        try:
            saved = json.loads(checkpoint.read_bytes())
            if fmt == "parquet":
                return saved["items"] >= 10 and len(server.server.requests) >= 5
            return (
                saved["items"] > 10
                and (tmp_path / saved["files"][0]["file"]).stat().st_size
                > saved["files"][0]["bytes"]
            )
        except (OSError, ValueError):
            return False

    while not past_second_checkpoint():
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    saved = json.loads(checkpoint.read_bytes())
    hidden = tmp_path / saved["files"][0]["file"]
    assert hidden.name.startswith(f".debits.{fmt}.")
    assert hidden.name.endswith(".tmp")
    assert saved["items"] < len(debits)
    use_server(server, monkeypatch)
    resumed = cli(*argv, "--resume")
    assert resumed.code == 0, resumed
    assert read_ids(target, fmt) == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"debits.{fmt}"]


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[Path]:
    """A temporary file of the same export a live process is writing (its lock is held)."""
    path = tmp_path / ".debits.jsonl.cccccccccccc.tmp"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield path
    os.close(fd)


def test_a_rerun_sweeps_its_own_stale_temp_files_and_nobody_elses(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, held_lock: Path
) -> None:
    """Dead writers' temp files go; a live one's, another file's and a symlink stay."""
    cid, aid, debits = _seed(fake, actions=30)
    stale = tmp_path / ".debits.jsonl.aaaaaaaaaaaa.tmp"
    stale.write_bytes(b"x" * 1000)
    stale_checkpoint = tmp_path / ".debits.jsonl.checkpoint.dddddddddddd.tmp"
    stale_checkpoint.write_bytes(b"{")
    other = tmp_path / ".other.jsonl.bbbbbbbbbbbb.tmp"
    other.write_bytes(b"theirs")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = tmp_path / ".debits.jsonl.eeeeeeeeeeee.tmp"
    planted.symlink_to(victim)
    target = tmp_path / "debits.jsonl"
    result = cli("actions", "list", cid, aid, "--type", "debit", "-o", str(target))
    assert result.code == 0, result
    assert read_ids(target, "jsonl") == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, held_lock.name, other.name, victim.name, planted.name]
    )
    assert victim.read_text() == "precious\n"


def _huge_batches(fake: ThreadedServer) -> tuple[str, list[str]]:
    """A client with 25 ordinary batches, then one whose balance parquet cannot hold exactly."""

    def build() -> tuple[str, list[str]]:
        ledger = fake.server.ledger
        cid = ledger.add_client()
        account = ledger.create_account(cid, name="Training", starting_balance=1)
        for number in range(25):
            ledger.create_batch(cid, starting_balance=number + 1, credit_account_id=account.id)
        ledger.create_batch(
            cid, starting_balance=Decimal(10) ** 27, credit_account_id=account.id, name="huge"
        )
        return str(cid), [str(b.id) for b in ledger.batches.values()]

    return fake.call(build)


def test_a_refused_parquet_amount_keeps_a_readable_partial_with_every_earlier_row(
    fake: ThreadedServer, tmp_path: Path
) -> None:
    """The amount is refused before the writer: one line, no traceback, a valid partial."""
    pq = pytest.importorskip("pyarrow.parquet")
    cid, ids = _huge_batches(fake)
    target = tmp_path / "batches.parquet"
    argv = ("batches", "list", cid, "--page-size", "10", "-o", str(target))
    process = _spawn(fake, *argv)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    lines = err.splitlines()
    assert lines[-1].startswith("error: cannot store startingBalance 1")
    assert "decimal128(38, 12)" in lines[-1]
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    assert len(lines) == 2  # the "kept" note and the error
    partial = Path(f"{target}.partial")
    rows = pq.read_table(partial).column("id").to_pylist()
    assert rows == ids[:-1]  # every earlier row, each once
    saved = json.loads(Path(f"{target}.checkpoint").read_bytes())
    assert saved["items"] == len(rows)
    assert [(f["file"], f["bytes"]) for f in saved["files"]] == [
        (partial.name, partial.stat().st_size)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "batches.parquet.checkpoint",
        "batches.parquet.partial",
    ]


class FullDisk:
    """``os.write`` that refuses with ENOSPC once ``room`` bytes have been written."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, fd: int, data: memoryview) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = os.write(fd, data[: self.room])
        self.room -= written
        return written


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "parquet"])
def test_a_full_disk_gives_one_line_and_leaves_no_hidden_temp_file(
    fake: ThreadedServer,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """ENOSPC mid-export: one line, the checkpointed items kept where possible, no temp file."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    from thoughtcredits._cli.exports import disk

    cid, aid, debits = _seed(fake, actions=200)
    # Parquet writes its first page as a closed segment at once, then rows only when the
    # next segment closes: room for the first segment, not for the rest.
    monkeypatch.setattr(disk, "write_bytes", FullDisk(room=16000 if fmt == "parquet" else 6000))
    target = tmp_path / f"debits.{fmt}"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target))
    failed = cli(*argv)
    assert failed.code == 1, failed
    assert failed.err.splitlines()[-1] == f"error: No space left on device ({target})"
    assert "Traceback" not in failed.err
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not [name for name in left if name.startswith(".")], left
    assert left == [f"debits.{fmt}.checkpoint", f"debits.{fmt}.partial"]
    kept = read_ids(Path(f"{target}.partial"), fmt)
    assert kept == debits[: len(kept)]
    assert len(kept) >= 10
    assert f"stopped: {len(kept):,} items kept in {target}.partial" in failed.err
    monkeypatch.setattr(disk, "write_bytes", os.write)  # room again
    resumed = cli(*resume_words(failed.err))
    assert resumed.code == 0, resumed
    assert read_ids(target, fmt) == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"debits.{fmt}"]
