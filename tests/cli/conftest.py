"""CLI fixtures: a local credits server on its own thread, so ``main()`` can run ``asyncio.run``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from thoughtcredits.testing import FakeCreditsServer

T = TypeVar("T")

API_KEY = "cli-test-key"


async def _cancel_leftovers() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class ThreadedServer:
    """A ``FakeCreditsServer`` running on a private event loop in a background thread."""

    def __init__(
        self, server_class: type[FakeCreditsServer] = FakeCreditsServer, **kwargs: Any
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.server = server_class(API_KEY, **kwargs)
        self.run(self.server.start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the server's loop (e.g. a ledger change) and return its result."""

        async def wrapped() -> T:
            return fn()

        return self.run(wrapped())

    def close(self) -> None:
        """Stop the server, the loop and the thread."""
        self.run(self.server.stop())
        # aiohttp drops its reference to a handler whose client went away mid-request
        # (handler_cancellation is off); cancel such leftovers here, or a later test's
        # gc.collect() logs "Task was destroyed but it is pending" for them.
        self.run(_cancel_leftovers())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def url(self) -> str:
        """The server's root URL."""
        return self.server.url

    def env(self) -> dict[str, str]:
        """The two environment variables that point the CLI at this server."""
        return {"THOUGHTCREDITS_BASE_URL": self.url, "THOUGHTCREDITS_API_KEY": API_KEY}


@pytest.fixture
def make_server() -> Iterator[Callable[..., ThreadedServer]]:
    """A factory of threaded servers (``FakeCreditsServer`` keyword arguments, or
    ``server_class=`` a subclass and its own), all closed after."""
    started: list[ThreadedServer] = []

    def make(**kwargs: Any) -> ThreadedServer:
        server = ThreadedServer(**kwargs)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def fake(
    make_server: Callable[..., ThreadedServer], monkeypatch: pytest.MonkeyPatch
) -> ThreadedServer:
    """A running server with the CLI's environment variables pointing at it."""
    server = make_server()
    use_server(server, monkeypatch)
    return server


def use_server(server: ThreadedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's environment variables (base URL, API key) at ``server``."""
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)


class ClockSleep:
    """An injectable ``sleep`` that records delays and advances a fake clock instead of waiting.

    Pass :attr:`clock` to the server (its rate limiter) and the instance to the client: a
    "wait 1 s" then costs no real time, yet the server sees the second go by.
    """

    def __init__(self) -> None:
        # A whole number of seconds, so "1 s later" is exactly representable.
        self.now = float(int(time.time()))
        self.calls: list[float] = []

    def clock(self) -> float:
        """The fake epoch time."""
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        # The SDK measures its pause on the real monotonic clock, so a few real milliseconds
        # of it are already spent; the margin keeps the fake server from seeing "too early".
        self.now += max(seconds, 0.0) + 0.01
        await asyncio.sleep(0)


class Result:
    """What one CLI run returned and printed."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[:300]!r}, err={self.err[:300]!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``thoughtcredits ARGS`` in-process through ``main`` and capture what it printed."""
    from thoughtcredits._cli import main
    from thoughtcredits._cli.app import run

    def invoke(*argv: str, sleep: Any = None) -> Result:
        capsys.readouterr()
        code = main(list(argv)) if sleep is None else run(list(argv), sleep=sleep)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
