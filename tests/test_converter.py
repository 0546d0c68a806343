"""Wire JSON <-> models: seed round trips, strictness, envelopes and exact number encoding."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thoughtcredits as tc
from tests.conftest import payload, retained, sample
from thoughtcredits._http.interpreter import find_payload
from thoughtcredits._models import _OpenEnum
from thoughtcredits._serde.converter import (
    _detailed,
    _fast,
    parse_page_info,
    structure,
    structure_many,
    unstructure,
)
from thoughtcredits._serde.exact_json import dumps, loads_exact


def unwrap_envelope(body: object, items_key: str | None = None) -> object:
    """The payload of ``body`` as the interpreter finds it (no documented operation name)."""
    return find_payload(body, "", items_key)


ZERO = UUID(int=0)
JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)


def batch_payload() -> dict[str, Any]:
    """The seed CreditBatch object."""
    return payload("create_credit_batch")  # type: ignore[no-any-return]


def action_payload() -> dict[str, Any]:
    """The seed CreditAction object."""
    return payload("list_credit_actions")["creditActions"][0]  # type: ignore[no-any-return]


def account_payload() -> dict[str, Any]:
    """The seed CreditAccount object."""
    return payload("create_credit_account")  # type: ignore[no-any-return]


def single(raw: bytes, cls: type[Any]) -> Any:
    """Structure a create/update body decoded once, exactly (fractions as Decimal), as the
    response interpreter does: no number reaches the hooks as a float."""
    return structure(unwrap_envelope(loads_exact(raw)), cls, method="POST", url="u")


@pytest.mark.parametrize("name", ["create_credit_batch", "update_credit_batch"])
def test_seed_credit_batch(name: str) -> None:
    """The create and update seed responses structure into an exact CreditBatch."""
    batch = structure(unwrap_envelope(sample(name)), tc.CreditBatch)
    assert batch == tc.CreditBatch(
        id=ZERO,
        name="string",
        expires_on=JAN_1,
        starting_balance=Decimal(0),
        current_balance=Decimal(0),
        client_id=ZERO,
        status=tc.CreditBatchStatus.ACTIVE,
        created_at=JAN_1,
        updated_at=JAN_1,
        credit_account_id=ZERO,
        allocated_credits=Decimal(0),
    )
    for amount in (batch.starting_balance, batch.current_balance, batch.allocated_credits):
        assert type(amount) is Decimal
    for stamp in (batch.created_at, batch.updated_at, batch.expires_on):
        assert stamp is not None
        assert stamp.utcoffset() == timedelta(0)
    assert type(batch.id) is UUID


def test_seed_credit_batch_status_is_the_enum_member() -> None:
    """A known status comes back as the enum member itself, with ``known`` True."""
    batch = structure(batch_payload(), tc.CreditBatch)
    assert batch.status is tc.CreditBatchStatus.ACTIVE
    assert batch.status.known is True


def test_seed_credit_action() -> None:
    """The credit-actions seed item structures into an exact CreditAction."""
    action = structure(action_payload(), tc.CreditAction)
    assert action == tc.CreditAction(
        id=ZERO,
        client=ZERO,
        action="string",
        amount=Decimal(0),
        target=ZERO,
        target_type="string",
        target_balance_in=Decimal(0),
        target_balance_out=Decimal(0),
        initiator=ZERO,
        initiator_type="string",
        credit_account_name="string",
        source=ZERO,
        source_type="string",
        source_balance_in=Decimal(0),
        source_balance_out=Decimal(0),
        timestamp=JAN_1,
        updated_at=JAN_1,
    )
    assert type(action.amount) is Decimal
    assert type(action.source_balance_out) is Decimal


def test_seed_credit_account() -> None:
    """The create-account seed structures into an exact CreditAccount with sublicenses."""
    account = structure(account_payload(), tc.CreditAccount)
    assert account == tc.CreditAccount(
        id=ZERO,
        client_id=ZERO,
        sublicenses=(tc.Sublicense(id=ZERO, deleted=True),),
        current_balance=Decimal(0),
        status=tc.CreditAccountStatus.ACTIVE,
        notify_emails=("string",),
        batch_days_until_expire=0,
        minimum_batch_amount=0,
        created_at=JAN_1,
        updated_at=JAN_1,
        type=tc.CreditAccountType.CLIENT,
        name="string",
    )
    assert account.status is tc.CreditAccountStatus.ACTIVE
    assert account.type is tc.CreditAccountType.CLIENT
    assert type(account.notify_emails) is tuple


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("list_credit_batches", "creditBatches"),
        ("list_credit_actions", "creditActions"),
    ],
)
def test_seed_page_info(name: str, key: str) -> None:
    """The seed pageInfo structures with every field."""
    body = unwrap_envelope(sample(name), key)
    assert isinstance(body, dict)
    assert parse_page_info(body["pageInfo"]) == tc.PageInfo(
        has_more=True, cursor="string", per_page=0, total=0
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, tc.PageInfo()),
        ({}, tc.PageInfo()),
        ({"hasMore": False}, tc.PageInfo(has_more=False)),
        ({"hasMore": None, "cursor": None, "total": None}, tc.PageInfo()),
        ({"hasMore": True, "cursor": "Mg", "perPage": 25}, tc.PageInfo(True, "Mg", 25)),
    ],
)
def test_page_info_missing_and_null_fields(data: object, expected: tc.PageInfo) -> None:
    """A missing pageInfo or null fields mean 'not given' (no more pages)."""
    assert parse_page_info(data) == expected


@pytest.mark.parametrize(
    ("cls", "make"),
    [
        (tc.CreditBatch, batch_payload),
        (tc.CreditAction, action_payload),
        (tc.CreditAccount, account_payload),
    ],
)
def test_round_trip_to_wire(cls: type[Any], make: Any) -> None:
    """structure -> unstructure -> dumps gives back exactly the seed JSON."""
    original = make()
    model = structure(original, cls)
    assert loads_exact(dumps(unstructure(model))) == original
    assert structure(loads_exact(dumps(unstructure(model))), cls) == model


def test_sublicense_round_trip() -> None:
    """A Sublicense structures and unstructures with its wire names."""
    sub = structure({"id": str(ZERO), "deleted": False}, tc.Sublicense)
    assert sub == tc.Sublicense(id=ZERO, deleted=False)
    assert unstructure(sub) == {"id": str(ZERO), "deleted": False}


def test_exact_fractional_amounts() -> None:
    """Fractional amounts decoded as Decimals are kept digit for digit."""
    body = sample("create_credit_batch")
    raw = (
        json.dumps(body)
        .replace('"startingBalance": 0', '"startingBalance": 1000.10')
        .replace('"currentBalance": 0', '"currentBalance": 0.1')
        .replace('"allocatedCredits": 0', '"allocatedCredits": 12345678901234567890.123456789')
        .encode()
    )
    batch = single(raw, tc.CreditBatch)
    assert str(batch.starting_balance) == "1000.10"
    assert batch.current_balance == Decimal("0.1")
    assert batch.allocated_credits == Decimal("12345678901234567890.123456789")


def test_huge_integer_amount_is_exact() -> None:
    """An integer past 64 bits is kept exactly."""
    body = batch_payload()
    body["startingBalance"] = 2**70
    batch = single(json.dumps(body).encode(), tc.CreditBatch)
    assert batch.starting_balance == Decimal(2**70)


def test_unknown_fields_are_ignored() -> None:
    """Fields the SDK does not know (new API fields) are ignored."""
    body = batch_payload()
    body["newField"] = {"nested": [1, 2]}
    body["anotherOne"] = None
    assert structure(body, tc.CreditBatch) == structure(batch_payload(), tc.CreditBatch)


@pytest.mark.parametrize(
    ("make", "cls", "field", "attr", "enum"),
    [
        (batch_payload, tc.CreditBatch, "status", "status", tc.CreditBatchStatus),
        (account_payload, tc.CreditAccount, "status", "status", tc.CreditAccountStatus),
        (account_payload, tc.CreditAccount, "type", "type", tc.CreditAccountType),
    ],
)
def test_unknown_enum_values_pass_through(
    make: Any, cls: type[Any], field: str, attr: str, enum: type[Any]
) -> None:
    """An enum value the SDK does not know keeps its raw value, with ``known`` False."""
    body = make()
    body[field] = "frozen-by-support"
    value = getattr(structure(body, cls), attr)
    assert isinstance(value, enum)
    assert value.value == "frozen-by-support"
    assert value == "frozen-by-support"
    assert value.known is False
    assert enum("frozen-by-support") is value


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (tc.CreditBatchStatus, ["active", "archived"]),
        (tc.CreditAccountStatus, ["active", "deleted"]),
        (tc.CreditAccountType, ["client", "company"]),
    ],
)
def test_known_enum_values(enum: type[Any], values: list[str]) -> None:
    """The documented enum values are members with ``known`` True."""
    assert [member.value for member in enum] == values
    for value in values:
        assert enum(value).known is True


@pytest.mark.parametrize("action", ["debit", "credit", "refund", "transfer:expired", ""])
def test_action_is_an_open_string(action: str) -> None:
    """A credit action's ``action`` is any string, passed through unchanged."""
    body = action_payload()
    body["action"] = action
    parsed = structure(body, tc.CreditAction)
    assert parsed.action == action
    assert type(parsed.action) is str


