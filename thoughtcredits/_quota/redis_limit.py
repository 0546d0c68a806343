"""``RedisRateLimit``: one key's quota shared by every process and host, through Redis.

redis-py is imported only when a ``RedisRateLimit`` is made (``pip install
'thoughtcredits[redis]'``), so the SDK imports without it. The shared state and its script
are in :mod:`.redis_script`; the calls, and what happens when Redis fails, in
:mod:`.redis_backend`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from yarl import URL

from .rate_limit import RateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisRateLimit"]

# A Redis that does not answer within this is taken for down (the SDK also bounds each call).
_SOCKET_TIMEOUT = 1.0


class RedisRateLimit:
    """A rate limit shared through Redis by every client, process and host using one key.

    Pass it as ``Client(rate_limit=tc.RedisRateLimit(...))`` in every worker. The workers then
    share the token bucket, the pause after a refusal (one 429 anywhere pauses them all until
    the window resets) and the limit learned from the server's ``X-RateLimit-*`` headers.

    If Redis fails in any way (down, refusing writes, answering garbage, stalled), each
    client falls back to pacing by the server's headers in its own process (as the default
    ``rate_limit="auto"`` does), logs one WARNING, and tries Redis again every few seconds.
    No Redis error ever reaches your code.

    Args:
        url_or_client: a Redis URL (``redis://host:6379/0``; the client makes and closes its
            own connections) or a ``redis.asyncio.Redis`` to borrow (never closed).
        key: the Redis key. By default one derived from the client's base URL and a hash
            of its API key, so every worker of one API key shares one bucket, and two keys
            (two tenants) never do by accident.
        per_minute: an upper bound on the rate; by default the server's
            ``X-RateLimit-Limit`` is learned (the lower of the two is kept).
        burst: requests that may go at once; defaults to a sixth of ``per_minute``.

    Raises:
        ImportError: redis-py is not installed (``pip install 'thoughtcredits[redis]'``).
        ValueError: an empty key, a non-positive rate, or a burst without a rate.
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        key: str | None = None,
        per_minute: float | None = None,
        burst: int | None = None,
    ) -> None:
        try:
            import redis.asyncio
        except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
            raise ImportError(
                "RedisRateLimit needs redis-py: pip install 'thoughtcredits[redis]'"
            ) from exc
        if key is not None and (not isinstance(key, str) or not key):
            raise ValueError(f"RedisRateLimit.key: must be a non-empty string, got {key!r}")
        if isinstance(url_or_client, str):
            if not url_or_client.startswith(("redis://", "rediss://", "unix://")):
                raise ValueError(
                    "RedisRateLimit.url_or_client: expected a redis://, rediss:// or unix:// "
                    "URL or a redis.asyncio.Redis"
                )
        elif not isinstance(url_or_client, redis.asyncio.Redis):
            raise TypeError(
                "RedisRateLimit.url_or_client: expected a URL or a redis.asyncio.Redis, got "
                f"{type(url_or_client).__name__}"
            )
        if burst is not None and per_minute is None:
            raise ValueError("RedisRateLimit.burst: give per_minute too (or neither, to learn)")
        # RateLimit validates both and fills in the default burst.
        self.limit = (
            None
            if per_minute is None
            else RateLimit(per_minute)
            if burst is None
            else RateLimit(per_minute, burst)
        )
        self.key = key
        """The Redis key given, or None for the default (see :meth:`default_key`)."""
        self._target = url_or_client

    def __repr__(self) -> str:
        target = "<borrowed client>" if not isinstance(self._target, str) else "<url>"
        return f"RedisRateLimit({target}, key={self.key!r}, limit={self.limit!r})"

    @staticmethod
    def default_key(base_url: str, api_key: str) -> str:
        """``thoughtcredits:<base URL>:<16 hex digits of the API key's SHA-256>``.

        The base URL is kept without any user or password in it, and the API key only as a
        hash: the key in Redis says which quota it holds, and nothing secret.
        """
        url = URL(base_url) if base_url else None
        place = "" if url is None or not url.is_absolute() else str(url.with_user(None))
        digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return f"thoughtcredits:{place}:{digest}"

    def connect(self, *, pool_size: int) -> tuple[Redis, bool]:
        """The Redis client to use, and whether the caller owns (and must close) it.

        A client made from the URL gets a pool of ``pool_size`` connections that requests
        queue for, and fails fast: a limiter that waits seconds on a dead Redis stalls every
        request.
        """
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        if not isinstance(self._target, str):
            return self._target, False
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            self._target,
            max_connections=pool_size,
            timeout=_SOCKET_TIMEOUT,
            socket_connect_timeout=_SOCKET_TIMEOUT,
            socket_timeout=_SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        return redis.asyncio.Redis.from_pool(pool), True
