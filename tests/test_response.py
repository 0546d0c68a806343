"""The pure rules below the client, as tables: the interpreter, the waits and the budget."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import thoughtcredits as tc
from thoughtcredits._http.interpreter import (
    Listing,
    RawJSON,
    Single,
    Unparsed,
    decipher,
    find_payload,
)
from thoughtcredits._http.retry import Budget, BudgetExceeded, planned_wait
from thoughtcredits._http.status import error_from_response

OP = "CreateCreditBatch"
OBJ = {"id": "x"}
ITEMS = {"creditBatches": [OBJ], "pageInfo": {"hasMore": False}}


@pytest.mark.parametrize(
    ("body", "items_key", "expected"),
    [
        ({"data": {OP: OBJ}}, None, OBJ),  # the documented shape
        ({"data": {"meta": {"a": 1}, OP: OBJ}}, None, OBJ),  # extra keys beside the name
        ({"data": {OP: OBJ}, "errors": [], "extensions": {}}, None, OBJ),  # extra top level
        ({"data": {"Other": OBJ}}, None, OBJ),  # one undocumented name
        ({"data": OBJ}, None, OBJ),  # no operation level
        ({"data": ITEMS}, "creditBatches", ITEMS),  # a listing without the operation level
        ({"data": {"X": ITEMS, "creditBatches": [OBJ]}}, "creditBatches",
         {"X": ITEMS, "creditBatches": [OBJ]}),  # the items key wins over a guess
        ({"data": [OBJ], "pageInfo": {}}, "creditBatches",
         {"creditBatches": [OBJ], "pageInfo": {}}),  # data as the list of items
        (OBJ, None, OBJ),  # a top-level payload
        ([OBJ], None, [OBJ]),
    ],
)  # fmt: skip
def test_find_payload(body: object, items_key: str | None, expected: object) -> None:
    """The payload is found by the operation name first, then by the documented fallbacks."""
    assert find_payload(body, OP, items_key) == expected


STATUS_TABLE = [
    (400, tc.BadRequestError),
    (401, tc.AuthenticationError),
    (403, tc.PermissionDeniedError),
    (404, tc.NotFoundError),
    (405, tc.APIStatusError),
    (409, tc.ConflictError),
    (422, tc.UnprocessableEntityError),
    (429, tc.RateLimitError),
    (500, tc.InternalServerError),
    (503, tc.InternalServerError),
    (302, tc.APIStatusError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_TABLE)
def test_status_errors(status: int, cls: type[tc.APIStatusError]) -> None:
    """A status of 300 or more is its typed error, whatever the expected shape."""
    with pytest.raises(cls) as caught:
        decipher(status, {}, b'{"message": "m"}', RawJSON(), method="GET", url="u")
    assert type(caught.value) is cls
    assert caught.value.status == status


@pytest.mark.parametrize(("method", "applied"), [("GET", False), ("POST", True), ("PUT", True)])
@pytest.mark.parametrize(
    "body", [b"", b"  ", b"<html/>", b'{"data": ', b'{"data": {"CreateCreditBatch": []}}']
)
def test_unreadable_2xx_says_whether_applied(body: bytes, method: str, applied: bool) -> None:
    """A 2xx that cannot be read: ResponseValidationError with status and applied."""
    with pytest.raises(tc.ResponseValidationError) as caught:
        decipher(201, {}, body, Single(tc.CreditBatch, OP), method=method, url="u")
    assert (caught.value.status, caught.value.applied) == (201, applied)
    assert ("WAS MADE" in str(caught.value)) is applied


@pytest.mark.parametrize(("complete", "size"), [(False, 10), (True, 11)])
def test_too_large(complete: bool, size: int) -> None:
    """A body the transport stopped reading, or one over the cap, is ResponseTooLargeError."""
    with pytest.raises(tc.ResponseTooLargeError):
        decipher(200, {}, b"1" * size, RawJSON(), method="GET", url="u", complete=complete,
                 max_body=10)  # fmt: skip


def test_too_large_error_status_keeps_its_status() -> None:
    """An error status with a body over the cap is still that status's error."""
    with pytest.raises(tc.InternalServerError):
        decipher(500, {}, b"x" * 20, RawJSON(), method="GET", url="u", max_body=10)


