"""Fuzzed request building: odd ids, unicode names, huge numbers, path and query characters.

Each request either reaches ``FakeCreditsServer`` exactly as meant (path, query and body
bytes checked), or fails with ``ValueError``/``TypeError`` before anything is sent.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer

from . import KEY
from .test_fuzz import SLOW_FUZZ, texts

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
    if not number.is_finite() or number < 0 or number.adjusted() > 29:
        argument_error(requests, error, ValueError)
        return
    # normalize() under the default 28 digits would round 33 digits to 12 places and hide the 13th.
    places = -number.normalize(Context(prec=200)).as_tuple().exponent  # type: ignore[operator]
    if error is not None and number != 0 and places > 12:
        argument_error(requests, error, ValueError)  # more places than credits have: may refuse
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
