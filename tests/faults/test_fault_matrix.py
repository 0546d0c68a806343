"""The fault matrix: every endpoint x every fault of issue 5, each cell one exact outcome.

A cell injects one fault (``count=1``) into ``FakeCreditsServer``. Single-object endpoints
get it on their only request; listings get it on page 2 of 3 (injected after the first item
arrives), so a cell also proves that what comes after a retried page is neither skipped nor
repeated. Each cell asserts the exception type (or success), the requests that reached the
route, the delays slept (through ``RecordingSleep``), and the data: for listings the exact
items in server order, for POST/PUT whether the ledger holds the change exactly once.
"""

from __future__ import annotations

import copy
import email.utils
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import attrs
import pytest

import thoughtcredits as tc
from thoughtcredits._resources import table
from thoughtcredits.testing import Fault, RecordingSleep

from . import World, payload_of, sdk_tasks, wait_until, world

Kind = Literal["list", "put", "post"]
BACKOFF = "backoff"
TIMEOUT = 0.5  # the client's per-attempt timeout in the timeout cells
NEW_ID = "5d1f2c3b-4a59-4e68-9d7c-8b6a5f4e3d2c"
SUB_ID = "6e2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
UPDATED_TO = 3  # the PUT sets batch b0 (10 credits) to 3


@dataclass(frozen=True)
class Endpoint:
    """One endpoint (a row of the SDK's table), its route on the server, and its kind of call."""

    route: str
    kind: Kind
    items_key: str = ""
    operation: str = ""


KINDS: dict[str, Kind] = {"GET": "list", "PUT": "put", "POST": "post"}
ROUTES = {  # the server's route name of each of the SDK table's operations
    "APICreditBatchesByClientAndCreditAccount": "list_credit_batches",
    "APICreditActionsByClientIdAndAccountIdAndActionType": "list_credit_actions",
    "UpdateCreditBatch": "update_credit_batch",
    "CreateCreditBatch": "create_credit_batch",
    "APICreateCreditAccount": "create_credit_account",
}

ENDPOINTS = [
    Endpoint("list_credit_batches", "list", "creditBatches"),
    Endpoint("list_credit_actions", "list", "creditActions"),
    Endpoint("update_credit_batch", "put", operation="UpdateCreditBatch"),
    Endpoint("create_credit_batch", "post", operation="CreateCreditBatch"),
    Endpoint("create_credit_account", "post", operation="APICreateCreditAccount"),
]


@dataclass(frozen=True)
class Outcome:
    """What a cell must end in.

    Attributes:
        error: the exact exception type, or None for success.
        attempts: requests the faulted call sent (for a listing: requests at the page-2
            position; the listing adds one for page 1 and, on success, one for page 3).
        waits: None (nothing slept), ``BACKOFF`` (one backoff delay) or the server's delay.
        applied: POST/PUT only: the change is in the ledger afterwards (exactly once).
    """

    error: type[Exception] | None
    attempts: int = 1
    waits: float | str | None = None
    applied: bool = False


OK = Outcome(None, applied=True)
RETRIED = Outcome(None, attempts=2, waits=BACKOFF, applied=True)


def refused(error: type[Exception]) -> dict[Kind, Outcome]:
    """Same outcome for every method: the server refused before acting."""
    return dict.fromkeys(("list", "put", "post"), Outcome(error))


def garbage(error: type[Exception] | None) -> dict[Kind, Outcome]:
    """A 200 whose body is replaced after the server applied the change."""
    return dict.fromkeys(("list", "put", "post"), Outcome(error, applied=True))


def transient(post: Outcome) -> dict[Kind, Outcome]:
    """GET and PUT retry once and succeed; POST gets ``post``."""
    return {"list": RETRIED, "put": RETRIED, "post": post}


def always(outcome: Outcome) -> dict[Kind, Outcome]:
    """Same outcome for every method."""
    return dict.fromkeys(("list", "put", "post"), outcome)


# --- the table: fault name -> (how to inject it, the outcome per method) ---------------------


@dataclass(frozen=True)
class FaultCase:
    """One row: a fault factory and its expected outcome per method kind."""

    make: Callable[[Endpoint, World], Fault]
    outcomes: dict[Kind, Outcome]
    listing_only: bool = False
    client_kwargs: dict[str, Any] = field(default_factory=dict)