def test_optional_fields_may_be_null_or_missing() -> None:
    """Nullable fields accept null and absence; they become None."""
    body = action_payload()
    for key in ("target", "targetType", "targetBalanceIn", "initiator", "source", "sourceType"):
        body[key] = None
    del body["creditAccountName"]
    del body["sourceBalanceOut"]
    action = structure(body, tc.CreditAction)
    assert action.target is None
    assert action.target_balance_in is None
    assert action.credit_account_name is None
    assert action.source_balance_out is None


def test_naive_timestamp_is_read_as_utc() -> None:
    """A timestamp without an offset is taken as UTC, so every datetime is aware."""
    body = batch_payload()
    body["createdAt"] = "2024-05-06T07:08:09.123"
    created = structure(body, tc.CreditBatch).created_at
    assert created == datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


def test_offset_timestamp_keeps_the_instant() -> None:
    """A timestamp with an offset keeps its instant."""
    body = batch_payload()
    body["updatedAt"] = "2024-01-01T02:00:00+02:00"
    assert structure(body, tc.CreditBatch).updated_at == JAN_1


def with_value(make: Any, path: tuple[Any, ...], value: object) -> Any:
    """A copy of ``make()`` with ``value`` at ``path`` (a missing value deletes the key)."""
    body = make()
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


