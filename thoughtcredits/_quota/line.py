"""The line requests wait in for their turn: the shared Redis bucket, else the client's own
bucket, and the share pacing while someone else spends the key.

Every timed wait is the caller's ``nap`` (the client's interruptible sleep, counted against
the request's time budget); a nap that returns early (a test's instant sleep) still counts as
the time it was asked for, so asking again always ends.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .bucket import Booking
from .clock import Clock
from .model import Model
from .pause import Pause, Wait
from .probe import Probe

if TYPE_CHECKING:
    from .redis_backend import RedisBackend

__all__ = ["Line"]


class Line:
    """One client's line for the model (or the shared bucket) and the share pacing."""

    def __init__(
        self,
        model: Model,
        redis: RedisBackend | None,
        *,
        pause: Pause,
        probe: Probe,
        clock: Clock,
    ) -> None:
        self._model, self._redis = model, redis
        self._pause, self._probe, self._clock = pause, probe, clock
        self._lock = asyncio.Lock()  # FIFO: requests wait for the bucket in arrival order

    async def turn(self, nap: Wait) -> tuple[Booking | None, int]:
        """Wait for this request's turn; the booking taken (None: booked in Redis, or no
        limit known) and the model's generation then."""
        model, redis = self._model, self._redis
        if redis is not None and await self._book_shared(redis, model, nap):
            return None, 0
        booking = None
        if model.bucket is not None:
            booking = await self._take(model, nap)
        if model.bucket is None or model.sharing(self._clock.now()):
            try:
                await self._pace(model, nap)
            except BaseException:
                if booking is not None:
                    model.settle(booking)  # taken, never sent: not in flight
                raise
        return booking, model.generation

    async def _book_shared(self, redis: RedisBackend, model: Model, nap: Wait) -> bool:
        """Book in the shared bucket and wait for the moment; False while Redis is down.

        A request due beyond the horizon gets a ticket and a time to come back, and books
        with its second call. A pause published meanwhile moved every booked slot past its
        end, so a request that waits one out books again.
        """
        ticket = False
        while (reservation := await redis.reserve(ticket=ticket)) is not None:
            if redis.learned is not None:
                model.adopt(redis.learned, self._clock.now())
                self._probe.end()
            if reservation.pause:
                self._pause.extend(reservation.pause, "429")  # published already
                await self._pause.serve(nap)
                continue
            if reservation.delay > 0:
                await nap(reservation.delay)
            ticket = reservation.ticket
            if not await self._pause.serve(nap) and reservation.reserved:
                return True
        return False

    async def _take(self, model: Model, nap: Wait) -> Booking | None:
        """Wait in line for the bucket to allow a request, then take its token.

        Only the first in line waits on the clock, so a correction, a slower or faster rate,
        or a pause applies at once to everyone behind it.
        """
        async with self._lock:
            now = self._clock.now()
            while True:
                if served := await self._pause.serve(nap):
                    now = max(self._clock.now(), now + served)
                wait = model.wait(now)
                if wait <= 0:
                    return model.book(now)
                await nap(wait)
                now = max(self._clock.now(), now + wait)

    async def _pace(self, model: Model, nap: Wait) -> None:
        started, waited = self._clock.now(), 0.0
        while ask := model.share.wait(max(self._clock.now(), started + waited)):
            await nap(ask)
            waited += ask
