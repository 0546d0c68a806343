"""The key of a client whose ``api_key`` is a callable: asked again before every attempt.

A fixed key is checked once, when the client is built (``_config.check_key``), and its
``Authorization`` header is part of every view's headers. A callable (sync or async, returning
the current key) is asked before each attempt, so a key that rotates, or a token that a cache
renews, is used as soon as the callable returns it; after a 401 the pipeline asks it once more
and resends. Whatever it returns is checked as a fixed key is, and never shown. An async
callable has the attempt's timeout to return: one that hangs (a token endpoint that never
answers) fails the attempt as a timeout before anything was sent, instead of holding it for ever.
"""

from __future__ import annotations

import asyncio
import inspect

from .._config import KeyCallable, check_key
from .._exceptions import APITimeoutError
from .._transports.base import Secret

__all__ = ["KeySource"]

_NOTHING = object()


class KeySource:
    """An ``api_key`` callable and the ``Authorization`` value of the key it last returned."""

    __slots__ = ("_authorization", "_call", "_last")

    def __init__(self, call: KeyCallable) -> None:
        self._call = call
        self._last: object = _NOTHING  # what the callable returned last (checked then)
        self._authorization = Secret("")

    def __repr__(self) -> str:
        return "<KeySource ***>"

    async def authorization(self, within: float | None, method: str, url: str) -> Secret:
        """``Bearer <key>`` for the key the callable returns now (checked, never shown).

        Raises:
            APITimeoutError: an async callable took over ``within`` seconds (nothing was sent).
        """
        key = self._call()
        if inspect.isawaitable(key):
            limit = asyncio.timeout(within)
            try:
                async with limit:
                    key = await key
            except TimeoutError:
                if not limit.expired():
                    raise  # the callable's own timeout: its error, as any other
                raise APITimeoutError(
                    f"api_key (the callable) did not return a key within {within}s; nothing "
                    "was sent", method=method, url=url, request_sent=False,
                ) from None  # fmt: skip
        if key is not self._last:  # a cached token is the same str: checked once
            self._authorization = Secret(f"Bearer {check_key(key, 'api_key (the callable)')}")
            self._last = key
        return self._authorization