MISSING = object()


@pytest.mark.parametrize(
    ("make", "cls", "path", "value", "where"),
    [
        (batch_payload, tc.CreditBatch, ("startingBalance",), "10", "starting_balance"),
        (batch_payload, tc.CreditBatch, ("currentBalance",), True, "current_balance"),
        (batch_payload, tc.CreditBatch, ("currentBalance",), None, "current_balance"),
        (batch_payload, tc.CreditBatch, ("name",), 5, "name"),
        (batch_payload, tc.CreditBatch, ("name",), ["a"], "name"),
        (batch_payload, tc.CreditBatch, ("id",), MISSING, "id"),
        (batch_payload, tc.CreditBatch, ("status",), MISSING, "status"),
        (batch_payload, tc.CreditBatch, ("id",), None, "id"),
        (batch_payload, tc.CreditBatch, ("id",), "not-a-uuid", "id"),
        (batch_payload, tc.CreditBatch, ("id",), "{" + str(ZERO) + "}", "id"),
        (batch_payload, tc.CreditBatch, ("id",), ZERO.hex, "id"),
        (batch_payload, tc.CreditBatch, ("id",), 0, "id"),
        (batch_payload, tc.CreditBatch, ("status",), 5, "status"),
        (batch_payload, tc.CreditBatch, ("createdAt",), "yesterday", "created_at"),
        (batch_payload, tc.CreditBatch, ("createdAt",), 1704067200000, "created_at"),
        (batch_payload, tc.CreditBatch, ("expiresOn",), 17, "expires_on"),
        (action_payload, tc.CreditAction, ("amount",), "5", "amount"),
        (action_payload, tc.CreditAction, ("action",), 1, "action"),
        (action_payload, tc.CreditAction, ("targetBalanceIn",), "0", "target_balance_in"),
        (action_payload, tc.CreditAction, ("timestamp",), MISSING, "timestamp"),
        (account_payload, tc.CreditAccount, ("notifyEmails",), "ops@acme.test", "notify_emails"),
        (account_payload, tc.CreditAccount, ("notifyEmails",), {"a": 1}, "notify_emails"),
        (account_payload, tc.CreditAccount, ("notifyEmails",), [1], "notify_emails"),
        (account_payload, tc.CreditAccount, ("sublicenses",), {"id": "x"}, "sublicenses"),
        (account_payload, tc.CreditAccount, ("sublicenses", 0, "deleted"), "false", "deleted"),
        (account_payload, tc.CreditAccount, ("sublicenses", 0, "deleted"), 0, "deleted"),
        (account_payload, tc.CreditAccount, ("sublicenses", 0, "id"), MISSING, "id"),
        (account_payload, tc.CreditAccount, ("batchDaysUntilExpire",), "30", "batch_days"),
        (account_payload, tc.CreditAccount, ("minimumBatchAmount",), True, "minimum_batch"),
        (account_payload, tc.CreditAccount, ("type",), None, "type"),
    ],
)
def test_wrong_types_raise_response_validation_error(
    make: Any, cls: type[Any], path: tuple[Any, ...], value: object, where: str
) -> None:
    """A field of the wrong JSON type is a ResponseValidationError naming the field."""
    body = with_value(make, path, value)
    with pytest.raises(tc.ResponseValidationError) as caught:
        structure(body, cls, method="GET", url="https://acme.test/incoming/v2/x")
    assert where in caught.value.message
    assert caught.value.body == body
    assert caught.value.url == "https://acme.test/incoming/v2/x"


