"""The bytes of an export on their way to disk, hashed and counted as they land.

:class:`DiskStream` is the one place an export's bytes are written (``os.write`` through
:data:`write_bytes`, the seam tests replace to make the disk "full"). It keeps the SHA-256
and length of everything that reached the file, so a checkpoint can name exactly what the file
holds without reading it back. :func:`inspect` reads a partial file to check it against its
checkpoint: the same length, hash and number of items.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DiskStream", "inspect", "write_bytes"]

write_bytes: Callable[[int, Any], int] = os.write
"""How bytes reach the file descriptor (``os.write``); tests inject ``OSError(ENOSPC)`` here."""

_CHUNK = 1 << 20


class DiskStream(io.RawIOBase):
    """An unbuffered, write-only file that hashes and counts what it writes.

    Args:
        fd: the open file descriptor, positioned at ``size``.
        digest: the hash of the bytes already in the file (a resumed partial), else empty.
        size: the length of those bytes.
    """

    def __init__(self, fd: int, digest: Any = None, size: int = 0) -> None:
        super().__init__()
        self._fd = fd
        self._dropped = False
        self.digest = digest if digest is not None else hashlib.sha256()
        self.size = size

    def writable(self) -> bool:
        """Always: the stream is write-only."""
        return True

    def write(self, data: Any) -> int:
        """Write what the disk takes (maybe less than ``data``); hash and count it."""
        view = memoryview(data).cast("B")
        if self._dropped:
            return len(view)
        written = write_bytes(self._fd, view)
        self.digest.update(view[:written])
        self.size += written
        return written

    def tell(self) -> int:
        """The file's length so far."""
        return self.size

    def fileno(self) -> int:
        """The file descriptor."""
        return self._fd

    def drop(self) -> None:
        """Close the file; whatever is still written to the stream is silently discarded.

        The layers above (a text wrapper, a buffer, pyarrow's writer) may still flush when
        they are collected: into nothing, rather than with an "Exception ignored" message.
        """
        if not self._dropped:
            self._dropped = True
            os.close(self._fd)

    def close(self) -> None:
        """Drop the file (see :meth:`drop`)."""
        self.drop()
        super().close()


def inspect(path: Path, fmt: str, size: int, *, delimiter: str = ",") -> tuple[Any, int] | None:
    """The hash of ``path``'s first ``size`` bytes and the items they hold, or None.

    None when the file is shorter than ``size`` or its content is not whole items of ``fmt``.
    Reads the file once (twice for CSV, whose rows may hold line breaks); memory stays flat.
    """
    digest = hashlib.sha256()
    lines = 0
    with open(path, "rb") as stream:
        left = size
        while left:
            chunk = stream.read(min(_CHUNK, left))
            if not chunk:
                return None  # shorter than the checkpoint says
            digest.update(chunk)
            lines += chunk.count(b"\n")
            left -= len(chunk)
    if fmt in ("jsonl", "json"):
        return digest, lines  # one item per line: "[\n{..},\n{..}" has as many as breaks
    if fmt == "csv":
        return digest, _csv_rows(path, size, delimiter)
    if fmt == "parquet":
        return digest, _parquet_rows(path)
    return None


class _Limited(io.RawIOBase):
    """The first ``size`` bytes of a binary stream."""

    def __init__(self, stream: io.BufferedReader, size: int) -> None:
        super().__init__()
        self._stream = stream
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        count = self._stream.readinto(view)
        self._left -= count
        return count


def _csv_rows(path: Path, size: int, delimiter: str) -> int:
    with open(path, "rb") as stream:
        text = io.TextIOWrapper(io.BufferedReader(_Limited(stream, size)), "utf-8-sig", newline="")
        try:
            rows = sum(1 for _ in csv.reader(text, delimiter=delimiter))
        except (csv.Error, UnicodeDecodeError):
            return -1
    return max(rows - 1, 0)  # the header is not an item


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_rows)
    except Exception:  # any unreadable parquet is simply "not a partial"
        return -1
