"""Exports that appear whole or not at all, and survive any interruption, ``kill -9`` included.

An export to ``FILE`` writes a locked temporary file beside it (:mod:`.tempfiles`) and renames
it over ``FILE`` only when the listing is complete. While it runs, ``FILE.lock`` refuses a
second export to the same ``FILE``, and every second or so (at a page's end) the file is
flushed to disk and ``FILE.checkpoint`` records the listing, the file's length, hash and item
count, and where the listing continues: a killed export loses at most that much.

A parquet file is readable only once closed (its footer comes last), so a parquet export is
written as segments, each a closed parquet file, one every few seconds; the checkpoint lists
them, and they are merged into ``FILE`` at the end.

Interrupted any other way (Ctrl-C, SIGTERM, an API error, a refused value, a full disk), what
is whole is kept as ``FILE.partial``, a valid file of its format. ``--resume`` checks the
checkpoint against the command and the files (:mod:`.opening`), then continues from there.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from .checkpoint import Checkpoint, Part, checkpoint_of
from .disk import DiskStream
from .tempfiles import open_locked

__all__ = ["CHECKPOINT_SECONDS", "PARTIAL_SUFFIX", "SEGMENT_SECONDS", "ExportFile", "Merge"]

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_SECONDS = 1.0
"""At most this long between checkpoints while pages arrive (each costs two ``fsync``)."""
SEGMENT_SECONDS = 5.0
"""Parquet: at least this long between segments (more, the more there are: merging costs)."""
# What makes a JSON partial a whole document after its items (none, or some).
_JSON_TAIL = (b"[]\n", b"\n]\n")

Merge = Callable[[Sequence[Path], IO[bytes]], None]
"""Writes the rows of parquet files, in order, as one parquet file to a stream."""


class ExportFile:
    """One export to ``target``: a fresh temporary file, or the partial being resumed.

    Use :func:`.opening.open_export`; write to :attr:`stream` (or :meth:`text`), count items
    with :attr:`items`, call :meth:`mark` where the file ends on a whole item, and
    :meth:`finish` or :meth:`keep`. A parquet writer also calls :meth:`seal` and
    :meth:`next_stream` between segments, and sets :attr:`merge`.

    Attributes:
        target: the final file.
        path: the file being written.
        resumed: the checkpoint this run continues from, or None for a fresh export.
        parts: the closed parquet segments so far (those resumed included).
        marked: the last state holding whole items (what :meth:`keep` keeps).
        items: the items written so far, the resumed ones included.
        position: where the listing continues after them.
        merge: how parquet segments become one file (set by the parquet writer).
    """

    def __init__(
        self,
        target: Path,
        fmt: str,
        identity: Mapping[str, Any],
        path: Path,
        disk: DiskStream,
        resumed: Checkpoint | None = None,
    ) -> None:
        self.target = target
        self.fmt = fmt
        self.identity = {**identity, "format": fmt}
        self.path = path
        self._disk = disk
        self.stream = io.BufferedWriter(disk, 1 << 16)
        self.resumed = resumed
        self.rolls = fmt == "parquet"
        self.parts: list[Part] = list(resumed.parts) if resumed is not None and self.rolls else []
        self.marked = resumed
        self.items = 0 if resumed is None else resumed.items
        self.position: dict[str, Any] = {} if resumed is None else dict(resumed.position)
        self.merge: Merge | None = None
        self._text: io.TextIOWrapper | None = None
        self._since = -CHECKPOINT_SECONDS  # the first page is checkpointed at once
        # Where the open file's items start: a resumed text file holds them all (its one part
        # is rewritten whole), a new parquet segment only those written after the resumed ones.
        self._segment_start = self.items if self.rolls else 0
        self._ours: list[Path] = []  # segments this run closed
        self._writing = True  # self.path is open (not yet a closed segment)

    @property
    def partial(self) -> Path:
        """``FILE.partial``."""
        return self.target.with_name(self.target.name + PARTIAL_SUFFIX)

    @property
    def checkpoint(self) -> Path:
        """``FILE.checkpoint``."""
        return checkpoint_of(self.target)

    def text(self) -> io.TextIOWrapper:
        """The stream as UTF-8 text (CSV and JSON writers)."""
        if self._text is None:
            self._text = io.TextIOWrapper(self.stream, encoding="utf-8", newline="")
        return self._text

    def due(self) -> bool:
        """True when a checkpoint (for parquet: a new segment) is due."""
        elapsed = time.monotonic() - self._since
        if self.rolls:
            return elapsed >= SEGMENT_SECONDS * (1 + len(self.parts) // 100)
        return elapsed >= CHECKPOINT_SECONDS

    def mark(self, position: Mapping[str, Any], *, save: bool | None = None) -> None:
        """Note that the files hold whole items up to ``position``; checkpoint it if due.

        Call it only where that is true: after a page is flushed (text formats), or right
        after :meth:`seal` (parquet). The mark is what :meth:`keep` keeps; it reaches
        ``FILE.checkpoint`` when due (see :meth:`due`), at once with ``save=True``.

        Raises:
            OSError: the disk refused (e.g. full); the previous checkpoint still holds.
        """
        if self.items == 0 and self.resumed is None:
            return  # nothing to keep yet: an interruption now leaves nothing behind
        if self.rolls:
            parts = tuple(self.parts)
        else:
            if self._text is not None:
                self._text.flush()
            self.stream.flush()
            parts = (self._part(self.path.name),)
        self.marked = Checkpoint(identity=self.identity, parts=parts, position=position)
        self.position = dict(position)
        if save is None:
            save = self.due()
        if save:
            if not self.rolls:
                os.fsync(self._disk.fileno())
            self.marked.save(self.checkpoint)
            self._since = time.monotonic()

    def _part(self, name: str) -> Part:
        digest = self._disk.digest.hexdigest()
        return Part(name, self._disk.size, digest, self.items - self._segment_start)

    def seal(self) -> None:
        """Parquet: the current segment is a closed file now; put it on disk and list it."""
        self.stream.flush()
        os.fsync(self._disk.fileno())
        self.parts.append(self._part(self.path.name))
        self._ours.append(self.path)
        self._disk.drop()
        self._writing = False

    def next_stream(self) -> IO[bytes]:
        """Parquet: a new segment (or the merged file) to write, locked like the first."""
        self.path, fd = open_locked(self.target)
        self._disk = DiskStream(fd)
        self.stream = io.BufferedWriter(self._disk, 1 << 16)
        self._segment_start = self.items
        self._writing = True
        return self.stream

    def finish(self) -> None:
        """Rename the complete file over ``target``; remove the checkpoint and partials."""
        if self._text is not None:
            self._text.flush()
        self.stream.flush()
        os.fsync(self._disk.fileno())
        self._disk.drop()
        # The checkpoint goes first: a crash in between leaves a stale temporary file for the
        # next run to sweep, never a checkpoint naming a file that is gone.
        self.checkpoint.unlink(missing_ok=True)
        os.replace(self.path, self.target)
        for part in self.parts:
            self.target.with_name(part.file).unlink(missing_ok=True)

    def keep(self) -> Checkpoint | None:
        """Keep the last marked items as ``FILE.partial``; return what is kept.

        Nothing more is written through the stream: a text file is cut back to its mark, so
        bytes that reached it after (half an item before a full disk) are dropped, and a JSON
        partial gets its closing ``]``; parquet segments are merged into one file. Without a
        mark, what this run wrote is removed, and a resumed partial stays as it was.
        """
        kept = self.marked
        if kept is None or (kept is self.resumed and self.rolls):
            self.discard()
            return self.resumed
        if self.rolls:
            return self._keep_segments(kept)
        with suppress(OSError):
            os.fsync(self._disk.fileno())
        self._disk.drop()
        os.truncate(self.path, kept.parts[0].size)
        if self.fmt == "json":
            self._append(_JSON_TAIL[kept.items > 0], kept.parts[0].size)
        if self.path != self.partial:
            # rename() replaces a planted FILE.partial symlink itself; it never follows it.
            # Renamed first: a crash before the checkpoint below leaves the older checkpoint,
            # whose bytes are a prefix of FILE.partial's, and --resume looks there for them.
            os.replace(self.path, self.partial)
        kept = Checkpoint(
            identity=kept.identity, parts=(self._moved(kept),), position=kept.position
        )
        kept.save(self.checkpoint)
        return kept

    def _moved(self, kept: Checkpoint) -> Part:
        part = kept.parts[0]
        return Part(self.partial.name, part.size, part.sha256, part.items)

    def _keep_segments(self, kept: Checkpoint) -> Checkpoint:
        self._disk.drop()
        if self._writing:
            self.path.unlink(missing_ok=True)  # the open segment: not closed, not whole
        files = [self.target.with_name(part.file) for part in kept.parts]
        parts: list[Part]
        try:
            assert self.merge is not None
            self.merge(files, self.next_stream())
            self.stream.flush()
            os.fsync(self._disk.fileno())
            self._disk.drop()
            digest = self._disk.digest.hexdigest()
            parts = [Part(self.partial.name, self._disk.size, digest, kept.items)]
            os.replace(self.path, self.partial)
        except OSError:
            # No room to merge (a full disk): each closed segment is a whole parquet file,
            # so they are kept as they are, under visible names, in order.
            self._disk.drop()
            self.path.unlink(missing_ok=True)
            parts = []
            for number, (file, part) in enumerate(zip(files, kept.parts, strict=True), 1):
                name = self.partial.name + ("" if number == 1 else f".{number}")
                if file.name != name:
                    os.replace(file, self.target.with_name(name))
                parts.append(Part(name, part.size, part.sha256, part.items))
            files = []
        for file in files:
            if file != self.partial:
                file.unlink(missing_ok=True)
        for path in self._ours:  # closed after the mark (the last one, before the merge)
            path.unlink(missing_ok=True)  # a kept one was renamed: its name is gone
        self._ours.clear()
        merged = Checkpoint(identity=kept.identity, parts=tuple(parts), position=kept.position)
        merged.save(self.checkpoint)
        self.parts = parts
        return merged

    def discard(self) -> None:
        """Remove what this run wrote (nothing worth keeping, or no room to keep it)."""
        self._disk.drop()
        if self._writing and (self.resumed is None or self.rolls):
            self.path.unlink(missing_ok=True)
        for path in self._ours:
            path.unlink(missing_ok=True)
        self._ours.clear()

    def _append(self, tail: bytes, size: int) -> None:
        try:
            with open(self.path, "ab") as stream:
                stream.write(tail)
        except OSError:
            os.truncate(self.path, size)  # no room for it: the items alone are still valid
