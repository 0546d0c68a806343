"""The pure rules of following a listing: which page comes next, and the loop guards.

Both modes (``Client(pagination=...)``) end when ``hasMore`` is false or missing:

* ``"cursor"`` asks for the next page with the previous ``pageInfo.cursor``. ``hasMore``
  without a cursor, or a cursor seen before, raises :class:`PaginationError` at once;
* ``"page"`` asks for ``page=1, 2, 3…`` and never sends a cursor (the seeds document only
  ``page`` for the credit listings, ``research/ti-api.md`` §4).

In both, ``max_empty_pages`` empty pages in a row that each say ``hasMore: true`` raise
:class:`PaginationError`: a server that never ends would otherwise be followed for ever.

Memory is bounded in bytes: a cursor over :data:`MAX_CURSOR` is refused, and the walk keeps a
16-byte fingerprint of each cursor seen (at most 4,096 of them), never the cursors themselves.
"""

from __future__ import annotations

import re
from hashlib import blake2b
from typing import Any, Literal

import attrs

from .._exceptions import PaginationError
from .._models import Page

__all__ = ["MAX_CURSOR", "PageRequest", "Walk", "cursor_too_long", "format_checkpoint",
           "parse_checkpoint"]  # fmt: skip

MAX_CURSOR = 64 * 1024
"""The longest cursor followed or accepted, in UTF-8 bytes; the API's are a few dozen."""
_REMEMBERED_CURSORS = 4096
_CHECKPOINT = re.compile(r"([0-9]{1,18})([:@])(.*)", re.DOTALL)


@attrs.frozen
class PageRequest:
    """How one page is asked for: by ``cursor``, by ``page`` number, or neither (the first)."""

    cursor: str | None = None
    page: int | None = None


def format_checkpoint(request: PageRequest, offset: int) -> str:
    """A resume token: ``"<items to skip>:<cursor>"``, or ``"<skip>@<page>"`` by page number."""
    if request.cursor is None and request.page is not None:
        return f"{offset}@{request.page}"
    return f"{offset}:{request.cursor or ''}"


def cursor_too_long(cursor: str) -> bool:
    """Whether ``cursor`` is over :data:`MAX_CURSOR` bytes."""
    return len(cursor) > MAX_CURSOR or (
        not cursor.isascii() and len(cursor.encode("utf-8", "surrogatepass")) > MAX_CURSOR
    )


def parse_checkpoint(token: str) -> tuple[PageRequest, int]:
    """Split a checkpoint token into the page request and the items to skip on that page."""
    match = _CHECKPOINT.fullmatch(token) if isinstance(token, str) else None
    if match is None or (match[2] == "@" and not match[3].isdigit()):
        raise ValueError(f"resume_from: not a checkpoint token: {str(token)[:40]!r}")
    offset, sep, rest = int(match[1]), match[2], match[3]
    if sep == "@":
        return PageRequest(page=int(rest)), offset
    try:
        size = len(rest.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("resume_from: its cursor is not valid text (a lone surrogate?)") from None
    if size > MAX_CURSOR:
        raise ValueError(f"resume_from: its cursor is over {MAX_CURSOR} bytes")
    return PageRequest(cursor=rest or None), offset


def _fingerprint(cursor: str) -> bytes:
    # 128 bits: two different cursors of one walk collide with odds of about 2**-100.
    return blake2b(cursor.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Walk:
    """The state of one listing walk: the next request, and the bounded loop guards."""

    __slots__ = ("_empty", "_previous", "_seen", "max_empty_pages", "mode")

    def __init__(
        self, mode: Literal["cursor", "page"], start: PageRequest, max_empty_pages: int
    ) -> None:
        self.mode = mode
        self.max_empty_pages = max_empty_pages
        self._empty = 0
        self._seen: dict[bytes, None] = {}  # fingerprints, insertion-ordered: oldest first
        self._previous: tuple[Any, ...] = ()
        if start.cursor is not None:
            self._seen[_fingerprint(start.cursor)] = None

    def next(self, request: PageRequest, page: Page[Any]) -> PageRequest | None:
        """The request for the page after ``page`` (asked for with ``request``), or None."""
        info = page.page_info
        if not info.has_more:
            return None
        if page.items:
            self._empty = 0
        else:
            self._empty += 1
            if self._empty >= self.max_empty_pages:
                raise PaginationError(
                    f"the server sent {self._empty} empty pages in a row that each said "
                    "hasMore=true; stopping instead of following it for ever "
                    "(Client(max_empty_pages=...) sets the limit)"
                )
        if self.mode == "page":
            if page.items and page.items == self._previous:
                raise PaginationError(
                    f"page {request.page} holds the same items as the page before it; the "
                    "server seems to ignore the page parameter: stopping instead of looping"
                )
            self._previous = page.items
            return PageRequest(page=(request.page or 1) + 1)
        if not info.cursor:
            raise PaginationError(
                "the server said hasMore=true but sent no cursor; stopping instead of guessing "
                '(if it pages by number, use Client(pagination="page"))'
            )
        if cursor_too_long(info.cursor):
            raise PaginationError(
                f"the server sent a cursor of over {MAX_CURSOR} bytes ({info.cursor[:40]!r}…); "
                "stopping instead of sending it back (the API's cursors are a few dozen bytes)"
            )
        fingerprint = _fingerprint(info.cursor)
        if fingerprint in self._seen:
            raise PaginationError(
                f"the server repeated cursor {info.cursor[:40]!r}; stopping instead of looping. "
                "The credit listings document only the page parameter: if this server ignores "
                'cursor, use Client(pagination="page")'
            )
        self._seen[fingerprint] = None
        if len(self._seen) > _REMEMBERED_CURSORS:
            del self._seen[next(iter(self._seen))]
        return PageRequest(cursor=info.cursor)
