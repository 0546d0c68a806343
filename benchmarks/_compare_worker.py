"""One side of ``compare.py``: whichever ``thoughtcredits`` is on ``PYTHONPATH``, measured on ask.

Started by ``compare.py`` with ``PYTHONPATH`` set to one tree of the SDK (a git revision, or the
working tree), it uses the public API only, so any revision can be measured. It speaks JSON
lines: it reads the server's details, answers ``{"ready": ...}`` with the file it imported,
then answers each ``{"section": "a"|"d"}`` with one measurement of this process:

* ``a``: the walk of ``walk_items`` debit actions of the big account, ``page_size`` a page;
* ``d``: ``tasks`` tasks each listing the small account's batches ``per_task`` times;
* ``p``: the SDK alone, no socket: ``calls`` creates and ``calls`` one-page listings answered
  at once by a ``MockTransport`` (the per-call cost of the client, pipeline and interpreter).

It reads its commands in a thread, so nothing blocks the event loop between runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from _measure import measure


def set_up_otel(state: str) -> None:
    """OpenTelemetry as ``compare.py --otel`` asks, before the SDK is imported."""
    if state == "absent":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]  # "not installed"
    elif state == "imported":  # both sides import the API (an app's other library does)
        import opentelemetry.metrics
        import opentelemetry.propagate
        import opentelemetry.trace  # noqa: F401
    elif state == "noop":
        from opentelemetry import metrics, trace

        trace.set_tracer_provider(trace.NoOpTracerProvider())
        metrics.set_meter_provider(metrics.NoOpMeterProvider())
    elif state == "sdk":  # spans and measurements made and ended; none exported
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SpanProcessor())  # (its on_end does nothing)
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


set_up_otel(os.environ.get("TC_COMPARE_OTEL", "installed"))

import thoughtcredits as tc  # noqa: E402 - after OpenTelemetry is set up (or hidden)


async def walk(client: tc.Client, info: dict[str, Any]) -> int:
    """(a): auto-paginate the big account's debit actions."""
    count = 0
    async for _item in client.credit_actions.list(
        info["big_client"],
        info["big_account"],
        action_type="debit",
        page_size=info["page_size"],
        max_items=info["walk_items"],
    ):
        count += 1
    return count


async def fan_out(client: tc.Client, info: dict[str, Any]) -> int:
    """(d): ``tasks`` tasks, each listing the small account's one batch ``per_task`` times."""

    async def worker() -> int:
        count = 0
        for _ in range(info["per_task"]):
            async for _batch in client.credit_batches.list(
                info["small_client"], credit_account_id=info["small_account"]
            ):
                count += 1
        return count

    return sum(await asyncio.gather(*(worker() for _ in range(info["tasks"]))))


async def pipeline_only(client: tc.Client, info: dict[str, Any]) -> int:
    """(p): creates and one-page listings through a transport that answers at once."""
    batches = client.credit_batches
    count = 0
    for _ in range(info["calls"]):
        await batches.create(info["small_client"], starting_balance=1)
        async for _batch in batches.list(info["small_client"]):
            count += 1
    return count


def mock_client(info: dict[str, Any]) -> tc.Client:
    """A client whose transport answers a create, or one page of one batch, from memory."""
    from thoughtcredits.testing import MockTransport, json_response

    batch = {
        "id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "name": "b", "startingBalance": 1,
        "currentBalance": 1, "allocatedCredits": 0, "status": "active",
        "creditAccountId": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z",
    }  # fmt: skip
    created = json_response({"data": {"CreateCreditBatch": batch}}, status=201)
    page = json_response(
        {"data": {"APICreditBatchesByClientAndCreditAccount": {
            "creditBatches": [batch], "pageInfo": {"hasMore": False}}}}
    )  # fmt: skip

    def answer(request: Any) -> Any:
        return created if request.method == "POST" else page

    return tc.Client("https://bench.example", "k", transport=MockTransport(answer))


async def main() -> None:
    """Answer the orchestrator's commands until stdin closes."""
    info = json.loads(sys.stdin.readline())
    sections = {"a": walk, "d": fan_out, "p": pipeline_only}
    warm = {**info, "walk_items": info["page_size"], "per_task": 1, "calls": 10}
    async with (
        tc.Client(info["urls"]["plain"], info["api_key"]) as client,
        mock_client(info) as mocked,
    ):
        clients = {"a": client, "d": client, "p": mocked}
        for name, run in sections.items():  # warm up: connections, caches, generated code
            await run(clients[name], warm)
        print(json.dumps({"ready": tc.__file__}), flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            name = json.loads(line)["section"]
            run = sections[name]
            sample = await measure(lambda run=run, name=name: run(clients[name], info))
            print(json.dumps(sample), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
