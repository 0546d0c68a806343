"""SDK errors become the HTTP responses an app should give its own callers."""

from __future__ import annotations

import json

import pytest

from thoughtcredits import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    EventLoopError,
    PaginationError,
    ResponseValidationError,
    ThoughtCreditsError,
)
from thoughtcredits._http.status import error_from_response
from thoughtcredits.fastapi import error_response

KEY = "sk-never-shown"
URL = "https://x.test/incoming/v2/a"


def status_error(
    status: int, headers: dict[str, str] | None = None, method: str = "GET"
) -> ThoughtCreditsError:
    """The SDK's error for an upstream status, built exactly as the client builds it."""
    body = json.dumps({"message": f"upstream said {status}"}).encode()
    return error_from_response(status, headers or {}, body, method=method, url=URL, now=0.0)


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (status_error(404), 404, None),
        (status_error(409), 409, None),
        (status_error(400), 400, None),
        (status_error(422), 422, None),
        (status_error(429, {"Retry-After": "12.2"}), 503, "13"),
        (status_error(429), 503, None),
        (status_error(401), 502, None),
        (status_error(403), 502, None),
        (status_error(500), 502, None),
        (status_error(503), 502, None),
        (APITimeoutError("slow", method="GET", url="u"), 504, None),
        (APIConnectionError("down", method="GET", url="u"), 502, None),
        (ResponseValidationError("bad body"), 502, None),
        (PaginationError("loop"), 502, None),
        # The app's own bug, not its upstream's: a client shared across event loops.
        (EventLoopError("second loop"), 500, None),
        # A create that failed without changing anything: as before, and safe to retry.
        (status_error(404, method="POST"), 404, None),
        (status_error(422, method="POST"), 422, None),
        (status_error(429, {"Retry-After": "3"}, method="POST"), 503, "3"),
        (status_error(401, method="POST"), 502, None),
        (APIConnectionError("refused", method="POST", url="u", request_sent=False), 502, None),
    ],
)
def test_error_maps_to_http_status(
    error: ThoughtCreditsError, status: int, retry_after: str | None
) -> None:
    """Each SDK error gets its documented status, and Retry-After only for a rate limit."""
    response = error_response(error)
    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    body = json.loads(bytes(response.body))
    assert set(body) == {"detail", "applied"}
    assert body["applied"] is False  # nothing was changed: the caller may retry


def test_pass_through_keeps_the_upstream_message() -> None:
    """A 404 tells the caller what upstream said, not a generic text."""
    response = error_response(status_error(404))
    assert json.loads(bytes(response.body)) == {"detail": "upstream said 404", "applied": False}


MAYBE = [
    status_error(500, method="POST"),
    status_error(503, {"Retry-After": "5"}, method="POST"),
    status_error(502, method="PUT"),
    status_error(303, {"Location": "/x/1"}, method="POST"),
    APITimeoutError("slow", method="POST", url="u"),
    APIConnectionError("reset", method="POST", url="u"),
    ClientClosedError("closed", method="POST", url="u", request_sent=True),
]


@pytest.mark.parametrize("error", MAYBE, ids=lambda e: f"{type(e).__name__}")
def test_a_change_that_may_have_been_made_is_424_with_applied_null(
    error: ThoughtCreditsError,
) -> None:
    """A create whose answer was lost, or was a 5xx or redirect: 424, applied null, no resend."""
    response = error_response(error)
    assert response.status_code == 424
    assert "Retry-After" not in response.headers  # nothing invites a resend
    body = json.loads(bytes(response.body))
    assert body["applied"] is None
    assert "do not send this request again before checking" in body["detail"]


def test_a_change_that_was_made_is_202_with_applied_true() -> None:
    """A 2xx to a create whose body cannot be read: 202, applied true, do not resend."""
    error = ResponseValidationError(
        "not JSON", method="POST", url=URL, status=201, applied=True, request_id="req-7"
    )
    response = error_response(error)
    assert response.status_code == 202
    body = json.loads(bytes(response.body))
    assert (body["applied"], body["request_id"]) == (True, "req-7")
    assert "made this change" in body["detail"]
    assert "do not send this request again" in body["detail"]


def test_the_service_request_id_is_passed_on() -> None:
    """The credits service's X-Request-Id is in the body, for a support ticket."""
    error = status_error(500, {"X-Request-Id": "req-9"}, method="POST")
    assert json.loads(bytes(error_response(error).body))["request_id"] == "req-9"
