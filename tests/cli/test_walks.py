"""``Walks``: several listings walked at once, their pages handed over in listing order.

The listings here are stubs whose pages arrive when a test lets them, so every interleaving
is chosen, not hoped for. Spooled bytes are counted at ``disk.write_bytes``, the seam every
byte of an export goes through.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import pytest

from thoughtcredits import Page, PageInfo
from thoughtcredits._cli.exports import disk
from thoughtcredits._cli.exports.walks import AHEAD_PER_WALK, Chunk, Walks, reach


class BoomError(Exception):
    """A listing's failure."""


class Stub:
    """A listing of ``pages`` (lists of items); page ``k`` is requested with cursor ``k``.

    Each page is answered once the test calls :meth:`release` (or at once when ``free``);
    ``fail_at`` raises :class:`BoomError` instead of that page.
    """

    def __init__(self, name: str, pages: list[list[Any]], *, free: bool = True) -> None:
        self.name = name
        self.pages_ = pages
        self.free = free
        self.fail_at: int | None = None
        self.opened_with: list[str | None] = []
        self.closed = False
        self._released = asyncio.Semaphore(0)

    def release(self, count: int = 1) -> None:
        for _ in range(count):
            self._released.release()

    def open(self, cursor: str | None) -> Stub:
        self.opened_with.append(cursor)
        return self

    def pages(self) -> AsyncGenerator[Page[Any], None]:
        return self._pages()

    async def _pages(self) -> AsyncGenerator[Page[Any], None]:
        start = int(self.opened_with[-1] or 0)
        try:
            for number in range(start, len(self.pages_)):
                Stub.active += 1
                Stub.most = max(Stub.most, Stub.active)
                try:
                    if self.free:
                        await asyncio.sleep(0)
                    else:
                        await self._released.acquire()
                finally:
                    Stub.active -= 1
                if number == self.fail_at:
                    raise BoomError(self.name)
                more = number + 1 < len(self.pages_)
                info = PageInfo(has_more=more, cursor=str(number + 1) if more else None)
                yield Page(
                    items=tuple(self.pages_[number]),
                    page_info=info,
                    request_cursor=None if number == 0 else str(number),
                )
        finally:
            self.closed = True

    active = 0
    most = 0


