"""The request pipeline through ``MockTransport``: waits, caps, views, raw responses, paging.

No socket: every test answers from a handler function and records the waits it was asked for.
"""

from __future__ import annotations

import asyncio
import email.utils
import gc
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

import thoughtcredits as tc
from tests.conftest import BATCH_ID, CLIENT_ID, payload, sample
from thoughtcredits._resources.batches import CreditBatches
from thoughtcredits._transports.mock import MockTransport, json_response
from thoughtcredits.testing import RecordingSleep

BASE = "https://acme.example"


def client(handler: Callable[[tc.HTTPRequest], tc.HTTPResponse], **kwargs: Any) -> tc.Client:
    """A client answering from ``handler``."""
    kwargs.setdefault("sleep", RecordingSleep())
    return tc.Client(BASE, "key-0123", transport=MockTransport(handler), **kwargs)


def too_many(headers: dict[str, str]) -> Callable[[tc.HTTPRequest], tc.HTTPResponse]:
    """A handler answering every request 429 with ``headers``."""
    return lambda request: json_response(
        {"error": "rate_limit_exceeded"}, status=429, headers=headers
    )


def batch_created(request: tc.HTTPRequest) -> tc.HTTPResponse:
    """The seed page's CreateCreditBatch answer."""
    return json_response(sample("create_credit_batch"), status=201)


class TestWaits:
    """The retry loop owns every wait, and counts it against the cap before sleeping it."""

    async def test_timeout_caps_retry_after_waits(self) -> None:
        """timeout=1.0 against Retry-After: 0.7 makes 2 attempts and waits 0.7 s, not more."""
        sleep = RecordingSleep()
        transport = MockTransport(too_many({"Retry-After": "0.7"}))
        api = tc.Client(
            BASE, "k", transport=transport, sleep=sleep, retry=tc.RetryPolicy(timeout=1.0)
        )
        with pytest.raises(tc.RateLimitError):
            await api.credit_batches.create(CLIENT_ID, starting_balance=5)
        assert len(transport.requests) == 2
        assert sleep.waits == [0.7]

    async def test_each_wait_is_counted_once(self) -> None:
        """timeout=2.0 against Retry-After: 0.7 allows two waits (1.4 s), not one or three."""
        sleep = RecordingSleep()
        events: list[tc.Event] = []
        transport = MockTransport(too_many({"Retry-After": "0.7"}))
        api = tc.Client(
            BASE, "k", transport=transport, sleep=sleep, hooks=[events.append],
            retry=tc.RetryPolicy(timeout=2.0),
        )  # fmt: skip
        with pytest.raises(tc.RateLimitError):
            await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert len(transport.requests) == 3
        assert sleep.waits == [0.7, 0.7]
        retries = [e for e in events if isinstance(e, tc.RetryEvent)]
        assert [(e.attempt, e.wait, e.waited_so_far) for e in retries] == [
            (1, 0.7, 0.0),
            (2, 0.7, pytest.approx(0.7)),
        ]

    async def test_timeout_caps_real_time(self) -> None:
        """With the real sleep, the same request ends within the second."""
        transport = MockTransport(too_many({"Retry-After": "0.7"}))
        api = tc.Client(BASE, "k", transport=transport, retry=tc.RetryPolicy(timeout=1.0))
        started = time.monotonic()
        with pytest.raises(tc.RateLimitError):
            await api.credit_batches.create(CLIENT_ID, starting_balance=5)
        assert time.monotonic() - started < 1.0
        await api.aclose()

    @pytest.mark.parametrize(
        "headers",
        [
            {"Retry-After": "0"},
            {"Retry-After": "-3"},
            {"Retry-After": email.utils.formatdate(time.time() - 3600, usegmt=True)},
            {"X-RateLimit-Reset": str(int(time.time()) - 60)},
            {"X-RateLimit-Reset": "0"},
        ],
        ids=["zero", "negative", "past-date", "past-reset", "reset-zero"],
    )
    async def test_zero_or_past_delay_backs_off(self, headers: dict[str, str]) -> None:
        """A zero or past server delay is 'no delay given': every retry backs off.

        A 429 spends no attempt: the time budget (4 s here) is what ends the refusals.
        """
        sleep = RecordingSleep()
        policy = tc.RetryPolicy(attempts=4, wait_initial=0.5, wait_jitter=0, timeout=4.0)
        api = client(too_many(headers), sleep=sleep, retry=policy)
        with pytest.raises(tc.RateLimitError):
            await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert sleep.calls == [0.5, 1.0, 2.0]

    async def test_no_storm_from_zero_delays(self) -> None:
        """50 tasks answered Retry-After: 0 each wait before every retry: no 1 ms storm."""
        sleep = RecordingSleep()
        policy = tc.RetryPolicy(wait_jitter=0, timeout=4.0)  # 0.5 + 1 + 2, then the budget
        api = client(too_many({"Retry-After": "0"}), sleep=sleep, retry=policy)

        async def one() -> None:
            with pytest.raises(tc.RateLimitError):
                await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()

        await asyncio.gather(*(one() for _ in range(50)))
        assert len(sleep.calls) == 150
        assert min(sleep.calls) >= 0.5

    async def test_server_delay_over_cap_fails_at_once(self) -> None:
        """A Retry-After over max_retry_after is raised at once and pauses no one."""
        sleep = RecordingSleep()
        api = client(too_many({"Retry-After": "600"}), sleep=sleep)
        with pytest.raises(tc.RateLimitError) as caught:
            await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert caught.value.retry_after == 600
        assert sleep.calls == []
        assert api.quota.paused_until is None

    async def test_pause_wait_over_budget_is_not_sent(self) -> None:
        """A view with a short budget fails fast, unsent, while the client is paused."""
        calls: list[str] = []

        def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
            calls.append(request.method)
            if len(calls) == 1:
                return json_response({}, status=429, headers={"Retry-After": "30"})
            return json_response(sample("list_credit_batches"))

        sleep = RecordingSleep()
        api = client(handler, sleep=sleep, retry=None)
        with pytest.raises(tc.RateLimitError):
            await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        fast = api.with_options(retry=tc.RetryPolicy(timeout=2))
        with pytest.raises(tc.RateLimitError, match="not sent") as caught:
            await fast.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert calls == ["GET"]
        assert caught.value.retry_after is not None
        assert 29 < caught.value.retry_after <= 30

    async def test_reassigning_retry_is_refused(self) -> None:
        """The configuration is read-only: no stale copy of a policy can linger."""
        api = client(batch_created)
        with pytest.raises(AttributeError):
            api.retry = tc.RetryPolicy(max_retry_after=100)  # type: ignore[misc]


