"""The error tree: status -> class, bodies, messages, Retry-After parsing and pickling."""

from __future__ import annotations

import email.utils
import json
import pickle
from typing import Any

import pytest

import thoughtcredits as tc
from tests.conftest import sample
from thoughtcredits._http.status import error_from_response
from thoughtcredits._quota.hints import parse_retry_after

NOW = 1_700_000_000.0
URL = "https://acme.thoughtindustries.com/incoming/v2/clients/x/creditBatches"


def make(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> tc.APIStatusError:
    """The error for a response, at the fixed clock NOW."""
    return error_from_response(status, headers or {}, body, method="GET", url=URL, now=NOW)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, tc.BadRequestError),
        (401, tc.AuthenticationError),
        (403, tc.PermissionDeniedError),
        (404, tc.NotFoundError),
        (405, tc.APIStatusError),
        (409, tc.ConflictError),
        (418, tc.APIStatusError),
        (422, tc.UnprocessableEntityError),
        (429, tc.RateLimitError),
        (500, tc.InternalServerError),
        (502, tc.InternalServerError),
        (503, tc.InternalServerError),
        (504, tc.InternalServerError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[tc.APIStatusError]) -> None:
    """Each status becomes exactly its documented class, carrying status, method and URL."""
    error = make(status, b'{"message": "nope"}')
    assert type(error) is cls
    assert isinstance(error, tc.APIStatusError)
    assert isinstance(error, tc.ThoughtCreditsError)
    assert (error.status, error.method, error.url) == (status, "GET", URL)
    assert error.message == "nope"
    assert error.body == {"message": "nope"}


def test_tree_shape() -> None:
    """The hierarchy is the one drawn in the module docstring."""
    assert issubclass(tc.APITimeoutError, tc.APIConnectionError)
    assert issubclass(tc.APIConnectionError, tc.ThoughtCreditsError)
    assert issubclass(tc.ResponseValidationError, tc.ThoughtCreditsError)
    assert issubclass(tc.PaginationError, tc.ThoughtCreditsError)
    assert not issubclass(tc.APIStatusError, tc.APIConnectionError)
    for cls in (tc.RateLimitError, tc.InternalServerError, tc.NotFoundError):
        assert issubclass(cls, tc.APIStatusError)


def test_empty_401_body() -> None:
    """A 401 with an empty body (as the API sends) is an AuthenticationError with body None."""
    error = make(401, b"")
    assert type(error) is tc.AuthenticationError
    assert error.body is None
    assert error.message == "(empty body)"
    assert str(error) == f"401 (empty body) (GET {URL})"


def test_whitespace_body_counts_as_empty() -> None:
    """A body of only whitespace is treated like an empty body."""
    assert make(500, b"  \r\n ").body is None


def test_html_body_is_kept_as_text() -> None:
    """An HTML error page from a proxy is kept as text and summarised in the message."""
    html = b"<html>\n  <body>\n    <h1>502 Bad Gateway</h1>\n  </body>\n</html>\n"
    error = make(502, html)
    assert type(error) is tc.InternalServerError
    assert error.body == html.decode()
    assert error.message == "<html> <body> <h1>502 Bad Gateway</h1> </body> </html>"


def test_long_text_body_is_truncated_in_the_message() -> None:
    """A huge non-JSON body is cut to 200 characters in the message but kept whole in body."""
    error = make(500, b"x" * 5000)
    assert error.message == "x" * 200 + "…"
    assert error.body == "x" * 5000


def test_a_long_url_is_cut_in_the_message_but_kept_whole_in_url() -> None:
    """A page with a 64 KiB cursor that fails: its message (which goes into one-line logs) holds
    500 characters of the URL; ``error.url`` holds it all. Pickling keeps both."""
    url = f"{URL}?cursor={'c' * 65_000}"
    status = error_from_response(500, {}, b"", method="GET", url=url, now=NOW)
    unreadable = tc.ResponseValidationError("bad body", method="GET", url=url)
    for error in (status, unreadable, roundtrip(status)):
        assert f"(GET {url[:500]}…)" in str(error)
        assert len(str(error)) < 1_000
        assert error.url == url  # type: ignore[attr-defined]


def test_invalid_utf8_body_never_raises() -> None:
    """Bytes that are not UTF-8 are decoded with replacement characters, not an exception."""
    error = make(500, b"\xff\xfe bad \xc3")
    assert isinstance(error.body, str)
    assert "bad" in error.message


