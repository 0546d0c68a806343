"""Property and fuzz tests: hostile responses and odd arguments.

Responses go through the client's own path: ``_wire.loads`` of the bytes (a ``ValueError``
becomes ``ResponseValidationError`` exactly as in ``Client._attempt``), then the page and
single builders of ``_resource``; a subset goes through a real client against a ``body``
fault. Parsing either returns exactly the data given or raises ``ResponseValidationError``.
Requests either reach the server exactly as meant, or fail with ``ValueError``/``TypeError``
before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

import thoughtcredits as tc
from thoughtcredits._resource import Response, _page, single
from thoughtcredits._wire import loads
from thoughtcredits.testing import FakeCreditsServer, Fault

from . import KEY

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- JSON written by the test itself (exact Decimals, any string escaped) ----------------------


def to_json(value: Any) -> str:
    """JSON text with Decimals digit for digit (``str(Decimal)`` is always a JSON number)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii: lone surrogates travel as \ud800 escapes


# --- strategies for valid wire objects, with the model each one must become --------------------

ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
uuids = st.uuids()
amounts = st.one_of(
    st.integers(-(10**30), 10**30).map(Decimal),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15),
    st.integers(0, 12).flatmap(
        lambda places: st.decimals(
            allow_nan=False, allow_infinity=False, places=places, min_value=-1e9, max_value=1e9
        )
    ),
)
texts = st.text(st.characters(exclude_categories=()), max_size=30)  # surrogates included
moments = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2999, 12, 30),
    timezones=st.sampled_from(ZONES),
)
statuses = st.one_of(st.sampled_from(["active", "archived"]), st.text(min_size=1, max_size=12))


def stamp(moment: datetime, zulu: bool) -> str:
    """An ISO 8601 timestamp, in the API's ``Z`` form when the moment is UTC."""
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


@st.composite
def batches(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(wire JSON, expected model fields) of a valid ``CreditBatch``; extra keys included."""
    fields = {
        "id": draw(uuids), "starting_balance": draw(amounts), "current_balance": draw(amounts),
        "credit_account_id": draw(uuids), "allocated_credits": draw(amounts),
        "status": draw(statuses), "created_at": draw(moments), "updated_at": draw(moments),
        "name": draw(st.none() | texts), "expires_on": draw(st.none() | moments),
        "client_id": draw(st.none() | uuids),
    }  # fmt: skip
    zulu = draw(st.booleans())
    wire: dict[str, Any] = {}
    for name, value in fields.items():
        key = tc_camel(name)
        if value is None and draw(st.booleans()):
            continue  # an optional field may be missing as well as null
        if isinstance(value, UUID):
            value = str(value) if draw(st.booleans()) else str(value).upper()
        elif isinstance(value, datetime):
            value = stamp(value, zulu)
        wire[key] = value
    for extra in draw(st.lists(st.text(min_size=1, max_size=8), max_size=3)):
        if extra not in wire:
            wire[extra] = draw(st.none() | st.integers() | texts)  # unknown fields are ignored
    return wire, fields


def tc_camel(name: str) -> str:
    """snake_case -> camelCase, written here so the SDK's own helper is not trusted."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@st.composite
def page_infos(draw: st.DrawFn) -> tuple[dict[str, Any] | None, tc.PageInfo]:
    """(wire ``pageInfo`` or None, expected ``PageInfo``); every field nullable or missing."""
    values = {
        "has_more": draw(st.none() | st.booleans()),
        "cursor": draw(st.none() | texts),
        "per_page": draw(st.none() | st.integers(0, 10**6)),
        "total": draw(st.none() | st.integers(0, 10**12)),
    }
    if draw(st.booleans()) and all(v is None for v in values.values()):
        return None, tc.PageInfo()
    wire = {tc_camel(k): v for k, v in values.items() if v is not None or draw(st.booleans())}
    expected = tc.PageInfo(**{k: v for k, v in values.items() if v is not None})
    return wire, expected


def expected_batch(fields: dict[str, Any]) -> tc.CreditBatch:
    """The model a wire batch must become (built without the SDK's converter)."""
    return tc.CreditBatch(**{**fields, "status": tc.CreditBatchStatus(fields["status"])})


def assert_exact(model: tc.CreditBatch, fields: dict[str, Any]) -> None:
    """Equal, and each amount keeps its digits (only -0 may lose its sign)."""
    assert model == expected_batch(fields)
    for name in ("starting_balance", "current_balance", "allocated_credits"):
        got, given_ = getattr(model, name), fields[name]
        assert type(got) is Decimal
        assert got == given_
        if given_ != 0:
            assert got.as_tuple() == given_.as_tuple() or got == given_.to_integral_value()
    for name in ("created_at", "updated_at"):
        assert getattr(model, name).utcoffset() == fields[name].utcoffset()


# --- the client's parsing path -----------------------------------------------------------------

HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))


