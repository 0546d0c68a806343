"""What the SDK logs, and ``THOUGHTCREDITS_LOG=debug|info`` to see it without writing code.

Like ``OPENAI_LOG``: the variable is read once, at import. The records carry structured
``tc_*`` fields and never headers or the key.
"""

from __future__ import annotations

import logging
import os

from ._transports.base import HTTPResponse

__all__ = [
    "ENV_LOG",
    "log_exchange",
    "log_new_key",
    "log_retry",
    "log_unsettled",
    "setup_from_env",
]

ENV_LOG = "THOUGHTCREDITS_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
logger = logging.getLogger("thoughtcredits")


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


def log_exchange(method: str, path: str, attempt: int, response: HTTPResponse) -> None:
    """One DEBUG record per HTTP exchange, with structured fields (never headers or keys)."""
    if not logger.isEnabledFor(logging.DEBUG):
        return  # this runs per request: build nothing unless someone listens
    logger.debug(
        "%s %s -> %d (attempt %d, %.0f ms)",
        method,
        path,
        response.status,
        attempt,
        response.elapsed * 1000,
        extra={
            "tc_method": method,
            "tc_path": path,
            "tc_status": response.status,
            "tc_attempt": attempt,
            "tc_elapsed": response.elapsed,
            "tc_ratelimit_remaining": response.headers.get("X-RateLimit-Remaining"),
        },
    )


def log_retry(
    method: str, path: str, attempt: int, attempts: int, why: str, wait: float, *, refused: bool
) -> None:
    """One INFO record per retry; ``why`` is the failure's short reason (``"HTTP 503"``)."""
    extra = {"tc_request": f"{method} {path}", "tc_attempt": attempt, "tc_wait": wait,
             "tc_reason": why}  # fmt: skip
    if refused:
        logger.info(
            "retrying %s %s in %.2fs (attempt %d refused: %s; a refusal spends no attempt)",
            method, path, wait, attempt, why, extra=extra,
        )  # fmt: skip
        return
    logger.info(
        "retrying %s %s in %.2fs (attempt %d of %d failed: %s)",
        method, path, wait, attempt, attempts, why, extra=extra,
    )  # fmt: skip


def log_unsettled(method: str, path: str, why: str, *, applied: bool | None) -> None:
    """The one WARNING of a create or update that ends without a readable answer.

    ``applied`` None: it may have reached the server and been acted on (a timeout, a drop, a
    5xx, a redirect, a cancellation after sending); True: it was (a 2xx that broke off).
    """
    extra = {"tc_method": method, "tc_path": path, "tc_reason": why, "tc_applied": applied}
    if applied:
        logger.warning(
            "%s %s was carried out on the server but its answer was lost (%s); "
            "do not send it again",
            method, path, why, extra=extra,
        )  # fmt: skip
        return
    logger.warning(
        "%s %s may have reached the server and been acted on (%s); the client stops here: "
        "check whether it was made before sending it again",
        method, path, why, extra=extra,
    )  # fmt: skip


def log_new_key(method: str, path: str) -> None:
    """One INFO record when a 401 makes the client ask its key callable again and resend."""
    logger.info(
        "%s %s answered 401; resending once with the key the api_key callable returns now",
        method, path, extra={"tc_request": f"{method} {path}", "tc_reason": "HTTP 401"},
    )  # fmt: skip
