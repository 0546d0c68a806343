"""The ``... list`` commands: stream a listing to stdout, or export it to ``-o FILE`` (see
:mod:`.exporting`).

To stdout, each page is written and dropped before the next is used; when the listing fails
part way, a note says which ``--cursor`` continues after what was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..._client import Client
from ..._exceptions import ThoughtCreditsError
from ..._resources.pagination import AsyncPaginator
from ..context import Env
from ..output.writers import file_target, stdout_stream, stdout_writer
from ..parser import rate_limit
from .exporting import Source, export_sources, listing_identity

__all__ = ["list_command", "stream_listing"]

T = TypeVar("T")


async def list_command(
    env: Env,
    command: str,
    open_listing: Callable[[Client, str | None], AsyncPaginator[T]],
    cls: type[T],
    label: str,
    **listing: object,
) -> int:
    """Run a ``... list`` command: its client (with ``--rate-limit``), its listing streamed.

    Args:
        env: the command's context.
        command: the command's name, e.g. ``"batches list"`` (part of an export's identity).
        open_listing: starts the listing on the client at a page cursor, or at ``--cursor``
            (None).
        cls: the model class of the items.
        label: what the progress display counts.
        listing: the listing's wire arguments, for its :func:`.exporting.listing_identity`.

    Returns:
        The number of items written.
    """
    args = env.args
    async with env.client(rate_limit=rate_limit(args)) as client:
        identity = listing_identity(env, command, **listing, cursor=args.cursor)
        return await stream_listing(
            env, lambda cursor: open_listing(client, cursor or args.cursor), cls, label, identity
        )


async def stream_listing(
    env: Env,
    open_listing: Callable[[str | None], AsyncPaginator[Any]],
    cls: type[Any],
    label: str,
    identity: Mapping[str, object],
) -> int:
    """Write every item of a listing to stdout or ``-o FILE``; return the number written.

    Args:
        env: the command's context.
        open_listing: starts the listing at a page cursor, or at its start (None).
        cls: the model class of the items.
        label: what the progress display counts.
        identity: the listing's identity (see :func:`.exporting.listing_identity`).

    Raises:
        ThoughtCreditsError: a request failed (after the client's retries).
    """
    target = file_target(env.args)
    if target is None:
        return await _to_stdout(env, open_listing(None), cls, label)
    return await export_sources(env, target, cls, [Source(open_listing)], label, identity)


async def _to_stdout(env: Env, listing: AsyncPaginator[Any], cls: type[Any], label: str) -> int:
    max_items: int | None = env.args.max_items
    written = pages = 0
    total: int | None = None
    resume: str | None = None
    try:
        with stdout_stream(env.args) as stream, env.progress(label) as progress:
            writer = stdout_writer(env.args, env.notes, cls, stream)
            async for page in listing.pages():
                items = page.items
                if max_items is not None:
                    items = items[: max_items - written]
                for item in items:
                    writer.write(item)
                written += len(items)
                pages += 1
                writer.flush()
                if page.page_info.total is not None:
                    total = page.page_info.total
                    total = total if max_items is None else min(total, max_items)
                if progress is not None:
                    progress.update(written, total=total, pages=pages)
                resume = page.page_info.cursor if page.page_info.has_more else None
                if max_items is not None and written >= max_items:
                    break
            writer.close()
    except ThoughtCreditsError:
        if written and resume:
            env.note(
                f"note: {written:,} items were written before the error; "
                f"add --cursor {resume} to continue after them"
            )
        raise
    return written
