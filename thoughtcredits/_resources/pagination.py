"""``AsyncPaginator``: follows a listing lazily, hiding the next page's latency.

Which page comes next, and when to stop, is decided by the pure rules of ``page_rules``.
Items and pages come from one async generator, so ``async for item in paginator`` costs one
generator step per item. The next page is prefetched lazily: it becomes a task only if the
event loop runs before the caller asks for it (the caller awaited something while handling
the page); a caller that only collects items never pays for a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

from .._models import Page
from .page_rules import PageRequest, Walk, format_checkpoint, parse_checkpoint

__all__ = ["AsyncPaginator", "ListingTrace", "PageRequest"]

T = TypeVar("T")
Fetch = Callable[[PageRequest], Awaitable[Page[Any]]]


class ListingTrace(Protocol):
    """One walk's trace (OpenTelemetry's listing span): its pages are fetched through it."""

    def around(self, fetch: Fetch) -> Fetch:
        """``fetch``, making each page it fetches a child of the listing."""
        ...

    def end(self, error: BaseException | None) -> None:
        """The walk ended: done or stopped by the caller (None), or by ``error``."""
        ...


def _drop_result(task: asyncio.Task[object]) -> None:
    # A prefetch the caller no longer wants must not log "exception was never retrieved".
    if not task.cancelled():
        task.exception()


class _Prefetch(Generic[T]):
    """The next page: a coroutine started by the loop if it gets there first, else inline."""

    __slots__ = ("_fetch", "_handle", "_request", "_task", "_track")

    def __init__(
        self,
        fetch: Callable[[PageRequest], Awaitable[Page[T]]],
        request: PageRequest,
        track: Callable[[asyncio.Task[object]], None] | None,
    ) -> None:
        self._fetch = fetch
        self._request = request
        self._track = track
        self._task: asyncio.Task[Page[T]] | None = None
        self._handle: asyncio.Handle | None = asyncio.get_running_loop().call_soon(self._start)

    def _start(self) -> None:
        self._handle = None
        self._task = asyncio.ensure_future(self._fetch(self._request))
        self._task.add_done_callback(_drop_result)
        if self._track is not None:
            self._track(self._task)

    async def result(self) -> Page[T]:
        if self._task is None:
            self.cancel()
            return await self._fetch(self._request)
        return await self._task

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._task is not None and not self._task.done():
            self._task.cancel()


class AsyncPaginator(Generic[T]):
    """A lazy listing: ``async for item in paginator`` or ``async for page in .pages()``.

    Nothing is sent until iteration starts. Each page is one request with its own retries,
    so a failure on page 7 is retried at page 7.

    During item iteration :attr:`checkpoint` is a token for the position just after the
    last item yielded; pass it as ``resume_from=`` to a new ``list(...)`` call to continue
    with the next item, nothing re-read and nothing skipped.
    """

    # One is made per list() call: no per-instance dict to allocate and free.
    __slots__ = ("_at", "_fetch", "_max_empty_pages", "_max_items", "_mode", "_offset",
                 "_prefetch", "_resumed", "_skip", "_start", "_trace", "_track")  # fmt: skip

    def __init__(
        self,
        fetch: Callable[[PageRequest], Awaitable[Page[T]]],
        *,
        start: PageRequest = PageRequest(),  # noqa: B008 - frozen
        resume_from: str | None = None,
        max_items: int | None = None,
        prefetch: bool = True,
        mode: Literal["cursor", "page"] = "cursor",
        max_empty_pages: int = 10,
        track: Callable[[asyncio.Task[object]], None] | None = None,
        trace: Callable[[], ListingTrace | None] | None = None,
    ) -> None:
        if max_items is not None and (
            isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0
        ):
            raise ValueError(f"max_items: must be a non-negative int, got {max_items!r}")
        skip = 0
        if resume_from is not None:
            if start != PageRequest():
                raise ValueError("pass cursor=/page= or resume_from=, not both")
            start, skip = parse_checkpoint(resume_from)
        self._fetch = fetch
        self._start = start
        self._skip = skip
        self._max_items = max_items
        self._prefetch = prefetch
        self._mode: Literal["cursor", "page"] = mode
        self._max_empty_pages = max_empty_pages
        self._track = track
        self._trace = trace  # starts each walk's listing span (the SDK's OpenTelemetry seam)
        # The checkpoint is kept as its parts (the page's request, and how many of its items
        # were yielded: an int, no tuple per item) and formatted only when read.
        self._at: PageRequest | None = None
        self._offset = 0
        self._resumed = resume_from

    @property
    def checkpoint(self) -> str | None:
        """Resume token for the position after the last item yielded (None before any)."""
        if self._at is None:
            return self._resumed
        return format_checkpoint(self._at, self._offset)

    def __repr__(self) -> str:
        """Where the listing starts and where it is: ``<AsyncPaginator checkpoint='3:Mg'>``."""
        parts = []
        if self._start.cursor is not None:
            parts.append(f"cursor={self._start.cursor!r}")
        if self._start.page is not None:
            parts.append(f"page={self._start.page}")
        if self._max_items is not None:
            parts.append(f"max_items={self._max_items}")
        if self._mode != "cursor":
            parts.append(f"mode={self._mode!r}")
        parts.append(f"checkpoint={self.checkpoint!r}")
        return f"<AsyncPaginator {' '.join(parts)}>"

    def __aiter__(self) -> AsyncIterator[T]:
        return cast(AsyncIterator[T], self._walk(items=True))

    def pages(self) -> AsyncGenerator[Page[T], None]:
        """Yield each :class:`Page` in order, until ``hasMore`` is false."""
        return cast(AsyncGenerator[Page[T], None], self._walk(items=False))

    async def _walk(self, *, items: bool) -> AsyncGenerator[Any, None]:
        walk = Walk(self._mode, self._start, self._max_empty_pages)
        remaining = self._max_items
        skip = self._skip
        budget = None if remaining is None else remaining + skip  # items the pages must hold
        request: PageRequest | None = self._start
        pending: _Prefetch[T] | None = None
        trace = None if self._trace is None else self._trace()
        fetch = self._fetch if trace is None else trace.around(self._fetch)
        ended: BaseException | None = None
        try:
            while request is not None:
                if budget is not None and budget <= 0:
                    return
                if pending is not None:
                    page, pending = await pending.result(), None
                else:
                    page = await fetch(request)
                following = walk.next(request, page)
                if budget is not None:
                    budget -= len(page.items)
                if following is not None and self._prefetch and (budget is None or budget > 0):
                    pending = _Prefetch(fetch, following, self._track)
                if not items:
                    yield page
                else:
                    page_items = page.items
                    for index in range(skip, len(page_items)):
                        if remaining is not None:
                            if remaining <= 0:
                                return
                            remaining -= 1
                        self._at, self._offset = request, index + 1
                        yield page_items[index]
                    skip = 0
                request = following
        except BaseException as error:
            ended = None if isinstance(error, GeneratorExit) else error  # (exit: the caller's)
            raise
        finally:
            if pending is not None:
                pending.cancel()
            if trace is not None:
                trace.end(ended)
