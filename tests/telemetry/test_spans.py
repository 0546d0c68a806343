"""Traces: one span per SDK call, one child span per HTTP attempt, a listing's pages under one
listing span, waits as events, and the key nowhere."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.test.globals_test import reset_trace_globals
from opentelemetry.trace import SpanKind, StatusCode
from yarl import URL

import thoughtcredits as tc
from thoughtcredits.testing import MockTransport, RecordingSleep, json_response

from ..conftest import ACCOUNT_ID, BATCH_ID, CLIENT_ID, payload
from .conftest import Otel, attributes

KEY = "sk-otel-SECRET-5e1d0c9b7a"
IDS = (CLIENT_ID, ACCOUNT_ID, BATCH_ID)
TEMPLATE = "/incoming/v2/clients/{id}/creditBatches"


def batch(number: int) -> dict[str, Any]:
    """A batch of the listing, its id ending in ``number``."""
    return {**payload("create_credit_batch"), "id": f"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5{number}"}


class Api:
    """Creates, updates, and a three-page listing of batches; ``first`` answers go first."""

    def __init__(self) -> None:
        self.requests: list[tc.HTTPRequest] = []
        self.first: list[tc.HTTPResponse] = []

    def __call__(self, request: tc.HTTPRequest) -> tc.HTTPResponse:
        self.requests.append(request)
        if self.first:
            return self.first.pop(0)
        if request.method == "POST":
            return json_response({"data": {"CreateCreditBatch": batch(0)}}, status=201)
        if request.method == "PUT":
            return json_response({"data": {"UpdateCreditBatch": batch(0)}})
        page = int(URL(request.url).query.get("cursor", "1"))
        info = {"hasMore": page < 3, "cursor": str(page + 1) if page < 3 else None}
        return json_response({"data": {"creditBatches": [batch(page)], "pageInfo": info}})


def waits(span: ReadableSpan) -> list[dict[str, Any]]:
    """The attributes of a span's wait events."""
    return [dict(e.attributes or {}) for e in span.events if e.name == "thoughtcredits.wait"]


def client_of(api: Api, base_url: str, **kwargs: Any) -> tc.Client:
    """A client answered by ``api``, its waits recorded, not slept."""
    kwargs.setdefault("sleep", RecordingSleep())
    return tc.Client(base_url, KEY, transport=MockTransport(api), **kwargs)


async def test_a_create_is_one_operation_span_over_one_attempt_span(
    otel: Otel, base_url: str
) -> None:
    """credit_batches.create (INTERNAL) holds POST {template} (CLIENT), with the conventions."""
    async with client_of(Api(), base_url) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    (operation,) = otel.named("credit_batches.create")
    (attempt,) = otel.named(f"POST {TEMPLATE}")
    assert (operation.kind, attempt.kind) == (SpanKind.INTERNAL, SpanKind.CLIENT)
    assert attempt.parent is not None
    assert attempt.parent.span_id == operation.context.span_id
    assert operation.parent is None
    host = URL(base_url).host
    assert attributes(attempt) == {
        "http.request.method": "POST",
        "server.address": host,
        "server.port": 443,
        "url.template": TEMPLATE,
        "url.full": f"{base_url}/incoming/v2/clients/{CLIENT_ID}/creditBatches",
        "http.response.status_code": 201,
    }
    assert attributes(operation) == {
        "http.request.method": "POST",
        "server.address": host,
        "server.port": 443,
        "url.template": TEMPLATE,
        "thoughtcredits.attempts": 1,
    }
    assert operation.status.status_code is StatusCode.UNSET


async def test_a_three_page_listing_is_one_listing_span_over_three_page_operations(
    otel: Otel, base_url: str
) -> None:
    """The pages (prefetched or not) are children of one listing span, each with its attempt."""
    for prefetch in (True, False):
        otel.exporter.clear()
        async with client_of(Api(), base_url) as client:
            items = [b async for b in client.credit_batches.list(CLIENT_ID, prefetch=prefetch)]
        assert [str(b.id)[-1] for b in items] == ["1", "2", "3"]
        (listing,) = otel.named("credit_batches.list")
        pages = sorted(otel.named("credit_batches.list page"), key=lambda s: s.start_time or 0)
        attempts = otel.named(f"GET {TEMPLATE}")
        assert attributes(listing)["thoughtcredits.pages"] == 3
        assert [attributes(p)["thoughtcredits.page"] for p in pages] == [1, 2, 3]
        assert all(p.parent and p.parent.span_id == listing.context.span_id for p in pages)
        page_ids = {p.context.span_id for p in pages}
        assert sorted(a.parent.span_id for a in attempts if a.parent) == sorted(page_ids)
        assert len({s.context.trace_id for s in otel.spans()}) == 1
        assert listing.end_time is not None
        assert all((p.end_time or 0) <= listing.end_time for p in pages)