def test_fractional_integer_field_is_a_validation_error() -> None:
    """A fractional number in an integer field is refused, not truncated."""
    body = account_payload()
    body["batchDaysUntilExpire"] = 1.5
    with pytest.raises(tc.ResponseValidationError, match="batch_days_until_expire"):
        single(json.dumps(body).encode(), tc.CreditAccount)


@pytest.mark.parametrize("data", [None, [], "x", 5, True, [{}]])
@pytest.mark.parametrize("cls", [tc.CreditBatch, tc.CreditAction, tc.CreditAccount])
def test_non_object_payload(data: object, cls: type[Any]) -> None:
    """A payload that is not a JSON object is a ResponseValidationError."""
    with pytest.raises(tc.ResponseValidationError):
        structure(data, cls)


@pytest.mark.parametrize("data", [[], "x", "", 5, True, [{"hasMore": True}]])
def test_non_object_page_info(data: object) -> None:
    """A pageInfo that is not an object is refused, not read as 'last page' (losing items)."""
    with pytest.raises(tc.ResponseValidationError):
        parse_page_info(data)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"hasMore": "true"}, "has_more"),
        ({"hasMore": 1}, "has_more"),
        ({"perPage": "25"}, "per_page"),
        ({"cursor": 12}, "cursor"),
        ({"total": 1.5}, "total"),
    ],
)
def test_bad_page_info(data: object, where: str) -> None:
    """pageInfo fields of the wrong type are refused, never coerced."""
    raw = json.dumps(data).encode()
    with pytest.raises(tc.ResponseValidationError, match=where):
        parse_page_info(loads_exact(raw))


def test_structure_many_names_the_bad_item() -> None:
    """A bad item in a list is reported with its index."""
    good = action_payload()
    bad = action_payload()
    bad["amount"] = "lots"
    with pytest.raises(tc.ResponseValidationError, match=r"item 1: .*amount"):
        structure_many([good, bad, good], tc.CreditAction)


