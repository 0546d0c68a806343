"""An export interrupted again after a ``--resume`` still resumes, each item exactly once."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from thoughtcredits.testing import Fault

from .conftest import ClockSleep, Result, ThreadedServer
from .test_resumable import _seed, read_ids, resume_words

Cli = Callable[..., Result]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

_ROUTE = "list_credit_actions"


def _fail_after(server: ThreadedServer, pages: int) -> None:
    """The listing's next ``pages`` pages are answered, then every attempt at the next fails."""
    server.server.inject(
        Fault(kind="delay", delay=0.0, count=pages, route=_ROUTE),
        Fault(kind="status", status=500, count=4, route=_ROUTE),
    )


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_an_export_stopped_twice_resumes_twice_and_holds_each_item_once(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, fmt: str
) -> None:
    """The second stop keeps 50 items (20 + 30), not the 30 of its own run; resumable."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    cid, aid, debits = _seed(fake)
    target = tmp_path / f"debits.{fmt}"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target))
    _fail_after(fake, 2)
    first = cli(*argv, sleep=ClockSleep())
    assert first.code == 1, first
    assert f"stopped: 20 items kept in {target}.partial" in first.err
    _fail_after(fake, 3)
    second = cli(*resume_words(first.err), sleep=ClockSleep())
    assert second.code == 1, second
    assert f"stopped: 50 items kept in {target}.partial" in second.err
    third = cli(*resume_words(second.err))
    assert third.code == 0, third
    assert read_ids(target, fmt) == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"debits.{fmt}"]


class FullFromFile:
    """``os.write`` that refuses with ENOSPC from the ``nth`` file written to on."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.files: list[int] = []

    def __call__(self, fd: int, data: memoryview) -> int:
        inode = os.fstat(fd).st_ino
        if inode not in self.files:
            self.files.append(inode)
        if self.files.index(inode) + 1 >= self.nth:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)


def test_a_full_disk_at_the_final_parquet_merge_leaves_no_hidden_segment(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last segment is closed after the last checkpoint, then the merge finds the disk
    full: the checkpointed segment is kept as FILE.partial, the later one is removed (it was
    left as a hidden ``.FILE.<hex>.tmp``), and --resume finishes with each item once."""
    pytest.importorskip("pyarrow")
    from thoughtcredits._cli.exports import disk

    cid, aid, debits = _seed(fake)
    # Files written: the first page's segment, the rest's segment, then the merge.
    monkeypatch.setattr(disk, "write_bytes", FullFromFile(3))
    target = tmp_path / "debits.parquet"
    argv = ("actions", "list", cid, aid, "--type", "debit", "--page-size", "10", "-o", str(target))
    failed = cli(*argv)
    assert failed.code == 1, failed
    assert failed.err.splitlines()[-1] == f"error: No space left on device ({target})"
    assert f"stopped: 10 items kept in {target}.partial" in failed.err
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["debits.parquet.checkpoint", "debits.parquet.partial"]
    monkeypatch.setattr(disk, "write_bytes", os.write)  # room again
    resumed = cli(*resume_words(failed.err))
    assert resumed.code == 0, resumed
    assert read_ids(target, "parquet") == debits
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debits.parquet"]