async def test_a_listing_left_early_or_failed_ends_its_span(otel: Otel, base_url: str) -> None:
    """A caller that stops ends the listing span cleanly; a failing page marks it an error."""
    api = Api()
    async with client_of(api, base_url, retry=None) as client:
        listing = client.credit_batches.list(CLIENT_ID)
        async with asyncio.timeout(5):
            pages = listing.pages()
            await anext(pages)
            await pages.aclose()
        api.first = [json_response({"message": "down"}, status=500)]
        with pytest.raises(tc.InternalServerError):
            [b async for b in client.credit_batches.list(CLIENT_ID, cursor="2")]
    stopped, failed = otel.named("credit_batches.list")
    assert stopped.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert attributes(failed)["error.type"] == "500"


async def test_a_retry_after_a_503_is_a_second_attempt_with_resend_count_1(
    otel: Otel, base_url: str
) -> None:
    """The 503 attempt says so, the next has http.request.resend_count 1, the wait is an event."""
    api = Api()
    api.first = [json_response({"message": "busy"}, status=503)]
    sleep = RecordingSleep()
    async with client_of(api, base_url, sleep=sleep) as client:
        await client.credit_batches.update(BATCH_ID, current_balance=3)
    (operation,) = otel.named("credit_batches.update")
    first, second = sorted(otel.named("PUT /incoming/v2/clients/creditBatches/{id}"),
                           key=lambda s: s.start_time or 0)  # fmt: skip
    assert attributes(first)["http.response.status_code"] == 503
    assert attributes(first)["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in attributes(first)
    assert attributes(second)["http.request.resend_count"] == 1
    assert attributes(second)["http.response.status_code"] == 200
    assert "error.type" not in attributes(second)
    assert attributes(operation)["thoughtcredits.attempts"] == 2
    (event,) = operation.events
    assert event.name == "thoughtcredits.wait"
    assert dict(event.attributes or {}) == {
        "thoughtcredits.wait.reason": "retry",
        "thoughtcredits.wait.seconds": sleep.calls[0],
        "error.type": "503",
    }


async def test_pause_and_rate_limit_waits_are_events(otel: Otel, base_url: str) -> None:
    """After a 429 the next call waits out the pause; under a RateLimit, its spacing: events."""
    api = Api()
    api.first = [json_response({}, status=429, headers={"Retry-After": "30"})]
    async with client_of(api, base_url, retry=None) as client:
        with pytest.raises(tc.RateLimitError):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    limit = tc.RateLimit(per_minute=60, burst=1)
    async with client_of(Api(), base_url, rate_limit=limit) as client:
        for _ in range(2):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    refused, paused, first, spaced = otel.named("credit_batches.create")
    assert (waits(refused), waits(first)) == ([], [])
    (pause,) = waits(paused)
    assert pause["thoughtcredits.wait.reason"] == "pause"
    assert 25 < pause["thoughtcredits.wait.seconds"] <= 30
    assert {wait["thoughtcredits.wait.reason"] for wait in waits(spaced)} == {"rate_limit"}


async def test_url_template_and_span_names_hold_no_ids(otel: Otel, base_url: str) -> None:
    """Every operation of the table: its template keeps {id}, never a client, account or batch."""
    async with client_of(Api(), base_url) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        await client.credit_batches.update(BATCH_ID, current_balance=1)
        [b async for b in client.credit_batches.list(CLIENT_ID, credit_account_id=ACCOUNT_ID)]
        api_pages = client.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type="debit")
        with pytest.raises(tc.ResponseValidationError):
            [a async for a in api_pages]  # (the mock answers batches: the span is what counts)
    templates = {attributes(s).get("url.template") for s in otel.spans()}
    assert templates == {
        TEMPLATE,
        "/incoming/v2/clients/creditBatches/{id}",
        "/incoming/v2/clients/{id}/creditAccount/{creditAccountId}/creditActions",
    }
    for span in otel.spans():
        for text in (span.name, str(attributes(span).get("url.template"))):
            assert not any(i in text for i in IDS), text


async def test_a_failed_create_says_what_it_did(otel: Otel, base_url: str) -> None:
    """A 500 to a create: both spans are errors, and the operation says applied unknown."""
    api = Api()
    api.first = [json_response({"message": "boom"}, status=500)]
    async with client_of(api, base_url) as client:
        with pytest.raises(tc.InternalServerError):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    (operation,) = otel.named("credit_batches.create")
    assert operation.status.status_code is StatusCode.ERROR
    assert attributes(operation)["error.type"] == "500"
    assert attributes(operation)["thoughtcredits.applied"] == "unknown"
    assert [e.name for e in operation.events] == ["exception"]


async def test_a_cancelled_create_ends_its_spans(otel: Otel, base_url: str) -> None:
    """A create cancelled in flight: its attempt and operation spans end as cancelled."""
    gate = asyncio.Event()

    async def hang(request: tc.HTTPRequest) -> tc.HTTPResponse:
        gate.set()
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    async with tc.Client(base_url, KEY, transport=MockTransport(hang)) as client:
        task = asyncio.create_task(client.credit_batches.create(CLIENT_ID, starting_balance=1))
        await gate.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (operation,) = otel.named("credit_batches.create")
    (attempt,) = otel.named(f"POST {TEMPLATE}")
    assert attributes(attempt)["error.type"] == "CancelledError"
    assert attributes(operation)["thoughtcredits.applied"] == "unknown"


