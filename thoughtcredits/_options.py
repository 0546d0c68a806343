"""``ClientOptions``: the keyword arguments of ``Client``, typed, for code that makes one.

``FakeCreditsServer.client(**options)`` and the worker integrations' ``client_options`` pass
them on; a ``TypedDict`` lets a type checker check them there as it does at ``Client(...)``.
``tests/test_public_api.py`` holds it to ``Client.__init__``'s own names and types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Literal, TypedDict

import aiohttp

from ._events import Hook
from ._http.retry import RetryPolicy
from ._quota.rate_limit import RateLimit
from ._quota.redis_limit import RedisRateLimit
from ._transports.base import Transport

__all__ = ["ClientOptions"]


class ClientOptions(TypedDict, total=False):
    """Any of ``Client``'s arguments, by name; each means what it means there.

    >>> import thoughtcredits as tc
    >>> options: tc.ClientOptions = {"max_concurrency": 8, "retry": tc.RetryPolicy(attempts=2)}
    """

    base_url: str | None
    api_key: str | Callable[[], str | Awaitable[str]] | None
    session: aiohttp.ClientSession | None
    transport: Transport | None
    timeout: float | aiohttp.ClientTimeout
    retry: RetryPolicy | None
    default_headers: Mapping[str, str] | None
    user_agent: str | None
    rate_limit: RateLimit | RedisRateLimit | Literal["auto"] | None
    max_concurrency: int | None
    trace_configs: Sequence[aiohttp.TraceConfig] | None
    hooks: Sequence[Hook]
    max_response_size: int
    pagination: Literal["cursor", "page"]
    max_empty_pages: int
    sleep: Callable[[float], Awaitable[None]]
