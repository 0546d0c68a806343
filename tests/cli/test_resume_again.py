"""An export interrupted again after a ``--resume`` still resumes, each item exactly once."""

from __future__ import annotations

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
