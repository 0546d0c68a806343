"""One line for every error a command can end with, and its exit code."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from .._config import ENV_API_KEY
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    PaginationError,
    RateLimitError,
    ResponseValidationError,
)

__all__ = ["OutputError", "UsageError", "describe"]


class UsageError(Exception):
    """A bad command line or configuration: printed as one line, exit code 2."""


class OutputError(Exception):
    """A value the output format cannot hold (e.g. an amount too wide for parquet), or state
    the command cannot use (a job never planned): one line, exit 1."""


# The API has no idempotency key: re-running a create that reached the server issues twice.
_MAYBE_APPLIED = "; it may have been applied: check before running it again"
_APPLIED = "; it was applied: do not run it again"


def _applied(exc: APIStatusError | APIConnectionError) -> str:
    """What the request did, as the SDK's error says (a read or a refusal did nothing)."""
    if exc.applied is None:
        return _MAYBE_APPLIED
    return _APPLIED if exc.applied else ""


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _where(method: str, url: str) -> str:
    return f"{method} {urlsplit(url).path}" if url else method


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and a one-line message (without ``error:``) for ``exc``.

    The message never contains the API key: SDK errors carry only the response, the method
    and the URL, and the key is sent in a header.
    """
    if isinstance(exc, UsageError):
        return 2, _one_line(str(exc))
    if isinstance(exc, OutputError):
        return 1, _one_line(str(exc))
    if isinstance(exc, AuthenticationError):
        return 1, (
            f"{_status(401)}: the API key was rejected; check --api-key or ${ENV_API_KEY} "
            f"({_where(exc.method, exc.url)})"
        )
    if isinstance(exc, RateLimitError):
        wait = "" if exc.retry_after is None else f"; the server asked to wait {exc.retry_after:g}s"
        return 1, _one_line(
            f"{_status(429)}: still rate limited after retrying{wait} "
            f"({_where(exc.method, exc.url)})"
        )
    if isinstance(exc, APIStatusError):
        return 1, _one_line(
            f"{_status(exc.status)}: {exc.message} ({_where(exc.method, exc.url)})" + _applied(exc)
        )
    if isinstance(exc, APIConnectionError):
        return 1, _one_line(f"{exc.message} ({exc.method} {exc.url})" + _applied(exc))
    if isinstance(exc, ResponseValidationError):
        return 1, _one_line(f"unexpected response from the server: {exc}")
    if isinstance(exc, PaginationError):
        return 1, _one_line(f"listing stopped: {exc}")
    if isinstance(exc, ValueError):
        # The SDK's own argument checks: nothing was sent.
        return 2, _one_line(str(exc))
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return 1, _one_line(f"{exc.strerror or exc}{where}")
    return 1, _one_line(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)")