def test_structure_many_gives_a_tuple() -> None:
    """A list of items becomes a tuple of models, in order."""
    first, second = action_payload(), action_payload()
    second["action"] = "credit"
    actions = structure_many([first, second], tc.CreditAction)
    assert [a.action for a in actions] == ["string", "credit"]
    assert type(actions) is tuple


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize(
    ("make", "cls"),
    [
        (batch_payload, tc.CreditBatch),
        (action_payload, tc.CreditAction),
        (account_payload, tc.CreditAccount),
    ],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_field_value_gives_a_model_or_validation_error(
    make: Any, cls: type[Any], data: st.DataObject
) -> None:
    """Whatever JSON a field holds, parsing returns a model or raises ResponseValidationError."""
    body = make()
    key = data.draw(st.sampled_from(sorted(body)))
    body[key] = data.draw(JSON)
    with contextlib.suppress(tc.ResponseValidationError):
        single(json.dumps(body).encode(), cls)


# --- envelopes ---------------------------------------------------------------------------

ITEM = {"id": "1"}


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        # 1. {"data": {"<Operation>": {...}}}
        ({"data": {"CreateCreditBatch": ITEM}}, None, ITEM),
        (
            {"data": {"APICreditBatchesByClientAndCreditAccount": {"creditBatches": []}}},
            "creditBatches",
            {"creditBatches": []},
        ),
        # 2. {"data": {...payload...}}
        (
            {"data": {"creditBatches": [ITEM], "pageInfo": {}}},
            "creditBatches",
            {"creditBatches": [ITEM], "pageInfo": {}},
        ),
        ({"data": {"id": "1", "name": "x"}}, None, {"id": "1", "name": "x"}),
        # 3. {"data": [...], "pageInfo": ...}
        (
            {"data": [ITEM], "pageInfo": {"hasMore": False}},
            "creditBatches",
            {"creditBatches": [ITEM], "pageInfo": {"hasMore": False}},
        ),
        ({"data": []}, "creditActions", {"creditActions": [], "pageInfo": None}),
        # 4. top level
        (
            {"creditBatches": [ITEM], "pageInfo": {}},
            "creditBatches",
            {"creditBatches": [ITEM], "pageInfo": {}},
        ),
        (ITEM, None, ITEM),
        ([ITEM], None, [ITEM]),
        (None, None, None),
    ],
)
def test_unwrap_envelope(body: object, key: str | None, expected: object) -> None:
    """Every documented envelope shape unwraps to the payload."""
    assert unwrap_envelope(body, key) == expected


@pytest.mark.parametrize(
    "body",
    [
        sample("create_credit_batch"),
        {"data": payload("create_credit_batch")},
        payload("create_credit_batch"),
    ],
    ids=["data-op", "data", "top-level"],
)
def test_single_object_envelopes_give_the_same_model(body: object) -> None:
    """A create/update response parses the same in each envelope shape."""
    raw = json.dumps(body).encode()
    assert single(raw, tc.CreditBatch) == structure(batch_payload(), tc.CreditBatch)


# --- dumps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal(0), b"0"),
        (Decimal("-0"), b"0"),
        (Decimal(1000), b"1000"),
        (Decimal("1000.00"), b"1000"),
        (Decimal("1E+3"), b"1000"),
        (Decimal("1E+30"), b"1" + b"0" * 30),
        (Decimal("10.50"), b"10.5"),
        (Decimal("0.1"), b"0.1"),
        (Decimal("0.1") + Decimal("0.2"), b"0.3"),
        (Decimal("1E-7"), b"0.0000001"),
        (Decimal("12345678901234567890.123456789"), b"12345678901234567890.123456789"),
        (Decimal("9007199254740993"), b"9007199254740993"),  # not representable as a float
        (Decimal("-2.50"), b"-2.5"),
    ],
)
def test_dumps_decimals_exactly(value: Decimal, wire: bytes) -> None:
    """Decimals are written digit for digit, integral ones as integers, never via float."""
    assert dumps(value) == wire
    assert dumps({"startingBalance": value}) == b'{"startingBalance":' + wire + b"}"


