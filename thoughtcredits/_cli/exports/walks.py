"""Walk several listings at once and hand their pages to the writer in listing order.

An export writes its listings one after another. Walked one at a time, the quota sits idle
while each page crosses the network; so up to ``walks`` listings are walked at once, each
request still paced by the client's limiter. The listing being written (the *head*) hands
its pages over in memory, a couple at a time. A listing ahead of it spools its pages to an
anonymous file beside the export (it has no name, so the kernel frees it with the process,
``kill -9`` included) until the writer gets there.

The writer therefore sees exactly the pages a one-at-a-time walk would give, in the same
order, and its checkpoint stays one position in that order: pages spooled but not yet
written are listed again by ``--resume``. A listing that fails stops new listings from
starting; its error is raised where it falls in that order, after everything before it.
With ``walks=1`` the listings are simply iterated in turn: no task, no queue, no spool.
"""

from __future__ import annotations

import asyncio
import errno
import os
import pickle
import tempfile
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ..._resources.pagination import AsyncPaginator
from . import disk

__all__ = ["AHEAD_PER_WALK", "Chunk", "Walks", "reach"]

AHEAD_PER_WALK = 32
"""How many listings past the head each walk may start: enough that one long listing does
not hold the others back for long. Each listing ahead holds one spool file open, so a quarter
of the process's open-file limit bounds it too (see :func:`reach`)."""
_IN_MEMORY = 2  # pages of the head waiting for the writer


@dataclass(frozen=True, slots=True)
class Chunk:
    """One page of one listing, as the writer uses it.

    Attributes:
        source: the listing's index.
        cursor: the cursor the page was requested with (None: the listing's start).
        items: the page's items, in order.
        following: the next page's cursor; None after the listing's last page.
        total: the server's total for the listing, when it gave one.
    """

    source: int
    cursor: str | None
    items: tuple[Any, ...]
    following: str | None
    total: int | None