class TestClose:
    """aclose() wakes every waiting request at once."""

    async def test_aclose_ends_a_30s_pause_at_once(self) -> None:
        """Tasks waiting on a 30 s pause fail with ClientClosedError as soon as aclose runs."""
        answered = 0

        def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
            nonlocal answered
            answered += 1
            return json_response({}, status=429, headers={"Retry-After": "30"})

        api = tc.Client(BASE, "k", transport=MockTransport(handler))
        tasks = [
            asyncio.create_task(api.credit_batches.list(CLIENT_ID).__aiter__().__anext__())
            for _ in range(5)
        ]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await api.aclose()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert time.monotonic() - started < 0.5
        assert all(isinstance(result, tc.ClientClosedError) for result in results)
        assert answered >= 1

    async def test_closed_during_backoff_says_whether_sent(self) -> None:
        """A PUT closed during its back-off after a 503 reports that an attempt was sent."""
        transport = MockTransport(lambda request: json_response({}, status=503))
        api = tc.Client(BASE, "k", transport=transport, retry=tc.RetryPolicy(wait_initial=30))
        task = asyncio.create_task(api.credit_batches.update(BATCH_ID, name="x"))
        await asyncio.sleep(0.05)
        await api.aclose()
        with pytest.raises(tc.ClientClosedError) as caught:
            await task
        assert caught.value.request_sent is True
        assert isinstance(caught.value.__cause__, tc.InternalServerError)

    async def test_a_post_refused_by_429s_was_not_sent(self, caplog: Any) -> None:
        """A POST that only ever got 429s, closed mid-wait, says it was not acted on."""
        api = tc.Client(BASE, "k", transport=MockTransport(too_many({"Retry-After": "30"})))
        task = asyncio.create_task(api.credit_batches.create(CLIENT_ID, starting_balance=1))
        await asyncio.sleep(0.05)
        await api.aclose()
        with pytest.raises(tc.ClientClosedError) as caught:
            await task
        assert caught.value.request_sent is False
        assert not any("may have reached" in r.getMessage() for r in caplog.records)

    async def test_slot_waiters_fail_with_the_closed_error(self) -> None:
        """Requests queued for a concurrency slot fail with ClientClosedError, unsent."""
        release = asyncio.Event()

        async def slow(request: tc.HTTPRequest) -> tc.HTTPResponse:
            await release.wait()
            return json_response(sample("list_credit_batches"))

        api = tc.Client(BASE, "k", transport=MockTransport(slow), max_concurrency=1)
        tasks = [
            asyncio.create_task(api.credit_batches.list(CLIENT_ID).__aiter__().__anext__())
            for _ in range(3)
        ]
        await asyncio.sleep(0.05)
        await api.aclose()
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert [type(r) for r in results].count(tc.ClientClosedError) >= 2
        assert not any(type(r) is RuntimeError for r in results)

    async def test_budget_cuts_the_attempt_timeout(self) -> None:
        """Each attempt gets only what is left of RetryPolicy.timeout as its own timeout."""
        transport = MockTransport(lambda request: json_response({}, status=503))
        sleep = RecordingSleep()
        api = tc.Client(
            BASE, "k", transport=transport, sleep=sleep, timeout=60,
            retry=tc.RetryPolicy(timeout=10, wait_initial=4, wait_jitter=0),
        )  # fmt: skip
        with pytest.raises(tc.InternalServerError):
            await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        totals = [r.timeout.total for r in transport.requests]
        assert totals[0] == pytest.approx(10, abs=0.5)  # the 60 s per attempt, cut to 10
        assert all(total is not None and total <= 6.5 for total in totals[1:])  # 10 - 4 - ...
        assert sleep.waits == [4.0]  # 4 + 8 would cross 10 s: one wait only


