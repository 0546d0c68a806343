"""SDK errors become the HTTP responses an app should give its own callers."""

from __future__ import annotations

import json

import pytest

from thoughtcredits import (
    APIConnectionError,
    APITimeoutError,
    PaginationError,
    ResponseValidationError,
    ThoughtCreditsError,
)
from thoughtcredits._http.status import error_from_response
from thoughtcredits.fastapi import error_response

KEY = "sk-never-shown"


def status_error(status: int, headers: dict[str, str] | None = None) -> ThoughtCreditsError:
    """The SDK's error for an upstream status, built exactly as the client builds it."""
    body = json.dumps({"message": f"upstream said {status}"}).encode()
    return error_from_response(
        status, headers or {}, body, method="GET", url="https://x.test/incoming/v2/a", now=0.0
    )


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
    ],
)
def test_error_maps_to_http_status(
    error: ThoughtCreditsError, status: int, retry_after: str | None
) -> None:
    """Each SDK error gets its documented status, and Retry-After only for a rate limit."""
    response = error_response(error)
    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    assert set(json.loads(bytes(response.body))) == {"detail"}


def test_pass_through_keeps_the_upstream_message() -> None:
    """A 404 tells the caller what upstream said, not a generic text."""
    response = error_response(status_error(404))
    assert json.loads(bytes(response.body)) == {"detail": "upstream said 404"}