def test_dumps_request_body() -> None:
    """A request body is compact JSON with UTC millisecond timestamps and lowercase UUIDs."""
    body = {
        "clientId": UUID("7B0F8A9C-1D2E-4F30-8A41-5B6C7D8E9F01"),
        "startingBalance": Decimal("100"),
        "name": 'Café "Q3"',
        "expiresOn": datetime(2027, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))),
        "notifyEmails": ["ops@acme.test"],
        "licenseIds": ("lic-1", "lic-2"),
        "flag": True,
        "nothing": None,
    }
    assert (
        dumps(body)
        == (
            '{"clientId":"7b0f8a9c-1d2e-4f30-8a41-5b6c7d8e9f01","startingBalance":100,'
            '"name":"Café \\"Q3\\"","expiresOn":"2027-01-01T00:00:00.000Z",'
            '"notifyEmails":["ops@acme.test"],"licenseIds":["lic-1","lic-2"],'
            '"flag":true,"nothing":null}'
        ).encode()
    )


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_dumps_refuses_non_finite_decimals(value: Decimal) -> None:
    """A non-finite Decimal is refused with ValueError rather than written as invalid JSON."""
    with pytest.raises(ValueError, match=r"(?i)finite|nan|infinity"):
        dumps({"startingBalance": value})


def test_loads_exact_keeps_decimal_digits() -> None:
    """The exact decoder keeps every digit of a fractional number."""
    assert loads_exact(b'{"a": 0.10, "b": 3}') == {"a": Decimal("0.10"), "b": 3}


@pytest.mark.parametrize("raw", [b"NaN", b'{"a": Infinity}', b'{"a": -Infinity}'])
def test_loads_refuses_non_finite(raw: bytes) -> None:
    """NaN and Infinity are not JSON and are refused by both decoders."""
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError subclass is the contract
        loads_exact(raw)
    with pytest.raises(ValueError):  # noqa: PT011
        loads_exact(raw)


# --- bounded numbers, strict UUIDs, valid text (the same in both converters) -------------------

ACTION_ID = "cd613e30-d8f1-4adf-91b7-00000000000c"


def both(data: object, cls: type[Any]) -> list[Any]:
    """``data`` structured by the fast and by the detailed converter (each may raise)."""
    return [converter.structure(data, cls) for converter in (_fast, _detailed)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10**30 - 1, Decimal(10**30 - 1)),
        (-(10**30) + 1, Decimal(-(10**30) + 1)),
        (Decimal("9" * 30 + ".5"), Decimal("9" * 30 + ".5")),
        (Decimal("0.123456789012"), Decimal("0.123456789012")),
        (Decimal("1.50000000000000000000"), Decimal("1.50000000000000000000")),
        (Decimal("1E+29"), Decimal("1E+29")),
        (Decimal("-0"), Decimal(0)),
    ],
)
def test_amounts_within_bounds(value: object, expected: Decimal) -> None:
    """Up to 30 integer digits and 12 decimal places (trailing zeros not counted), as sent."""
    body = {**action_payload(), "amount": value}
    for action in both(body, tc.CreditAction):
        assert action.amount == expected
        assert type(action.amount) is Decimal


@pytest.mark.parametrize(
    "value",
    [
        10**30, -(10**30), Decimal("1E+30"), Decimal("1" * 31), Decimal("0.1234567890123"),
        Decimal("1E-13"), Decimal("1E-200000000"), Decimal("1E+600000"), Decimal("NaN"),
        Decimal("Infinity"), Decimal("sNaN"), 1.5, 2.0, float("inf"), "5", True,
    ],
)  # fmt: skip
def test_amounts_past_bounds_or_of_the_wrong_type_are_refused(value: object) -> None:
    """More than 30 integer digits or 12 places, non-finite, a float, a string, a bool."""
    body = {**action_payload(), "amount": value}
    with pytest.raises(tc.ResponseValidationError, match="amount"):
        structure(body, tc.CreditAction)
    for converter in (_fast, _detailed):
        with pytest.raises(Exception):  # noqa: B017, PT011 - each converter's own error
            converter.structure(body, tc.CreditAction)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10**18 - 1, 10**18 - 1), (-(10**18) + 1, -(10**18) + 1), (Decimal("3.0"), 3),
     (Decimal("1E+17"), 10**17), (0, 0)],
)  # fmt: skip
def test_integers_within_bounds(value: object, expected: int) -> None:
    """An integer field takes up to 18 digits, and a Decimal only when it is integral."""
    for info in both({"perPage": value, "total": value}, tc.PageInfo):
        assert info.per_page == info.total == expected
        assert type(info.total) is int


