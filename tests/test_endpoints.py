"""The endpoint table and the one entry: every row has its method, and every call one path.

Every public call (a typed method, each page of a listing, a raw call, ``Client.request``, on
the client or on a ``with_options`` view) goes through ``_http.pipeline.call``; the frames
between the caller and the transport are the same few for all of them.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

import thoughtcredits as tc
from tests.conftest import ACCOUNT_ID, BATCH_ID, CLIENT_ID, sample
from thoughtcredits._http.endpoint import Endpoint, request_endpoint
from thoughtcredits._resources import table
from thoughtcredits._transports.mock import MockTransport, json_response

BASE = "https://acme.example"
V2 = "/incoming/v2"


def answer(request: tc.HTTPRequest) -> tc.HTTPResponse:
    """The seed pages' answer for whichever endpoint ``request`` calls."""
    path = URL(request.url).path
    if request.method == "GET" and path.endswith("/creditBatches"):
        return json_response(sample("list_credit_batches"))
    if request.method == "GET" and path.endswith("/creditActions"):
        return json_response(sample("list_credit_actions"))
    if request.method == "POST" and path.endswith("/creditBatches"):
        return json_response(sample("create_credit_batch"), status=201)
    if request.method == "PUT":
        return json_response(sample("update_credit_batch"))
    if request.method == "POST" and path.endswith("/creditAccounts"):
        return json_response(sample("create_credit_account"), status=201)
    return json_response({"licenses": []})


class StackTransport(MockTransport):
    """A mock transport that also keeps the call stack of every send."""

    def __init__(self, handler: Callable[[tc.HTTPRequest], tc.HTTPResponse] = answer) -> None:
        super().__init__(handler)
        self.stacks: list[traceback.StackSummary] = []

    async def send(self, request: tc.HTTPRequest) -> tc.HTTPResponse:
        """Keep the stack, then answer."""
        self.stacks.append(traceback.extract_stack())
        return await super().send(request)


def below(stack: traceback.StackSummary, caller: str) -> list[str]:
    """The function names from just under ``caller`` down to the transport's ``send``."""
    names = [frame.name for frame in stack]
    return names[max(i for i, name in enumerate(names) if name == caller) + 1 :]


async def first(listing: tc.AsyncPaginator[Any]) -> object:
    """The first item of ``listing``."""
    async for item in listing:
        return item
    raise AssertionError("empty listing")


Call = Callable[[tc.Client], Awaitable[object]]

# Each row of the table, and the public method that sends it.
CALLS: dict[Endpoint[Any], Call] = {
    table.LIST_CREDIT_BATCHES: lambda c: first(c.credit_batches.list(CLIENT_ID)),
    table.CREATE_CREDIT_BATCH: lambda c: c.credit_batches.create(CLIENT_ID, starting_balance=1),
    table.UPDATE_CREDIT_BATCH: lambda c: c.credit_batches.update(BATCH_ID, name="x"),
    table.LIST_CREDIT_ACTIONS: lambda c: first(
        c.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type="debit")
    ),
    table.CREATE_CREDIT_ACCOUNT: lambda c: c.credit_accounts.create(
        CLIENT_ID, name="A", starting_balance=1, notify_emails=[], license_ids=[]
    ),
}
ROWS = list(CALLS)


def test_every_row_has_its_method() -> None:
    """The table and the public methods are in step: one method per row, no more."""
    assert set(CALLS) == set(table.ENDPOINTS)
    assert len(table.ENDPOINTS) == len({(row.method, row.path) for row in table.ENDPOINTS})


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
async def test_a_method_sends_what_its_row_says(row: Endpoint[Any]) -> None:
    """The method, the path (its ``:name`` segments filled) and the model come from the row."""
    transport = MockTransport(answer)
    async with tc.Client(BASE, "k", transport=transport) as client:
        value = await CALLS[row](client)
    (request,) = transport.requests
    filled = row.path.replace(":id", BATCH_ID if row.method == "PUT" else CLIENT_ID)
    filled = filled.replace(":creditAccountId", ACCOUNT_ID)
    assert (request.method, URL(request.url).path) == (row.method, V2 + filled)
    assert isinstance(value, row.answer.cls)  # type: ignore[union-attr]


def test_only_gets_and_puts_may_be_resent() -> None:
    """A POST creates credits: only the GET and PUT rows are safe to send twice."""
    assert {row.method: row.resend for row in table.ENDPOINTS} == {
        "GET": True,
        "PUT": True,
        "POST": False,
    }
    assert request_endpoint("GET", "/x").resend
    assert request_endpoint("DELETE", "/x").resend
    assert not request_endpoint("POST", "/x").resend
    assert not request_endpoint("PATCH", "/x").resend


