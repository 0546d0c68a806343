"""The ``thoughtcredits`` command line (``pip install 'thoughtcredits[cli]'`` for rich output).

Run ``thoughtcredits --help``. The entry point is :func:`main`.
"""

from __future__ import annotations

from .app import main

__all__ = ["main"]
