"""Cancellation and shutdown: nothing leaks, nothing hangs, nothing is retried after close.

"Leaks nothing" means: no pending task running SDK code, no connection still checked out of
the client's pool, and (after ``aclose()``) a closed connector.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import warnings
from typing import Any

import pytest

import thoughtcredits as tc
from thoughtcredits.testing import Fault, RecordingSleep

from . import KEY, World, acquired_connections, sdk_tasks, wait_until, world

SLOW = 30.0  # server-side delay of a request the test interrupts (cut short at server stop)
PROMPT = 5.0  # "never a hang": generous, so a loaded machine does not fail the test


async def reached(w: World, route: str, count: int = 1) -> None:
    """Wait until ``count`` requests to ``route`` have reached the server."""
    await wait_until(lambda: len(w.sent(route)) >= count)


async def settle() -> None:
    """A few loop iterations, for finalizers and cancellations to run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def assert_nothing_leaked(client: tc.Client) -> None:
    """No SDK task pending and no connection checked out; the client still works afterwards."""
    await settle()
    assert not sdk_tasks()
    assert acquired_connections(client) == 0


async def list_all(client: tc.Client, w: World, sink: list[Any]) -> None:
    """List the client's batches into ``sink``, injecting a slow page 2 after the first item."""
    async for batch in client.credit_batches.list(w.client_id):
        sink.append(batch)
        if len(sink) == 1:
            w.server.inject(Fault("delay", delay=SLOW, route="list_credit_batches"))


@pytest.mark.parametrize("route", ["list_credit_batches", "create_credit_batch"])
async def test_cancel_mid_request(route: str) -> None:
    """Cancelling a task whose request is in flight raises CancelledError and leaks nothing."""
    async with world() as w:
        w.server.inject(Fault("delay", delay=SLOW, route=route))
        sleep = RecordingSleep()
        async with w.server.client(sleep=sleep) as client:
            if route == "create_credit_batch":
                work = client.credit_batches.create(w.client_id, starting_balance=1)
            else:
                work = list_all(client, w, [])
            task = asyncio.create_task(work)
            await reached(w, route)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await assert_nothing_leaked(client)
            assert sleep.calls == []  # a cancellation is never retried
            assert len(w.sent(route)) == 1
            batches = [b async for b in client.credit_batches.list(w.client_id)]
            assert len(batches) == 5  # the client is still usable
            session = client._view.core.transport.session
            connector = session.connector if session else None
        assert connector is not None
        assert connector.closed


async def test_cancel_mid_pagination() -> None:
    """Cancelling a listing while page 2 is in flight cancels the prefetch and leaks nothing."""
    async with world() as w, w.server.client(sleep=RecordingSleep()) as client:
        seen: list[Any] = []
        task = asyncio.create_task(list_all(client, w, seen))
        await reached(w, "list_credit_batches", 2)
        assert len(seen) == 2  # page 1 delivered, page 2 in flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await assert_nothing_leaked(client)


