"""Build the command's ``Client`` from ``--base-url``/``--api-key`` or the environment."""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .._client import Client
from .._config import ENV_API_KEY, ENV_BASE_URL, normalize_base_url
from .._events import Hook
from .errors import UsageError

__all__ = ["connect"]


def connect(
    args: argparse.Namespace,
    sleep: Callable[[float], Awaitable[None]],
    hooks: Sequence[Hook] = (),
    **options: Any,
) -> Client:
    """A client for the command line's API address and key.

    Args:
        args: the parsed command line (``base_url``, ``api_key``).
        sleep: the coroutine the client waits with.
        hooks: the client's instrumentation hooks (retries and pauses, typed).
        options: passed on to :class:`Client` (e.g. ``rate_limit=``).

    Raises:
        UsageError: the address or key is missing or malformed (nothing is sent).
    """
    base_url = args.base_url or os.environ.get(ENV_BASE_URL)
    api_key = args.api_key or os.environ.get(ENV_API_KEY)
    if not base_url:
        raise UsageError(f"no API address: pass --base-url or set {ENV_BASE_URL}")
    if not api_key or not api_key.strip():
        raise UsageError(f"no API key: pass --api-key or set {ENV_API_KEY}")
    try:
        normalize_base_url(base_url)
    except ValueError as exc:
        raise UsageError(str(exc).replace("base_url:", "--base-url:", 1)) from None
    try:
        return Client(base_url, api_key, sleep=sleep, hooks=hooks, **options)
    except ValueError as exc:
        raise UsageError(str(exc).replace("api_key:", "--api-key:", 1)) from None