def parse(raw: bytes, build: Callable[[Response], Any], method: str = "GET") -> Any:
    """Decode and build ``raw`` exactly as ``Client._attempt`` does for a 2xx answer."""
    try:
        decoded = loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise tc.ResponseValidationError("not JSON", method=method, url="u") from exc
    return build(Response(200, HEADERS, decoded, raw, method, "u"))


def single_batch(response: Response) -> tc.CreditBatch:
    return single(response, tc.CreditBatch)


def batch_page(response: Response) -> tc.Page[tc.CreditBatch]:
    return _page(response, "creditBatches", tc.CreditBatch, None)


def page_of_actions(response: Response) -> tc.Page[tc.CreditAction]:
    return _page(response, "creditActions", tc.CreditAction, None)


def account(response: Response) -> tc.CreditAccount:
    return single(response, tc.CreditAccount)


BUILDERS = [single_batch, batch_page, page_of_actions, account]


def enveloped_single(draw: st.DrawFn, obj: dict[str, Any]) -> Any:
    return draw(st.sampled_from([{"data": {"CreateCreditBatch": obj}}, {"data": obj}, obj]))


@FUZZ
@given(st.data(), batches())
def test_valid_single_batch_round_trips(data: st.DataObject, batch: Any) -> None:
    """A valid batch in any documented envelope parses to exactly the data given."""
    wire, fields = batch
    body = enveloped_single(data.draw, wire)
    assert_exact(parse(to_json(body).encode(), single_batch), fields)


@FUZZ
@given(st.data(), st.lists(batches(), max_size=4), page_infos())
def test_valid_batch_page_round_trips(data: st.DataObject, items: Any, info: Any) -> None:
    """A valid page in any documented envelope keeps its items (in order) and its pageInfo."""
    wires = [wire for wire, _ in items]
    info_wire, info_expected = info
    payload: dict[str, Any] = {"creditBatches": wires}
    if info_wire is not None:
        payload["pageInfo"] = info_wire
    body = data.draw(
        st.sampled_from(
            [
                {"data": {"APICreditBatchesByClientAndCreditAccount": payload}},
                {"data": payload},
                {"data": wires, **({"pageInfo": info_wire} if info_wire is not None else {})},
                payload,
            ]
        )
    )
    page = parse(to_json(body).encode(), batch_page)
    assert len(page.items) == len(items)
    for model, (_, fields) in zip(page.items, items, strict=True):
        assert_exact(model, fields)
    assert page.page_info == info_expected


VALID_ACTION = {
    "id": "00000000-0000-4000-8000-000000000001", "client": "00000000-0000-4000-8000-000000000002",
    "action": "debit", "amount": 5, "timestamp": "2024-01-01T00:00:00.000Z",
    "updatedAt": "2024-01-01T00:00:00.000Z", "sourceBalanceIn": 10, "sourceBalanceOut": 5,
}  # fmt: skip
VALID_ACCOUNT = {
    "id": "00000000-0000-4000-8000-000000000003", "currentBalance": 5, "status": "active",
    "type": "client", "notifyEmails": ["a@example.com"], "createdAt": "2024-01-01T00:00:00Z",
    "updatedAt": "2024-01-01T00:00:00Z", "sublicenses": [{"id": VALID_ACTION["id"],
    "deleted": False}],
}  # fmt: skip
VALID_BATCH = {
    "id": VALID_ACTION["id"], "startingBalance": 1, "currentBalance": 1, "allocatedCredits": 0,
    "creditAccountId": VALID_ACTION["client"], "status": "active",
    "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
}  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)  # fmt: skip
wrong_for_amount = st.one_of(st.booleans(), texts, st.lists(st.integers(), max_size=2), st.just({}))
wrong_for_uuid = st.one_of(
    st.integers(), st.booleans(), st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.hex), st.text(max_size=40).filter(lambda s: len(s) != 36),
)  # fmt: skip
wrong_for_time = st.one_of(st.integers(), st.booleans(), st.just("yesterday"), st.just(""))


