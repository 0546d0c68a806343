"""Client configuration: base URL and key checks, environment, timeouts and User-Agent."""

from __future__ import annotations

import ipaddress
import math
import os
import platform
import sys
from collections.abc import Awaitable, Callable
from typing import TypeAlias
from urllib.parse import urlsplit

import aiohttp

from ._version import version

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "KeyCallable",
    "check_key",
    "client_timeout",
    "normalize_base_url",
    "resolve_credentials",
    "user_agent",
]

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
"""60 s per attempt in all, 10 s to connect. Never infinite.

No gap between reads is set by default: aiohttp re-arms that timer on every chunk received,
which cost 6 % of a small request's CPU, and the 60 s bound holds either way. Pass
``aiohttp.ClientTimeout(total=60, connect=10, sock_read=30)`` to fail a stalled answer sooner.
"""

_API_PATH = "/incoming/v2"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
ENV_BASE_URL = "THOUGHTCREDITS_BASE_URL"
ENV_API_KEY = "THOUGHTCREDITS_API_KEY"

MAX_KEY = 16_384  # characters: a long OAuth token is a few thousand
KeyCallable: TypeAlias = Callable[[], str | Awaitable[str]]
"""An ``api_key`` that changes: a function, sync or async, returning the current key."""


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_base_url(base_url: str) -> str:
    """Validate ``base_url`` and return it ending in ``/incoming/v2`` with no trailing slash."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"base_url: expected an absolute https:// URL, got {base_url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            "base_url: plain http:// would send the API key in clear text; "
            "use https:// (http:// is allowed only for loopback hosts)"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("base_url: must not contain a query, fragment or credentials")
    path = parts.path.rstrip("/")
    if not path.endswith(_API_PATH):
        path += _API_PATH
    return f"{parts.scheme}://{parts.netloc}{path}"


def resolve_credentials(
    base_url: str | None, api_key: str | KeyCallable | None
) -> tuple[str, str | KeyCallable]:
    """The normalized base URL and the key (checked) or key callable, from the arguments or the
    environment."""
    base_url = base_url or os.environ.get(ENV_BASE_URL)
    api_key = api_key or os.environ.get(ENV_API_KEY)
    if not base_url or not api_key:
        missing = [
            f"{arg} (or ${env})"
            for arg, env, value in (
                ("base_url", ENV_BASE_URL, base_url),
                ("api_key", ENV_API_KEY, api_key),
            )
            if not value
        ]
        raise ValueError(
            f"missing {' and '.join(missing)}: pass base_url= and api_key=, "
            f"or set {ENV_BASE_URL} and {ENV_API_KEY}"
        )
    if callable(api_key) and not isinstance(api_key, str):
        return normalize_base_url(base_url), api_key  # asked, and checked, before each attempt
    return normalize_base_url(base_url), check_key(api_key)


def check_key(key: object, source: str = "api_key") -> str:
    """``key`` without surrounding whitespace, if it is printable ASCII with no space inside.

    A control character (a newline could smuggle headers; aiohttp refuses ``\\x7f`` on every
    request) or a non-ASCII one is refused here, where the key is given. The message names
    the position and the kind of the first bad character, never the key.
    """
    if not isinstance(key, str):
        raise TypeError(f"{source}: expected the key as a str, got {type(key).__name__}")
    key = key.strip()
    if not key:
        raise ValueError(f"{source}: the key is empty")
    if len(key) > MAX_KEY:  # a header that size is refused by servers anyway
        raise ValueError(f"{source}: the key is over {MAX_KEY} characters")
    if key.isascii() and key.isprintable() and " " not in key:
        return key
    index, char = next(
        (i, c) for i, c in enumerate(key, 1) if c == " " or not (c.isascii() and c.isprintable())
    )
    what = "a space" if char == " " else "a control character" if char.isascii() else "not ASCII"
    raise ValueError(
        f"{source}: a key is printable ASCII with no spaces; its character {index} is {what} "
        "(the key is not shown)"
    )


def client_timeout(timeout: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """Seconds, or an ``aiohttp.ClientTimeout`` with a finite ``total``, as a ``ClientTimeout``.

    aiohttp reads None and 0 alike as "no limit", so a ``ClientTimeout`` needs a positive
    ``total`` and no field of 0 or less: a gap limit alone (``sock_read``) holds a request for
    ever against a server that sends a byte just often enough.
    """
    if isinstance(timeout, aiohttp.ClientTimeout):
        if timeout.total is None:
            raise ValueError(
                "timeout: an aiohttp.ClientTimeout needs a total, or a server that keeps "
                "sending can hold a request for ever; e.g. "
                f"ClientTimeout(total=60, sock_read={timeout.sock_read or 30})"
            )
        for name in ("total", "connect", "sock_read", "sock_connect"):
            value = getattr(timeout, name)
            if value is not None:
                _seconds(f"timeout.{name}", value)
        return timeout
    _seconds("timeout", timeout)
    return aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout))


def _seconds(name: str, value: object) -> None:
    """A positive, finite number of seconds (an int too large for a float is not finite)."""
    try:
        seconds = float(value) if isinstance(value, int | float) else math.nan
    except OverflowError:
        seconds = math.inf
    if isinstance(value, bool) or not 0 < seconds < math.inf:
        raise ValueError(f"{name}: must be a positive, finite number of seconds, got {value!r:.40}")


def user_agent(extra: str | None) -> str:
    """The SDK's User-Agent, with ``extra`` appended."""
    agent = (
        f"thoughtcredits/{version()} "
        f"{platform.python_implementation()}/{sys.version_info.major}.{sys.version_info.minor} "
        f"aiohttp/{aiohttp.__version__}"
    )
    if extra is not None and (
        not isinstance(extra, str) or any(char in extra for char in "\r\n\x00")
    ):
        raise ValueError(f"user_agent: expected one line of text, got {extra!r:.60}")
    return f"{agent} {extra}" if extra else agent
