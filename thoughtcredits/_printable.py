"""Text from a server or a caller made fit for one log line, error message or span attribute.

A server's text can hold terminal escapes, undecodable bytes (read as lone surrogates) or a
megabyte of anything; every reader of such text goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["printable", "request_id"]


def printable(text: str, limit: int) -> str:
    """Text fit for one log line: at most ``limit`` characters, unprintable ones escaped."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def request_id(headers: Mapping[str, str]) -> str | None:
    """The server's ``X-Request-Id`` (or ``Request-Id``), printable and at most 200 characters."""
    found = headers.get("X-Request-Id") or headers.get("Request-Id")
    return printable(found, 200) if found else None