def status(code: int, **headers: str) -> Callable[[Endpoint, World], Fault]:
    """A ``status`` fault (the change is not applied)."""
    return lambda ep, w: Fault("status", status=code, route=ep.route, headers=headers or None)


def http_date_in(seconds: int) -> str:
    """``Retry-After`` in HTTP-date form, ``seconds`` from now."""
    return email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


def retry_after_date(ep: Endpoint, w: World) -> Fault:
    """A 429 whose ``Retry-After`` is an HTTP date 30 s ahead."""
    return Fault("status", status=429, route=ep.route, headers={"Retry-After": http_date_in(30)})


def after(kind: Any) -> Callable[[Endpoint, World], Fault]:
    """A 200-with-a-bad-body fault that first applies the change."""
    return lambda ep, w: Fault(kind, route=ep.route, when="after")


def body(edit: Callable[[Endpoint, World, Any], Any]) -> Callable[[Endpoint, World], Fault]:
    """A ``body`` fault: the real page 2 (listings) or a canned object, edited by ``edit``."""

    def make(ep: Endpoint, w: World) -> Fault:
        if ep.kind == "list":
            page = copy.deepcopy(w.pages[ep.route][1])
        else:
            page = {"data": {ep.operation: canned(ep, w)}}
        return Fault("body", route=ep.route, body=edit(ep, w, page), when="after")

    return make


def item0(ep: Endpoint, page: Any) -> Any:
    """The first item of a listing page, or the object of a single response."""
    payload = payload_of(page)
    return payload[ep.items_key][0] if ep.kind == "list" else payload


def bare(ep: Endpoint, w: World, page: Any) -> Any:
    return payload_of(page)


def wrong_type(ep: Endpoint, w: World, page: Any) -> Any:
    amount = "amount" if ep.route == "list_credit_actions" else "currentBalance"
    item0(ep, page)[amount] = str(item0(ep, page)[amount])  # "12.25", a string, not a number
    return page


def unknown_field(ep: Endpoint, w: World, page: Any) -> Any:
    item0(ep, page)["surpriseField"] = {"nested": [1, None, "x"]}
    payload_of(page)["alsoNew"] = True
    page["meta"] = {"served": "v3"}
    return page


ENUM_EDITS = {
    "list_credit_actions": ("action", "clawback"),
    "create_credit_account": ("type", "enterprise"),
}


def unknown_enum(ep: Endpoint, w: World, page: Any) -> Any:
    name, value = ENUM_EDITS.get(ep.route, ("status", "frozen"))
    item0(ep, page)[name] = value
    return page


def page_info(**changes: Any) -> Callable[[Endpoint, World, Any], Any]:
    """Edit page 2's ``pageInfo``; a callable value gets page 1's cursor (page 2's request)."""

    def edit(ep: Endpoint, w: World, page: Any) -> Any:
        first_cursor = payload_of(w.pages[ep.route][0])["pageInfo"]["cursor"]
        info = payload_of(page)["pageInfo"]
        for key, value in changes.items():
            info[key] = value(first_cursor) if callable(value) else value
        return page

    return edit


def empty_page(ep: Endpoint, w: World, page: Any) -> Any:
    payload = payload_of(page)
    first_cursor = payload_of(w.pages[ep.route][0])["pageInfo"]["cursor"]
    payload[ep.items_key] = []
    # The same position spelled anew (the server's base64 cursors accept padding): the page is
    # empty yet not the end, and its cursor is not a repeat.
    payload["pageInfo"].update(hasMore=True, cursor=first_cursor + "==")
    return page


def past_reset(ep: Endpoint, w: World) -> Fault:
    """A 429 whose only delay is an ``X-RateLimit-Reset`` a minute in the past."""
    reset = str(int(datetime.now(UTC).timestamp()) - 60)
    return Fault("status", status=429, route=ep.route, headers={"X-RateLimit-Reset": reset})


HOSTILE = "__hostile__"


def hostile(
    plant: Callable[[Endpoint, Any], None], text: bytes
) -> Callable[[Endpoint, World], Fault]:
    """A ``body`` fault whose planted value is ``text`` exactly, as raw JSON bytes.

    Raw bytes, because the server's own encoder would write ``1E+600000`` out digit by digit.
    """

    def make(ep: Endpoint, w: World) -> Fault:
        if ep.kind == "list":
            page = copy.deepcopy(w.pages[ep.route][1])
        else:
            page = {"data": {ep.operation: canned(ep, w)}}
        plant(ep, page)
        raw = json.dumps(page, default=str).encode().replace(f'"{HOSTILE}"'.encode(), text)
        return Fault("body", route=ep.route, body=raw, when="after")

    return make