class TestViews:
    """with_options views share everything but their options, and leak nothing."""

    async def test_view_options_apply_and_state_is_shared(self) -> None:
        """A view's headers and retry apply to its calls; stats and closing are shared."""
        transport = MockTransport(batch_created)
        api = tc.Client(BASE, "k", transport=transport, default_headers={"X-App": "a"})
        view = api.with_options(headers={"X-Trace": "t"}, retry=None, timeout=3)
        await view.credit_batches.create(CLIENT_ID, starting_balance=1)
        sent = transport.requests[-1].headers
        assert (sent["X-App"], sent["X-Trace"]) == ("a", "t")
        assert transport.requests[-1].timeout.total == 3
        assert view.retry is None
        assert api.retry == tc.RetryPolicy()
        assert api.stats.requests == 1
        await view.aclose()
        assert not api.closed
        await api.aclose()
        assert view.closed
        assert transport.closed

    async def test_an_option_left_out_keeps_the_clients(self) -> None:
        """NOT_GIVEN (the default) keeps the client's timeout, retry policy and headers."""
        transport = MockTransport(batch_created)
        policy = tc.RetryPolicy(attempts=2)
        api = tc.Client(
            BASE, "k", transport=transport, timeout=7, retry=policy, default_headers={"X-App": "a"}
        )
        for view in (api.with_options(), api.with_options(timeout=tc.NOT_GIVEN, retry=tc.NOT_GIVEN,
                                                          headers=tc.NOT_GIVEN)):  # fmt: skip
            assert (view.timeout, view.retry) == (api.timeout, policy)
            await view.credit_batches.create(CLIENT_ID, starting_balance=1)
            assert transport.requests[-1].headers["X-App"] == "a"

    async def test_none_means_none(self) -> None:
        """retry=None never retries; headers=None sends none of the client's extra headers."""
        transport = MockTransport(lambda request: json_response({}, status=503))
        api = tc.Client(BASE, "k", transport=transport, default_headers={"X-App": "a"})
        view = api.with_options(retry=None, headers=None)
        with pytest.raises(tc.InternalServerError):
            await view.credit_batches.update(BATCH_ID, name="x")
        (sent,) = transport.requests
        assert "X-App" not in sent.headers
        assert sent.headers["Authorization"] == "Bearer k"
        assert view.with_options(headers={"X-Job": "1"}).with_options()._view.extra == {
            "X-Job": "1"
        }

    @pytest.mark.parametrize(
        ("options", "error", "match"),
        [
            ({"timeout": None}, ValueError, "timeout: None would wait for ever"),
            ({"retry": "unchanged"}, TypeError, "retry: expected a RetryPolicy or None"),
            ({"retry": 3}, TypeError, "retry: expected a RetryPolicy or None"),
        ],
    )
    def test_no_string_sentinel_and_no_endless_timeout(
        self, options: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        """The 0.1 spellings "unchanged" and timeout=None are refused, naming the option."""
        api = client(batch_created)
        with pytest.raises(error, match=match):
            api.with_options(**options)

    def test_hundred_thousand_views_leave_memory_flat(self) -> None:
        """100,000 views, each used for a namespace, leave nothing behind once dropped."""
        api = client(batch_created)

        def alive() -> int:
            gc.collect()
            return sum(type(o) in (tc.Client, CreditBatches) for o in gc.get_objects())

        namespace = api.with_options(timeout=5).credit_batches  # warm every cache once
        del namespace
        before = alive()
        blocks = sys.getallocatedblocks()
        for _ in range(100_000):
            namespace = api.with_options(timeout=5).credit_batches
        del namespace
        assert alive() == before
        # The interpreter's live memory blocks: a leak of one object per view would be 100,000.
        assert sys.getallocatedblocks() - blocks < 1_000


class TestRawResponse:
    """with_raw_response gives the HTTP response, with the model on demand."""

    async def test_raw_create(self) -> None:
        """Status, headers, request id and elapsed, then parse() -> the model."""

        def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
            return json_response(
                sample("create_credit_batch"), status=201, headers={"X-Request-Id": "req-9"}
            )

        api = client(handler)
        raw = await api.credit_batches.with_raw_response.create(CLIENT_ID, starting_balance=10)
        assert (raw.status, raw.request_id, raw.headers["X-Request-Id"]) == (201, "req-9", "req-9")
        assert raw.elapsed >= 0
        batch = raw.parse()
        assert isinstance(batch, tc.CreditBatch)
        assert str(batch.id) == payload("create_credit_batch")["id"]

    async def test_raw_keeps_an_unreadable_landed_create(self) -> None:
        """An HTML 201 still gives the response; parse() says the change was applied."""
        api = client(lambda request: json_response(b"<html>ok</html>", status=201))
        raw = await api.credit_accounts.with_raw_response.create(
            CLIENT_ID, name="n", starting_balance=1, notify_emails=[], license_ids=[]
        )
        assert raw.content == b"<html>ok</html>"
        with pytest.raises(tc.ResponseValidationError) as caught:
            raw.parse()
        assert caught.value.applied is True
        assert caught.value.status == 201


class TestLanded:
    """A 2xx to POST/PUT that cannot be read says the change was made."""

    @pytest.mark.parametrize(
        ("body", "method"),
        [(b"<html>ok</html>", "create"), (b'{"data": {"CreateCreditBatch": 5}}', "create"),
         (b"", "update"), (b'{"data": ', "update")],
    )  # fmt: skip
    async def test_applied_true(self, body: bytes, method: str, caplog: Any) -> None:
        """applied=True, the status, and a WARNING that it must not be sent again."""
        api = client(lambda request: json_response(body, status=201))
        call = (
            api.credit_batches.create(CLIENT_ID, starting_balance=5)
            if method == "create"
            else api.credit_batches.update(BATCH_ID, name="x")
        )
        with pytest.raises(tc.ResponseValidationError) as caught:
            await call
        assert (caught.value.applied, caught.value.status) == (True, 201)
        assert "WAS MADE" in str(caught.value)
        (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert warning.count("must not be sent again") == 1
        assert "WAS MADE" not in warning  # said once, in the line's own words
        assert "again" not in warning.split("must not be sent again")[1]

    async def test_get_is_not_applied(self) -> None:
        """A listing's unreadable 200 is applied=False with its status."""
        api = client(lambda request: json_response(b"<html/>", status=200))
        with pytest.raises(tc.ResponseValidationError) as caught:
            await api.credit_batches.list(CLIENT_ID).__aiter__().__anext__()
        assert (caught.value.applied, caught.value.status) == (False, 200)


def listing(pages: list[dict[str, Any]]) -> Callable[[tc.HTTPRequest], tc.HTTPResponse]:
    """Answer listing requests with ``pages`` in order (the last one repeats)."""
    served: list[int] = []

    def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
        index = min(len(served), len(pages) - 1)
        served.append(index)
        return json_response({"data": {"APICreditBatchesByClientAndCreditAccount": pages[index]}})

    return handler


_NEXT_ID = iter(range(10**6))


def batches_page(n: int, info: dict[str, Any]) -> dict[str, Any]:
    """A listing payload of ``n`` seed batches, each with a fresh id, and ``info``."""
    items = [
        {**payload("update_credit_batch"), "id": f"00000000-0000-4000-8000-{next(_NEXT_ID):012d}"}
        for _ in range(n)
    ]
    return {"creditBatches": items, "pageInfo": info}


class TestPaging:
    """The page parameter, both modes, and the loop guards."""

    async def test_page_mode_sends_page_numbers_never_cursor(self) -> None:
        """pagination="page" sends page=1, 2, 3 until hasMore is false."""
        pages = [batches_page(1, {"hasMore": True, "cursor": "c"}) for _ in range(2)]
        pages.append(batches_page(1, {"hasMore": False}))
        transport = MockTransport(listing(pages))
        api = tc.Client(BASE, "k", transport=transport, pagination="page")
        items = [b async for b in api.credit_batches.list(CLIENT_ID)]
        assert len(items) == 3
        assert [r.url.split("&")[-1] for r in transport.requests] == ["page=1", "page=2", "page=3"]
        assert all("cursor" not in r.url for r in transport.requests)

    async def test_page_argument_then_cursors(self) -> None:
        """page=3 in cursor mode sends page=3 first, then the cursor."""
        pages = [batches_page(1, {"hasMore": True, "cursor": "Mw"}), batches_page(1, {})]
        transport = MockTransport(listing(pages))
        api = tc.Client(BASE, "k", transport=transport)
        assert len([b async for b in api.credit_batches.list(CLIENT_ID, page=3)]) == 2
        assert transport.requests[0].url.endswith("page=3")
        assert transport.requests[1].url.endswith("cursor=Mw")

    async def test_endless_empty_pages_end(self) -> None:
        """Empty pages with hasMore and fresh cursors end in PaginationError after 10."""
        count = 0

        def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
            nonlocal count
            count += 1
            page = batches_page(0, {"hasMore": True, "cursor": f"c{count}"})
            return json_response({"data": {"APICreditBatchesByClientAndCreditAccount": page}})

        api = client(handler)
        with pytest.raises(tc.PaginationError, match="empty pages"):
            [b async for b in api.credit_batches.list(CLIENT_ID)]
        assert count == 10

    async def test_page_mode_stops_on_a_repeated_page(self) -> None:
        """A server that ignores page= (the same items again) ends in PaginationError."""
        same = batches_page(2, {"hasMore": True})
        transport = MockTransport(listing([same]))
        api = tc.Client(BASE, "k", transport=transport, pagination="page")
        with pytest.raises(tc.PaginationError, match="ignore the page parameter"):
            [b async for b in api.credit_batches.list(CLIENT_ID)]
        assert len(transport.requests) == 2

    def test_page_mode_refuses_a_cursor_checkpoint(self) -> None:
        """A cursor checkpoint cannot be resumed by page numbers (items would repeat)."""
        api = tc.Client(BASE, "k", transport=MockTransport(batch_created), pagination="page")
        with pytest.raises(ValueError, match="resume_from"):
            api.credit_batches.list(CLIENT_ID, resume_from="1:c2")
        assert api.credit_batches.list(CLIENT_ID, resume_from="1@3") is not None

    async def test_view_keeps_its_owner_alive(self) -> None:
        """A view outlives a dropped owner: its session is not closed under it."""
        transport = MockTransport(lambda request: json_response(sample("list_credit_batches")))
        view = tc.Client(BASE, "k", transport=transport).with_options(timeout=5)
        gc.collect()
        page = await view.credit_batches.list(CLIENT_ID, max_items=1).pages().__anext__()
        assert len(page.items) == 1
        assert not view.closed

    async def test_repeated_cursor_suggests_page_mode(self) -> None:
        """A cursor that comes back suggests pagination="page"."""
        api = client(listing([batches_page(1, {"hasMore": True, "cursor": "same"})]))
        with pytest.raises(tc.PaginationError, match='pagination="page"'):
            [b async for b in api.credit_batches.list(CLIENT_ID)]

    def test_cursor_memory_is_bounded(self) -> None:
        """A walk over 20,000 distinct cursors remembers at most 4,096 of them."""
        from thoughtcredits._models import Page
        from thoughtcredits._resources.page_rules import PageRequest, Walk

        walk = Walk("cursor", PageRequest(), 10)
        request = PageRequest()
        for n in range(20_000):
            page = Page(items=(1,), page_info=tc.PageInfo(has_more=True, cursor=f"c{n}"))
            following = walk.next(request, page)
            assert following is not None
            request = following
        assert len(walk._seen) == 4096

    async def test_page_carries_headers(self) -> None:
        """Each Page has its response's headers and request id."""

        def handler(request: tc.HTTPRequest) -> tc.HTTPResponse:
            return json_response(
                sample("list_credit_batches"),
                headers={"X-Request-Id": "r1", "X-RateLimit-Limit": "120"},
            )

        api = client(handler)
        page = await api.credit_batches.list(CLIENT_ID).pages().__anext__()
        assert page.request_id == "r1"
        assert page.headers["X-RateLimit-Limit"] == "120"
        assert api.quota.limit == 120


class TestPayloadByName:
    """The documented operation key wins over any other key beside it."""

    async def test_extra_keys_beside_the_operation(self) -> None:
        """data with extra keys still yields the CreateCreditBatch object."""
        body = {
            "data": {"meta": {"x": 1}, "CreateCreditBatch": payload("create_credit_batch")},
            "extensions": {},
        }
        api = client(lambda request: json_response(body, status=201))
        batch = await api.credit_batches.create(CLIENT_ID, starting_balance=1)
        assert batch.starting_balance == Decimal(payload("create_credit_batch")["startingBalance"])


def nested(depth: int) -> list[Any]:
    """A list ``depth`` lists deep (an empty list is 1)."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


class TestRequest:
    """client.request reaches other endpoints with the same rules."""

    async def test_get_licenses(self) -> None:
        """GET returns the decoded JSON, numbers exact."""
        transport = MockTransport(lambda request: json_response(b'{"data": {"x": 1.10}}'))
        api = tc.Client(BASE, "k", transport=transport)
        body = await api.request("GET", f"/clients/{CLIENT_ID}/licenses", query={"page": "2"})
        assert body == {"data": {"x": Decimal("1.10")}}
        assert transport.requests[0].url == (
            f"{BASE}/incoming/v2/clients/{CLIENT_ID}/licenses?page=2"
        )

    async def test_exact_numbers_and_values_are_sent_as_given(self) -> None:
        """Bounded ints and Decimals go on the wire digit for digit, with dates, UUIDs, text."""
        transport = MockTransport(batch_created)
        api = tc.Client(BASE, "k", transport=transport)
        body = {
            "a": [Decimal("-12.000000000001"), 10**29, -(10**29), True, None],
            "b": {"on": date(2024, 1, 31), "at": datetime(2024, 1, 31, tzinfo=UTC)},
            "c": (UUID(CLIENT_ID), "é", nested(62)),  # 64 levels with the two above
        }
        await api.request("POST", "/x", json=body)
        assert transport.requests[0].body == (
            b'{"a":[-12.000000000001,' + str(10**29).encode() + b",-" + str(10**29).encode()
            + b',true,null],"b":{"on":"2024-01-31","at":"2024-01-31T00:00:00.000Z"},"c":["'
            + CLIENT_ID.encode() + '","é",'.encode() + b"[" * 62 + b"]" * 62 + b"]}"
        )  # fmt: skip

    async def test_post_is_not_resent_after_500(self) -> None:
        """A POST through request() is sent once after a 500."""
        transport = MockTransport(lambda request: json_response({}, status=500))
        api = tc.Client(BASE, "k", transport=transport, sleep=RecordingSleep())
        with pytest.raises(tc.InternalServerError):
            await api.request("POST", "/licenses", json={"name": "x"})
        assert len(transport.requests) == 1

    @pytest.mark.parametrize("path", ["https://evil.example/x", "//evil/x", "/a/../b", "x"])
    async def test_bad_paths_are_refused(self, path: str) -> None:
        """Absolute URLs and dot segments are refused before anything is sent."""
        transport = MockTransport(batch_created)
        api = tc.Client(BASE, "k", transport=transport)
        with pytest.raises(ValueError, match="path"):
            await api.request("GET", path)
        assert transport.requests == []

    @pytest.mark.parametrize(
        ("path", "options", "error", "match"),
        [
            ("/x\ud800", {}, ValueError, r"^path: is not valid text"),
            ("/clients/:id/x", {}, ValueError, r"^path: fill in ':id'"),
            ("/x", {"query": {"q": "\ud800"}}, ValueError, r"^query\['q'\]: is not valid text"),
            ("/x", {"query": {"q": 3}}, TypeError, r"^query: expected strings"),
            ("/x", {"query": [("q", "a")]}, TypeError, r"^query: expected a mapping"),
            ("/x", {"json": {"a": "\ud800"}}, ValueError, r"^json: cannot be sent as JSON"),
            ("/x", {"json": {"a": object()}}, ValueError, r"^json: cannot be sent as JSON"),
            # Numbers as the resources take them: exact, and within the SDK's bounds.
            ("/x", {"json": {"a": 0.1}}, ValueError, r"at json\['a'\], a float \(0.1\) is inexact"),
            ("/x", {"json": [1, {"b": Decimal("1e400")}]}, ValueError, r"at json\[1\]\['b'\], Dec"),
            ("/x", {"json": {"a": 10**30}}, ValueError, "30 integer digits and 12 places"),
            (
                "/x",
                {"json": {"a": Decimal("1e-13")}},
                ValueError,
                "30 integer digits and 12 places",
            ),
            ("/x", {"json": {"a": Decimal("-Infinity")}}, ValueError, "not finite"),
            ("/x", {"json": {1: "a"}}, ValueError, "a key is not a string"),
            ("/x", {"json": {"at": datetime(2024, 1, 1)}}, ValueError, "naive datetime"),
            ("/x", {"json": nested(65)}, ValueError, "nested more than 64 deep"),
        ],
    )
    async def test_hostile_requests_are_refused(
        self, path: str, options: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        """A request() argument that cannot be sent as given is refused, named, and not sent."""
        transport = MockTransport(batch_created)
        api = tc.Client(BASE, "k", transport=transport)
        with pytest.raises(error, match=match):
            await api.request("POST", path, **options)
        assert transport.requests == []


class TestOptionalArguments:
    """NOT_GIVEN leaves a field out; None means "none": left out of a create, refused by an
    update (clearing a field is not something the API documents)."""

    async def test_none_leaves_fields_out(self) -> None:
        """name=None and expires_on=NOT_GIVEN send neither field."""
        transport = MockTransport(batch_created)
        api = tc.Client(BASE, "k", transport=transport)
        await api.credit_batches.create(
            CLIENT_ID, starting_balance=3, name=None, expires_on=tc.NOT_GIVEN
        )
        assert transport.requests[0].body == (
            f'{{"clientId":"{CLIENT_ID}","startingBalance":3}}'.encode()
        )

    @pytest.mark.parametrize("field", ["name", "expires_on", "current_balance"])
    async def test_update_refuses_none(self, field: str) -> None:
        """update(name=None) would ask to clear the name: refused, naming it, nothing sent."""
        transport = MockTransport(batch_created)
        api = tc.Client(BASE, "k", transport=transport)
        with pytest.raises(TypeError, match=f"^{field}: None would clear it"):
            await api.credit_batches.update(BATCH_ID, **{"current_balance": 3, field: None})
        assert transport.requests == []


class TestHostileBodies:
    """Hostile numbers and text are refused at once, with the loop never stalled."""

    @pytest.mark.parametrize(
        "body",
        [
            b'{"data": {"APICreditBatchesByClientAndCreditAccount": {"creditBatches": [], '
            b'"pageInfo": {"hasMore": false, "total": 1e600000}}}}',
            b'{"data": {"APICreditBatchesByClientAndCreditAccount": {"creditBatches": [], '
            b'"pageInfo": {"hasMore": false, "perPage": 1234567890123456789}}}}',
            b'{"data": {"APICreditBatchesByClientAndCreditAccount": {"creditBatches": [], '
            b'"pageInfo": {"hasMore": false, "total": 2.5}}}}',
        ],
        ids=["total-1e600000", "perPage-19-digits", "total-not-integral"],
    )
    def test_integer_fields_bounded_in_microseconds(self, body: bytes) -> None:
        """An integer field over 18 digits or not integral is refused at once."""
        from thoughtcredits._http.interpreter import Listing, decipher

        expect = Listing(
            tc.CreditBatch, "APICreditBatchesByClientAndCreditAccount", "creditBatches"
        )
        for _ in range(2):  # the first refusal builds the detailed converter's function once
            started = time.perf_counter()
            with pytest.raises(tc.ResponseValidationError):
                decipher(200, {}, body, expect, method="GET", url="u")
        # Seconds before (int() of a 600,000-digit number); a loose bound for a shared machine.
        assert time.perf_counter() - started < 0.05

    @pytest.mark.parametrize(
        "amount", ["1e-200000000", "1e600000", "1234567890123456789012345678901", "0.0000000000001"]
    )
    async def test_amounts_bounded(self, amount: str) -> None:
        """Amounts over 30 integer digits or 12 decimal places are refused, fast."""
        batch = payload("create_credit_batch")
        raw = (
            b'{"data": {"CreateCreditBatch": '
            + json_response(batch).body.replace(
                b'"currentBalance":0', b'"currentBalance":' + amount.encode()
            )
            + b"}}"
        )
        api = client(lambda request: json_response(raw, status=201))
        started = time.perf_counter()
        with pytest.raises(tc.ResponseValidationError) as caught:
            await api.credit_batches.create(CLIENT_ID, starting_balance=1)
        assert time.perf_counter() - started < 0.05
        assert caught.value.applied is True

    async def test_lone_surrogate_refused(self) -> None:
        """A lone surrogate in a string is a ResponseValidationError, not a crash later."""
        raw = json_response({"data": {"CreateCreditBatch": payload("create_credit_batch")}}).body
        raw = raw.replace(b'"name":"string"', b'"name":"x\\ud800y"')
        assert b"\\ud800" in raw
        api = client(lambda request: json_response(raw, status=201))
        with pytest.raises(tc.ResponseValidationError, match="surrogate"):
            await api.credit_batches.create(CLIENT_ID, starting_balance=1)
