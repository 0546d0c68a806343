"""``FILE.checkpoint``: what an export is, where it stopped, and what its file must hold.

A checkpoint names the listing it belongs to (its *identity*: command, client, account, type,
filters, format), the file holding the items written so far with that file's length, SHA-256
and item count, and the position to continue from. A checksum over all of it catches a hand
edit. ``--resume`` refuses a checkpoint for another listing, or one its file does not match,
before anything is sent or touched.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..._serde.exact_json import dumps, loads_exact
from ..._version import version
from ..errors import UsageError
from .tempfiles import write_atomically

__all__ = ["CHECKPOINT_SUFFIX", "Checkpoint", "Part", "checkpoint_of", "different"]

CHECKPOINT_SUFFIX = ".checkpoint"
_VERSION = 2
# A checkpoint is a few hundred bytes; reading a planted huge file must not cost its size.
_MAX_BYTES = 1 << 20


def checkpoint_of(target: Path) -> Path:
    """``FILE.checkpoint`` for ``FILE``."""
    return target.with_name(target.name + CHECKPOINT_SUFFIX)


def different(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    """The first difference between two identities, as ``key a, not b``; "" when equal."""
    for key in dict.fromkeys([*wanted, *saved]):
        if saved.get(key) != wanted.get(key):
            return f"{key} {_show(saved.get(key))}, not {_show(wanted.get(key))}"
    return ""


def _show(value: object) -> str:
    return "(none)" if value is None else dumps(value).decode()


@attrs.frozen
class Part:
    """One file of an export's items, as the checkpoint vouches for it.

    Attributes:
        file: its name, beside the target.
        size: its length in bytes at the checkpoint (anything after is dropped).
        sha256: the SHA-256 of those ``size`` bytes, in hex.
        items: how many items those bytes hold.
    """

    file: str
    size: int
    sha256: str
    items: int

    def to_json(self) -> dict[str, Any]:
        """The part as checkpoint JSON."""
        return {"file": self.file, "bytes": self.size, "sha256": self.sha256, "items": self.items}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Part:
        """Read a part; ``ValueError`` (or ``KeyError``, ``TypeError``) when malformed."""
        return cls(
            _plain_name(data["file"]), _count(data["bytes"]), str(data["sha256"]),
            _count(data["items"]),
        )  # fmt: skip


@attrs.frozen
class Checkpoint:
    """Where an export stopped, and what its files hold up to there.

    A text export has one file. A parquet export, which can only be checkpointed closed, has
    one per segment closed so far (merged into one file when it ends).

    Attributes:
        identity: the listing and its output format (``{"command": "actions list", ...}``).
        parts: the files holding the items, in order.
        position: where the listing continues (``{"source": 0, "cursor": ..., "skip": 3}``).
        sdk: the version of thoughtcredits that wrote it.
    """

    identity: Mapping[str, Any]
    parts: tuple[Part, ...]
    position: Mapping[str, Any]
    sdk: str = attrs.field(factory=version)

    @property
    def items(self) -> int:
        """How many items the files hold."""
        return sum(part.items for part in self.parts)

    def _body(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "sdk": self.sdk,
            "identity": dict(self.identity),
            "items": self.items,
            "files": [part.to_json() for part in self.parts],
            "position": dict(self.position),
        }

    def to_bytes(self) -> bytes:
        """The checkpoint file's JSON (``tc.to_json`` conventions: camelCase)."""
        body = self._body()
        return dumps({**body, "checksum": _checksum(body)})

    def save(self, path: Path) -> None:
        """Write the checkpoint to ``path`` atomically (the old one or the new, never half)."""
        write_atomically(path, self.to_bytes() + b"\n")

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        """Load a checkpoint file, refusing one that was edited or is of another version.

        Raises:
            UsageError: the file is missing, edited, or not a checkpoint this version reads.
        """
        try:
            data = loads_exact(_read_regular(path))
        except FileNotFoundError:
            raise UsageError(f"nothing to resume: {path} does not exist") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path} cannot be read as a checkpoint ({exc})") from None
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            found = data.get("version") if isinstance(data, dict) else None
            raise UsageError(
                f"{path} is not a checkpoint this version of thoughtcredits can resume "
                f"(format {_show(found)}, expected {_VERSION}); delete it to start again"
            )
        checksum = data.pop("checksum", None)
        if checksum != _checksum(data):
            raise UsageError(
                f"{path} has been modified since it was written; delete it and the partial "
                "file to start again"
            )
        try:
            checkpoint = cls(
                identity=dict(data["identity"]),
                parts=tuple(Part.from_json(part) for part in data["files"]),
                position=dict(data["position"]),
                sdk=str(data["sdk"]),
            )
            if not checkpoint.parts or checkpoint.items != _count(data["items"]):
                raise ValueError("its files do not add up to its items")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"{path} is not a checkpoint this version can read ({exc})") from None
        return checkpoint


def _read_regular(path: Path) -> bytes:
    """The bytes of ``path``, a regular file of at most ``_MAX_BYTES``.

    ``O_NONBLOCK``: a FIFO planted at the name would block ``open()`` for ever, and with it
    the signal handlers that let Ctrl-C and SIGTERM stop the command. ``O_NOFOLLOW``: a
    checkpoint is only ever renamed into place, so a symlink there is not one of ours.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("a symbolic link, not a file") from None
        raise
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        raw = stream.read(_MAX_BYTES + 1)
    if len(raw) > _MAX_BYTES:
        raise ValueError(f"over {_MAX_BYTES:,} bytes")
    return raw


def _checksum(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(dumps(body)).hexdigest()


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _plain_name(value: object) -> str:
    # The file is always beside the target: a path elsewhere is not ours to open.
    if not isinstance(value, str) or not value or "/" in value or value in (".", ".."):
        raise ValueError(f"not a file name: {value!r}")
    return value