def _amount_field(ep: Endpoint) -> str:
    return "amount" if ep.route == "list_credit_actions" else "currentBalance"


def _in_amount(ep: Endpoint, page: Any) -> None:
    item0(ep, page)[_amount_field(ep)] = HOSTILE


def _in_text(ep: Endpoint, page: Any) -> None:
    item0(ep, page)["action" if ep.route == "list_credit_actions" else "name"] = HOSTILE


def _in_total(ep: Endpoint, page: Any) -> None:
    payload_of(page)["pageInfo"]["total"] = HOSTILE


FAULTS: dict[str, FaultCase] = {
    # 408 is not in the list, but SECURITY.md promises GET/PUT retry it and POST not.
    "status_408": FaultCase(status(408), transient(Outcome(tc.APIStatusError))),
    "status_400": FaultCase(status(400), refused(tc.BadRequestError)),
    "status_401": FaultCase(status(401), refused(tc.AuthenticationError)),
    "status_403": FaultCase(status(403), refused(tc.PermissionDeniedError)),
    "status_404": FaultCase(status(404), refused(tc.NotFoundError)),
    "status_409": FaultCase(status(409), refused(tc.ConflictError)),
    "status_422": FaultCase(status(422), refused(tc.UnprocessableEntityError)),
    # A 429 refused the request, so even POST is retried; no Retry-After: plain backoff.
    "status_429_no_retry_after": FaultCase(status(429), always(RETRIED)),
    "status_500": FaultCase(status(500), transient(Outcome(tc.InternalServerError))),
    "status_502": FaultCase(status(502), transient(Outcome(tc.InternalServerError))),
    "status_503": FaultCase(status(503), transient(Outcome(tc.InternalServerError))),
    "status_504": FaultCase(status(504), transient(Outcome(tc.InternalServerError))),
    "retry_after_seconds": FaultCase(
        status(429, **{"Retry-After": "3"}), always(Outcome(None, 2, 3.0, applied=True))
    ),
    "retry_after_http_date": FaultCase(
        retry_after_date, always(Outcome(None, 2, 30.0, applied=True))
    ),
    "retry_after_over_cap": FaultCase(
        status(429, **{"Retry-After": "1000"}), refused(tc.RateLimitError)
    ),
    # A zero or past delay is "no delay given": back off, never retry at once.
    "retry_after_zero": FaultCase(status(429, **{"Retry-After": "0"}), always(RETRIED)),
    "retry_after_past_date": FaultCase(
        lambda ep, w: Fault(
            "status", status=429, route=ep.route, headers={"Retry-After": http_date_in(-3600)}
        ),
        always(RETRIED),
    ),
    "rate_limit_reset_past": FaultCase(past_reset, always(RETRIED)),
    # Under the cap but over the request's time budget: raised at once, nothing slept.
    "retry_after_over_budget": FaultCase(
        status(429, **{"Retry-After": "80"}),
        refused(tc.RateLimitError),
        client_kwargs={"retry": tc.RetryPolicy(timeout=60)},
    ),
    # Hostile numbers and text: refused quickly, and a POST/PUT says it was applied.
    "amount_huge_exponent": FaultCase(
        hostile(_in_amount, b"1e600000"), garbage(tc.ResponseValidationError)
    ),
    "amount_tiny_exponent": FaultCase(
        hostile(_in_amount, b"1e-200000000"), garbage(tc.ResponseValidationError)
    ),
    "lone_surrogate": FaultCase(
        hostile(_in_text, b'"bad \\ud800 text"'), garbage(tc.ResponseValidationError)
    ),
    "page_total_huge_exponent": FaultCase(
        hostile(_in_total, b"1e600000"),
        always(Outcome(tc.ResponseValidationError)),
        listing_only=True,
    ),
    # GET/PUT: one retry by the SDK's policy, with its backoff. (aiohttp would also re-send an
    # idempotent request by itself after a drop, outside RetryPolicy; the SDK must not let it.)
    "drop_before_response": FaultCase(
        lambda ep, w: Fault("drop", route=ep.route), transient(Outcome(tc.APIConnectionError))
    ),
    # The 200 arrived before the body broke off: a POST was made (applied=True, not resent).
    "drop_mid_body": FaultCase(
        lambda ep, w: Fault("drop_mid_body", route=ep.route),
        transient(Outcome(tc.ResponseValidationError, applied=True)),
    ),
    "timeout": FaultCase(
        lambda ep, w: Fault("delay", route=ep.route, delay=TIMEOUT * 2.5),
        transient(Outcome(tc.APITimeoutError, applied=True)),
        client_kwargs={"timeout": TIMEOUT},
    ),
    "truncated_body": FaultCase(
        lambda ep, w: Fault("truncate", route=ep.route), garbage(tc.ResponseValidationError)
    ),
    "non_json_body": FaultCase(after("malformed"), garbage(tc.ResponseValidationError)),
    "html_body": FaultCase(after("html"), garbage(tc.ResponseValidationError)),
    "empty_body": FaultCase(after("empty"), garbage(tc.ResponseValidationError)),
    # The API's documented envelope variants include the bare payload (research §5).
    "envelope_missing": FaultCase(body(bare), garbage(None)),
    "envelope_empty": FaultCase(
        body(lambda ep, w, page: {"data": {}}), garbage(tc.ResponseValidationError)
    ),
    "wrong_type_in_field": FaultCase(body(wrong_type), garbage(tc.ResponseValidationError)),
    "unknown_field": FaultCase(body(unknown_field), garbage(None)),
    "unknown_enum_value": FaultCase(body(unknown_enum), garbage(None)),
    "has_more_empty_page": FaultCase(
        body(empty_page), always(Outcome(None, attempts=2)), listing_only=True
    ),
    "has_more_no_cursor": FaultCase(
        body(page_info(hasMore=True, cursor=None)),
        always(Outcome(tc.PaginationError)),
        listing_only=True,
    ),
    "has_more_repeated_cursor": FaultCase(
        body(page_info(hasMore=True, cursor=lambda first: first)),
        always(Outcome(tc.PaginationError)),
        listing_only=True,
    ),
    "page_info_wrong_type": FaultCase(
        body(page_info(hasMore="false")),
        always(Outcome(tc.ResponseValidationError)),
        listing_only=True,
    ),
}

