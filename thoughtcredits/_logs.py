"""``THOUGHTCREDITS_LOG=debug|info``: the SDK's log records on stderr without writing code.

Like ``OPENAI_LOG``: read once, at import. The records never carry headers or the key.
"""

from __future__ import annotations

import logging
import os

__all__ = ["ENV_LOG", "setup_from_env"]

ENV_LOG = "THOUGHTCREDITS_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


def setup_from_env(environ: dict[str, str] | None = None) -> logging.Handler | None:
    """Send the ``thoughtcredits`` logger to stderr at the level ``$THOUGHTCREDITS_LOG`` names.

    Returns the handler added, or None when the variable is unset or not a known level.
    """
    value = (os.environ if environ is None else environ).get(ENV_LOG, "").strip().lower()
    level = _LEVELS.get(value)
    if level is None:
        return None
    logger = logging.getLogger("thoughtcredits")
    for handler in logger.handlers:
        if getattr(handler, "_thoughtcredits_env", False):
            return handler  # imported twice (e.g. reloaded): one handler is enough
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
    handler._thoughtcredits_env = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
