"""Write listings to ``-o FILE`` so that no interruption loses or doubles an item.

:func:`export_sources` walks one or more listings (:class:`Source`) into one
:class:`~..exports.files.ExportFile`. After each page it may checkpoint (the file on disk,
its position recorded); on any way out but success it keeps the last consistent state as
``FILE.partial`` and prints the command that continues it. A listing's position is kept per
source as ``{"source": i, "cursor": c, "skip": n}``: the page requested with cursor ``c``
(None: the listing's start) has had its first ``n`` items written.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._config import ENV_BASE_URL, normalize_base_url
from ..._resources.pagination import AsyncPaginator
from ..context import Env
from ..errors import OutputError
from ..exports.checkpoint import Checkpoint
from ..exports.files import ExportFile
from ..exports.opening import open_export
from ..exports.walks import Walks
from ..output.formats import Writer
from ..output.parquet import require_parquet
from ..output.progress import Progress
from ..output.writers import export_writer, output_format
from ..redact import resume_command

__all__ = ["Source", "export_sources", "listing_identity"]

_HELD = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Source:
    """One listing of an export.

    Attributes:
        open: starts the listing at a page cursor (None: at the listing's own start).
        extra: values of the export's extra columns for every item of this listing.
    """

    open: Callable[[str | None], AsyncPaginator[Any]]
    extra: Mapping[str, object] | None = None


def listing_identity(env: Env, command: str, **listing: object) -> dict[str, object]:
    """What makes two runs the same export: the command, its listing and how it is written.

    The format is added by the export itself. The page size is part of it: a position points
    into a page.
    """
    args = env.args
    return {
        "command": command,
        "server": _server(args),
        **{key: value for key, value in listing.items() if value is not None},
        "columns": getattr(args, "columns", None),
        "csvDialect": getattr(args, "csv_dialect", None),
        "pageSize": getattr(args, "page_size", None),
        "maxItems": getattr(args, "max_items", None),
    }


def _server(args: Any) -> str | None:
    url = args.base_url or os.environ.get(ENV_BASE_URL)
    try:
        return normalize_base_url(url) if url else None
    except ValueError:
        return None


class _At:
    """The export's position, updated per item without building a dict per item."""

    __slots__ = ("cursor", "skip", "source")

    def __init__(self, position: Mapping[str, Any]) -> None:
        self.source = int(position.get("source", 0))
        self.cursor: str | None = position.get("cursor")
        self.skip = int(position.get("skip", 0))

    def position(self, state: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"source": self.source, "cursor": self.cursor, "skip": self.skip, "state": state}


async def export_sources(
    env: Env,
    target: Path,
    cls: type[Any],
    sources: Sequence[Source],
    label: str,
    identity: Mapping[str, object],
    extra: Sequence[str] = (),
    *,
    state: dict[str, Any] | None = None,
    on_item: Callable[[Any], None] | None = None,
    counted: int = 0,
    totals: bool = True,
    walks: int = 1,
) -> int:
    """Write every item of ``sources``, in order, to ``target``; return the items written.

    Args:
        env: the command's context.
        target: the file to write.
        cls: the model class of the items.
        sources: the listings, in order.
        label: what the progress display counts.
        identity: the export's :func:`listing_identity`; ``--resume`` refuses another.
        extra: names of the extra columns the sources give values for.
        state: the command's own state, saved in the checkpoint and restored (in place)
            on resume.
        on_item: called with each item written.
        counted: items an enclosing job already showed on the progress display.
        totals: show the server's total (of a single listing); a job of several files
            shows none, as the server gives one per listing.
        walks: how many of the listings may be walked at once (see :mod:`..exports.walks`);
            the file holds their items in order all the same.

    Raises:
        UsageError: a second export to ``target`` is running, or ``--resume`` cannot resume.
        ThoughtCreditsError: a request failed; ``FILE.partial`` and its checkpoint are kept.
        OSError: the disk failed (e.g. full); what it holds is kept where the disk allows.
    """
    fmt = output_format(env.args)
    if fmt == "parquet":
        require_parquet()
    resume = bool(getattr(env.args, "resume", False))
    with open_export(target, fmt, identity, resume=resume) as export:
        if state is not None:
            state.update(export.position.get("state") or {})
        at = _At(export.position)
        before = export.items
        with env.progress(label) as progress:
            writer: Writer | None = None
            try:
                writer = export_writer(env.args, fmt, export, cls, extra)
                shown = _Shown(progress, counted, totals)
                await _copy(env, export, writer, sources, at, state, on_item, shown, walks)
                writer.close()
                export.finish()
            except BaseException as exc:
                # A second Ctrl-C must not cut the saving of the first one's work short.
                with _signals_held():
                    kept = _keep(export, writer, at.position(state), exc)
                if progress is not None:
                    progress.update(counted + (0 if kept is None else kept.items))
                if kept is not None:
                    how = "interrupted" if isinstance(exc, _STOPS) else "stopped"
                    env.note(
                        f"{how}: {kept.items:,} items kept in {export.partial}; "
                        f"to continue: {resume_command(env.argv)}"
                    )
                if isinstance(exc, OSError) and exc.errno is not None:
                    # The disk's own words, naming the file (os.write names none).
                    raise OSError(exc.errno, exc.strerror, str(target)) from None
                raise
        return export.items - before


_STOPS = (KeyboardInterrupt, asyncio.CancelledError)


@dataclass(frozen=True)
class _Shown:
    """The progress display, what it counted before this file, and whether totals apply."""

    progress: Progress | None
    counted: int
    totals: bool


async def _copy(
    env: Env,
    export: ExportFile,
    writer: Writer,
    sources: Sequence[Source],
    at: _At,
    state: dict[str, Any] | None,
    on_item: Callable[[Any], None] | None,
    shown: _Shown,
    walks: int,
) -> None:
    max_items: int | None = env.args.max_items
    total: int | None = None
    pages = 0
    listings = [source.open for source in sources]
    async with Walks(
        listings, at.source, at.cursor, walks=walks, directory=export.target.parent
    ) as chunks:
        async for chunk in chunks:
            source = sources[chunk.source]
            if chunk.source != at.source:
                at.source, at.cursor, at.skip = chunk.source, None, 0
            pages += 1
            if shown.totals and len(sources) == 1 and chunk.total is not None:
                total = chunk.total if max_items is None else min(chunk.total, max_items)
            at.cursor, items, first = chunk.cursor, chunk.items, at.skip
            for offset in range(first, len(items)):
                if max_items is not None and export.items >= max_items:
                    return
                writer.write(items[offset], source.extra)
                export.items += 1
                at.skip = offset + 1
                if on_item is not None:
                    on_item(items[offset])
            if chunk.following is not None:
                at.cursor, at.skip = chunk.following, 0
            if shown.progress is not None:
                shown.progress.update(shown.counted + export.items, total=total, pages=pages)
            writer.flush()  # a killed process loses no page it finished
            if not export.rolls:
                export.mark(at.position(state))
            elif export.due():  # parquet: close a segment, so the file is whole
                writer.suspend()
                export.mark(at.position(state), save=True)
    at.source, at.cursor, at.skip = len(sources), None, 0


def _keep(
    export: ExportFile, writer: Writer | None, position: dict[str, Any], exc: BaseException
) -> Checkpoint | None:
    """Keep what is consistent on disk; None when nothing was worth keeping."""
    if writer is not None and not isinstance(exc, OSError):
        # The last item is whole: end the file there (parquet writes its footer) and mark
        # it. A full disk mid-item cannot: the last page's mark is kept instead.
        try:
            writer.suspend()
            export.mark(position, save=False)
        except (OSError, ValueError, OutputError):
            pass
    try:
        kept = export.keep()
    except OSError:
        export.discard()
        return None
    return kept


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM for a moment (only the main thread may change handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