@pytest.mark.parametrize(
    "value",
    [10**18, -(10**18), Decimal("1E+18"), Decimal("2.5"), Decimal("1E+600000"),
     Decimal("1E+10000000"), Decimal("NaN"), 1.0, 1.5, "25", True],
)  # fmt: skip
def test_integers_past_bounds_or_not_integral_are_refused(value: object) -> None:
    """Over 18 digits, not integral, non-finite, a float, a string or a bool: refused."""
    with pytest.raises(tc.ResponseValidationError, match="total"):
        parse_page_info({"total": value})
    with pytest.raises(tc.ResponseValidationError, match="minimum_batch_amount"):
        structure({**account_payload(), "minimumBatchAmount": value}, tc.CreditAccount)


def fastest_refusal(
    call: Callable[[], object], error: type[Exception], match: str | None = None
) -> float:
    """Seconds of the fastest of 20 calls, each of which must raise ``error`` (the machine is
    shared, so the best run is the one that says what the code costs)."""

    def once() -> float:
        started = time.perf_counter()
        with pytest.raises(error, match=match):
            call()
        return time.perf_counter() - started

    return min(once() for _ in range(20))


@pytest.mark.parametrize(
    "body",
    [
        {"total": Decimal("1E+600000")},
        {"total": Decimal("1E+10000000")},
        {"perPage": Decimal("-1E+600000")},
    ],
)
def test_hostile_exponents_are_refused_in_microseconds(body: dict[str, Any]) -> None:
    """``1e600000`` (20 bytes) is refused before any int() could build 600,000 digits: the
    whole refusal, error message included, in under a millisecond (best of 20: the machine is
    shared)."""

    assert fastest_refusal(lambda: parse_page_info(body), tc.ResponseValidationError) < 0.001
    hook = _fast.get_structure_hook(tc.PageInfo)
    assert fastest_refusal(lambda: hook(body, tc.PageInfo), ValueError, "out of range") < 0.0001


def test_hostile_amount_exponent_is_refused_in_microseconds() -> None:
    """``1e-200000000`` would be a 200 MB number in ``to_json``; it is refused at once."""
    body = {**action_payload(), "amount": Decimal("1E-200000000")}

    hook = _fast.get_structure_hook(tc.CreditAction)
    refusal = fastest_refusal(lambda: hook(body, tc.CreditAction), ValueError, "12 decimal places")
    assert refusal < 0.0001
    with pytest.raises(tc.ResponseValidationError, match="amount"):
        structure(body, tc.CreditAction)


@pytest.mark.parametrize(
    "value",
    [
        "0x" + ACTION_ID[2:], "0X" + ACTION_ID[2:], "{" + ACTION_ID[1:-1] + "}",
        "urn:uuid:" + ACTION_ID, ACTION_ID.replace("-", ""), "+" + ACTION_ID[1:],
        ACTION_ID[:-2] + "_0", ACTION_ID[:9] + "-" + ACTION_ID[10:], ACTION_ID[:-1] + "g",
        ACTION_ID[:-1] + "٠", " " + ACTION_ID[1:], ACTION_ID[:8] + "-" + ACTION_ID[9:13] + "-" +
        ACTION_ID[14:18] + "--" + ACTION_ID[20:], ACTION_ID + "0", 0, True, [ACTION_ID],
    ],
)  # fmt: skip
@pytest.mark.parametrize("key", ["id", "client", "source"])
def test_only_the_canonical_uuid_form_is_accepted(value: object, key: str) -> None:
    """No ``0x`` (``int(h, 16)`` took it), braces, ``urn:``, missing dashes, ``+``/``_``,
    non-ASCII digits or stray dashes: in the own id and in the cached ids, in both converters."""
    body = {**action_payload(), key: value}
    with pytest.raises(tc.ResponseValidationError, match=key):
        structure(body, tc.CreditAction)
    for converter in (_fast, _detailed):
        with pytest.raises(Exception):  # noqa: B017, PT011 - each converter's own error
            converter.structure(body, tc.CreditAction)


