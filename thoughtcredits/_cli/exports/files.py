"""Exports that appear whole or not at all, and survive any interruption, ``kill -9`` included.

An export to ``FILE`` writes a locked temporary file beside it (:mod:`.tempfiles`) and renames
it over ``FILE`` only when the listing is complete. While it runs, ``FILE.lock`` refuses a
second export to the same ``FILE``, and every second or so (at a page's end) the file is
flushed to disk and ``FILE.checkpoint`` records the listing, the file's length, hash and item
count, and where the listing continues: a killed export loses at most that much.

Interrupted any other way (Ctrl-C, SIGTERM, an API error, a refused value, a full disk), the
file is cut back to its last checkpoint and kept as ``FILE.partial``, a valid file of its
format. ``--resume`` checks the checkpoint against the command and the file, then appends from
there; a parquet file, which cannot be appended to, is copied into a new file first.
"""

from __future__ import annotations

import fcntl
import io
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs

from ..errors import UsageError
from .checkpoint import Checkpoint, checkpoint_of, different
from .disk import DiskStream, inspect
from .tempfiles import lock, open_locked, sweep_stale

__all__ = ["PARTIAL_SUFFIX", "ExportFile"]

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_SECONDS = 1.0
"""At most this long between checkpoints while pages arrive (each costs two ``fsync``)."""
# What makes a JSON partial a whole document after its items (none, or some).
_JSON_TAIL = (b"[]\n", b"\n]\n")