async def test_cancel_while_the_caller_works_on_a_page() -> None:
    """Cancelling the caller between items (prefetch running) cancels that prefetch too."""
    async with world() as w, w.server.client(sleep=RecordingSleep()) as client:
        started = asyncio.Event()

        async def slow_consumer() -> None:
            async for _ in client.credit_batches.list(w.client_id):
                w.server.inject(Fault("delay", delay=SLOW, route="list_credit_batches"))
                started.set()
                await asyncio.sleep(30)  # the caller's own slow work on the first item

        task = asyncio.create_task(slow_consumer())
        await started.wait()
        await reached(w, "list_credit_batches", 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await assert_nothing_leaked(client)


@pytest.mark.parametrize("prefetch", [True, False])
async def test_break_leaves_no_prefetch(prefetch: bool) -> None:
    """Stopping a listing early (break) leaves no pending prefetch task and no warning."""
    async with world() as w:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with w.server.client(sleep=RecordingSleep()) as client:
                async for _ in client.credit_batches.list(w.client_id, prefetch=prefetch):
                    # Page 2, if anything fetches it, hangs: only a cancellation ends it.
                    w.server.inject(Fault("delay", delay=SLOW, route="list_credit_batches"))
                    break
                await assert_nothing_leaked(client)
            gc.collect()
        assert [str(c.message) for c in caught] == []


@pytest.mark.parametrize(("rate_limit", "in_flight"), [(None, 5), ("auto", 5)])
@pytest.mark.parametrize("route", ["list_credit_batches", "update_credit_batch"])
async def test_close_while_requests_in_flight(route: str, rate_limit: Any, in_flight: int) -> None:
    """aclose() during in-flight requests fails them promptly with a typed error; no retry.

    With ``rate_limit="auto"`` the first request probes alone and the others wait for it.
    """
    async with world() as w:
        w.server.inject(Fault("delay", delay=SLOW, route=route, count=5))
        sleep = RecordingSleep()
        client = w.server.client(sleep=sleep, rate_limit=rate_limit)

        async def one(i: int) -> Any:
            if route == "update_credit_batch":
                return await client.credit_batches.update(w.batch_ids[i], current_balance=1)
            return [b async for b in client.credit_batches.list(w.client_id)]

        tasks = [asyncio.create_task(one(i)) for i in range(5)]
        await reached(w, route, in_flight)
        await settle()
        await asyncio.wait_for(client.aclose(), PROMPT)
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), PROMPT)
        for result in results:
            assert isinstance(result, tc.APIConnectionError | RuntimeError), result
            if isinstance(result, tc.APIConnectionError):
                assert "closed" in str(result)
        assert sleep.calls == []  # nothing was retried after close
        assert len(w.sent(route)) == in_flight
        assert not sdk_tasks()
        with pytest.raises(RuntimeError, match="closed"):
            await client.credit_batches.update(w.batch_ids[0], current_balance=1)
        assert len(w.sent(route)) == in_flight


async def test_close_during_backoff_stops_retrying() -> None:
    """A request waiting to retry when the client closes is not sent again."""
    async with world() as w:
        gate = asyncio.Event()

        async def blocking_sleep(seconds: float) -> None:
            await gate.wait()

        client = w.server.client(sleep=blocking_sleep)
        w.server.inject(Fault("status", status=503, route="update_credit_batch"))
        task = asyncio.create_task(client.credit_batches.update(w.batch_ids[0], name="x"))
        await reached(w, "update_credit_batch")
        await settle()
        await client.aclose()
        gate.set()
        with pytest.raises(tc.ClientClosedError) as caught:
            await asyncio.wait_for(task, PROMPT)
        assert isinstance(caught.value.__cause__, tc.InternalServerError)  # the last failure
        assert caught.value.request_sent is True
        assert len(w.sent("update_credit_batch")) == 1


async def test_gc_of_unclosed_client_warns_once() -> None:
    """An unclosed client collected in a running loop warns once (ResourceWarning), nothing else."""
    async with world() as w:
        client = w.server.client()
        [b async for b in client.credit_batches.list(w.client_id)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
            await settle()
            gc.collect()
        assert [(c.category, str(c.message)) for c in caught] == [
            (
                ResourceWarning,
                "thoughtcredits.Client was not closed; use 'async with' or 'await aclose()'",
            )
        ]


SCRIPT = """
import asyncio, gc, sys, warnings
warnings.simplefilter("always")
from thoughtcredits.testing import FakeCreditsServer

KEEP = []

async def main():
    async with FakeCreditsServer(api_key="k") as server:
        cid = server.ledger.add_client()
        server.ledger.create_account(cid, name="A", starting_balance=1)
        client = server.client()
        [b async for b in client.credit_batches.list(cid)]
        KEEP.append(client)  # never closed

asyncio.run(main())
MODE = sys.argv[1]
if MODE == "collect":
    KEEP.clear()
    gc.collect()
print("done", flush=True)
"""


@pytest.mark.parametrize("mode", ["collect", "shutdown"])
def test_unclosed_client_after_the_loop_closed(mode: str) -> None:
    """After asyncio.run(), an unclosed client's cleanup never says "Event loop is closed"."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(SCRIPT), mode],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "Event loop is closed" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("thoughtcredits.Client was not closed") == 1, result.stderr
    assert KEY not in result.stderr