@SLOW_FUZZ
@given(
    st.sampled_from(
        [
            ("currentBalance", wrong_for_amount), ("allocatedCredits", wrong_for_amount),
            ("id", wrong_for_uuid), ("creditAccountId", wrong_for_uuid),
            ("createdAt", wrong_for_time), ("status", st.integers() | st.booleans()),
            ("name", st.integers() | st.lists(texts, max_size=2)), ("startingBalance", None),
        ]
    ),
    st.data(),
)  # fmt: skip
def test_invalid_batch_field_is_a_validation_error(field_and_values: Any, data: Any) -> None:
    """A wrong type, a non-canonical UUID or a missing required field: ResponseValidationError."""
    name, values = field_and_values
    obj = dict(VALID_BATCH)
    if values is None:
        del obj[name]
    else:
        obj[name] = data.draw(values)
    for build, body in [
        (single_batch, {"data": {"CreateCreditBatch": obj}}),
        (batch_page, {"data": {"Op": {"creditBatches": [VALID_BATCH, obj]}}}),
    ]:
        with pytest.raises(tc.ResponseValidationError):
            parse(to_json(body).encode(), build)


@FUZZ
@given(
    st.sampled_from(BUILDERS),
    json_values,
    st.sampled_from([VALID_BATCH, VALID_ACTION, VALID_ACCOUNT]),
)
def test_any_json_parses_or_is_a_validation_error(build: Any, junk: Any, valid: Any) -> None:
    """Arbitrary JSON as a body, a field or an item never raises anything but the typed error."""
    bodies = [
        junk, {"data": junk}, {"data": {"Op": junk}},
        {"data": {"Op": {"creditBatches": junk, "creditActions": junk, "pageInfo": junk}}},
        {"data": {"Op": {**valid, "currentBalance": junk, "amount": junk, "status": junk}}},
        {"creditBatches": [valid, junk], "creditActions": [valid, junk]},
    ]  # fmt: skip
    for body in bodies:
        with contextlib.suppress(tc.ResponseValidationError):
            parse(to_json(body).encode(), build)


@FUZZ
@given(st.sampled_from(BUILDERS), st.binary(max_size=200))
def test_any_bytes_parse_or_are_a_validation_error(build: Any, raw: bytes) -> None:
    """Arbitrary bytes (cut, binary, invalid UTF-8) never raise anything but the typed error."""
    for body in (raw, b'{"data": {"Op": ' + raw, b'{"creditBatches": [' + raw + b"]}"):
        with contextlib.suppress(tc.ResponseValidationError):
            parse(body, build)


def deep_body(build: Any, depth: int) -> bytes:
    """A valid answer for ``build`` holding a fractional amount (so the exact re-decode runs)
    and an unknown field nested ``depth`` levels deep."""
    deep = "[" * depth + "]" * depth
    batch = to_json({**VALID_BATCH, "currentBalance": Decimal("1.5")})[:-1] + f',"deep":{deep}}}'
    action = to_json({**VALID_ACTION, "amount": Decimal("1.5")})
    objects = {
        single_batch: batch,
        account: to_json({**VALID_ACCOUNT, "currentBalance": Decimal("1.5")})[:-1]
        + f',"deep":{deep}}}',
        batch_page: f'{{"creditBatches":[{batch}],"deep":{deep}}}',
        page_of_actions: f'{{"creditActions":[{action}],"deep":{deep}}}',
    }
    return f'{{"data":{{"Op":{objects[build]}}}}}'.encode()


def amount_of(result: Any) -> Decimal:
    """The one amount a deep body carries."""
    if isinstance(result, tc.Page):
        (item,) = result.items
        return item.amount if isinstance(item, tc.CreditAction) else item.current_balance
    return result.current_balance  # type: ignore[no-any-return]


@pytest.mark.parametrize("depth", [10, 1000, 1020, 5000, 100_000])
@pytest.mark.parametrize("build", BUILDERS)
def test_deeply_nested_body_is_parsed_or_a_validation_error(build: Any, depth: int) -> None:
    """A hostile, deeply nested body parses exactly or is the typed error, never RecursionError."""
    try:
        result = parse(deep_body(build, depth), build)
    except tc.ResponseValidationError:
        assert depth > 10
    else:
        assert amount_of(result) == Decimal("1.5")