CELLS = [
    pytest.param(ep, name, id=f"{ep.route}-{name}")
    for ep in ENDPOINTS
    for name, case in FAULTS.items()
    if ep.kind == "list" or not case.listing_only
]


# --- running one cell -------------------------------------------------------------------------


def canned(ep: Endpoint, w: World) -> dict[str, Any]:
    """The object a ``body`` fault answers a POST/PUT with (exact, recognisable values)."""
    stamps = {"createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-02T03:04:05.678Z"}
    if ep.route == "create_credit_account":
        return {
            "id": NEW_ID, "clientId": w.client_id,
            "sublicenses": [{"id": SUB_ID, "deleted": False}],
            "currentBalance": Decimal("50.125"), "status": "active",
            "notifyEmails": ["ops@example.com", "ünïcode@example.com"],
            "batchDaysUntilExpire": None, "minimumBatchAmount": 5, **stamps, "type": "company",
            "name": "New ✓",
        }  # fmt: skip
    return {
        "id": NEW_ID, "name": "canned ✓", "expiresOn": None, "startingBalance": Decimal("7.5"),
        "currentBalance": Decimal("7.25"), "clientId": w.client_id, "status": "active",
        **stamps, "creditAccountId": w.account_id, "allocatedCredits": Decimal("0.25"),
    }  # fmt: skip


def listing(ep: Endpoint, w: World, client: tc.Client) -> tc.AsyncPaginator[Any]:
    """The endpoint's listing (default prefetch: page 2 is fetched by a background task)."""
    if ep.route == "list_credit_batches":
        return client.credit_batches.list(w.client_id)
    return client.credit_actions.list(w.client_id, w.account_id, action_type="credit")


async def call(ep: Endpoint, w: World, client: tc.Client) -> Any:
    """The endpoint's single POST/PUT call."""
    if ep.route == "update_credit_batch":
        return await client.credit_batches.update(w.batch_ids[1], current_balance=UPDATED_TO)
    if ep.route == "create_credit_batch":
        return await client.credit_batches.create(
            w.client_id, starting_balance=Decimal("7.5"), credit_account_id=w.account_id
        )
    return await client.credit_accounts.create(
        w.client_id, name="New", starting_balance=50, notify_emails=["ops@example.com"],
        license_ids=["lic-1"],
    )  # fmt: skip


