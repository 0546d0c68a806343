"""``RedisRateLimit``: one key's quota shared by every process and host, through Redis.

Everything lives in one Redis hash per ``key`` and is changed by one Lua script, so each
decision is atomic and uses Redis's own clock (``TIME``): the hosts' clocks never meet.

- ``tat``/``interval``: a GCRA (generic cell rate algorithm) bucket. Each request reserves
  its moment and is told how long to wait for it: **one round trip per request**, however
  many processes queue.
- ``pause``: when a 429 anywhere pauses every process.
- ``limit``/``burst``: the limit learned from ``X-RateLimit-Limit``, when none is configured.

redis-py is imported only when a ``RedisRateLimit`` is made (``pip install
'thoughtcredits[redis]'``), so the SDK imports without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .pacing import PROVISIONAL, RateLimit, Reservation

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBackend", "RedisRateLimit"]

logger = logging.getLogger("thoughtcredits")

# While no limit is known a few requests go at once, then one a second: the first answer
# (milliseconds later) teaches the real limit, and waiting requests ask again every POLL s.
POLL = 0.05
# After Redis fails, try it again this long after (until then the fallback paces requests).
REDIS_RETRY = 5.0
KEY_TTL_MS = 3_600_000
# A request due further ahead than this books nothing yet: it waits, then asks again.
HORIZON = 5.0

_SCRIPT = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local op = ARGV[1]
if op == 'pause' then
  local want = now + tonumber(ARGV[2])
  local cur = tonumber(redis.call('HGET', key, 'pause')) or 0
  if want > cur then redis.call('HSET', key, 'pause', tostring(want)) else want = cur end
  redis.call('PEXPIRE', key, KEY_TTL)
  return tostring(want - now)
end
if op == 'learn' then
  redis.call('HSET', key, 'limit', ARGV[2], 'burst', ARGV[3])
  redis.call('PEXPIRE', key, KEY_TTL)
  return 'ok'
end
local h = redis.call('HMGET', key, 'tat', 'interval', 'pause', 'limit', 'burst')
local limit, burst = h[4] or '', h[5] or ''
local pause = tonumber(h[3]) or 0
if pause > now then return {'pause', tostring(pause - now), limit, burst} end
local per_minute, cap = tonumber(ARGV[2]), tonumber(ARGV[3])
local probing = false
if per_minute <= 0 then
  per_minute, cap = tonumber(limit) or 0, tonumber(burst) or 0
  if per_minute <= 0 then
    probing, per_minute, cap = true, tonumber(ARGV[4]), tonumber(ARGV[5])
  end
end
local interval = 60 / per_minute
local room = 0
-- One token of the burst is kept in reserve against network jitter (burst 1: 3% slower).
if cap > 1 then room = (cap - 2) * interval else interval = interval / 0.97 end
local tat = tonumber(h[1]) or now
local used = tonumber(h[2])
-- A new limit rescales the queue already booked, so it takes effect at once.
if used and used ~= interval and tat > now then tat = now + (tat - now) * interval / used end
if tat < now then tat = now end
local delay = tat - room - now
if delay < 0 then delay = 0 end
if probing and delay > 0 then return {'wait', tostring(delay), '', ''} end
-- Book at most HORIZON s ahead: a process that dies with slots booked wastes no more.
if delay > HORIZON then return {'wait', tostring(delay - HORIZON), limit, burst} end
redis.call('HSET', key, 'tat', tostring(tat + interval), 'interval', tostring(interval))
redis.call('PEXPIRE', key, KEY_TTL)
return {'go', tostring(delay), limit, burst}
""".replace("KEY_TTL", str(KEY_TTL_MS)).replace("HORIZON", repr(HORIZON))