def test_truncated_json_body_is_text() -> None:
    """A JSON body cut short is kept as raw text."""
    error = make(400, b'{"message": "bad')
    assert error.body == '{"message": "bad'
    assert error.message == '{"message": "bad'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "startingBalance is required"}, "startingBalance is required"),
        ({"error": "rate_limit_exceeded"}, "rate_limit_exceeded"),
        ({"error": "bad", "message": "the detail"}, "the detail"),
        ({"message": "", "error": "fallback"}, "fallback"),
        ({"message": 42}, "HTTP 400"),
        ({"message": None, "error": ["x"]}, "HTTP 400"),
        ([1, 2, 3], "HTTP 400"),
        (17, "HTTP 400"),
        ("plain json string", "plain json string"),
    ],
)
def test_message_extraction(body: object, message: str) -> None:
    """The message is the body's ``message``, else ``error``, else a short fallback."""
    error = make(400, json.dumps(body).encode())
    assert error.message == message
    assert error.body == body


def test_documented_429_body() -> None:
    """The 429 body from the rate-limit page gives message and retryAfter."""
    error = make(429, json.dumps(sample("error_429")).encode())
    assert type(error) is tc.RateLimitError
    assert error.message == "Request rate limit reached. Retry after 32 seconds."
    assert error.retry_after == 32.0
    assert error.body == sample("error_429")


def test_request_id_header() -> None:
    """``request_id`` reads X-Request-Id case-insensitively."""
    assert make(500, headers={"x-request-id": "req-1"}).request_id == "req-1"
    assert make(500).request_id is None


def test_a_hostile_request_id_is_printable_and_bounded() -> None:
    """An escape sequence or an undecodable byte is escaped, the id cut at 200 characters, and
    ``Request-Id`` is read too, as for an unreadable 2xx."""
    assert make(500, headers={"X-Request-Id": "r\x1b[2J\udcff"}).request_id == "r\\x1b[2J\\udcff"
    assert make(500, headers={"X-Request-Id": "r" * 999}).request_id == "r" * 200 + "…"
    assert make(500, headers={"Request-Id": "req-2"}).request_id == "req-2"


def test_headers_are_case_insensitive() -> None:
    """Response headers on the error can be read in any case."""
    error = make(503, headers={"retry-after": "3"})
    assert error.headers["Retry-After"] == "3"
    assert error.retry_after == 3.0


def http_date(offset: float) -> str:
    """An RFC 7231 date ``offset`` seconds from NOW."""
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", None),  # zero is "no delay given": the caller backs off (no retry storm)
        ("1", 1.0),
        ("32", 32.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("0.25", 0.25),
        ("-1", None),
        ("-0.5", None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("1e400", None),  # overflows to inf
        ("", None),
        ("   ", None),
        ("soon", None),
        ("0x10", None),
        # RFC 9110's digits are ASCII; Python's float() would read each of these.
        ("1_0", None),
        ("\uff15", None),  # fullwidth 5
        ("\u0661", None),  # Arabic-Indic 1
        (None, None),
        (http_date(30), 30.0),
        (http_date(0), None),
        (http_date(-3600), None),  # a date in the past gives no delay: back off instead
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),  # year overflow
        ("Fri, 99 Foo 2024 99:99:99 GMT", None),
        ("Mon, 32 Jan 2024 00:00:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After parses delta seconds and HTTP dates; anything unusable gives None."""
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_far_future_date_is_finite() -> None:
    """A far-future HTTP date is a (large) finite delay, left to the cap to refuse."""
    delay = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=NOW)
    assert delay is not None
    assert delay > 10**11


RESET_IN_10 = str(int(NOW) + 10)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "5", "X-RateLimit-Reset": RESET_IN_10}, {"retryAfter": 32}, 5.0),
        ({"X-RateLimit-Reset": RESET_IN_10}, {"retryAfter": 32}, 10.0),
        ({}, {"retryAfter": 32}, 32.0),
        ({"Retry-After": "garbage", "X-RateLimit-Reset": RESET_IN_10}, {"retryAfter": 32}, 10.0),
        ({"Retry-After": "nan"}, {"retryAfter": 32}, 32.0),
        ({"X-RateLimit-Reset": "later"}, {"retryAfter": 32}, 32.0),
        # A reset in the past says nothing: the body's retryAfter is used.
        ({"X-RateLimit-Reset": str(int(NOW) - 100)}, {"retryAfter": 32}, 32.0),
        ({"Retry-After": http_date(12)}, {"retryAfter": 32}, 12.0),
        ({}, {"retryAfter": 2.5}, 2.5),
        ({}, {"retryAfter": -1}, None),
        ({}, {"retryAfter": "32"}, None),
        ({}, {"retryAfter": True}, None),
        ({}, {}, None),
        ({}, None, None),
    ],
)
def test_retry_after_precedence(
    headers: dict[str, str], body: object, expected: float | None
) -> None:
    """A 429's delay comes from Retry-After, then X-RateLimit-Reset, then the body's retryAfter."""
    raw = b"" if body is None else json.dumps(body).encode()
    error = make(429, raw, headers)
    assert type(error) is tc.RateLimitError
    assert error.retry_after == expected


