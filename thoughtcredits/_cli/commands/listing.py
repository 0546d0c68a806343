"""Stream listings to stdout, or to a file export that survives interruption.

To stdout, each page is written and dropped before the next is used; when the listing fails
part way, a note says which ``--cursor`` continues after what was written.

To ``-o FILE``, items go to a temporary file renamed over FILE when the listing is complete
(:mod:`._files`). On Ctrl-C, SIGTERM or an error the items written so far are kept as
``FILE.partial`` with a checkpoint, and a note prints the command that continues the export.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._exceptions import ThoughtCreditsError
from ..._resources.pagination import AsyncPaginator
from ..context import Env
from ..exports.files import ExportFile
from ..output.formats import Writer
from ..output.progress import Progress
from ..output.writers import export_writer, file_target, output_format, stdout_stream, stdout_writer

__all__ = ["Source", "export_sources", "resume_command", "stream_listing"]

# Items between progress updates: a redraw per item would cost more than the item.
_PROGRESS_EVERY = 256
_HELD = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Source:
    """One listing of an export.

    Attributes:
        open: starts the listing, from a checkpoint token (``resume_from=``) or the start.
        extra: values of the export's extra columns for every item of this listing.
    """

    open: Callable[[str | None], AsyncPaginator[Any]]
    extra: Mapping[str, object] | None = None


def resume_command(env: Env) -> str:
    """The command line that continues this export: the same one plus ``--resume``.

    An ``--api-key`` value is replaced by ``"$THOUGHTCREDITS_API_KEY"``: the key is never
    printed.
    """
    words = list(env.argv)
    for index, word in enumerate(words[:-1]):
        if word == "--api-key":
            words[index + 1] = "$THOUGHTCREDITS_API_KEY"
    words = [
        "--api-key=$THOUGHTCREDITS_API_KEY" if w.startswith("--api-key=") else w for w in words
    ]
    if "--resume" not in words:
        words.append("--resume")
    quoted = " ".join(
        '"$THOUGHTCREDITS_API_KEY"' if w == "$THOUGHTCREDITS_API_KEY" else shlex.quote(w)
        for w in words
    )
    return f"thoughtcredits {quoted}"


async def stream_listing(
    env: Env,
    open_listing: Callable[[str | None], AsyncPaginator[Any]],
    cls: type[Any],
    label: str,
) -> int:
    """Write every item of a listing to stdout or ``-o FILE``; return the number written.

    Args:
        env: the command's context.
        open_listing: starts the listing from a checkpoint token, or from ``--cursor``.
        cls: the model class of the items.
        label: what the progress display counts.

    Raises:
        ThoughtCreditsError: a request failed (after the client's retries).
    """
    target = file_target(env.args)
    if target is None:
        return await _to_stdout(env, open_listing(None), cls, label)
    return await export_sources(env, target, cls, [Source(open_listing)], label)


async def _to_stdout(env: Env, listing: AsyncPaginator[Any], cls: type[Any], label: str) -> int:
    max_items: int | None = env.args.max_items
    written = 0
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
                writer.flush()
                if progress is not None:
                    progress.advance(len(items), total=page.page_info.total)
                resume = page.page_info.cursor if page.page_info.has_more else None
                if max_items is not None and written >= max_items:
                    break
            if progress is not None:
                progress.finish()
            writer.close()
    except ThoughtCreditsError:
        if written and resume:
            env.note(
                f"note: {written:,} items were written before the error; "
                f"add --cursor {resume} to continue after them"
            )
        raise
    return written


async def export_sources(
    env: Env,
    target: Path,
    cls: type[Any],
    sources: Sequence[Source],
    label: str,
    extra: Sequence[str] = (),
    *,
    state: dict[str, Any] | None = None,
    on_item: Callable[[Any], None] | None = None,
    finish_progress: bool = True,
) -> int:
    """Write every item of ``sources``, in order, to ``target``; return the items written.

    Resumable: the checkpoint records which source and which position in it comes next.

    Args:
        env: the command's context.
        target: the file to write.
        cls: the model class of the items.
        sources: the listings, in order.
        label: what the progress display counts.
        extra: names of the extra columns the sources give values for.
        state: the command's own state, saved in the checkpoint and restored (in place)
            on resume.
        on_item: called with each item written.
        finish_progress: mark the progress display complete at the end.

    Raises:
        UsageError: a second export to ``target`` is running, or ``--resume`` cannot resume.
        ThoughtCreditsError: a request failed; ``FILE.partial`` and its checkpoint are kept.
    """
    fmt = output_format(env.args)
    resume = bool(getattr(env.args, "resume", False))
    with ExportFile.open(target, fmt, resume=resume) as export:
        if state is not None:
            state.update(export.position.get("state", {}))
        writer = export_writer(env.args, fmt, export, cls, extra)
        before = export.items
        try:
            with env.progress(label) as progress:
                await _copy(env, export, writer, sources, progress, state, on_item)
                if progress is not None and finish_progress:
                    progress.finish()
            writer.close()
        except BaseException as exc:
            # A second Ctrl-C must not cut the saving of the first one's work short.
            with _signals_held():
                try:
                    _suspend(writer, fmt)
                finally:
                    if export.resumed is None and export.items == 0:
                        export.discard()  # nothing to continue from: a rerun is the same
                    else:
                        export.keep(fmt)
            if export.resumed is None and export.items == 0:
                raise
            stopped = isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
            how = "interrupted" if stopped else "stopped"
            env.note(
                f"{how}: {export.items:,} items kept in {export.partial}; "
                f"to continue: {resume_command(env)}"
            )
            raise
        export.finish()
        return export.items - before


async def _copy(
    env: Env,
    export: ExportFile,
    writer: Writer,
    sources: Sequence[Source],
    progress: Progress | None,
    state: dict[str, Any] | None,
    on_item: Callable[[Any], None] | None,
) -> None:
    max_items: int | None = env.args.max_items
    first = int(export.position.get("source", 0))
    token: str | None = export.position.get("resumeFrom")
    pending = 0
    for index in range(first, len(sources)):
        source = sources[index]
        listing = source.open(token if index == first else None)
        async for item in listing:
            if max_items is not None and export.items >= max_items:
                return
            writer.write(item, source.extra)
            if on_item is not None:
                on_item(item)
            export.mark({"source": index, "resumeFrom": listing.checkpoint, "state": state})
            pending += 1
            if progress is not None and pending >= _PROGRESS_EVERY:
                progress.advance(pending, total=None, pages=0)
                pending = 0
        export.mark({"source": index + 1, "resumeFrom": None, "state": state}, items=0)
    if progress is not None and pending:
        progress.advance(pending, total=None, pages=0)


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


def _suspend(writer: Writer, fmt: str) -> None:
    """Push out what was written; parquet gets its footer so the partial file is readable."""
    if fmt == "parquet":
        writer.close()
    else:
        writer.flush()
