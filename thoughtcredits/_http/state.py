"""What a client shares with its ``with_options`` views, and what a view may change.

:class:`Core` holds what every view shares by reference: where requests go, the transport, the
throttle, the stats and the closed state. A :class:`View` is the core plus one view's timeout,
retry policy and headers (built once per view); the client and each of its views hold one.
"""

from __future__ import annotations

import asyncio
import warnings
from asyncio import get_running_loop
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import attrs

from .._events import ClientStats, Hook
from .._exceptions import ClientClosedError, EventLoopError
from .._quota.clock import Clock
from .._quota.throttle import Throttle
from .._transports.base import Transport
from .._transports.default import AiohttpTransport
from .auth import KeySource
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .._telemetry.seams import Telemetry

__all__ = ["Core", "View"]

# Headers the client sets itself; a second spelling ("authorization") would be sent twice.
_OWN_HEADERS = frozenset({"authorization", "content-type"})


@attrs.frozen(eq=False)
class View:
    """What one client, or one ``with_options`` view of it, sends requests with.

    Attributes:
        core: the state shared with every other view of the same client.
        timeout, retry: the per-attempt timeout and the retry policy (None: never retry).
        extra: the caller's extra headers.
        headers, json_headers: every header of a request without and with a JSON body.
        raw: calls answer with the ``APIResponse`` instead of the model (``with_raw_response``).
    """

    core: Core
    timeout: aiohttp.ClientTimeout
    retry: RetryPolicy | None
    extra: Mapping[str, str]
    headers: Mapping[str, str]
    json_headers: Mapping[str, str]
    raw: bool = False

    @classmethod
    def build(
        cls,
        core: Core,
        timeout: aiohttp.ClientTimeout,
        retry: RetryPolicy | None,
        extra: Mapping[str, str],
    ) -> View:
        """A view with its request headers ready: each request picks one of the two dicts."""
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry: expected a RetryPolicy or None, got {retry!r}")
        # The client's own headers win, whatever the spelling: "authorization" given by the
        # caller would otherwise be sent beside the client's "Authorization".
        extra = {name: value for name, value in extra.items() if name.lower() not in _OWN_HEADERS}
        headers = {**extra, "Accept": "application/json", "User-Agent": core.agent}
        if core.authorization is not None:  # else each attempt asks the key callable
            headers["Authorization"] = core.authorization
        json_headers = {**headers, "Content-Type": "application/json"}
        return cls(core, timeout, retry, extra, headers, json_headers)

    def as_raw(self) -> View:
        """The same view, its calls answering with the ``APIResponse``."""
        return attrs.evolve(self, raw=True)


class Core:
    """The state a client shares with its views: one per client, never copied."""

    def __init__(
        self,
        transport: Transport,
        throttle: Throttle,
        *,
        base_url: str,
        base_path: str,
        agent: str,
        authorization: str | KeySource,
        pagination: Literal["cursor", "page"],
        max_empty_pages: int,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]],
        hooks: Sequence[Hook],
        max_response_size: int,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.base_url, self.base_path = base_url, base_path
        self.agent = agent
        # A fixed key is in every view's headers; a callable's is asked before each attempt.
        self.authorization = None if isinstance(authorization, KeySource) else authorization
        self.keys = authorization if isinstance(authorization, KeySource) else None
        self.telemetry = telemetry  # None: OpenTelemetry's API is not installed
        self.pagination: Literal["cursor", "page"] = pagination
        self.max_empty_pages = max_empty_pages
        self.transport = transport
        self.throttle = throttle
        self.stats = ClientStats()
        self.hooks = tuple(hooks)
        self.max_response_size = max_response_size
        self._sleep = sleep
        self.clock = clock
        self.closed = False
        self._closed_event = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it was first used on

    def check_open(self) -> None:
        """Raise ``RuntimeError`` once the client is closed, :class:`EventLoopError` when
        called from another event loop than the client's own (the first it was used on)."""
        if self.closed:
            raise RuntimeError("this thoughtcredits.Client is closed; create a new one")
        if get_running_loop() is not self.loop:  # the one check on the way of every request
            self._bind()

    def _bind(self, *, closing: bool = False) -> None:
        if self.loop is None:
            self.loop = get_running_loop()
            return
        where = (
            "runs in another thread" if self.loop.is_running()
            else "no longer runs (a second asyncio.run()?)"
        )  # fmt: skip
        fix = (
            "close it on its own loop, e.g. asyncio.run_coroutine_threadsafe(client.aclose(), "
            "loop)" if closing else "create it inside the loop that uses it (in the coroutine "
            "given to asyncio.run(), or in the FastAPI lifespan), or one client per thread"
        )  # fmt: skip
        raise EventLoopError(
            f"this thoughtcredits.Client was first used on another event loop, which {where}. "
            f"A client belongs to one event loop: {fix}."
        )

    def track(self, task: asyncio.Task[Any]) -> None:
        """Remember a background task (a page prefetch) so close() can cancel it."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`ClientClosedError` as soon as the client closes."""
        if self.closed:
            raise ClientClosedError("the client was closed", method="", url="")
        wake_at = self.clock.now() + seconds  # monotonic: a stepped wall clock moves nothing
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        closer = asyncio.ensure_future(self._closed_event.wait())
        try:
            await asyncio.wait((sleeper, closer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, closer):
                task.cancel()
        if self.closed:
            raise ClientClosedError("the client was closed", method="", url="")
        sleeper.result()
        self.clock.woke(wake_at)

    def drop_if_leaked(self, source: object, _warn: Callable[..., None] = warnings.warn) -> None:
        """For a collected, unclosed client: warn once and drop its own session's sockets."""
        transport = self.transport
        if self.closed or not isinstance(transport, AiohttpTransport):
            return
        if transport.owns_open_session():
            _warn(
                "thoughtcredits.Client was not closed; use 'async with' or 'await aclose()'",
                ResourceWarning,
                source=source,
            )
            self._drop()

    def _drop(self) -> None:
        if isinstance(self.transport, AiohttpTransport):
            self.transport.drop()

    async def close(self) -> None:
        """Wake every waiting request, cancel prefetches, close the throttle and transport.

        From another event loop: when the client's own loop has ended, nothing of it can be
        awaited any more, so its sockets are only dropped; when that loop still runs (another
        thread), closing is its to do, so :class:`EventLoopError` is raised.
        """
        if self.closed:
            return
        if self.loop is not None and self.loop is not get_running_loop():
            if self.loop.is_running():
                self._bind(closing=True)  # raises, naming the rule
            self.closed = True
            self._drop()
            return
        self.closed = True
        self._closed_event.set()
        tasks = [task for task in self.tasks if not task.done()]
        for task in tasks:
            task.cancel()
        # Prefetches end before the session closes, so none reads from a closed connection.
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.throttle.aclose()
        await self.transport.aclose()