@pytest.mark.parametrize("key", ["id", "client", "source"])
def test_uuids_in_either_case_are_parsed(key: str) -> None:
    """Upper-case hex is still the canonical form; the value is the same UUID."""
    for action in both({**action_payload(), key: ACTION_ID.upper()}, tc.CreditAction):
        assert getattr(action, key) == UUID(ACTION_ID)
        assert str(getattr(action, key)) == ACTION_ID


def test_repeated_uuids_are_shared_and_own_ids_are_not_cached() -> None:
    """A client id parsed twice is the same object; an own id is a fresh, equal UUID."""
    first, second = structure_many([action_payload(), action_payload()], tc.CreditAction)
    assert first.client is second.client
    assert first.id == second.id
    assert first.id is not second.id


@pytest.mark.parametrize(
    ("make", "cls", "key"),
    [
        (action_payload, tc.CreditAction, "action"),
        (action_payload, tc.CreditAction, "creditAccountName"),
        (batch_payload, tc.CreditBatch, "name"),
        (batch_payload, tc.CreditBatch, "status"),
        (account_payload, tc.CreditAccount, "notifyEmails"),
    ],
)
def test_lone_surrogates_are_refused(make: Any, cls: type[Any], key: str) -> None:
    """A string that is not valid Unicode decodes from JSON but is a validation error."""
    body = make()
    body[key] = ["ok@acme.test", "a\ud800"] if key == "notifyEmails" else "caf\udce9"
    with pytest.raises(tc.ResponseValidationError):
        structure(body, cls)
    body[key] = ["ok@acme.test", "café"] if key == "notifyEmails" else "café ☕"
    structure(body, cls)


def test_unknown_enum_values_do_not_touch_the_enum_class() -> None:
    """Pseudo-members live outside the class; identity holds for every value, not 32."""
    enum = tc.CreditBatchStatus
    before = dict(enum._value2member_map_)
    values = [f"drift-{index}" for index in range(200)]
    parsed = [structure({**batch_payload(), "status": v}, tc.CreditBatch).status for v in values]
    assert enum._value2member_map_ == before
    assert list(enum) == [enum.ACTIVE, enum.ARCHIVED]
    for value, member in zip(values, parsed, strict=True):
        assert enum(value) is member
        assert member.value == value
        assert member.known is False
    assert enum("active") is enum.ACTIVE


def test_the_log_of_unknown_enum_values_keeps_no_value(caplog: pytest.LogCaptureFixture) -> None:
    """Remembering which unknown values were logged keeps 32 hashes, not 32 long values."""

    class Kind(_OpenEnum):
        KNOWN = "known"

    def drift() -> None:
        with caplog.at_level("WARNING", logger="thoughtcredits"):
            for number in range(40):
                assert not Kind(f"{number:02d}" + "x" * 100_000).known
        caplog.clear()

    assert retained(drift) < 200_000


def test_unknown_enum_values_are_logged_once_each_with_a_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each new value is logged once; past the bound, one last line says logging stopped."""
    enum = tc.CreditAccountType
    with caplog.at_level("WARNING", logger="thoughtcredits"):
        for _ in range(3):
            for index in range(100):
                enum(f"kind-{index}")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("CreditAccountT")]
    assert len(lines) <= 33
    assert lines[0] == "CreditAccountType: unknown value 'kind-0' from the API; passing it through"
    assert len(set(lines)) == len(lines)
    assert lines[-1].startswith("CreditAccountType: more than 32 unknown values")
