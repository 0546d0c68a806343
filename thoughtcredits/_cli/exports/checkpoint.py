"""``FILE.checkpoint``: where an interrupted export stopped, as JSON in the SDK's convention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..._serde.exact_json import dumps, loads_exact
from ..errors import UsageError

__all__ = ["Checkpoint"]

_CHECKPOINT_VERSION = 1


class Checkpoint:
    """Where an interrupted export stopped: its format, size and listing position.

    Attributes:
        format: the output format the partial file is written in.
        items: how many items the partial file holds.
        size: the partial file's length in bytes when the checkpoint was taken.
        position: the command's own resume state (e.g. ``{"resumeFrom": token}``).
    """

    def __init__(self, format: str, items: int, size: int, position: dict[str, Any]) -> None:
        self.format = format
        self.items = items
        self.size = size
        self.position = position

    def to_bytes(self) -> bytes:
        """The checkpoint file's JSON (``tc.to_json`` conventions: camelCase)."""
        return dumps(
            {
                "version": _CHECKPOINT_VERSION,
                "format": self.format,
                "items": self.items,
                "bytes": self.size,
                "position": self.position,
            }
        )

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        """Load a checkpoint file.

        Raises:
            UsageError: the file is missing or not a checkpoint this version wrote.
        """
        try:
            data = loads_exact(path.read_bytes())
            if data.get("version") != _CHECKPOINT_VERSION:
                raise ValueError("unknown version")
            return cls(
                str(data["format"]), int(data["items"]), int(data["bytes"]), dict(data["position"])
            )
        except FileNotFoundError:
            raise UsageError(f"nothing to resume: {path} does not exist") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"{path} is not a checkpoint this version can read ({exc})") from None