@dataclass
class CellRun:
    """What happened in one cell, inspected while its server still runs."""

    endpoint: Endpoint
    case: FaultCase
    world: World
    fault: Fault
    sleep: RecordingSleep
    error: Exception | None = None
    result: Any = None
    delivered: list[Any] = field(default_factory=list)
    reference: list[Any] = field(default_factory=list)


@asynccontextmanager
async def run_cell(ep: Endpoint, name: str) -> AsyncIterator[CellRun]:
    """Run ``ep`` under fault ``name`` through one client and yield what happened."""
    case = FAULTS[name]
    sleep = RecordingSleep()
    async with world() as w:
        fault = case.make(ep, w)
        run = CellRun(ep, case, w, fault, sleep)
        async with w.server.client(sleep=sleep, **case.client_kwargs) as client:
            if ep.kind == "list":
                run.reference = [item async for item in listing(ep, w, client)]
                w.server.reset_requests()
            try:
                if ep.kind == "list":
                    async for item in listing(ep, w, client):
                        run.delivered.append(item)
                        if len(run.delivered) == 1:
                            w.server.inject(fault)  # before the prefetch of page 2 is sent
                else:
                    w.server.inject(fault)
                    run.result = await call(ep, w, client)
            except Exception as exc:  # the cell asserts the exact type
                run.error = exc
        assert not sdk_tasks(), "a request or prefetch task outlived aclose()"
        # A delayed handler is still running after the client timed out: let it finish.
        await wait_until(lambda: all(r.status for r in w.sent(ep.route) if r.fault != "drop"))
        yield run


def applied_count(run: CellRun) -> int:
    """How many times the POST/PUT of the cell changed the server's ledger."""
    w, ledger = run.world, run.world.server.ledger
    if run.endpoint.route == "create_credit_account":
        return len(ledger.accounts) - 1
    if run.endpoint.route == "create_credit_batch":
        return len(ledger.account(w.account_id).batches) - len(w.batch_ids)
    batch = ledger.batch(w.batch_ids[1])
    debits = ledger.actions(w.account_id, "debit")
    assert batch.current_balance == (UPDATED_TO if debits else 10)
    return len(debits)


def expected_listing(run: CellRun, name: str, outcome: Outcome) -> list[Any]:
    """The items the listing must deliver: all of them, or page 1 when it failed."""
    expected = list(run.reference)
    if outcome.error is not None:
        return expected[:2]
    if name == "unknown_enum_value":
        changed = expected[2]
        if run.endpoint.route == "list_credit_actions":
            expected[2] = attrs.evolve(changed, action="clawback")
        else:
            expected[2] = attrs.evolve(changed, status=tc.CreditBatchStatus("frozen"))
    return expected


def assert_waits(sleep: RecordingSleep, waits: float | str | None) -> None:
    """The delays slept: none, one backoff, or the server's Retry-After."""
    if waits is None:
        assert sleep.waits == []
    elif waits == BACKOFF:
        (delay,) = sleep.waits
        assert 0.5 <= delay <= 1.5  # RetryPolicy(): wait_initial 0.5 + up to 1 s of jitter
    else:
        (delay,) = sleep.waits
        assert isinstance(waits, float)
        assert waits - 1.5 < delay <= waits  # an HTTP date has whole seconds


def assert_single_body(run: CellRun, name: str) -> None:
    """A POST/PUT that succeeded on a ``body`` fault returns exactly the data sent."""
    result, obj = run.result, canned(run.endpoint, run.world)
    assert result.id == UUID(NEW_ID)
    assert str(result.current_balance) == str(obj["currentBalance"])
    assert result.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert result.updated_at == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert result.client_id is not None
    assert str(result.client_id) == run.world.client_id
    enum_name, enum_value = ENUM_EDITS.get(run.endpoint.route, ("status", "frozen"))
    if run.endpoint.route == "create_credit_account":
        assert result.name == "New ✓"
        assert result.notify_emails == ("ops@example.com", "ünïcode@example.com")
        assert result.sublicenses == (tc.Sublicense(id=result.sublicenses[0].id, deleted=False),)
        assert str(result.sublicenses[0].id) == SUB_ID
        assert (result.minimum_batch_amount, result.batch_days_until_expire) == (5, None)
        assert result.status is tc.CreditAccountStatus.ACTIVE
    else:
        assert result.name == "canned ✓"
        assert str(result.starting_balance) == "7.5"
        assert str(result.allocated_credits) == "0.25"
        assert str(result.credit_account_id) == run.world.account_id
        assert result.expires_on is None
    value = getattr(result, enum_name)
    if name == "unknown_enum_value":
        assert (value.value, value.known) == (enum_value, False)
    else:
        assert value.known


