"""Stream a listing to the output page by page, with progress and a resume hint on failure."""

from __future__ import annotations

from typing import Any, TypeVar

from .._exceptions import ThoughtCreditsError
from .._pagination import AsyncPaginator
from ._context import Env

__all__ = ["stream_listing"]

T = TypeVar("T")


async def stream_listing(env: Env, listing: AsyncPaginator[T], cls: type[Any], label: str) -> int:
    """Write every item of ``listing`` as it arrives; return the exit code (0).

    Memory stays flat: each page is written and dropped before the next is used. When the
    listing fails part way, a note says how many items were written and which ``--cursor``
    continues after them.

    Raises:
        ThoughtCreditsError: a request failed (after the client's retries).
    """
    max_items: int | None = env.args.max_items
    written = 0
    resume: str | None = None
    try:
        with env.output(cls) as writer, env.progress(label) as progress:
            async for page in listing.pages():
                items = page.items
                if max_items is not None:
                    items = items[: max_items - written]
                for item in items:
                    writer.write(item)
                written += len(items)
                writer.flush()
                if progress is not None:
                    progress.advance(len(items), total=page.page_info.total)
                resume = page.page_info.cursor if page.page_info.has_more else None
                if max_items is not None and written >= max_items:
                    break
    except ThoughtCreditsError:
        if written and resume and env.args.output in (None, "-"):
            env.note(
                f"note: {written:,} items were written before the error; "
                f"add --cursor {resume} to continue after them"
            )
        raise
    return 0
