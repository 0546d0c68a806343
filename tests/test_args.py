"""Argument validation: a bad argument raises an error naming it, and nothing is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

import thoughtcredits as tc
from tests.conftest import ACCOUNT_ID, API_KEY, BATCH_ID, CLIENT_ID
from thoughtcredits import _args
from thoughtcredits.testing import MockTransport

GOOD = "123e4567-e89b-12d3-a456-426614174000"

BAD_UUIDS: list[tuple[object, type[Exception]]] = [
    ("", ValueError),
    ("not-a-uuid", ValueError),
    ("{" + GOOD + "}", ValueError),
    ("urn:uuid:" + GOOD, ValueError),
    (GOOD.replace("-", ""), ValueError),
    (" " + GOOD, ValueError),
    (GOOD + "\n", ValueError),
    (GOOD[:-1], ValueError),
    ("../" + GOOD, ValueError),
    (123, TypeError),
    (None, TypeError),
    (GOOD.encode(), TypeError),
    (UUID(GOOD).int, TypeError),
]


@pytest.mark.parametrize(("value", "error"), BAD_UUIDS)
def test_uuid_arg_refuses(value: object, error: type[Exception]) -> None:
    """Only a UUID or its canonical string is an id; the error names the argument."""
    with pytest.raises(error, match=r"^client_id: "):
        _args.uuid_arg("client_id", value)


@pytest.mark.parametrize(
    "value", [GOOD, GOOD.upper(), UUID(GOOD), "00000000-0000-0000-0000-000000000000"]
)
def test_uuid_arg_accepts(value: object) -> None:
    """A UUID object or canonical string (any case) becomes the lowercase canonical string."""
    assert _args.uuid_arg("client_id", value) == str(UUID(str(value)))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", ValueError),
        ("   ", ValueError),
        ("\t\n", ValueError),
        ("a\x00b", ValueError),
        (None, TypeError),
        (5, TypeError),
        (b"name", TypeError),
    ],
)
def test_non_empty_str_refuses(value: object, error: type[Exception]) -> None:
    """Names must be non-blank strings."""
    with pytest.raises(error, match=r"^name: "):
        _args.non_empty_str("name", value)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (Decimal("-0.01"), ValueError),
        (Decimal("NaN"), ValueError),
        (Decimal("sNaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (Decimal("-Infinity"), ValueError),
        (1.5, TypeError),
        (10.0, TypeError),
        (float("nan"), TypeError),
        (float("inf"), TypeError),
        (True, TypeError),
        (False, TypeError),
        (None, TypeError),
        ("ten", ValueError),
        (Decimal("1E+40"), ValueError),
        ([1], TypeError),
    ],
)
def test_amount_refuses(value: object, error: type[Exception]) -> None:
    """Amounts are finite, non-negative ints or Decimals; floats and bools are refused."""
    with pytest.raises(error, match=r"^starting_balance: "):
        _args.amount("starting_balance", value)


def test_amount_float_hint() -> None:
    """A float is refused with a hint to use Decimal."""
    with pytest.raises(TypeError, match="Decimal"):
        _args.amount("starting_balance", 1.5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, Decimal(0)), (1000, Decimal(1000)), (Decimal("12.50"), Decimal("12.50"))],
)
def test_amount_accepts(value: object, expected: Decimal) -> None:
    """Zero, ints and Decimals are valid amounts, kept exact."""
    result = _args.amount("starting_balance", value)
    assert result == expected
    assert type(result) is Decimal


@pytest.mark.parametrize("value", [Decimal("1.5"), Decimal("0.001"), Decimal("99.99")])
def test_integral_amount_refuses_fractions(value: Decimal) -> None:
    """current_balance must be a whole number (the API types it as an integer)."""
    with pytest.raises(ValueError, match=r"^current_balance: .*whole"):
        _args.amount("current_balance", value, integral=True)


def test_integral_amount_accepts_integral_decimal() -> None:
    """An integral Decimal such as 90.00 is a whole number."""
    assert _args.amount("current_balance", Decimal("90.00"), integral=True) == 90


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (datetime(2027, 1, 1), ValueError),  # naive on purpose
        (date(2027, 1, 1), TypeError),
        ("2027-01-01T00:00:00Z", TypeError),
        (1_800_000_000, TypeError),
        (None, TypeError),
    ],
)
def test_aware_datetime_refuses(value: object, error: type[Exception]) -> None:
    """Only timezone-aware datetimes are accepted for timestamps."""
    with pytest.raises(error, match=r"^expires_on: "):
        _args.aware_datetime("expires_on", value)


@pytest.mark.parametrize(
    ("value", "error", "where"),
    [
        ("ops@acme.test", TypeError, "notify_emails: "),
        (b"ops@acme.test", TypeError, "notify_emails: "),
        (None, TypeError, "notify_emails: "),
        (5, TypeError, "notify_emails: "),
        (["ok@acme.test", ""], ValueError, r"notify_emails\[1\]: "),
        (["ok@acme.test", 7], TypeError, r"notify_emails\[1\]: "),
        ([None], TypeError, r"notify_emails\[0\]: "),
    ],
)
def test_string_list_refuses(value: object, error: type[Exception], where: str) -> None:
    """A list argument must be a list of non-empty strings; a bare string is not split."""
    with pytest.raises(error, match="^" + where):
        _args.string_list("notify_emails", value)


def test_string_list_accepts_any_iterable() -> None:
    """Tuples and generators of strings are accepted, as a list."""
    assert _args.string_list("license_ids", ("a", "b")) == ["a", "b"]
    assert _args.string_list("license_ids", (s for s in ["c"])) == ["c"]
    assert _args.string_list("license_ids", []) == []


@pytest.mark.parametrize(
    ("value", "minimum", "error"),
    [
        (0, 1, ValueError),
        (-1, 0, ValueError),
        (True, 0, TypeError),
        (1.5, 0, TypeError),
        ("3", 0, TypeError),
        (2**60, 0, ValueError),
    ],
)
def test_integer_refuses(value: object, minimum: int, error: type[Exception]) -> None:
    """Whole-number arguments refuse bools, floats, strings and out-of-range values."""
    with pytest.raises(error, match=r"^batch_days_until_expire: "):
        _args.integer("batch_days_until_expire", value, minimum=minimum)


# --- through the client: the error names the argument and nothing is sent ---------------


def _unreachable(request: tc.HTTPRequest) -> tc.HTTPResponse:
    raise AssertionError(f"nothing may be sent, but {request.method} {request.url} was")


@pytest.fixture
async def offline() -> AsyncIterator[tuple[tc.Client, MockTransport]]:
    """A client whose transport records every request and answers none."""
    transport = MockTransport(_unreachable)
    async with tc.Client("https://acme.thoughtindustries.com", API_KEY, transport=transport) as c:
        yield c, transport


def _create_batch(**kw: Any) -> Callable[[tc.Client], Awaitable[object]]:
    args = {"client_id": CLIENT_ID, "starting_balance": 100, **kw}
    return lambda c: c.credit_batches.create(args.pop("client_id"), **args)


def _update_batch(**kw: Any) -> Callable[[tc.Client], Awaitable[object]]:
    args = {"batch_id": BATCH_ID, **kw}
    return lambda c: c.credit_batches.update(args.pop("batch_id"), **args)


def _create_account(**kw: Any) -> Callable[[tc.Client], Awaitable[object]]:
    args = {
        "client_id": CLIENT_ID,
        "name": "Training",
        "starting_balance": 1000,
        "notify_emails": ["ops@acme.test"],
        "license_ids": ["lic-1"],
        **kw,
    }
    return lambda c: c.credit_accounts.create(args.pop("client_id"), **args)


NAIVE = datetime(2027, 1, 1)  # naive on purpose


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (_create_batch(client_id="{" + GOOD + "}"), ValueError, "client_id"),
        (_create_batch(client_id=GOOD.replace("-", "")), ValueError, "client_id"),
        (_create_batch(client_id=12), TypeError, "client_id"),
        (_create_batch(starting_balance=-1), ValueError, "starting_balance"),
        (_create_batch(starting_balance=Decimal("NaN")), ValueError, "starting_balance"),
        (_create_batch(starting_balance=Decimal("Infinity")), ValueError, "starting_balance"),
        (_create_batch(starting_balance=12.5), TypeError, "starting_balance"),
        (_create_batch(starting_balance=True), TypeError, "starting_balance"),
        (_create_batch(credit_account_id="urn:uuid:" + GOOD), ValueError, "credit_account_id"),
        (_create_batch(name=""), ValueError, "name"),
        (_create_batch(name="  "), ValueError, "name"),
        (_create_batch(expires_on=NAIVE), ValueError, "expires_on"),
        (_create_batch(expires_on="2027-01-01"), TypeError, "expires_on"),
        (_update_batch(batch_id="batch-1"), ValueError, "batch_id"),
        (_update_batch(current_balance=Decimal("1.5")), ValueError, "current_balance"),
        (_update_batch(current_balance=-3), ValueError, "current_balance"),
        (_update_batch(name=""), ValueError, "name"),
        (_update_batch(expires_on=NAIVE), ValueError, "expires_on"),
        (_update_batch(), ValueError, "update"),
        (_update_batch(name=None), TypeError, "name"),
        (_update_batch(expires_on=None, name="x"), TypeError, "expires_on"),
        (_update_batch(current_balance=None), TypeError, "current_balance"),
        (_create_account(name=""), ValueError, "name"),
        (_create_account(name=None), TypeError, "name"),
        (_create_account(starting_balance=-5), ValueError, "starting_balance"),
        (_create_account(notify_emails="ops@acme.test"), TypeError, "notify_emails"),
        (_create_account(license_ids="lic-1"), TypeError, "license_ids"),
        (_create_account(license_ids=["lic-1", ""]), ValueError, r"license_ids\[1\]"),
        (_create_account(batch_days_until_expire=0), ValueError, "batch_days_until_expire"),
        (_create_account(batch_days_until_expire=1.5), TypeError, "batch_days_until_expire"),
        (_create_account(minimum_batch_amount=-1), ValueError, "minimum_batch_amount"),
        (_create_account(minimum_batch_amount=True), TypeError, "minimum_batch_amount"),
        (_create_account(type=""), ValueError, "type"),
        (_create_account(credit_batch_name=" "), ValueError, "credit_batch_name"),
    ],
)
async def test_bad_arguments_send_nothing(
    offline: tuple[tc.Client, MockTransport],
    call: Callable[[tc.Client], Awaitable[object]],
    error: type[Exception],
    argument: str,
) -> None:
    """A bad argument raises ValueError/TypeError naming it, and no request is made."""
    client, transport = offline
    with pytest.raises(error, match="^" + argument):
        await call(client)
    assert transport.requests == []


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (lambda c: c.credit_batches.list("nope"), ValueError, "client_id"),
        (
            lambda c: c.credit_batches.list(CLIENT_ID, credit_account_id="x"),
            ValueError,
            "credit_account_id",
        ),
        (lambda c: c.credit_batches.list(CLIENT_ID, page_size=0), ValueError, "page_size"),
        (lambda c: c.credit_batches.list(CLIENT_ID, page_size=True), TypeError, "page_size"),
        (lambda c: c.credit_batches.list(CLIENT_ID, max_items=-1), ValueError, "max_items"),
        (lambda c: c.credit_batches.list(CLIENT_ID, cursor=""), ValueError, "cursor"),
        (
            lambda c: c.credit_batches.list(CLIENT_ID, resume_from="garbage"),
            ValueError,
            "resume_from",
        ),
        (
            lambda c: c.credit_batches.list(CLIENT_ID, cursor="a", resume_from="1:a"),
            ValueError,
            "pass cursor",
        ),
        (
            lambda c: c.credit_actions.list(CLIENT_ID, "x", action_type="debit"),
            ValueError,
            "credit_account_id",
        ),
        (
            lambda c: c.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type=""),
            ValueError,
            "action_type",
        ),
        (
            lambda c: c.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type=None),
            TypeError,
            "action_type",
        ),
    ],
)
async def test_bad_list_arguments_raise_at_call_time(
    offline: tuple[tc.Client, MockTransport],
    call: Callable[[tc.Client], object],
    error: type[Exception],
    argument: str,
) -> None:
    """list() checks its arguments when called, before any iteration or request."""
    client, transport = offline
    with pytest.raises(error, match="^" + argument):
        call(client)
    assert transport.requests == []


HOSTILE_OPTIONS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"timeout": float("inf")}, ValueError, "timeout: must be a positive, finite"),
    ({"headers": {"X-Job": "a\r\nX-Admin: 1"}}, ValueError, "must be one line"),
    ({"headers": {"X Job": "a"}}, ValueError, "not a header name"),
    ({"headers": {"X-Job": 1}}, TypeError, r"headers\['X-Job'\]: expected a string"),
    ({"headers": {"X-Job": "\ud800"}}, ValueError, "lone surrogate"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), HOSTILE_OPTIONS)
def test_hostile_options_are_refused_by_the_client_and_its_views(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    """A header that would smuggle another, or a timeout that never ends, is refused at once."""
    client = tc.Client("https://acme.thoughtindustries.com", API_KEY)
    with pytest.raises(error, match=match):
        client.with_options(**kwargs)
    settings = {"default_headers" if k == "headers" else k: v for k, v in kwargs.items()}
    with pytest.raises(error, match=match.replace("headers", "default_headers")):
        tc.Client("https://acme.thoughtindustries.com", API_KEY, **settings)


def test_a_user_agent_of_two_lines_is_refused() -> None:
    """``user_agent`` is appended to a header: a newline in it is refused."""
    with pytest.raises(ValueError, match="user_agent: expected one line"):
        tc.Client("https://acme.thoughtindustries.com", API_KEY, user_agent="job/1\r\nX-A: 1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"max_concurrency": 0},
        {"api_key": "line\nbreak"},
        {"api_key": "   "},
    ],
)
def test_bad_client_configuration(kwargs: dict[str, Any]) -> None:
    """Invalid client settings are refused when the client is built."""
    settings: dict[str, Any] = {"api_key": API_KEY, **kwargs}
    with pytest.raises(ValueError):  # noqa: PT011 - each message is checked in test_client
        tc.Client("https://acme.thoughtindustries.com", **settings)


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"timeout": 0}, {"wait_initial": -1}, {"max_retry_after": -0.5}],
)
def test_bad_retry_policy(kwargs: dict[str, Any]) -> None:
    """A RetryPolicy with a non-positive attempt count or negative wait is refused."""
    with pytest.raises(ValueError, match=r"^RetryPolicy\."):
        tc.RetryPolicy(**kwargs)


def test_aware_datetime_in_other_zone_is_accepted() -> None:
    """An aware datetime in any zone is accepted unchanged."""
    when = datetime(2027, 1, 1, tzinfo=UTC)
    assert _args.aware_datetime("expires_on", when) is when