class RedisRateLimit:
    """A rate limit shared through Redis by every client, process and host using ``key``.

    Pass it as ``Client(rate_limit=tc.RedisRateLimit(...))`` in every worker. The workers then
    share the token bucket, the pause after a 429 (one 429 anywhere pauses them all until
    the window resets) and, when ``per_minute`` is None, the limit learned from the server.

    If Redis cannot be reached, each client falls back to pacing by the server's headers in
    its own process (as ``rate_limit="auto"`` does), logs one WARNING, and tries Redis
    again every few seconds.

    Args:
        url_or_client: a Redis URL (``redis://host:6379/0``; the client makes and closes its
            own connection) or a ``redis.asyncio.Redis`` to borrow (never closed).
        key: the Redis key, the same in every worker of one API key, e.g.
            ``"thoughtcredits:acme"``.
        per_minute: the key's quota; None learns it from ``X-RateLimit-Limit``.
        burst: requests that may go at once; defaults to a sixth of ``per_minute``.

    Raises:
        ImportError: redis-py is not installed (``pip install 'thoughtcredits[redis]'``).
        ValueError: an empty key, a non-positive rate, or a burst without a rate.
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        key: str,
        per_minute: float | None = None,
        burst: int | None = None,
    ) -> None:
        try:
            import redis.asyncio
        except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
            raise ImportError(
                "RedisRateLimit needs redis-py: pip install 'thoughtcredits[redis]'"
            ) from exc
        if not isinstance(key, str) or not key:
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
            else RateLimit(per_minute, burst or max(1, int(per_minute) // 6))
        )
        self.key = key
        self._target = url_or_client

    def __repr__(self) -> str:
        target = "<borrowed client>" if not isinstance(self._target, str) else "<url>"
        return f"RedisRateLimit({target}, key={self.key!r}, limit={self.limit!r})"

    def connect(self) -> tuple[Redis, bool]:
        """The Redis client to use, and whether the caller owns (and must close) it."""
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        if not isinstance(self._target, str):
            return self._target, False
        # Fail fast: a limiter that waits seconds on a dead Redis stalls every request.
        client = redis.asyncio.from_url(
            self._target,
            socket_connect_timeout=1.0,
            socket_timeout=1.0,
            retry=Retry(NoBackoff(), 0),
        )
        return client, True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBackend:
    """The throttle's view of a :class:`RedisRateLimit`: reserve, publish, and notice outages."""

    def __init__(self, spec: RedisRateLimit, *, monotonic: Any) -> None:
        import redis.exceptions

        self.spec = spec
        self._client, self._owned = spec.connect()
        self._script = self._client.register_script(_SCRIPT)
        self._down_errors = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
            OSError,
        )
        self._monotonic = monotonic
        self._retry_at: float | None = None  # set while Redis is down
        self._tasks: set[asyncio.Task[None]] = set()
        self.learned: RateLimit | None = None
        """The limit another process published (when ``per_minute`` is None)."""

    @property
    def down(self) -> bool:
        """True while Redis is taken for unreachable and the fallback paces requests."""
        return self._retry_at is not None and self._monotonic() < self._retry_at

    def _failed(self, exc: BaseException) -> None:
        if self._retry_at is None:
            logger.warning(
                "Redis rate limiter unreachable (%s: %s); pacing by the server's headers in "
                "this process until it is back (retrying every %gs)",
                type(exc).__name__, exc, REDIS_RETRY,
            )  # fmt: skip
        self._retry_at = self._monotonic() + REDIS_RETRY

    def _recovered(self) -> None:
        if self._retry_at is not None:
            logger.warning("Redis rate limiter reachable again; the quota is shared again")
            self._retry_at = None
            if self.spec.limit is None and self.learned is not None:
                # What this process learned while Redis was away, the others may not know.
                self._spawn("learn", self.learned.per_minute, self.learned.burst)

    async def reserve(self) -> Reservation | None:
        """One round trip: book this request's moment. None when Redis is down."""
        if self.down:
            return None
        limit = self.spec.limit
        args: Sequence[str | float] = (
            "acquire",
            limit.per_minute if limit else 0,
            limit.burst if limit else 0,
            PROVISIONAL.per_minute,
            PROVISIONAL.burst,
        )
        try:
            kind, delay, per_minute, burst = await self._script(keys=[self.spec.key], args=args)
        except self._down_errors as exc:
            self._failed(exc)
            return None
        self._recovered()
        if _text(per_minute) and limit is None:
            self.learned = RateLimit(float(_text(per_minute)), int(float(_text(burst))))
        seconds = float(_text(delay))
        match _text(kind):
            case "pause":
                return Reservation(pause=seconds, reserved=False)
            case "wait" if not _text(per_minute) and limit is None:
                return Reservation(min(seconds, POLL), reserved=False)  # still probing
            case "wait":
                return Reservation(seconds, reserved=False)  # over the horizon
            case _:
                return Reservation(seconds)

    def publish_pause(self, seconds: float) -> None:
        """Pause every process (in the background: the caller is synchronous)."""
        self._spawn("pause", seconds)

    def publish_limit(self, limit: RateLimit) -> None:
        """Share a limit learned from the server's headers."""
        if self.spec.limit is None and limit != self.learned:
            self.learned = limit
            self._spawn("learn", limit.per_minute, limit.burst)

    def _spawn(self, *args: str | float) -> None:
        if self.down:
            return
        task = asyncio.get_running_loop().create_task(self._run(args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, args: Sequence[str | float]) -> None:
        try:
            await self._script(keys=[self.spec.key], args=args)
        except self._down_errors as exc:
            self._failed(exc)

    async def aclose(self) -> None:
        """Finish the publications under way (briefly), then close an owned connection."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=1.0)
            for task in pending:
                task.cancel()
        if self._owned:
            await self._client.aclose()
