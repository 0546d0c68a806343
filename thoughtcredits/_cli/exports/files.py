"""Files that appear whole or not at all, and exports that survive an interruption.

An export to ``FILE`` writes to a unique temporary file beside it, created exclusively and
never through a symlink, and renames it over ``FILE`` only when the listing is complete. While
it runs, ``FILE.lock`` (held with ``flock``) refuses a second export to the same ``FILE``. When
it is interrupted (Ctrl-C, SIGTERM, an API error) the items written so far become
``FILE.partial`` and ``FILE.checkpoint`` records where the listing stopped; ``--resume``
appends to ``FILE.partial`` from there and finally renames it to ``FILE``.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError
from .checkpoint import Checkpoint

__all__ = [
    "CHECKPOINT_SUFFIX",
    "LOCK_SUFFIX",
    "PARTIAL_SUFFIX",
    "ExportFile",
    "create_exclusive",
    "lock",
    "write_atomically",
]

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_SUFFIX = ".checkpoint"
LOCK_SUFFIX = ".lock"
# O_NOFOLLOW: a symlink planted at the name is refused (ELOOP), never written through.
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _beside(target: Path, suffix: str) -> Path:
    return target.with_name(target.name + suffix)


def create_exclusive(target: Path) -> tuple[Path, IO[bytes]]:
    """A new, uniquely named file in ``target``'s directory, open for writing.

    Raises:
        OSError: the directory cannot be written.
    """
    for _ in range(100):
        path = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(path, _NEW, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write {target}: {exc.strerror}") from None
        return path, os.fdopen(fd, "wb")
    raise OSError(errno.EEXIST, f"cannot create a temporary file beside {target}")


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so a reader sees the old file or the new one, never half."""
    path, stream = create_exclusive(target)
    try:
        with stream:
            stream.write(data)
        os.replace(path, target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@contextmanager
def lock(target: Path) -> Iterator[None]:
    """Hold ``FILE.lock`` for the duration; refuse when another process holds it.

    ``flock`` is released by the kernel when the holder dies, so a killed export leaves no
    lock that blocks the next one (the stale file is simply locked again).

    Raises:
        UsageError: another export to ``target`` is running.
    """
    path = _beside(target, LOCK_SUFFIX)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write {target}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(
                f"another export to {target} is running (its lock is {path}); wait for it to finish"
            ) from None
        # The holder before us may have unlinked the file after we opened it: then our lock
        # is on a name nobody else sees, so take the lock again on the current file.
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


class ExportFile:
    """One export to ``target``: a fresh temporary file, or ``FILE.partial`` when resuming.

    Use :meth:`open` to get one; write to :attr:`stream`, call :meth:`mark` after each item
    with the position to resume after it, and :meth:`finish` when the listing is complete.

    Attributes:
        target: the final file.
        stream: the open binary file being written.
        resumed: the checkpoint this run continues from, or None for a fresh export.
        previous: the partial file whose content must be copied first (formats that cannot
            be appended to, i.e. parquet), else None.
    """

    def __init__(
        self,
        target: Path,
        path: Path,
        stream: IO[bytes],
        resumed: Checkpoint | None,
        previous: Path | None = None,
    ) -> None:
        self.target = target
        self.path = path
        self.stream = stream
        self.resumed = resumed
        self.previous = previous
        self._text: io.TextIOWrapper | None = None
        self.items = 0 if resumed is None else resumed.items
        self.position: dict[str, Any] = {} if resumed is None else dict(resumed.position)
        self.finished = False

    @property
    def partial(self) -> Path:
        """``FILE.partial``."""
        return _beside(self.target, PARTIAL_SUFFIX)

    @property
    def checkpoint(self) -> Path:
        """``FILE.checkpoint``."""
        return _beside(self.target, CHECKPOINT_SUFFIX)

    def text(self) -> io.TextIOWrapper:
        """The stream as UTF-8 text (CSV and JSON writers)."""
        if self._text is None:
            self._text = io.TextIOWrapper(self.stream, encoding="utf-8", newline="")
        return self._text

    def _close(self) -> None:
        if self._text is not None:
            self._text.flush()
            self._text.detach()
            self._text = None
        if not self.stream.closed:
            self.stream.flush()
            os.fsync(self.stream.fileno())
            self.stream.close()

    def mark(self, position: dict[str, Any], items: int = 1) -> None:
        """Record that ``items`` more items are written, and where the listing resumes."""
        self.items += items
        self.position = position

    def finish(self) -> None:
        """Rename the complete file over ``target`` and remove the checkpoint."""
        self._close()
        os.replace(self.path, self.target)
        if self.previous is not None:
            self.previous.unlink(missing_ok=True)
        self.checkpoint.unlink(missing_ok=True)
        self.finished = True

    def keep(self, fmt: str) -> None:
        """Keep what was written as ``FILE.partial`` with a checkpoint to continue from."""
        self._close()
        size = self.path.stat().st_size
        write_atomically(
            self.checkpoint, Checkpoint(fmt, self.items, size, self.position).to_bytes()
        )
        if self.path != self.partial:
            # rename() replaces a planted FILE.partial symlink itself; it never follows it.
            os.replace(self.path, self.partial)

    def discard(self) -> None:
        """Remove the temporary file (a fresh export that wrote nothing worth keeping)."""
        self._close()
        if self.path != self.partial:
            self.path.unlink(missing_ok=True)

    @classmethod
    @contextmanager
    def open(cls, target: Path, fmt: str, *, resume: bool) -> Iterator[ExportFile]:
        """Lock ``target`` and open the file to write: a new one, or the partial to resume.

        Parquet cannot be appended to, so a parquet resume writes a new temporary file and
        names the partial as :attr:`previous`.

        Raises:
            UsageError: ``--resume`` without a checkpoint, a partial export exists and
                ``--resume`` was not given, or the formats differ.
        """
        with lock(target):
            yield cls._open(target, fmt, resume=resume)

    @classmethod
    def _open(cls, target: Path, fmt: str, *, resume: bool) -> ExportFile:
        partial = _beside(target, PARTIAL_SUFFIX)
        if not resume:
            if partial.exists() or partial.is_symlink():
                raise UsageError(
                    f"{partial} holds an interrupted export: add --resume to continue it, "
                    "or delete it to start again"
                )
            path, stream = create_exclusive(target)
            return cls(target, path, stream, None)
        checkpoint = Checkpoint.read(_beside(target, CHECKPOINT_SUFFIX))
        if checkpoint.format != fmt:
            raise UsageError(
                f"{partial} was written as {checkpoint.format}, not {fmt}: resume it with "
                f"--format {checkpoint.format}"
            )
        if fmt == "parquet":
            if not partial.is_file() or partial.is_symlink():
                raise UsageError(f"nothing to resume: {partial} does not exist")
            path, stream = create_exclusive(target)
            return cls(target, path, stream, checkpoint, previous=partial)
        try:
            fd = os.open(partial, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise UsageError(f"nothing to resume: {partial} does not exist") from None
        if os.fstat(fd).st_size < checkpoint.size:
            os.close(fd)
            raise UsageError(f"{partial} is shorter than its checkpoint says; start again")
        # Anything written after the checkpoint was taken is dropped, so no item is doubled.
        os.ftruncate(fd, checkpoint.size)
        os.lseek(fd, 0, os.SEEK_END)
        return cls(target, partial, os.fdopen(fd, "r+b"), checkpoint)