# --- the same through a real client against a "body" fault --------------------------------------


async def through_client(raw: bytes) -> tc.CreditBatch:
    """POST create-batch against a server whose answer is exactly ``raw``."""
    async with FakeCreditsServer(api_key=KEY) as server:
        cid = server.ledger.add_client()
        server.ledger.create_account(cid, name="A", starting_balance=1)
        server.inject(Fault("body", body=raw, route="create_credit_batch"))
        async with server.client(retry=None) as client:
            return await client.credit_batches.create(cid, starting_balance=1)


@SLOW_FUZZ
@given(batches())
def test_valid_batch_through_the_client_round_trips(batch: Any) -> None:
    """Through the real client, a valid batch body comes back as exactly the data given."""
    wire, fields = batch
    raw = to_json({"data": {"CreateCreditBatch": wire}}).encode()
    assert_exact(asyncio.run(through_client(raw)), fields)


@SLOW_FUZZ
@given(st.one_of(st.binary(max_size=80), json_values.map(lambda v: to_json(v).encode())))
def test_junk_through_the_client_is_a_validation_error(raw: bytes) -> None:
    """Through the real client, junk bodies raise ResponseValidationError and nothing else."""
    with pytest.raises(tc.ResponseValidationError):
        asyncio.run(through_client(raw))


@pytest.mark.parametrize("depth", [1000, 5000])
def test_deeply_nested_body_through_the_client(depth: int) -> None:
    """Through the real client, a deeply nested body parses or is a ResponseValidationError."""
    try:
        batch = asyncio.run(through_client(deep_body(single_batch, depth)))
    except tc.ResponseValidationError:
        return
    assert batch.current_balance == Decimal("1.5")


CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)


# --- request building ---------------------------------------------------------------------------

BASE = "/incoming/v2"
CLIENT = "3f0e8c1a-2b4d-4e6f-8a0b-1c2d3e4f5a6b"
CALL_TIMEOUT = 10.0


def canonical_or_none(value: object) -> str | None:
    """The id the API must see for ``value``, or None when it is not a UUID the SDK may send."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and CANONICAL.fullmatch(value.lower() if value.isascii() else ""):
        return value.lower()
    return None


def clean_text(value: object) -> bool:
    """A string the SDK must send as is: not blank, no NUL, encodable as UTF-8."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


async def sent_by(action: Callable[[tc.Client], Any]) -> tuple[list[Any], Exception | None]:
    """Run ``action`` against a fresh server; the requests it received and any argument error."""
    async with FakeCreditsServer(api_key=KEY) as server:
        server.ledger.add_client(CLIENT)
        server.ledger.create_account(CLIENT, name="A", starting_balance=1)
        async with server.client(retry=None) as client:
            try:
                await asyncio.wait_for(action(client), CALL_TIMEOUT)
            except (ValueError, TypeError) as exc:
                return list(server.requests), exc
            except tc.APIStatusError:
                pass  # the server judged the request; what it received is what is checked
        return list(server.requests), None


def run(action: Callable[[tc.Client], Any]) -> tuple[list[Any], Exception | None]:
    return asyncio.run(sent_by(action))


def argument_error(requests: list[Any], error: Exception | None, kind: type[Exception]) -> None:
    """Refused before anything was sent, with the expected kind of error."""
    assert requests == []
    assert isinstance(error, kind), f"expected {kind.__name__}, got {error!r}"


ids = st.one_of(
    st.uuids(), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: f" {u}"), st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: f"{u}/../x"), st.uuids().map(lambda u: f"{u}%2F"),
    texts, st.integers(), st.none(), st.binary(max_size=4),
)  # fmt: skip


@SLOW_FUZZ
@given(ids)
def test_odd_ids_are_quoted_or_refused(batch_id: Any) -> None:
    """An id is sent as its canonical lowercase UUID, or refused (nothing sent)."""
    requests, error = run(lambda c: c.credit_batches.update(batch_id, name="n"))
    expected = canonical_or_none(batch_id)
    if expected is None:
        argument_error(requests, error, TypeError if not isinstance(batch_id, str) else ValueError)
        return
    (seen,) = requests
    assert (seen.method, seen.path, seen.query) == (
        "PUT",
        f"{BASE}/clients/creditBatches/{expected}",
        {},
    )
    assert seen.body == b'{"name":"n"}'