@pytest.fixture(autouse=True)
def _counts() -> None:
    Stub.active = Stub.most = 0


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the writes that reached a spool file."""
    sizes: list[int] = []

    def write(fd: int, data: Any) -> int:
        sizes.append(len(data))
        return os.write(fd, data)

    monkeypatch.setattr(disk, "write_bytes", write)
    return sizes


async def until(condition: Callable[[], object], seconds: float = 10.0) -> None:
    """Let the walks run until ``condition`` holds (the machine's load decides how long)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.001)


def listings(stubs: list[Stub]) -> list[Callable[[str | None], Any]]:
    return [stub.open for stub in stubs]


def expected(stubs: list[Stub], start: int = 0) -> list[tuple[int, str | None, tuple[Any, ...]]]:
    return [
        (index, None if number == 0 else str(number), tuple(page))
        for index, stub in enumerate(stubs)
        if index >= start
        for number, page in enumerate(stub.pages_)
    ]


def seen(chunks: list[Chunk]) -> list[tuple[int, str | None, tuple[Any, ...]]]:
    return [(chunk.source, chunk.cursor, chunk.items) for chunk in chunks]


async def test_pages_come_in_listing_order_whatever_order_they_arrive(
    tmp_path: Path, spooled: list[int]
) -> None:
    """The last listing finishes first, the head last: the writer still gets 0, 1, 2, 3.

    Every listing but the head spooled its pages (bytes reached the disk seam)."""
    stubs = [
        Stub(f"s{i}", [[f"s{i}p{k}i{j}" for j in range(3)] for k in range(i + 2)], free=False)
        for i in range(4)
    ]
    got: list[Chunk] = []
    async with Walks(listings(stubs), 0, None, walks=4, directory=tmp_path) as walks:
        for stub in reversed(stubs):  # the last listing's pages arrive first
            stub.release(len(stub.pages_))
            await until(lambda stub=stub: stub.closed)
        got = [chunk async for chunk in walks]
    assert seen(got) == expected(stubs)
    following = [chunk.following for chunk in got if chunk.source == 3]
    assert following == ["1", "2", "3", "4", None]
    assert len(spooled) == 3 + 4 + 5  # every page of listings 1-3; none of the head's
    assert os.listdir(tmp_path) == []  # the spools have no name


async def test_one_walk_never_spools(tmp_path: Path, spooled: list[int]) -> None:
    """walks=1 walks the listings one after another, each page straight to the writer."""
    stubs = [Stub(f"s{i}", [[i, k] for k in range(3)]) for i in range(5)]
    async with Walks(listings(stubs), 0, None, walks=1, directory=tmp_path) as walks:
        got = [chunk async for chunk in walks]
    assert seen(got) == expected(stubs)
    assert Stub.most == 1
    assert spooled == []


@pytest.mark.parametrize("walks", [2, 3, 8])
async def test_no_more_listings_than_walks_are_in_flight(tmp_path: Path, walks: int) -> None:
    """Ten listings of three pages: at most ``walks`` requests wait at once, and as many do."""
    stubs = [Stub(f"s{i}", [[i, k] for k in range(3)]) for i in range(10)]
    async with Walks(listings(stubs), 0, None, walks=walks, directory=tmp_path) as chunks:
        got = [chunk async for chunk in chunks]
    assert seen(got) == expected(stubs)
    assert Stub.most == walks


async def test_a_failed_listing_raises_after_everything_before_it(tmp_path: Path) -> None:
    """Listing 2 fails at once while 0 and 1 are slow: 0 and 1 come whole, then the error;
    no listing starts after the failure."""
    stubs = [Stub(f"s{i}", [[i, k] for k in range(2)], free=i == 2) for i in range(8)]
    stubs[2].fail_at = 0
    got: list[Chunk] = []
    async with Walks(listings(stubs), 0, None, walks=3, directory=tmp_path) as walks:
        await until(lambda: stubs[2].closed)  # listing 2 has failed; 0 and 1 wait
        stubs[0].release(2)
        stubs[1].release(2)

        async def drain() -> None:
            async for chunk in walks:
                got.append(chunk)

        with pytest.raises(BoomError, match="s2"):
            await drain()
    assert seen(got) == expected(stubs[:2])
    assert [stub.opened_with for stub in stubs[3:]] == [[]] * 5


async def test_leaving_early_stops_every_walk_and_frees_the_spools(tmp_path: Path) -> None:
    """After one page the writer leaves: every listing is closed, no task or file is left."""
    stubs = [Stub(f"s{i}", [[i, k] for k in range(50)], free=i != 0) for i in range(4)]
    fds = set(os.listdir("/proc/self/fd"))
    async with Walks(listings(stubs), 0, None, walks=4, directory=tmp_path) as walks:
        stubs[0].release()
        await until(lambda: set(os.listdir("/proc/self/fd")) - fds)  # the spool files
        first = await anext(walks)
    assert first.items == (0, 0)
    assert all(stub.closed for stub in stubs)
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert set(os.listdir("/proc/self/fd")) <= fds


async def test_walks_start_only_so_far_ahead_of_the_head(tmp_path: Path) -> None:
    """While the head waits, at most ``reach`` listings are started (a quarter of the open
    files this process may have, at most ``walks * AHEAD_PER_WALK``)."""
    import resource

    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert reach(1) == 1
    assert reach(2) == min(2 * AHEAD_PER_WALK, files // 4)
    stubs = [Stub("head", [[0], [1]], free=False)]
    stubs += [Stub(f"s{i}", [[i]]) for i in range(1, reach(2) + 30)]
    async with Walks(listings(stubs), 0, None, walks=2, directory=tmp_path) as walks:
        await until(lambda: sum(1 for stub in stubs if stub.opened_with) >= walks.reach)
        await asyncio.sleep(0.05)  # and no further, however long they run
        started = [i for i, stub in enumerate(stubs) if stub.opened_with]
        assert started == list(range(walks.reach))
        stubs[0].release(2)
        got = [chunk async for chunk in walks]
    assert seen(got) == expected(stubs)


async def test_a_resumed_walk_continues_its_listing_and_starts_the_rest(tmp_path: Path) -> None:
    """start=2 at cursor "3": listing 2 continues there, 3 and 4 start at their beginning."""
    stubs = [Stub(f"s{i}", [[i, k] for k in range(5)]) for i in range(5)]
    async with Walks(listings(stubs), 2, "3", walks=3, directory=tmp_path) as walks:
        got = [chunk async for chunk in walks]
    assert [stub.opened_with for stub in stubs] == [[], [], ["3"], [None], [None]]
    assert seen(got) == [g for g in expected(stubs, 2) if g[0] != 2 or g[1] in ("3", "4")]


async def test_a_full_disk_while_spooling_is_raised_after_the_pages_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listings 1 and 2 cannot spool (ENOSPC): listing 0 comes whole, then the disk's error,
    and no further listing is started."""

    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(disk, "write_bytes", full)
    stubs = [Stub("head", [[0, k] for k in range(3)], free=False)]
    stubs += [Stub(f"s{i}", [[i, 0]]) for i in range(1, 6)]
    got: list[Chunk] = []
    async with Walks(listings(stubs), 0, None, walks=3, directory=tmp_path) as walks:
        await until(lambda: stubs[1].closed and stubs[2].closed)  # both failed to spool
        stubs[0].release(3)

        async def drain() -> None:
            async for chunk in walks:
                got.append(chunk)

        with pytest.raises(OSError, match="No space left on device") as raised:
            await drain()
    assert raised.value.errno == errno.ENOSPC
    assert seen(got) == expected(stubs[:1])
    assert [stub.opened_with for stub in stubs[3:]] == [[]] * 3
