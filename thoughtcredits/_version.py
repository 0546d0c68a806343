"""The installed package version, read once from its metadata."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _metadata_version

__all__ = ["version"]


@cache
def version() -> str:
    """The version of the installed ``thoughtcredits`` distribution."""
    try:
        return _metadata_version("thoughtcredits")
    except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
        return "0+unknown"