async def test_the_key_is_in_no_span_attribute_event_or_metric(otel: Otel, base_url: str) -> None:
    """A fixed key and a callable's key: absent from every span, event, status and metric."""
    api = Api()
    api.first = [json_response({}, status=401), json_response({}, status=500)]
    rotated = f"{KEY}-rotated"
    keys = [KEY]
    async with tc.Client(
        base_url, lambda: keys.pop() if keys else rotated, transport=MockTransport(api),
        sleep=RecordingSleep(),
    ) as client:  # fmt: skip
        with pytest.raises(tc.InternalServerError):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        [b async for b in client.credit_batches.list(CLIENT_ID)]
    assert [r.headers["Authorization"] for r in api.requests[:2]] == [
        f"Bearer {KEY}",
        f"Bearer {rotated}",
    ]
    text = otel.everything()
    assert "credit_batches.create" in text
    assert "http.client.request.duration" in text
    assert KEY not in text
    assert "Bearer" not in text


async def test_the_attempt_context_goes_out_as_traceparent(otel: Otel, base_url: str) -> None:
    """Each attempt's own span id is in its request's traceparent header."""
    api = Api()
    async with client_of(api, base_url) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    (attempt,) = otel.named(f"POST {TEMPLATE}")
    (request,) = api.requests
    _version, trace_id, span_id, _flags = request.headers["traceparent"].split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (
        attempt.context.trace_id,
        attempt.context.span_id,
    )


async def test_a_client_built_before_the_providers_are_set_is_traced(base_url: str) -> None:
    """OpenTelemetry configured after the client was made: its next call is traced."""
    reset_trace_globals()
    api = Api()
    try:
        async with client_of(api, base_url) as client:
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        assert [s.name for s in exporter.get_finished_spans()] == [
            f"POST {TEMPLATE}",
            "credit_batches.create",
        ]
        assert "traceparent" not in api.requests[0].headers
        assert "traceparent" in api.requests[1].headers
    finally:
        reset_trace_globals()


async def test_without_a_provider_nothing_is_traced_or_sent(base_url: str) -> None:
    """With the API but no provider configured, no span is made and no traceparent goes out."""
    api = Api()
    async with client_of(api, base_url) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    (request,) = api.requests
    assert "traceparent" not in request.headers


async def test_a_failing_tracer_never_breaks_a_request(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A tracer that raises: every call still succeeds, and the failure is logged once."""

    class Broken(TracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
            tracer = super().get_tracer(*args, **kwargs)

            def start_span(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("exporter bug")

            tracer.start_span = start_span  # type: ignore[method-assign]
            return tracer

    reset_trace_globals()
    trace.set_tracer_provider(Broken())
    try:
        api = Api()
        with caplog.at_level(logging.DEBUG, logger="thoughtcredits"):
            async with client_of(api, base_url) as client:
                await client.credit_batches.create(CLIENT_ID, starting_balance=1)
                assert len([b async for b in client.credit_batches.list(CLIENT_ID)]) == 3
        assert len(api.requests) == 4
        failed = [r for r in caplog.records if "telemetry failed" in r.getMessage()]
        assert [r.levelname for r in failed][:2] in (["WARNING", "DEBUG"], ["DEBUG", "DEBUG"])
    finally:
        reset_trace_globals()


async def test_a_hostile_request_id_is_traced_escaped(otel: Otel, base_url: str) -> None:
    """An id with an undecodable byte (which OTLP's UTF-8 encoding refuses, losing the batch)
    or an escape sequence is an attribute in its escaped form, cut at 200 characters."""
    api = Api()
    created = {"data": {"CreateCreditBatch": batch(0)}}
    for sent in ("svc\udcff\x1b[2J", "r" * 5000):
        api.first.append(json_response(created, status=201, headers={"X-Request-Id": sent}))
    async with client_of(api, base_url) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    ids = [attributes(span)["thoughtcredits.request_id"] for span in otel.named(f"POST {TEMPLATE}")]
    assert ids == ["svc\\udcff\\x1b[2J", "r" * 200 + "…"]


async def test_a_key_the_server_echoes_is_in_no_span(otel: Otel, base_url: str) -> None:
    """A 400 quoting the request's Authorization: the failed span's status and exception
    event (the error's message) say *** instead of the callable's key."""

    def echo(request: tc.HTTPRequest) -> tc.HTTPResponse:
        auth = str(request.headers["Authorization"])
        return json_response({"message": f"bad header Authorization: {auth}"}, status=400)

    async with tc.Client(base_url, lambda: KEY, transport=MockTransport(echo)) as client:
        with pytest.raises(tc.BadRequestError):
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    (operation,) = otel.named("credit_batches.create")
    assert "bad header Authorization: Bearer ***" in (operation.status.description or "")
    assert KEY not in otel.everything()