def test_unparsed_checks_status_only() -> None:
    """A raw-response call parses nothing on a 2xx, but still raises on an error status."""
    assert decipher(201, {}, b"<html/>", Unparsed(RawJSON()), method="POST", url="u") is None
    with pytest.raises(tc.NotFoundError):
        decipher(404, {}, b"", Unparsed(RawJSON()), method="POST", url="u")


def test_raw_json_is_exact() -> None:
    """RawJSON returns the decoded body, fractional numbers as Decimal."""
    value = decipher(200, {}, b'{"a": 0.10, "b": [1, 2e3]}', RawJSON(), method="GET", url="u")
    assert value == {"a": Decimal("0.10"), "b": [1, Decimal("2E+3")]}


@pytest.mark.parametrize(
    "created", ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z"], ids=["seconds", "millis"]
)
def test_a_fraction_beside_timestamps_is_exact(created: str) -> None:
    """However the timestamps are written, a fractional amount arrives digit for digit."""
    item = (
        '{"id": "5b28371b-5182-4b27-b6b6-21f55d56a5a2", "status": "active",'
        ' "creditAccountId": "c9924ba6-d190-47b3-ace5-8b3a1ca9ced1",'
        ' "startingBalance": 12345678901234.5678, "currentBalance": 1, "allocatedCredits": 0,'
        f' "createdAt": "{created}", "updatedAt": "{created}"}}'
    )
    body = f'{{"data": {{"Op": {{"creditBatches": [{item}]}}}}}}'.encode()
    page = decipher(
        200, {}, body, Listing(tc.CreditBatch, "Op", "creditBatches", None, None),
        method="GET", url="u",
    )  # fmt: skip
    (batch,) = page.items
    assert batch.starting_balance == Decimal("12345678901234.5678")
    assert str(batch.starting_balance) == "12345678901234.5678"


def test_listing_page_carries_request_and_headers() -> None:
    """A listing's Page knows how it was asked for and what the response said."""
    body = b'{"data": {"Op": {"creditBatches": [], "pageInfo": {"hasMore": false}}}}'
    page = decipher(
        200, {"X-Request-Id": "r"}, body, Listing(tc.CreditBatch, "Op", "creditBatches", "c", 4),
        method="GET", url="u",
    )  # fmt: skip
    assert (page.request_cursor, page.request_page, page.request_id) == ("c", 4, "r")


def rate_limited(**headers: str) -> tc.APIStatusError:
    """The error of a 429 with ``headers``."""
    return error_from_response(429, headers, b"", method="GET", url="u", now=1000.0)


POLICY = tc.RetryPolicy(wait_initial=0.5, wait_jitter=0, wait_max=8)


@pytest.mark.parametrize(
    ("error", "attempt", "wait"),
    [
        (rate_limited(**{"Retry-After": "7"}), 1, 7.0),
        (rate_limited(**{"Retry-After": "0"}), 1, 0.5),
        (rate_limited(**{"Retry-After": "0"}), 3, 2.0),
        (rate_limited(**{"X-RateLimit-Reset": "1005"}), 1, 5.0),
        (rate_limited(**{"X-RateLimit-Reset": "900"}), 2, 1.0),
        (rate_limited(), 5, 8.0),
        (tc.APIConnectionError("x", method="GET", url="u"), 1, 0.5),
    ],
)
def test_planned_wait(error: BaseException, attempt: int, wait: float) -> None:
    """The server's positive delay, else the back-off for that attempt."""
    assert planned_wait(error, attempt, POLICY) == pytest.approx(wait)


async def test_budget_refuses_before_sleeping() -> None:
    """A wait that would cross the budget raises before anything is slept."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    budget = Budget(1.0)
    await budget.wait(0.7, sleep)
    with pytest.raises(BudgetExceeded):
        await budget.wait(0.7, sleep)
    assert slept == [0.7]
    assert budget.waited == pytest.approx(0.7)
