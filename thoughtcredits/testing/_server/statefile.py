"""A server's ledger kept in a file across runs (``serve-fake --state FILE``).

* **One server per file.** While a server runs it holds an exclusive lock on ``.FILE.lock``
  beside FILE (holding its pid; removed at exit), so a second server on the same file
  refuses to start instead of silently losing the first one's writes.
* **Read whole and checked.** FILE is read at start (at most :data:`MAX_STATE_BODY` bytes),
  and checked whole before anything is replaced; a bad FILE stops the start, left as it was.
* **Written atomically.** A save goes to a unique temporary file, then renames it over FILE:
  a kill at any moment leaves the old FILE or the new one. Temporary files a killed save
  left behind are removed at the next start (the lock says they are no other server's).
* **Never silently lost.** When FILE cannot be written, a copy is written beside it, or else
  in the temporary directory, and the caller is told where; when no copy can be written
  either, :class:`NotSavedError` says so and the caller keeps the ledger in memory.
* **The key too.** The server's key is kept in FILE (member ``apiKey``, ignored by
  ``PUT /_fake/state``), so a restart serves the same key. FILE is created readable by its
  owner only.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Final

from .._ledger.state import KEY_FIELD, StateError
from .admin import MAX_STATE_BODY
from .jsonio import JSONError, loads

__all__ = ["NotSavedError", "StateFile", "StateFileError", "usable_key"]

_KEY: Final = re.compile(r"[!-~]{1,4096}\Z")
"""A key the SDK can send: printable ASCII without spaces."""


class StateFileError(ValueError):
    """FILE cannot be used: in use by another server, unreadable, too large or not a ledger
    snapshot. The message says which, and never shows the key."""


class NotSavedError(OSError):
    """Neither FILE nor a copy of it could be written; the ledger is only in memory."""


def usable_key(key: str) -> bool:
    """Whether ``key`` is printable ASCII without spaces, as a bearer key must be."""
    return _KEY.match(key) is not None


class StateFile:
    """FILE, locked for one server from :meth:`lock` to :meth:`unlock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: int | None = None
        # Chosen now: at stop the environment may have changed (and TMPDIR is read once).
        self._fallback = Path(tempfile.gettempdir())

    @property
    def lock_path(self) -> Path:
        """``.FILE.lock`` beside FILE."""
        return self.path.with_name(f".{self.path.name}.lock")

    def lock(self) -> None:
        """Take the file for this process, and remove what killed saves left behind.

        Raises:
            StateFileError: another server holds it, or its directory cannot hold the lock.
        """
        if not self.path.parent.is_dir():  # found now, not when the ledger is saved at stop
            raise OSError(errno.ENOENT, "--state: no such directory", str(self.path.parent))
        while True:
            try:
                # Held read-only: a filesystem with no file open for writing can still turn
                # read-only under the server, and the save at stop then finds another way.
                fd = os.open(self.lock_path, os.O_RDONLY | os.O_CREAT | _NONBLOCK, 0o600)
            except OSError as exc:
                raise StateFileError(
                    f"--state {self.path}: cannot create the lock file {self.lock_path} "
                    f"({exc.strerror}); the state could not be saved there either"
                ) from None
            if not _try_lock(fd):
                holder = os.read(fd, 20).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise StateFileError(
                    f"--state {self.path}: in use by another serve-fake (pid {holder}); stop "
                    "it first, or give this one another file"
                )
            if _same_file(fd, self.lock_path):
                break
            os.close(fd)  # its holder removed it as we opened it: take the new one
        self._lock = fd
        self.lock_path.write_text(str(os.getpid()))
        for stale in self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"):
            if _TEMP.fullmatch(stale.name[len(self.path.name) + 2 :]):
                stale.unlink(missing_ok=True)

    def unlock(self) -> None:
        """Let another server take the file: remove the lock file, then release the lock.

        A server that opened the lock file just before it was removed finds, once it holds
        the lock, that the path now names another file (or none), and starts over.
        """
        fd, self._lock = self._lock, None
        if fd is not None:
            with suppress(OSError):  # Windows cannot remove an open file: it stays, unlocked
                self.lock_path.unlink(missing_ok=True)
            os.close(fd)

    def read(self) -> tuple[object, str | None] | None:
        """The snapshot in FILE and the key kept with it, or None when FILE does not exist.

        Raises:
            StateFileError: FILE is unreadable, too large, not JSON, or its key is unusable.
        """
        try:
            # O_NONBLOCK: opening a FIFO planted at FILE would wait for a writer for ever, and
            # SIGTERM could not stop the server that waits.
            fd = os.open(self.path, os.O_RDONLY | _NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(f"--state {self.path}: cannot read it: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StateFileError(f"--state {self.path}: not a regular file")
            try:
                raw = file.read(MAX_STATE_BODY + 1)
            except OSError as exc:
                message = f"--state {self.path}: cannot read it: {exc.strerror}"
                raise StateFileError(message) from None
        if len(raw) > MAX_STATE_BODY:
            raise StateFileError(f"--state {self.path}: larger than {MAX_STATE_BODY} bytes")
        try:
            data = loads(raw)
        except JSONError as exc:
            raise StateFileError(self.refused(str(exc))) from None
        key = data.get(KEY_FIELD) if isinstance(data, dict) else None
        if key is not None and not (isinstance(key, str) and usable_key(key)):
            raise StateFileError(self.refused(f"{KEY_FIELD}: not printable ASCII without spaces"))
        return data, key

    def load_into(self, load: Callable[[object], None], data: object) -> None:
        """``load(data)`` (a server's ``load``), with a refused snapshot reported as FILE's.

        Raises:
            StateFileError: the snapshot is refused; FILE is left as it is.
        """
        try:
            load(data)
        except StateError as exc:
            raise StateFileError(self.refused(str(exc))) from None

    def refused(self, problem: str) -> str:
        """The one-line error for a FILE that is not a snapshot (``problem`` says why)."""
        return (
            f"--state {self.path}: not a ledger snapshot saved by serve-fake ({problem}); "
            "the file was left as it is"
        )

    def save(self, data: bytes) -> tuple[Path, str | None]:
        """Write ``data`` to FILE atomically. Returns FILE and None, or, when FILE cannot be
        written, the copy written instead and why FILE was not.

        Raises:
            NotSavedError: neither FILE nor a copy could be written.
        """
        try:
            _write_atomically(self.path, data)
            return self.path, None
        except OSError as exc:
            first = exc
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for directory in dict.fromkeys((self.path.parent, self._fallback)):
            copy = directory / f"{self.path.name}.unsaved-{stamp}-{os.getpid()}.json"
            try:
                _write_atomically(copy, data)
            except OSError:
                continue
            return copy, first.strerror or str(first)
        raise NotSavedError(first.errno or errno.EIO, f"cannot save the state: {first.strerror}")


_NONBLOCK: Final = getattr(os, "O_NONBLOCK", 0)
"""Opens a FIFO without waiting for its other end (POSIX; Windows has no FIFOs to plant)."""
_TEMP: Final = re.compile(r"[a-z0-9_]{8}\.tmp")
"""The random part ``tempfile.mkstemp`` puts between our prefix and suffix."""


def _write_atomically(path: Path, data: bytes) -> None:
    """A unique temporary file beside ``path`` (mode 0600), flushed to disk, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False when another holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
