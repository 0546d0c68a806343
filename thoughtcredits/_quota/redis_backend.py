"""The throttle's view of a :class:`RedisRateLimit`: book, publish, and fail safe.

Redis is a helper, never a dependency of a request. Every call is bounded by the SDK's own
timeout (``TIMEOUT``, on a borrowed client too) and by a cap on the calls in flight (so a
pool is never exhausted: requests queue for it instead). Any failure, whatever it is (an
exception, a refusal such as ``-OOM`` or ``-READONLY``, a reply of the wrong shape, a corrupt
value, a timeout) means "unreachable": the client logs one WARNING, paces itself by the
server's headers meanwhile, and tries Redis again ``RETRY`` seconds later. No exception from
Redis ever reaches the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .clock import Clock
from .rate_limit import PROVISIONAL, RateLimit
from .redis_script import SCRIPT

if TYPE_CHECKING:
    from .redis_limit import RedisRateLimit

__all__ = ["CALLS", "POLL", "RETRY", "TIMEOUT", "RedisBackend", "Reservation"]

logger = logging.getLogger("thoughtcredits")

# While no limit is known a few requests go at once, then the others ask again every POLL s:
# the first answer (milliseconds later) teaches the real limit.
POLL = 0.05
RETRY = 5.0
"""After Redis fails, try it again this long after (until then the fallback paces requests)."""
TIMEOUT = 1.0
"""The longest the SDK waits for one Redis call, queueing for a connection included."""
CALLS = 8
"""Redis calls in flight at once per client; the rest queue (each takes a fraction of a ms)."""
# The longest delay a reply may ask for: a booking is at most HORIZON ahead, a pause hours.
_MAX_DELAY = 86_400.0


@attrs.frozen
class Reservation:
    """What Redis answered: wait ``delay`` seconds; go then if ``reserved``, else ask again.

    ``pause`` > 0 means a shared pause is in force for that long: nothing was reserved.
    ``ticket``: the request stands in line and books with its next call, whatever the queue.
    """

    delay: float = 0.0
    reserved: bool = True
    pause: float = 0.0
    ticket: bool = False


class BadReply(Exception):  # noqa: N818 - never raised past this module
    """Redis answered something the script never sends (another program's hash, a proxy)."""


class _StillDown(Exception):  # noqa: N818 - never raised past this module
    """Another call found Redis unreachable while this one queued: do not call it."""


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, str):
        return value
    raise BadReply(f"expected a string, got {type(value).__name__}")


def _seconds(value: Any) -> float:
    seconds = float(_text(value))
    if not 0 <= seconds <= _MAX_DELAY:
        raise BadReply(f"a delay of {seconds!r} s")
    return seconds


class RedisBackend:
    """One client's calls to the shared bucket of a :class:`RedisRateLimit`."""

    def __init__(
        self, spec: RedisRateLimit, *, clock: Clock, scope: tuple[str, str | None]
    ) -> None:
        base_url, api_key = scope
        if spec.key is None and api_key is None:
            # The default key hashes the API key: a key that rotates would split one quota.
            raise ValueError("rate_limit: give RedisRateLimit(key=...) when api_key is a function")
        self.spec = spec
        self.key = spec.key or spec.default_key(base_url, api_key or "")
        self._client, self._owned = spec.connect(pool_size=CALLS + 2)
        self._script = self._client.register_script(SCRIPT)
        self._calls = asyncio.Semaphore(CALLS)
        self._clock = clock
        self._retry_at: float | None = None  # set while Redis is down
        self._tasks: set[asyncio.Task[None]] = set()
        self.learned: RateLimit | None = None
        """The limit another process published."""

    @property
    def down(self) -> bool:
        """True while Redis is taken for unreachable and the fallback paces requests."""
        return self._retry_at is not None and self._clock.now() < self._retry_at

    async def _call(self, args: Sequence[str | float]) -> Any:
        """One script call, bounded; raises whatever went wrong (the caller turns it into
        "unreachable")."""
        async with asyncio.timeout(TIMEOUT):
            async with self._calls:
                if self.down:
                    raise _StillDown
                return await self._script(keys=[self.key], args=args)

    def _failed(self, exc: BaseException) -> None:
        if self._retry_at is None:
            what = f"{type(exc).__name__}: {exc}"[:200]
            if isinstance(exc, TimeoutError):
                what = f"no answer within {TIMEOUT:g}s"
            logger.warning(
                "Redis rate limiter unreachable (%s); pacing by the server's headers in this "
                "process until it is back (retrying every %gs)",
                what, RETRY,
            )  # fmt: skip
        self._retry_at = self._clock.now() + RETRY

    def _recovered(self) -> None:
        if self._retry_at is not None:
            logger.warning("Redis rate limiter reachable again; the quota is shared again")
            self._retry_at = None
            if self.learned is not None:
                # What this process learned while Redis was away, the others may not know.
                self._spawn("learn", self.learned.per_minute, self.learned.burst)

    async def reserve(self, *, ticket: bool = False) -> Reservation | None:
        """Book this request's moment (one round trip). None while Redis is unreachable."""
        if self.down:
            return None
        limit = self.spec.limit
        args: Sequence[str | float] = (
            "acquire",
            limit.per_minute if limit else 0,
            limit.burst if limit else 0,
            PROVISIONAL.per_minute,
            PROVISIONAL.burst,
            "ticket" if ticket else "",
        )
        try:
            reservation = self._read(await self._call(args))
        except _StillDown:
            return None
        except Exception as exc:  # every Redis failure means "unreachable", never the caller's
            self._failed(exc)
            return None
        self._recovered()
        return reservation

    def _read(self, reply: Any) -> Reservation:
        if not isinstance(reply, list) or len(reply) != 4:
            raise BadReply(f"a reply of type {type(reply).__name__}")
        kind, delay, per_minute, burst = reply
        seconds = _seconds(delay)
        shown = _text(per_minute)
        if shown:  # RateLimit refuses what is not a positive, finite number
            self.learned = RateLimit(float(shown), int(float(_text(burst))))
        match _text(kind):
            case "pause":
                return Reservation(pause=seconds, reserved=False)
            case "wait" if not shown and self.spec.limit is None:
                return Reservation(min(seconds, POLL), reserved=False)  # still probing
            case "wait":
                return Reservation(seconds, reserved=False, ticket=True)  # over the horizon
            case "go":
                return Reservation(seconds)
            case other:
                raise BadReply(f"a reply of kind {other[:20]!r}")

    def publish_pause(self, seconds: float) -> None:
        """Pause every process (in the background: the caller is synchronous)."""
        self._spawn("pause", seconds)

    def publish_limit(self, limit: RateLimit) -> None:
        """Share a limit learned from the server's headers."""
        if limit != self.learned:
            self.learned = limit
            self._spawn("learn", limit.per_minute, limit.burst)

    def _spawn(self, *args: str | float) -> None:
        if self.down:
            return
        task = asyncio.get_running_loop().create_task(self._publish(args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, args: Sequence[str | float]) -> None:
        try:
            await self._call(args)
        except _StillDown:
            pass
        except Exception as exc:  # every Redis failure means "unreachable"
            self._failed(exc)

    async def aclose(self) -> None:
        """Give publications under way a moment, then close an owned connection; this
        never waits on Redis longer than a fraction of a second."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=0.25)
            for task in pending:
                task.cancel()
        if self._owned:
            try:
                async with asyncio.timeout(0.25):
                    await self._client.aclose()
            except Exception:  # noqa: S110 - a connection that will not close is dropped
                pass