def reach(walks: int) -> int:
    """How many listings from the head on may be started: 1 for one walk at a time."""
    if walks <= 1:
        return 1
    try:
        import resource

        files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if files == resource.RLIM_INFINITY:
            files = 1 << 16
    except (ImportError, OSError, ValueError):  # no such limit here (Windows)
        files = 512
    return max(walks, min(walks * AHEAD_PER_WALK, files // 4))


class _Channel:
    """One listing's pages on their way to the writer: spooled until it is the head."""

    def __init__(self, directory: Path) -> None:
        self.live = False  # the writer reads this listing now: pages wait in memory
        self._directory = directory
        self._memory: deque[Chunk] = deque()
        self._spooled: deque[tuple[int, int]] = deque()  # (offset, length) in the spool
        self._spool: IO[bytes] | None = None
        self._size = 0
        self._ended = False
        self._error: BaseException | None = None
        self._changed = asyncio.Condition()

    async def put(self, chunk: Chunk) -> None:
        """Queue a page: in memory for the head (waiting for room), else in the spool."""
        async with self._changed:
            if self.live:
                await self._changed.wait_for(lambda: len(self._memory) < _IN_MEMORY)
                self._memory.append(chunk)
            else:
                self._spill(chunk)
            self._changed.notify_all()

    async def end(self, error: BaseException | None) -> None:
        """No more pages: the listing is complete, or failed with ``error``."""
        async with self._changed:
            self._ended, self._error = True, error
            self._changed.notify_all()

    async def get(self) -> Chunk | None:
        """The next page in order; None after the last. Raises the listing's error there."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._spooled or self._memory or self._ended)
            # Spooled pages all came before the listing became the head, so before those
            # in memory.
            if self._spooled:
                chunk = self._unspill()
            elif self._memory:
                chunk = self._memory.popleft()
            elif self._error is not None:
                raise self._error
            else:
                return None
            self._changed.notify_all()
            return chunk

    def _spill(self, chunk: Chunk) -> None:
        if self._spool is None:
            # Beside the export: its own disk, never a RAM-backed /tmp. O_TMPFILE where the
            # filesystem has it (no name ever), else a name unlinked at once. Our own file,
            # read back only by this process, so pickle (exact, and fast for frozen models).
            self._spool = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                dir=self._directory, prefix=".thoughtcredits-spool-", buffering=0
            )
        data = memoryview(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
        fd, written = self._spool.fileno(), 0
        os.lseek(fd, self._size, os.SEEK_SET)
        while written < len(data):
            taken = disk.write_bytes(fd, data[written:])
            if taken <= 0:  # a disk that takes nothing and says nothing: as good as full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written += taken
        self._spooled.append((self._size, len(data)))
        self._size += len(data)

    def _unspill(self) -> Chunk:
        offset, length = self._spooled.popleft()
        assert self._spool is not None
        chunk: Chunk = pickle.loads(os.pread(self._spool.fileno(), length, offset))  # noqa: S301
        return chunk

    def close(self) -> None:
        """Free the spool (its space returns to the disk)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


class Walks:
    """The pages of ``listings`` from ``start`` on, in order, walked up to ``walks`` at once.

    Use as ``async with Walks(...) as walks: async for chunk in walks: ...``; leaving the
    block stops every walk and frees the spools.

    Args:
        listings: each starts its listing at a page cursor (None: at its start).
        start: the first listing to walk.
        cursor: where that listing continues (None: its start); the others start at theirs.
        walks: how many listings may be walked at once (1: one after another).
        directory: where the spool files go (the export's directory).
    """

    def __init__(
        self,
        listings: Sequence[Callable[[str | None], AsyncPaginator[Any]]],
        start: int,
        cursor: str | None,
        *,
        walks: int,
        directory: Path,
    ) -> None:
        self._listings = listings
        self._start, self._cursor = start, cursor
        self._walks = max(1, walks)
        self._directory = directory
        self.reach = reach(self._walks)
        """How many listings from the head on may be started."""
        self._head = start  # the listing the writer reads
        self._next = start  # the next listing a walk starts
        self._stopped = False  # a listing failed: start no more
        self._channels: dict[int, _Channel] = {}
        self._turn = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_order = self._in_turn()  # walks=1: one walk reads every listing in turn
        if start < len(listings):
            self._channel(start).live = True

    async def __aenter__(self) -> Walks:
        if self._walks > 1:
            count = min(self._walks, len(self._listings) - self._start)
            self._tasks = [asyncio.create_task(self._walk()) for _ in range(count)]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._in_order.aclose()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def __aiter__(self) -> Walks:
        return self

    async def __anext__(self) -> Chunk:
        if self._walks == 1:
            return await anext(self._in_order)
        while self._head < len(self._listings):
            chunk = await self._channel(self._head).get()
            if chunk is not None:
                return chunk
            self._channels.pop(self._head).close()
            async with self._turn:
                self._head += 1
                if self._head < len(self._listings):
                    # Set before any walk can start it: the head's pages never touch a spool.
                    self._channel(self._head).live = True
                self._turn.notify_all()
        raise StopAsyncIteration

    def _channel(self, index: int) -> _Channel:
        channel = self._channels.get(index)
        if channel is None:
            channel = self._channels[index] = _Channel(self._directory)
        return channel

    async def _claim(self) -> int | None:
        """The next listing to walk, once it is close enough to the head; None: no more."""
        async with self._turn:
            await self._turn.wait_for(
                lambda: (
                    self._stopped
                    or self._next >= len(self._listings)
                    or self._next < self._head + self.reach
                )
            )
            if self._stopped or self._next >= len(self._listings):
                return None
            self._next += 1
            return self._next - 1

    async def _walk(self) -> None:
        while (index := await self._claim()) is not None:
            channel = self._channel(index)
            try:
                async for chunk in self._chunks(index):
                    await channel.put(chunk)
            except Exception as error:  # delivered in listing order, after what precedes it
                async with self._turn:
                    self._stopped = True
                    self._turn.notify_all()
                await channel.end(error)
                return
            await channel.end(None)

    async def _chunks(self, index: int) -> AsyncGenerator[Chunk, None]:
        """One listing's pages (from the resumed cursor, for the first)."""
        pages = self._listings[index](self._cursor if index == self._start else None).pages()
        async with aclosing(pages):
            async for page in pages:
                info = page.page_info
                following = info.cursor if info.has_more and info.cursor else None
                yield Chunk(index, page.request_cursor, page.items, following, info.total)

    async def _in_turn(self) -> AsyncGenerator[Chunk, None]:
        """One walk: each listing in turn, no task, no queue, no spool."""
        for index in range(self._start, len(self._listings)):
            chunks = self._chunks(index)
            async with aclosing(chunks):
                async for chunk in chunks:
                    yield chunk
