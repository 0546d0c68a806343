"""Neutralize server-supplied text before it reaches a terminal.

A batch name is chosen by whoever created the batch. Printed raw, ``"\\x1b]0;owned\\x07"`` sets
the window title and ``"\\x1b[2J"`` clears the screen; bidi overrides reorder what is read.
Every control character (C0, DEL, C1) and every bidi control is shown as a visible escape
instead, e.g. ``\\x1b``, so the text stays readable and cannot drive the terminal.
"""

from __future__ import annotations

import re

__all__ = ["safe", "safe_json"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_json(text: str) -> str:
    """JSON text with the control characters JSON allows raw (DEL, C1, bidi) as ``\\uXXXX``.

    The result is the same JSON value; only its spelling changes, so a terminal cannot act
    on it.
    """
    return _UNSAFE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def safe(text: str) -> str:
    """``text`` with control and bidi characters replaced by visible ``\\xNN`` escapes.

    >>> safe("Q3\\x1b[2J top-up")
    'Q3\\\\x1b[2J top-up'
    """
    return _UNSAFE.sub(_escape, text)