def assert_single_result(run: CellRun, name: str) -> None:
    """A POST/PUT that succeeded returns the object the server holds (or the canned one)."""
    if name in ("envelope_missing", "unknown_field", "unknown_enum_value"):
        assert_single_body(run, name)
        return
    w, ledger, result = run.world, run.world.server.ledger, run.result
    if run.endpoint.route == "create_credit_account":
        (created,) = [a for a in ledger.accounts.values() if a.id != w.account_id]
        assert (str(result.id), result.name, result.current_balance) == (created.id, "New", 50)
    elif run.endpoint.route == "create_credit_batch":
        created = ledger.account(w.account_id).batches[-1]
        assert str(result.id) == created.id
        assert str(result.current_balance) == "7.5"
    else:
        assert (str(result.id), result.current_balance) == (w.batch_ids[1], UPDATED_TO)


async def exercise(ep: Endpoint, w: World, client: tc.Client) -> Any:
    """Make the endpoint's call: the whole listing, or the single POST/PUT."""
    if ep.kind == "list":
        return [item async for item in listing(ep, w, client)]
    return await call(ep, w, client)


def route_requests(run: CellRun, outcome: Outcome) -> int:
    """Requests the route must have received in this cell."""
    if run.endpoint.kind != "list":
        return outcome.attempts
    # Page 1, the attempts at page 2, and page 3 when the listing got that far.
    return 1 + outcome.attempts + (1 if outcome.error is None else 0)


@pytest.mark.parametrize(("endpoint", "name"), CELLS)
async def test_fault_cell(endpoint: Endpoint, name: str) -> None:
    """Each (endpoint, fault) cell ends in exactly its tabled outcome, never anything else."""
    outcome = FAULTS[name].outcomes[endpoint.kind]
    async with run_cell(endpoint, name) as run:
        if outcome.error is None:
            assert run.error is None, f"unexpected {run.error!r}"
        else:
            assert type(run.error) is outcome.error, f"got {run.error!r}"
        sent = run.world.sent(endpoint.route)
        assert len(sent) == route_requests(run, outcome)
        assert len(run.world.server.requests) == len(sent)  # nothing went anywhere else
        assert_waits(run.sleep, outcome.waits)
        if endpoint.kind == "list":
            ids = (
                run.world.batch_ids_in_ledger()
                if endpoint.route == "list_credit_batches"
                else run.world.credit_action_ids_in_ledger()
            )
            assert [str(item.id) for item in run.reference] == ids
            assert run.delivered == expected_listing(run, name, outcome)
        else:
            assert applied_count(run) == (1 if outcome.applied else 0)
            if outcome.error is None:
                assert_single_result(run, name)


def test_matrix_covers_every_endpoint_and_fault() -> None:
    """The matrix has every row of the SDK's endpoint table x every fault (listing-only faults
    on the listings)."""
    listing_only = [name for name, case in FAULTS.items() if case.listing_only]
    listings = [ep for ep in ENDPOINTS if ep.kind == "list"]
    assert sorted(f"{ep.kind} {ep.route}" for ep in ENDPOINTS) == sorted(
        f"{KINDS[row.method]} {ROUTES.get(row.operation, row.operation + ': not in ROUTES')}"
        for row in table.ENDPOINTS
    )
    assert len(CELLS) == len(ENDPOINTS) * (len(FAULTS) - len(listing_only)) + len(listings) * len(
        listing_only
    )
    # 27 faults of issue 5 on every endpoint plus 4 listing-only ones; issue 9 adds 7 on every
    # endpoint (zero/past delays, the budget, hostile numbers and text) and 1 more listing-only
    # (a hostile pageInfo.total).
    assert len(CELLS) == len(ENDPOINTS) * (27 + 7) + len(listings) * (4 + 1)
