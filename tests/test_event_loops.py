"""One client per event loop, said plainly: a second ``asyncio.run()`` or another thread's loop
gets :class:`EventLoopError` naming the rule and the fix, never aiohttp's bare RuntimeError.

These tests run their own event loops (``asyncio.run``, a loop in a thread), so they are plain
functions; the server runs on a loop of its own in a thread, as a real API would elsewhere.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import thoughtcredits as tc
from tests.conftest import CLIENT_ID, sample

T = TypeVar("T")

RULE = "A client belongs to one event loop"


class LoopThread:
    """An event loop running in a thread of its own; :meth:`run` runs a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Awaitable[T]) -> T:
        """Run ``coroutine`` on this thread's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=30)

    def stop(self) -> None:
        """Stop the loop, end the thread, close the loop."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def api_url() -> Iterator[str]:
    """A loopback server answering every listing with the seed's last page, in its own thread."""
    body = sample("list_credit_batches")
    body["data"]["APICreditBatchesByClientAndCreditAccount"]["pageInfo"]["hasMore"] = False

    async def page(request: web.Request) -> web.Response:
        return web.json_response(body)

    async def start() -> TestServer:
        app = web.Application()
        app.router.add_get("/{tail:.*}", page)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        return server

    thread = LoopThread()
    server = thread.run(start())
    yield str(server.make_url("")).rstrip("/")
    thread.run(server.close())
    thread.stop()


def first_batch(client: tc.Client) -> Callable[[], Awaitable[tc.CreditBatch]]:
    """A coroutine function listing one batch through ``client``."""

    async def run() -> tc.CreditBatch:
        return await client.credit_batches.list(CLIENT_ID).__aiter__().__anext__()

    return run


def test_a_client_made_outside_any_loop_works_in_the_first_it_meets(api_url: str) -> None:
    """Created at import time, as in a notebook's first cell, and used in asyncio.run()."""
    client = tc.Client(api_url, "sk-loops", retry=None)

    async def use() -> tc.CreditBatch:
        async with client:
            return await first_batch(client)()

    assert isinstance(asyncio.run(use()), tc.CreditBatch)


def test_a_second_asyncio_run_is_told_the_rule_and_the_fix(api_url: str) -> None:
    """The second run raises EventLoopError (a RuntimeError too), not "Event loop is closed"."""
    client = tc.Client(api_url, "sk-loops", retry=None)
    view = client.with_options(timeout=5)
    assert isinstance(asyncio.run(first_batch(client)()), tc.CreditBatch)
    for user in (client, view):
        with pytest.raises(tc.EventLoopError) as caught:
            asyncio.run(first_batch(user)())
        message = str(caught.value)
        assert "no longer runs (a second asyncio.run()?)" in message
        assert RULE in message
        assert "create it inside the loop that uses it" in message
        assert "or one client per thread" in message
        assert isinstance(caught.value, tc.ThoughtCreditsError)
        assert isinstance(caught.value, RuntimeError)
    asyncio.run(client.aclose())  # its loop has ended: the sockets are dropped, no error
    assert client.closed
    with warnings.catch_warnings(record=True) as caught_warnings:
        # asyncio itself warns of the socket its ended loop left open (run 1 never closed it)
        warnings.simplefilter("always")
        del client, view
        gc.collect()
    assert not [w for w in caught_warnings if "Client was not closed" in str(w.message)]


def test_another_threads_loop_is_told_the_rule(api_url: str) -> None:
    """A client started on one thread's loop and used from another raises EventLoopError."""
    other = LoopThread()
    try:
        client = tc.Client(api_url, "sk-loops", retry=None)
        assert isinstance(other.run(first_batch(client)()), tc.CreditBatch)
        with pytest.raises(tc.EventLoopError, match="which runs in another thread") as caught:
            asyncio.run(first_batch(client)())
        assert "or one client per thread" in str(caught.value)
        # Closing is the client's own loop's to do: from here, it says how.
        with pytest.raises(tc.EventLoopError, match=r"run_coroutine_threadsafe\(client.aclose"):
            asyncio.run(client.aclose())
        assert not client.closed
        assert isinstance(other.run(first_batch(client)()), tc.CreditBatch)  # still usable there
        other.run(client.aclose())
        assert client.closed
    finally:
        other.stop()


def test_async_with_binds_the_loop_too() -> None:
    """Entering the client binds it, so the error comes before anything is sent."""
    sent: list[tc.HTTPRequest] = []
    client = tc.Client(
        "https://acme.test", "sk-loops", transport=tc.testing.MockTransport(sent.append)
    )

    async def enter() -> Any:
        return await client.__aenter__()

    asyncio.run(enter())
    with pytest.raises(tc.EventLoopError):
        asyncio.run(first_batch(client)())
    assert sent == []
