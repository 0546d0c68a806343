"""``AsyncPaginator``: follows ``pageInfo.hasMore``/``cursor`` lazily, one page ahead.

Rules (``research/ti-api.md`` §4): the first page is requested without a cursor; each next
page passes the previous ``pageInfo.cursor``; the listing ends when ``hasMore`` is false or
missing. An empty page with ``hasMore: true`` is not the end. ``hasMore: true`` with no
cursor, or a cursor seen before, raises ``PaginationError`` at once instead of looping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Generic, TypeVar

from ._exceptions import PaginationError
from ._models import Page

__all__ = ["AsyncPaginator", "next_cursor", "parse_checkpoint"]

T = TypeVar("T")


def next_cursor(page: Page[T], seen: set[str]) -> str | None:
    """The cursor of the next page, or None at the end. Raises on an unsafe ``pageInfo``."""
    info = page.page_info
    if not info.has_more:
        return None
    if not info.cursor:
        raise PaginationError(
            "the server said hasMore=true but sent no cursor; stopping instead of guessing"
        )
    if info.cursor in seen:
        raise PaginationError(
            f"the server repeated cursor {info.cursor[:40]!r}; stopping instead of looping"
        )
    return info.cursor


def parse_checkpoint(token: str) -> tuple[str | None, int]:
    """Split a :attr:`AsyncPaginator.checkpoint` token into (cursor, items to skip)."""
    offset, sep, cursor = token.partition(":")
    if not sep or not offset.isdigit():
        raise ValueError(f"resume_from: not a checkpoint token: {token[:40]!r}")
    return (cursor or None), int(offset)


def _make_checkpoint(cursor: str | None, offset: int) -> str:
    return f"{offset}:{cursor or ''}"


def _drop_result(task: asyncio.Task[object]) -> None:
    # A prefetch the caller no longer wants must not log "exception was never retrieved".
    if not task.cancelled():
        task.exception()


class AsyncPaginator(Generic[T]):
    """A lazy listing: ``async for item in paginator`` or ``async for page in .pages()``.

    Nothing is sent until iteration starts. Each page is one request with its own retries,
    so a failure on page 7 is retried at page 7. While the caller handles one page, the next
    is already being fetched (``prefetch=False`` turns that off).

    During item iteration :attr:`checkpoint` is a token for the position just after the
    last item yielded; pass it as ``resume_from=`` to a new ``list(...)`` call to continue
    with the next item, nothing re-read and nothing skipped.
    """

    def __init__(
        self,
        fetch: Callable[[str | None], Awaitable[Page[T]]],
        *,
        cursor: str | None = None,
        resume_from: str | None = None,
        max_items: int | None = None,
        prefetch: bool = True,
        track: Callable[[asyncio.Task[Page[T]]], None] | None = None,
    ) -> None:
        if max_items is not None and (isinstance(max_items, bool) or max_items < 0):
            raise ValueError(f"max_items: must be a non-negative int, got {max_items!r}")
        skip = 0
        if resume_from is not None:
            if cursor is not None:
                raise ValueError("pass cursor= or resume_from=, not both")
            cursor, skip = parse_checkpoint(resume_from)
        self._fetch = fetch
        self._start = cursor
        self._skip = skip
        self._max_items = max_items
        self._prefetch = prefetch
        self._track = track
        self._checkpoint: str | None = resume_from

    @property
    def checkpoint(self) -> str | None:
        """Resume token for the position after the last item yielded (None before any)."""
        return self._checkpoint

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncGenerator[T, None]:
        remaining = self._max_items
        skip = self._skip
        # aclosing: when the caller stops early, the page generator (and its prefetch) is
        # closed now, not whenever garbage collection gets to it.
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                items = page.items
                for index in range(skip, len(items)):
                    if remaining is not None:
                        if remaining <= 0:
                            return
                        remaining -= 1
                    self._checkpoint = _make_checkpoint(page.request_cursor, index + 1)
                    yield items[index]
                skip = 0

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """Yield each :class:`Page` in order, following cursors until ``hasMore`` is false."""
        seen: set[str] = set()
        if self._start is not None:
            seen.add(self._start)
        budget = None if self._max_items is None else self._max_items + self._skip
        pending: asyncio.Task[Page[T]] | None = None
        cursor = self._start
        try:
            while True:
                if budget is not None and budget <= 0:
                    return
                if pending is not None:
                    page, pending = await pending, None
                else:
                    page = await self._fetch(cursor)
                cursor = next_cursor(page, seen)
                if budget is not None:
                    budget -= len(page.items)
                if cursor is not None:
                    seen.add(cursor)
                    if self._prefetch and (budget is None or budget > 0):
                        pending = asyncio.ensure_future(self._fetch(cursor))
                        pending.add_done_callback(_drop_result)
                        if self._track is not None:
                            self._track(pending)
                yield page
                if cursor is None:
                    return
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