@SLOW_FUZZ
@given(texts | st.just(" \t\n") | st.just("a\x00b") | st.integers(), st.lists(texts, max_size=3))
def test_unicode_names_are_sent_exactly_or_refused(name: Any, emails: list[str]) -> None:
    """Names and lists go into the body exactly (UTF-8 JSON) or are refused before sending."""
    requests, error = run(
        lambda c: c.credit_accounts.create(
            CLIENT, name=name, starting_balance=5, notify_emails=emails, license_ids=["l"]
        )
    )
    if not clean_text(name) or not all(clean_text(e) for e in emails):
        argument_error(requests, error, TypeError if not isinstance(name, str) else ValueError)
        return
    (seen,) = requests
    assert (seen.method, seen.path) == ("POST", f"{BASE}/clients/{CLIENT}/creditAccounts")
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    assert (
        seen.body
        == (
            f'{{"clientId":"{CLIENT}","name":{dump(name)},"startingBalance":5,'
            f'"notifyEmails":[{",".join(map(dump, emails))}],"licenseIds":["l"]}}'
        ).encode()
    )
    assert seen.headers["Content-Type"] == "application/json"


amount_args = st.one_of(
    st.integers(-(10**40), 10**40), st.floats(), st.booleans(), st.none(),
    st.decimals(places=st.integers(0, 20).example() if False else 8, allow_nan=True),
    st.decimals(min_value=0, max_value=10**35, allow_nan=False),
    st.just(Decimal("-0")), st.just(Decimal("1E+31")), st.just(Decimal("0.1000")),
)  # fmt: skip


@SLOW_FUZZ
@given(amount_args)
def test_amounts_are_sent_exactly_or_refused(value: Any) -> None:
    """An amount is written digit for digit (equal as a Decimal), or refused before sending."""
    requests, error = run(
        lambda c: c.credit_batches.create(CLIENT, starting_balance=value, name="x")
    )
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        argument_error(requests, error, TypeError)
        return
    number = Decimal(value)
    if not number.is_finite() or number < 0 or number.adjusted() > 30:
        argument_error(requests, error, ValueError)
        return
    if error is not None and number.as_tuple().exponent < -30:  # type: ignore[operator]
        argument_error(requests, error, ValueError)  # absurd precision may be refused too
        return
    (seen,) = requests
    body = json.loads(seen.body, parse_float=Decimal)
    assert list(body) == ["clientId", "startingBalance", "name"]
    assert body["startingBalance"] == number
    written = seen.body.split(b'"startingBalance":')[1].split(b",")[0]
    assert b"e" not in written.lower()  # plain digits, never an exponent or a float repr


def test_amount_with_absurd_precision_is_refused_before_sending() -> None:
    """An amount with millions of decimal places is refused, not written as a 10 MB body."""
    requests, error = run(
        lambda c: c.credit_batches.create(CLIENT, starting_balance=Decimal("1E-9999999"))
    )
    argument_error(requests, error, ValueError)


query_texts = texts | st.sampled_from(["a/b?c=d&e#f", "..%2F..", "+ +", "\r\nX-Evil: 1", "é∑"])


@SLOW_FUZZ
@given(query_texts, st.none() | query_texts, st.none() | st.integers(-5, 2**60) | st.booleans())
def test_query_values_are_quoted_or_refused(action_type: Any, cursor: Any, page_size: Any) -> None:
    """actionType, cursor and perPage reach the server exactly, or are refused unsent."""

    async def listing(c: tc.Client) -> None:
        paginator = c.credit_actions.list(
            CLIENT, CLIENT, action_type=action_type, cursor=cursor, page_size=page_size,
            max_items=1,
        )  # fmt: skip
        [a async for a in paginator]

    requests, error = run(listing)
    size_ok = page_size is None or (not isinstance(page_size, bool) and 1 <= page_size <= 2**53)
    if not clean_text(action_type) or not (cursor is None or clean_text(cursor)) or not size_ok:
        assert requests == []
        assert isinstance(error, ValueError | TypeError)
        return
    seen = requests[0]
    assert seen.path == f"{BASE}/clients/{CLIENT}/creditAccount/{CLIENT}/creditActions"
    expected = {"clientId": CLIENT, "actionType": action_type}
    if page_size is not None:
        expected["perPage"] = str(page_size)
    if cursor is not None:
        expected["cursor"] = cursor
    assert seen.query == expected