def test_a_template_with_the_wrong_number_of_values_is_a_bug() -> None:
    """Filling ``:id`` with two values, or none, is refused rather than guessed."""
    with pytest.raises(TypeError, match="expected 1 path values, got 2"):
        table.CREATE_CREDIT_BATCH.target(BASE, "", ("a", "b"), None)
    with pytest.raises(TypeError, match="expected 1 path values, got 0"):
        table.CREATE_CREDIT_BATCH.target(BASE, "", (), None)


async def test_request_refuses_an_unfilled_template() -> None:
    """``client.request("GET", "/clients/:id/x")`` is a template left unfilled: nothing sent."""
    transport = MockTransport(answer)
    async with tc.Client(BASE, "k", transport=transport) as client:
        with pytest.raises(ValueError, match="fill in ':id'"):
            await client.request("GET", "/clients/:id/licenses")
    assert transport.requests == []


# --- one entry: the frames from the public call to the transport ----------------------------

ENTRY = ["_run", "attempt", "send"]  # the pipeline's one operation and one attempt


def two_pages() -> Callable[[tc.HTTPRequest], tc.HTTPResponse]:
    """A handler answering a listing of two pages (the first says ``hasMore``)."""
    pages = []
    for info in ({"hasMore": True, "cursor": "c1"}, {"hasMore": False}):
        page = sample("list_credit_batches")
        page["data"]["APICreditBatchesByClientAndCreditAccount"]["pageInfo"] = info
        pages.append(json_response(page))
    answers = iter(pages)
    return lambda request: next(answers)


async def test_frames_of_a_create() -> None:
    """create -> the pipeline's operation -> the attempt -> the transport: nothing between."""
    transport = StackTransport()
    async with tc.Client(BASE, "k", transport=transport) as client:
        await client.credit_batches.create(CLIENT_ID, starting_balance=1)
    assert below(transport.stacks[0], "test_frames_of_a_create") == ["create", *ENTRY]


async def test_frames_of_every_listing_page() -> None:
    """Each page is one call of the entry from the paginator's walk (prefetched or not)."""
    transport = StackTransport(two_pages())
    async with tc.Client(BASE, "k", transport=transport) as client:
        async for _ in client.credit_batches.list(CLIENT_ID, prefetch=False):
            pass
        assert [below(stack, "_walk") for stack in transport.stacks] == [ENTRY, ENTRY]


async def test_frames_of_a_prefetched_page() -> None:
    """A prefetched page runs the same operation as the root of its own task."""
    transport = StackTransport(two_pages())
    async with tc.Client(BASE, "k", transport=transport) as client:
        async for _ in client.credit_batches.list(CLIENT_ID):
            await asyncio.sleep(0)  # the loop runs while the caller handles the page: prefetch
        names = [frame.name for frame in transport.stacks[1]]
    assert names[-3:] == ENTRY
    assert "_walk" not in names


async def test_frames_of_a_raw_call() -> None:
    """A raw call is the same method on a raw view: no wrapper frame."""
    transport = StackTransport()
    async with tc.Client(BASE, "k", transport=transport) as client:
        raw = await client.credit_batches.with_raw_response.create(CLIENT_ID, starting_balance=1)
    assert raw.status == 201
    assert below(transport.stacks[0], "test_frames_of_a_raw_call") == ["create", *ENTRY]


async def test_frames_of_client_request() -> None:
    """``client.request`` hands its own row to the same entry."""
    transport = StackTransport()
    async with tc.Client(BASE, "k", transport=transport) as client:
        assert await client.request("GET", f"/clients/{CLIENT_ID}/licenses") == {"licenses": []}
    assert below(transport.stacks[0], "test_frames_of_client_request") == ["request", *ENTRY]


async def test_frames_of_a_view() -> None:
    """A ``with_options`` view calls through the same entry, with its own options."""
    transport = StackTransport()
    async with tc.Client(BASE, "k", transport=transport) as client:
        view = client.with_options(timeout=5, headers={"X-Job": "1"})
        await view.credit_batches.update(BATCH_ID, name="x")
        await view.request("GET", "/licenses")
    update, request = transport.stacks
    assert below(update, "test_frames_of_a_view") == ["update", *ENTRY]
    assert below(request, "test_frames_of_a_view") == ["request", *ENTRY]
    assert [r.headers["X-Job"] for r in transport.requests] == ["1", "1"]
    assert [r.timeout.total for r in transport.requests] == [5, 5]
