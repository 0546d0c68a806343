"""Property and fuzz tests: hostile responses and odd arguments.

Responses go through the client's own path: ``exact_json.loads_exact`` of the bytes (a
``ValueError`` becomes ``ResponseValidationError`` exactly as in the pipeline's attempt), then the
page and single builders of ``_resources``; a subset goes through a real client against a
``body`` fault. Parsing either returns exactly the data given or raises
``ResponseValidationError``. Requests either reach the server exactly as meant, or fail with
``ValueError``/``TypeError`` before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

import thoughtcredits as tc
from thoughtcredits._http.interpreter import Expect, Listing, Single, decipher
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
# Amounts within the SDK's bounds: at most 30 integer digits and 12 decimal places, where
# trailing zeros do not count (10**30 - 1 and 1.50000000000000000 are both valid).
amounts = st.one_of(
    st.integers(-(10**30) + 1, 10**30 - 1).map(Decimal),
    st.tuples(st.integers(-(10**30) + 1, 10**30 - 1), st.integers(0, 12)).map(
        lambda n_places: Decimal(f"{n_places[0]}E-{n_places[1]}")  # exact: scaleb would round
    ),
    st.integers(0, 12).flatmap(
        lambda places: st.decimals(
            allow_nan=False, allow_infinity=False, places=places, min_value=-1e9, max_value=1e9
        )
    ),
    st.tuples(st.integers(-(10**9), 10**9), st.integers(1, 8)).map(
        lambda n_zeros: Decimal(f"{n_zeros[0]}{'0' * n_zeros[1]}E-{12 + n_zeros[1]}")
    ),
)
# Past the bounds: refused, however they are written.
out_of_bounds = st.one_of(
    st.integers(10**30, 10**40).map(Decimal), st.integers(1, 10**6).filter(lambda n: n % 10 != 0)
    .map(lambda n: Decimal(f"{n}E-13")), st.sampled_from(
        [Decimal("1E+30"), Decimal("-1E+30"), Decimal("1E+600000"), Decimal("1E-200000000"),
         Decimal("0.0000000000001"), Decimal("12345678901234567890123456789012.5")]
    ),
)  # fmt: skip
texts = st.text(st.characters(exclude_categories=()), max_size=30)  # surrogates included
valid_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # no surrogates
lone_surrogates = st.tuples(valid_texts, st.characters(categories=("Cs",)), valid_texts).map(
    "".join
)
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
        "name": draw(st.none() | valid_texts), "expires_on": draw(st.none() | moments),
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
        if extra not in wire and extra not in {tc_camel(name) for name in fields}:
            wire[extra] = draw(st.none() | st.integers() | valid_texts)  # ignored: unknown
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
        "cursor": draw(st.none() | valid_texts),
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


def parse(raw: bytes, build: Expect, method: str = "GET") -> Any:
    """Interpret ``raw`` exactly as the client does for a 2xx answer."""
    return decipher(200, HEADERS, raw, build, method=method, url="u")


single_batch = Single(tc.CreditBatch, "CreateCreditBatch")
batch_page = Listing(tc.CreditBatch, "APICreditBatchesByClientAndCreditAccount", "creditBatches")
page_of_actions = Listing(
    tc.CreditAction, "APICreditActionsByClientIdAndAccountIdAndActionType", "creditActions"
)
account = Single(tc.CreditAccount, "APICreateCreditAccount")


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
wrong_for_amount = st.one_of(
    st.booleans(), texts, st.lists(st.integers(), max_size=2), st.just({}), out_of_bounds
)
wrong_for_uuid = st.one_of(
    st.integers(), st.booleans(), st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.hex), st.text(max_size=40).filter(lambda s: len(s) != 36),
    st.uuids().map(lambda u: "0x" + str(u)[2:]), st.uuids().map(lambda u: "+" + str(u)[1:]),
    st.uuids().map(lambda u: str(u)[:-1] + "_"), st.uuids().map(lambda u: f"urn:uuid:{u}"),
)  # fmt: skip
wrong_for_time = st.one_of(st.integers(), st.booleans(), st.just("yesterday"), st.just(""))


@SLOW_FUZZ
@given(
    st.sampled_from(
        [
            ("currentBalance", wrong_for_amount), ("allocatedCredits", wrong_for_amount),
            ("id", wrong_for_uuid), ("creditAccountId", wrong_for_uuid),
            ("createdAt", wrong_for_time), ("status", st.integers() | st.booleans()),
            ("name", st.integers() | st.lists(texts, max_size=2) | lone_surrogates),
            ("status", lone_surrogates), ("startingBalance", None),
        ]
    ),
    st.data(),
)  # fmt: skip
def test_invalid_batch_field_is_a_validation_error(field_and_values: Any, data: Any) -> None:
    """A wrong type, a non-canonical UUID, an amount past the bounds, a lone surrogate or a
    missing required field: ResponseValidationError."""
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