class ExportFile:
    """One export to ``target``: a fresh temporary file, or the partial being resumed.

    Use :meth:`open`; write to :attr:`stream` (or :meth:`text`), count items with
    :attr:`items`, call :meth:`mark` where the file ends on a whole item, and :meth:`finish`
    or :meth:`keep`.

    Attributes:
        target: the final file.
        path: the file being written.
        resumed: the checkpoint this run continues from, or None for a fresh export.
        previous: the partial whose rows must be copied first (parquet), else None.
        marked: the last state of :attr:`path` holding whole items (what :meth:`keep` keeps).
        items: the items written so far, the resumed ones included.
        position: where the listing continues after them.
    """

    def __init__(
        self,
        target: Path,
        fmt: str,
        identity: Mapping[str, Any],
        path: Path,
        disk: DiskStream,
        resumed: Checkpoint | None = None,
        previous: Path | None = None,
    ) -> None:
        self.target = target
        self.fmt = fmt
        self.identity = {**identity, "format": fmt}
        self.path = path
        self._disk = disk
        self.stream = io.BufferedWriter(disk, 1 << 16)
        self.resumed = resumed
        self.previous = previous
        self.marked = resumed if previous is None else None
        self.items = 0 if resumed is None else resumed.items
        self.position: dict[str, Any] = {} if resumed is None else dict(resumed.position)
        self._text: io.TextIOWrapper | None = None
        self._since = -CHECKPOINT_SECONDS  # the first page is checkpointed at once

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

    def mark(self, position: Mapping[str, Any], *, save: bool | None = None) -> None:
        """Note that the file now holds whole items up to ``position``; checkpoint it if due.

        Call it only where the file ends on a whole item: after a page is flushed (text
        formats), or once the writer is closed (parquet, whose footer comes last). The mark
        is what :meth:`keep` keeps; it reaches ``FILE.checkpoint`` at most every
        :data:`CHECKPOINT_SECONDS` (each costs two ``fsync``), or at once with ``save=True``.

        Raises:
            OSError: the disk refused (e.g. full); the previous checkpoint still holds.
        """
        if self.items == 0 and self.resumed is None:
            return  # nothing to keep yet: an interruption now leaves nothing behind
        if self.fmt == "parquet" and save is None:
            return  # a page's end is not the end of a parquet file
        if self._text is not None:
            self._text.flush()
        self.stream.flush()
        self.marked = Checkpoint(
            identity=self.identity, file=self.path.name, items=self.items,
            size=self._disk.size, sha256=self._disk.digest.hexdigest(), position=position,
        )  # fmt: skip
        self.position = dict(position)
        if save is None:
            save = time.monotonic() - self._since >= CHECKPOINT_SECONDS
        if save:
            self._save(self.marked)

    def _save(self, checkpoint: Checkpoint) -> None:
        os.fsync(self._disk.fileno())
        checkpoint.save(self.checkpoint)
        self._since = time.monotonic()

    def finish(self) -> None:
        """Rename the complete file over ``target``; remove the checkpoint and the partial."""
        if self._text is not None:
            self._text.flush()
        self.stream.flush()
        os.fsync(self._disk.fileno())
        self._disk.drop()
        # The checkpoint goes first: a crash in between leaves a stale temporary file for the
        # next run to sweep, never a checkpoint naming a file that is gone.
        self.checkpoint.unlink(missing_ok=True)
        os.replace(self.path, self.target)
        if self.previous is not None:
            self.previous.unlink(missing_ok=True)

    def keep(self) -> Checkpoint | None:
        """Keep the last marked items as ``FILE.partial``; return what is kept.

        Nothing more is written through the stream: the file is cut back to its mark, so
        bytes that reached it after (half an item before a full disk) are dropped. A JSON
        partial gets its closing ``]``. Without a mark of this file, the file is removed, and
        a resumed parquet partial stays as it was.
        """
        kept = self.marked
        if kept is None:
            self._disk.drop()
            self.path.unlink(missing_ok=True)
            return self.resumed
        with suppress(OSError):
            os.fsync(self._disk.fileno())
        self._disk.drop()
        os.truncate(self.path, kept.size)
        if self.fmt == "json":
            self._append(_JSON_TAIL[kept.items > 0], kept.size)
        if self.path != self.partial:
            # rename() replaces a planted FILE.partial symlink itself; it never follows it.
            # Renamed first: a crash before the checkpoint below leaves the older checkpoint,
            # whose bytes are a prefix of FILE.partial's, and --resume looks there for them.
            os.replace(self.path, self.partial)
        kept = attrs.evolve(kept, file=self.partial.name)
        kept.save(self.checkpoint)
        return kept

    def discard(self) -> None:
        """Remove what this run wrote (an export that wrote nothing worth keeping)."""
        self._disk.drop()
        if self.resumed is None or self.previous is not None:
            self.path.unlink(missing_ok=True)

    def _append(self, tail: bytes, size: int) -> None:
        try:
            with open(self.path, "ab") as stream:
                stream.write(tail)
        except OSError:
            os.truncate(self.path, size)  # no room for it: the items alone are still valid

    @classmethod
    @contextmanager
    def open(
        cls, target: Path, fmt: str, identity: Mapping[str, Any], *, resume: bool
    ) -> Iterator[ExportFile]:
        """Lock ``target`` and open the file to write: a new one, or the partial to resume.

        Raises:
            UsageError: ``--resume`` without a checkpoint, or with one for another listing or
                that its file does not match; an interrupted export exists and ``--resume``
                was not given. Nothing is changed on disk then.
        """
        with lock(target):
            opened = cls._resume if resume else cls._fresh
            yield opened(target, fmt, identity)

    @classmethod
    def _fresh(cls, target: Path, fmt: str, identity: Mapping[str, Any]) -> ExportFile:
        partial = target.with_name(target.name + PARTIAL_SUFFIX)
        for kept in (partial, checkpoint_of(target)):
            if kept.exists() or kept.is_symlink():
                raise UsageError(
                    f"{kept} holds an interrupted export: add --resume to continue it, or "
                    f"delete {checkpoint_of(target).name} and {partial.name} to start again"
                )
        sweep_stale(target)
        path, fd = open_locked(target)
        return cls(target, fmt, identity, path, DiskStream(fd))

    @classmethod
    def _resume(cls, target: Path, fmt: str, identity: Mapping[str, Any]) -> ExportFile:
        where = checkpoint_of(target)
        saved = Checkpoint.read(where)
        difference = different(saved.identity, {**identity, "format": fmt})
        if difference:
            raise UsageError(
                f"{where} is for another export ({difference}); resume it with the command "
                "that started it, or delete it to start again"
            )
        file = target.with_name(saved.file)
        partial = target.with_name(target.name + PARTIAL_SUFFIX)
        if not file.exists() and not file.is_symlink() and fmt != "parquet":
            file = partial  # renamed to FILE.partial just before the checkpoint could say so
        if not file.is_file() or file.is_symlink():
            raise UsageError(f"nothing to resume: {file} does not exist")
        delimiter = ";" if identity.get("csvDialect") == "excel-eu" else ","
        found = inspect(file, fmt, saved.size, delimiter=delimiter)
        whole = fmt != "parquet" or file.stat().st_size == saved.size
        if (
            not whole
            or found is None
            or (found[0].hexdigest(), found[1])
            != (
                saved.sha256,
                saved.items,
            )
        ):
            raise UsageError(
                f"{file} does not match its checkpoint (it should hold {saved.items:,} items "
                f"in {saved.size:,} bytes); delete {file.name} and {where.name} to start again"
            )
        sweep_stale(target, keep=[file])
        if fmt == "parquet":
            path, fd = open_locked(target)
            return cls(target, fmt, identity, path, DiskStream(fd), saved, previous=file)
        fd = os.open(file, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Anything written after the checkpoint was taken is dropped: no item is doubled.
            os.ftruncate(fd, saved.size)
            os.lseek(fd, 0, os.SEEK_END)
        except OSError:
            os.close(fd)
            raise
        return cls(target, fmt, identity, file, DiskStream(fd, found[0], saved.size), saved)
