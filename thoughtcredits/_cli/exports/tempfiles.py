"""Temporary files beside a target: created exclusively, locked while alive, swept when stale.

Every temporary file is ``.NAME.<12 hex>.tmp`` in the target's directory, created with
``O_EXCL | O_NOFOLLOW`` (a planted symlink is never written through) and held under an
exclusive ``flock`` for as long as its writer has it open. The kernel drops that lock when the
writer dies, even by ``kill -9``, so "nobody holds its lock" is exactly "its writer is gone":
:func:`sweep_stale` removes only such files, never one a live process is writing.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from ..errors import UsageError

__all__ = [
    "LOCK_SUFFIX",
    "create_exclusive",
    "lock",
    "open_locked",
    "sweep_stale",
    "write_atomically",
]

LOCK_SUFFIX = ".lock"
# O_NOFOLLOW: a symlink planted at the name is refused (ELOOP), never written through.
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _temporary_name(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{12}}\.tmp")


def open_locked(target: Path) -> tuple[Path, int]:
    """A new, uniquely named, exclusively locked file beside ``target``: its path and fd.

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
        # A fresh file nobody else can have opened yet: the lock is ours at once.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return path, fd
    raise OSError(errno.EEXIST, f"cannot create a temporary file beside {target}")


def create_exclusive(target: Path) -> tuple[Path, IO[bytes]]:
    """:func:`open_locked`, as a binary file object (closing it releases the lock)."""
    path, fd = open_locked(target)
    return path, os.fdopen(fd, "wb")


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so a reader sees the old file or the new one, never half.

    The data is on disk (``fsync``) before the rename, so a power cut cannot leave the new
    name holding nothing.
    """
    path, stream = create_exclusive(target)
    try:
        with stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(path, target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def sweep_stale(target: Path, keep: Collection[Path] = ()) -> list[Path]:
    """Remove the temporary files of ``target`` and of its checkpoint left by dead writers.

    Only regular files of this user named ``.NAME.<12 hex>.tmp`` or
    ``.NAME.checkpoint.<12 hex>.tmp``, that are not in ``keep`` and whose lock nobody holds
    (a live writer's file, or another export's, is never touched). Returns those removed.
    """
    names = [_temporary_name(target)]
    names += [_temporary_name(target.with_name(target.name + s)) for s in (".checkpoint",)]
    kept = {path.name for path in keep}
    removed = []
    with suppress(OSError):
        entries = list(os.scandir(target.parent))
        for entry in entries:
            if entry.name in kept or not any(n.fullmatch(entry.name) for n in names):
                continue
            if not entry.is_file(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
            if _unlink_if_unlocked(Path(entry.path)):
                removed.append(Path(entry.path))
    return removed


def _unlink_if_unlocked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False  # a live writer holds it
    try:
        # Still the same file under that name (not replaced since we opened it)?
        if os.stat(path, follow_symlinks=False).st_ino != os.fstat(fd).st_ino:
            return False
        path.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@contextmanager
def lock(target: Path) -> Iterator[None]:
    """Hold ``FILE.lock`` for the duration; refuse when another process holds it.

    ``flock`` is released by the kernel when the holder dies, so a killed export leaves no
    lock that blocks the next one (the stale file is simply locked again).

    Raises:
        UsageError: another export to ``target`` is running.
    """
    path = target.with_name(target.name + LOCK_SUFFIX)
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
        with suppress(OSError):  # the pid is a courtesy; a full disk must not stop the export
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