def test_503_with_retry_after_carries_it() -> None:
    """A 503 with Retry-After exposes the delay."""
    assert make(503, headers={"Retry-After": "4"}).retry_after == 4.0


@pytest.mark.parametrize("status", [400, 500, 502, 503])
def test_retry_after_only_for_429_and_503_header(status: int) -> None:
    """Other statuses (and a 503 without Retry-After) carry no server delay."""
    error = make(status, b'{"retryAfter": 5}', {"X-RateLimit-Reset": RESET_IN_10})
    assert error.retry_after is None


def roundtrip(error: BaseException) -> Any:
    """``error`` pickled and unpickled (our own objects, so loading them is safe)."""
    return pickle.loads(pickle.dumps(error))  # noqa: S301


def status_error(cls: type[tc.APIStatusError], status: int) -> tc.APIStatusError:
    """A fully populated status error."""
    return cls(
        "boom",
        status=status,
        body={"message": "boom", "n": [1, 2]},
        headers={"X-Request-Id": "r-1", "Retry-After": "3"},
        method="POST",
        url=URL,
        retry_after=3.0 if status == 429 else None,
    )


STATUS_CLASSES = [
    (tc.APIStatusError, 418),
    (tc.BadRequestError, 400),
    (tc.AuthenticationError, 401),
    (tc.PermissionDeniedError, 403),
    (tc.NotFoundError, 404),
    (tc.ConflictError, 409),
    (tc.UnprocessableEntityError, 422),
    (tc.RateLimitError, 429),
    (tc.InternalServerError, 503),
]


@pytest.mark.parametrize(("cls", "status"), STATUS_CLASSES)
def test_pickle_status_errors(cls: type[tc.APIStatusError], status: int) -> None:
    """A status error survives pickling (e.g. across a process pool) with every attribute."""
    error = status_error(cls, status)
    copy = roundtrip(error)
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.args == error.args
    for name in ("message", "status", "body", "method", "url", "retry_after", "request_id"):
        assert getattr(copy, name) == getattr(error, name), name
    assert dict(copy.headers) == dict(error.headers)


@pytest.mark.parametrize("cls", [tc.APIConnectionError, tc.APITimeoutError, tc.ClientClosedError])
@pytest.mark.parametrize("sent", [True, False])
def test_pickle_connection_errors(cls: type[tc.APIConnectionError], sent: bool) -> None:
    """Connection errors pickle with method, URL and request_sent."""
    error = cls("could not connect", method="GET", url=URL, request_sent=sent)
    copy = roundtrip(error)
    assert type(copy) is cls
    assert (copy.message, copy.method, copy.url, copy.request_sent) == (
        "could not connect",
        "GET",
        URL,
        sent,
    )
    assert str(copy) == str(error)


@pytest.mark.parametrize("cls", [tc.ResponseValidationError, tc.ResponseTooLargeError])
def test_pickle_response_validation_error(cls: type[tc.ResponseValidationError]) -> None:
    """ResponseValidationError pickles with its message, method, URL, body, status, applied."""
    error = cls("bad", method="GET", url=URL, body={"data": 1}, status=200)
    copy = roundtrip(error)
    assert type(copy) is cls
    assert (copy.message, copy.method, copy.url, copy.body) == ("bad", "GET", URL, {"data": 1})
    assert (copy.status, copy.applied) == (200, False)
    assert str(copy) == str(error) == f"bad (GET {URL})"


def test_pickle_applied_error_keeps_one_warning() -> None:
    """An applied=True error round-trips with its "WAS MADE" text once, not twice."""
    error = tc.ResponseValidationError("bad", method="POST", url=URL, status=201, applied=True)
    copy = roundtrip(error)
    assert (copy.applied, copy.status, str(copy)) == (True, 201, str(error))
    assert str(copy).count("WAS MADE") == 1


@pytest.mark.parametrize("cls", [tc.ThoughtCreditsError, tc.PaginationError, tc.EventLoopError])
def test_pickle_plain_errors(cls: type[tc.ThoughtCreditsError]) -> None:
    """Errors without extra attributes pickle with their message."""
    copy = roundtrip(cls("cursor repeated"))
    assert type(copy) is cls
    assert str(copy) == "cursor repeated"


def test_every_public_error_class_is_pickled_above() -> None:
    """The pickling tests cover every exception class the package exports."""
    exported = {
        obj
        for name in tc.__all__
        if isinstance(obj := getattr(tc, name), type) and issubclass(obj, BaseException)
    }
    covered = {cls for cls, _ in STATUS_CLASSES} | {
        tc.APIConnectionError,
        tc.APITimeoutError,
        tc.ClientClosedError,
        tc.ResponseValidationError,
        tc.ResponseTooLargeError,
        tc.ThoughtCreditsError,
        tc.PaginationError,
        tc.EventLoopError,
    }
    assert exported == covered
