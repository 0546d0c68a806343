"""Open an export: a fresh one, or the interrupted one ``--resume`` continues.

Everything is checked before anything is changed: the lock, then (resuming) the checkpoint's
listing against the command and each of its files against the checkpoint (length, hash,
items). A refusal leaves every file as it was and sends nothing. Only then are stale
temporary files swept and a resumed text file cut back to its checkpoint.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .checkpoint import Checkpoint, Part, checkpoint_of, different
from .disk import DiskStream, inspect
from .files import PARTIAL_SUFFIX, ExportFile
from .tempfiles import lock, open_locked, sweep_stale

__all__ = ["open_export"]


@contextmanager
def open_export(
    target: Path, fmt: str, identity: Mapping[str, Any], *, resume: bool
) -> Iterator[ExportFile]:
    """Lock ``target`` and open the file to write: a new one, or the export to continue.

    Raises:
        UsageError: ``--resume`` without a checkpoint, or with one for another listing or
            that its files do not match; an interrupted export exists and ``--resume`` was
            not given. Nothing is changed on disk then.
    """
    with lock(target):
        yield (_resume if resume else _fresh)(target, fmt, identity)


def _fresh(target: Path, fmt: str, identity: Mapping[str, Any]) -> ExportFile:
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    for kept in (partial, checkpoint_of(target)):
        if kept.exists() or kept.is_symlink():
            raise UsageError(
                f"{kept} holds an interrupted export: add --resume to continue it, or "
                f"delete {checkpoint_of(target).name} and {partial.name} to start again"
            )
    sweep_stale(target)
    path, fd = open_locked(target)
    return ExportFile(target, fmt, identity, path, DiskStream(fd))


def _resume(target: Path, fmt: str, identity: Mapping[str, Any]) -> ExportFile:
    where = checkpoint_of(target)
    saved = Checkpoint.read(where)
    difference = different(saved.identity, {**identity, "format": fmt})
    if difference:
        raise UsageError(
            f"{where} is for another export ({difference}); resume it with the command "
            "that started it, or delete it to start again"
        )
    if fmt != "parquet" and len(saved.parts) != 1:
        raise UsageError(f"{where} is not a checkpoint this version can read (its files)")
    files = [_located(target, part, fmt) for part in saved.parts]
    found = [
        _checked(where, file, part, fmt, identity)
        for file, part in zip(files, saved.parts, strict=True)
    ]
    sweep_stale(target, keep=files)
    if fmt == "parquet":  # closed segments: the next one is a new file
        path, fd = open_locked(target)
        return ExportFile(target, fmt, identity, path, DiskStream(fd), saved)
    (file,), (digest,), (part,) = files, found, saved.parts
    fd = os.open(file, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Anything written after the checkpoint was taken is dropped: no item is doubled.
        os.ftruncate(fd, part.size)
        os.lseek(fd, 0, os.SEEK_END)
    except OSError:
        os.close(fd)
        raise
    return ExportFile(target, fmt, identity, file, DiskStream(fd, digest, part.size), saved)


def _located(target: Path, part: Part, fmt: str) -> Path:
    file = target.with_name(part.file)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    if not file.exists() and not file.is_symlink() and fmt != "parquet":
        file = partial  # renamed to FILE.partial just before the checkpoint could say so
    if not file.is_file() or file.is_symlink():
        raise UsageError(f"nothing to resume: {file} does not exist")
    return file


def _checked(where: Path, file: Path, part: Part, fmt: str, identity: Mapping[str, Any]) -> Any:
    """The hash of ``file``'s checkpointed bytes, once they are what ``part`` says."""
    delimiter = ";" if identity.get("csvDialect") == "excel-eu" else ","
    found = inspect(file, fmt, part.size, delimiter=delimiter)
    whole = fmt != "parquet" or file.stat().st_size == part.size
    if not whole or found is None or (found[0].hexdigest(), found[1]) != (part.sha256, part.items):
        raise UsageError(
            f"{file} does not match its checkpoint (it should hold {part.items:,} items in "
            f"{part.size:,} bytes); delete {file.name} and {where.name} to start again"
        )
    return found[0]
