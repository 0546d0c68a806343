"""Beside aiohttp's own instrumentation, and with OpenTelemetry not installed at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import aiohttp
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.trace import SpanKind

from ..conftest import CLIENT_ID, ScriptedServer, payload
from .conftest import Otel

CREATED = {"data": {"CreateCreditBatch": payload("create_credit_batch")}}


async def test_aiohttp_instrumentation_does_not_trace_an_attempt_twice(
    otel: Otel, socket_server: ScriptedServer
) -> None:
    """With aiohttp instrumented too, an attempt is one CLIENT span; other sessions keep theirs."""
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument()
    try:
        socket_server.reply(201, CREATED)
        async with socket_server.client() as client:
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        async with aiohttp.ClientSession() as session, session.get(socket_server.url) as answer:
            await answer.read()
    finally:
        instrumentor.uninstrument()
    clients = [span.name for span in otel.spans() if span.kind is SpanKind.CLIENT]
    assert clients == ["POST /incoming/v2/clients/{id}/creditBatches", "GET"]
    traceparent = socket_server.requests[0].headers["traceparent"]
    (ours,) = [s for s in otel.spans() if s.name.startswith("POST ")]
    assert traceparent.split("-")[2] == f"{ours.context.span_id:016x}"


def test_without_opentelemetry_installed_the_sdk_works_and_imports_none_of_it() -> None:
    """opentelemetry missing: every seam is None, requests run, nothing of it is imported."""
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.modules["opentelemetry"] = None  # as if not installed: "import opentelemetry" fails
        import thoughtcredits as tc
        from thoughtcredits import _telemetry
        from thoughtcredits.testing import MockTransport, json_response

        assert _telemetry.TELEMETRY is None

        async def main():
            answer = json_response({CREATED!r}, status=201)
            transport = MockTransport(lambda request: answer)
            async with tc.Client("https://x.example", "k", transport=transport) as client:
                await client.credit_batches.create({CLIENT_ID!r}, starting_balance=1)
                pages = client.credit_batches.list({CLIENT_ID!r}).pages()
                await pages.aclose()
            assert "traceparent" not in transport.requests[0].headers

        asyncio.run(main())
        loaded = [name for name, module in sys.modules.items()
                  if name.startswith("opentelemetry") and module is not None]
        assert loaded == [], loaded
        print("ok")
        """
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_an_app_that_never_loads_opentelemetry_does_not_load_it_through_the_sdk() -> None:
    """The API installed but unused: no OpenTelemetry module is imported; once the app loads
    and configures it, the next call is traced."""
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        import thoughtcredits as tc
        from thoughtcredits import _telemetry
        from thoughtcredits.testing import MockTransport, json_response

        assert _telemetry.TELEMETRY is not None  # installed

        async def main():
            answer = json_response({CREATED!r}, status=201)
            transport = MockTransport(lambda request: answer)
            async with tc.Client("https://x.example", "k", transport=transport) as client:
                await client.credit_batches.create({CLIENT_ID!r}, starting_balance=1)
                loaded = [m for m in sys.modules if m.startswith("opentelemetry.")]
                assert loaded == [], loaded

                from opentelemetry import trace
                from opentelemetry.sdk.trace import TracerProvider
                from opentelemetry.sdk.trace.export import SimpleSpanProcessor
                from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                    InMemorySpanExporter,
                )
                exporter = InMemorySpanExporter()
                provider = TracerProvider()
                provider.add_span_processor(SimpleSpanProcessor(exporter))
                trace.set_tracer_provider(provider)
                await client.credit_batches.create({CLIENT_ID!r}, starting_balance=1)
            names = [span.name for span in exporter.get_finished_spans()]
            assert names[-1] == "credit_batches.create", names
            assert "traceparent" in transport.requests[1].headers

        asyncio.run(main())
        print("ok")
        """
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
