"""``export`` walks several action listings at once, and its files stay exact and resumable.

The server here counts the action listings in flight. It holds the first ones until as many
as the test expects are waiting together (or until ``hold`` seconds pass), so "N at once" is
proved whatever the machine's load: an export that walks one listing at a time shows 1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from thoughtcredits._cli.commands.export import WALKS
from thoughtcredits.testing import FakeCreditsServer, seed_ledger

from .conftest import Result, ThreadedServer, use_server
from .test_export_command import read_rows, sdk_listings
from .test_export_safety import FullDisk, _spawn
from .test_resumable import resume_words

Cli = Callable[..., Result]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# A quota the client learns from the headers, so large that nothing waits for it.
AMPLE = (60_000, 10_000)


class Watching(FakeCreditsServer):
    """A local server that passes every API request through :meth:`watch` first."""

    def make_app(self) -> web.Application:
        @web.middleware
        async def watching(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self.watch(request, handler)

        app = super().make_app()
        app.middlewares.insert(0, watching)
        return app

    async def watch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)


class OverlapServer(Watching):
    """Records the most action listings in flight at once.

    Args:
        want: hold the first requests until this many are in flight together.
        hold: stop holding after this many seconds without reaching ``want``.
    """

    def __init__(self, *args: Any, want: int, hold: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.want = want
        self.hold = hold
        self.in_flight = 0
        self.most = 0
        self._enough: asyncio.Event | None = None

    async def watch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.endswith("/creditActions"):
            return await handler(request)
        if self._enough is None:
            self._enough = asyncio.Event()
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if self.in_flight >= self.want:
                self._enough.set()
            try:
                await asyncio.wait_for(self._enough.wait(), self.hold)
            except TimeoutError:
                self._enough.set()  # never reached: stop holding anyone
            return await handler(request)
        finally:
            self.in_flight -= 1


def _ledger(server: ThreadedServer, accounts: int, actions: int) -> str:
    seeded = server.call(
        lambda: seed_ledger(
            server.server.ledger, accounts=accounts, actions_per_account=actions, seed=3
        )
    )
    return str(seeded.client_ids[0])


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.name.endswith(".jsonl.partial"):
        return [json.loads(line) for line in path.read_text().splitlines()]
    if path.suffix == ".json":
        rows: list[dict[str, Any]] = json.loads(path.read_text())
        return rows
    return read_rows(path)


def _exported(server: ThreadedServer, cid: str, folder: Path, fmt: str = "jsonl") -> None:
    """Both files hold exactly what the SDK lists, in its order, each item once."""
    batch_ids, actions = server.run(sdk_listings(server, cid))
    assert [str(r["id"]) for r in _rows(folder / f"credit-batches.{fmt}")] == batch_ids
    rows = _rows(folder / f"credit-actions.{fmt}")
    assert [(r["creditAccountId"], r["actionType"], str(r["id"])) for r in rows] == actions
    assert sorted(p.name for p in folder.iterdir()) == [
        f"credit-actions.{fmt}",
        f"credit-batches.{fmt}",
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_export_walks_several_listings_at_once_and_writes_them_in_order(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fmt: str,
) -> None:
    """A server with a quota: WALKS action listings in flight together, never more, and
    each file holds every item once, in the SDK's order (listing by listing)."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    server = make_server(server_class=OverlapServer, want=WALKS, rate_limit=AMPLE)
    use_server(server, monkeypatch)
    cid = _ledger(server, accounts=6, actions=40)  # 12 listings of 1 to 6 pages
    result = cli("export", cid, "--to", str(tmp_path), "--page-size", "7", "--format", fmt)
    assert result.code == 0, result
    assert server.server.most == WALKS  # type: ignore[attr-defined]
    _exported(server, cid, tmp_path, fmt)


def test_concurrency_bounds_the_listings_in_flight(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """--concurrency 3: three listings at once, also against a server that sets no quota."""
    server = make_server(server_class=OverlapServer, want=3)
    use_server(server, monkeypatch)
    cid = _ledger(server, accounts=4, actions=30)
    result = cli("export", cid, "--to", str(tmp_path), "--page-size", "5", "--concurrency", "3")
    assert result.code == 0, result
    assert server.server.most == 3  # type: ignore[attr-defined]
    _exported(server, cid, tmp_path)


def test_without_a_quota_to_fill_one_listing_is_walked_at_a_time(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """No X-RateLimit headers and no --rate-limit: nothing paces more walks, so one."""
    server = make_server(server_class=OverlapServer, want=2, hold=0.2)
    use_server(server, monkeypatch)
    cid = _ledger(server, accounts=3, actions=20)
    result = cli("export", cid, "--to", str(tmp_path), "--page-size", "10")
    assert result.code == 0, result
    assert server.server.most == 1  # type: ignore[attr-defined]
    _exported(server, cid, tmp_path)


class LaggingServer(Watching):
    """Holds every page but the first of one account's debit listing until released, and
    counts the pages of the other accounts answered meanwhile: the writer waits on that
    listing while the ones after it are walked ahead (and spooled)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lagging: str | None = None
        self.others = 0
        self._released: asyncio.Event | None = None

    def release(self) -> None:
        """Answer the held pages (call it on the server's loop)."""
        self._event().set()

    def _event(self) -> asyncio.Event:
        if self._released is None:
            self._released = asyncio.Event()
        return self._released

    async def watch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.endswith("/creditActions"):
            return await handler(request)
        account = request.path.split("/")[-2]
        if account == self.lagging:
            if request.query.get("actionType") == "debit" and "cursor" in request.query:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._event().wait(), 30)
            return await handler(request)
        response = await handler(request)
        self.others += 1
        return response


def _stop_ahead(
    server: ThreadedServer, tmp_path: Path, signum: signal.Signals
) -> tuple[tuple[str, ...], str, int, list[tuple[str, ...]]]:
    """Start an export of 4 accounts, 4 listings at once, whose first account's debits
    lag; stop it with ``signum`` once later listings have answered a dozen pages. The
    argv, stderr, exit code, and every action as the SDK lists them."""
    cid = _ledger(server, accounts=4, actions=100)
    _, actions = server.run(sdk_listings(server, cid))
    lagging = server.server
    assert isinstance(lagging, LaggingServer)
    lagging.lagging = actions[0][0]  # the account the export writes first
    argv = ("export", cid, "--to", str(tmp_path), "--page-size", "10", "--concurrency", "4")
    process = _spawn(server, *argv)
    checkpoint = tmp_path / "credit-actions.jsonl.checkpoint"
    deadline = time.monotonic() + 30
    while lagging.others < 12 or not checkpoint.exists():
        assert time.monotonic() < deadline, (lagging.others, checkpoint.exists())
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    process.send_signal(signum)
    _out, err = process.communicate(timeout=30)
    server.call(lagging.release)
    return argv, err, process.returncode, actions


def test_kill_9_mid_concurrent_export_resumes_with_every_item_once(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """SIGKILL while listings ahead of the writer hold pages in their spools: the spools
    vanish with the process, and --resume ends with every item once and no stray file."""
    server = make_server(server_class=LaggingServer)
    argv, _err, code, _ = _stop_ahead(server, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    saved = json.loads((tmp_path / "credit-actions.jsonl.checkpoint").read_bytes())
    assert saved["files"][0]["file"].startswith(".credit-actions.jsonl.")
    assert saved["position"]["source"] <= 1  # the writer never got past the lagging listing
    use_server(server, monkeypatch)
    resumed = cli(*argv, "--resume")
    assert resumed.code == 0, resumed
    _exported(server, argv[1], tmp_path)


def test_ctrl_c_mid_concurrent_export_keeps_a_prefix_and_resumes_exactly(
    make_server: Callable[..., ThreadedServer],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Ctrl-C while listings are walked ahead of the writer: exit 130; the partial holds
    what was written, in order, and nothing walked ahead; the printed command completes it."""
    server = make_server(server_class=LaggingServer)
    _argv, err, code, actions = _stop_ahead(server, tmp_path, signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "credit-actions.jsonl.checkpoint",
        "credit-actions.jsonl.partial",
        "credit-batches.jsonl",
    ]
    head = actions[0][0]
    credits = sum(1 for a in actions if a[:2] == (head, "credit"))
    kept = _rows(tmp_path / "credit-actions.jsonl.partial")
    # The first account's credits, and its first page of debits if it was read by then:
    # the writer cannot get further while the second page is held.
    assert len(kept) in (credits, credits + 10)
    assert [(r["creditAccountId"], r["actionType"], r["id"]) for r in kept] == actions[: len(kept)]
    assert f"{len(kept):,} items kept in {tmp_path}/credit-actions.jsonl.partial" in err
    use_server(server, monkeypatch)
    resumed = cli(*resume_words(err))
    assert resumed.code == 0, resumed
    _exported(server, _argv[1], tmp_path)


def test_a_full_disk_during_concurrent_walks_keeps_a_prefix_and_resumes(
    fake: ThreadedServer, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spools and the file share the disk: when it fills, one line, the items before
    the last whole page kept, no hidden file; --resume with room again ends exact."""
    from thoughtcredits._cli.exports import disk

    cid = _ledger(fake, accounts=4, actions=100)
    monkeypatch.setattr(disk, "write_bytes", FullDisk(room=60_000))
    argv = ("export", cid, "--to", str(tmp_path), "--page-size", "10", "--concurrency", "4")
    failed = cli(*argv)
    assert failed.code == 1, failed
    target = tmp_path / "credit-actions.jsonl"
    assert failed.err.splitlines()[-1] == f"error: No space left on device ({target})"
    assert "Traceback" not in failed.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "credit-actions.jsonl.checkpoint",
        "credit-actions.jsonl.partial",
        "credit-batches.jsonl",
    ]
    _, actions = fake.run(sdk_listings(fake, cid))
    kept = _rows(Path(f"{target}.partial"))
    assert [(r["creditAccountId"], r["actionType"], r["id"]) for r in kept] == actions[: len(kept)]
    assert len(kept) >= 10
    monkeypatch.setattr(disk, "write_bytes", os.write)  # room again
    resumed = cli(*resume_words(failed.err))
    assert resumed.code == 0, resumed
    _exported(fake, cid, tmp_path)
