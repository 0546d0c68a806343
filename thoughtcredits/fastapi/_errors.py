"""SDK errors as the HTTP answers an app gives its own caller, each logged once at WARNING.

The body is ``{"detail": ..., "applied": true | false | null}`` (plus ``"request_id"``, the
credits service's, when it sent one), and never holds the API key. ``applied`` is the error's:
whether the credits service made the change. The status codes are chosen so that nothing that
resends requests by itself (a browser, a service mesh, a retry middleware) resends one that may
have issued credits:

* ``applied: true`` → **202 Accepted**: the change was made, only its answer could not be
  read. A 2xx is the one class no client or proxy resends; the body says not to.
* ``applied: null`` → **424 Failed Dependency**: the change may have been made (the answer was
  lost, or was a 5xx or a redirect), so the request is neither done nor safe to send again. A
  5xx is what gateways and meshes may resend by themselves (Envoy's ``5xx`` and
  ``gateway-error`` retry policies, App Mesh's server and gateway errors), and 409 is the one
  4xx they can be told to resend; no retry policy names 424, whose meaning ("this depended on
  another action, which failed") is what happened.
* ``applied: false`` (nothing was changed, so a retry is safe): 404, 409, 400 and 422 pass
  through; a rate limit becomes 503 with ``Retry-After``; a timeout 504; bad credentials,
  server errors and unreadable answers 502 (the app's upstream failed, not its caller); a
  client used from the wrong event loop 500 (the app's own fault).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EventLoopError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ThoughtCreditsError,
    UnprocessableEntityError,
)
from .._printable import printable

__all__ = ["error_response", "install_error_handlers"]

logger = logging.getLogger("thoughtcredits.fastapi")
# The caller's own text in the log line (its X-Request-ID, the path it asked for), in characters
_MAX_OWN_ID, _MAX_PATH = 200, 1000

# Upstream statuses a browser can act on pass through; the rest mean "our upstream failed".
_PASS_THROUGH: Mapping[type[APIStatusError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    BadRequestError: 400,
    UnprocessableEntityError: 422,
}
_MADE = (
    "the credits service made this change, but its answer could not be read; do not send "
    "this request again"
)
_MAYBE = (
    "the credits service may have made this change (its answer was lost or failed); do not "
    "send this request again before checking whether it was made"
)


def _request_id(error: ThoughtCreditsError) -> str | None:
    """The credits service's request id, when its answer had one."""
    if isinstance(error, APIStatusError | ResponseValidationError):
        return error.request_id
    return None


def error_response(error: ThoughtCreditsError) -> JSONResponse:
    """The HTTP response an app should give its own caller for an SDK error.

    A change that was made answers 202, one that may have been made 424, each with
    ``"applied"`` (true, null) and advice not to resend; otherwise 404/409/400/422 pass
    through, a rate limit becomes 503 with ``Retry-After``, a timeout 504, and bad
    credentials, server errors and unreadable responses 502, a client used from the wrong
    event loop 500. The body is
    ``{"detail": ..., "applied": ...}``, plus the service's ``"request_id"`` when known, and
    never holds the API key.
    """
    headers: dict[str, str] = {}
    applied = error.applied
    if applied:
        status, detail = 202, _MADE
    elif applied is None:
        status, detail = 424, _MAYBE
    elif isinstance(error, RateLimitError):
        status = 503
        if error.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        detail = "the credits service is rate limited; retry later"
    elif isinstance(error, APIStatusError) and type(error) in _PASS_THROUGH:
        status, detail = _PASS_THROUGH[type(error)], error.message
    elif isinstance(error, APITimeoutError):
        status, detail = 504, "the credits service timed out"
    elif isinstance(error, EventLoopError):
        # The app's own bug (a client shared across event loops): nothing upstream failed.
        status, detail = 500, "this app used its credits client from the wrong event loop"
    elif isinstance(error, AuthenticationError | PermissionDeniedError):
        status, detail = 502, "the credits service refused this app's credentials"
    elif isinstance(error, APIConnectionError | ResponseValidationError | PaginationError):
        status, detail = 502, "the credits service could not be reached or understood"
    else:
        status, detail = 502, "the credits service failed"
    body: dict[str, object] = {"detail": detail, "applied": applied}
    request_id = _request_id(error)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every uncaught SDK error in ``app`` with :func:`error_response`, and log it.

    Each is logged once at WARNING on the ``thoughtcredits.fastapi`` logger: the route, the
    answer, what the change did (``applied``), the error, and the request ids (the credits
    service's, and the app's own ``X-Request-ID`` when the caller sent one).
    """

    async def handle(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ThoughtCreditsError)
        response = error_response(error)
        upstream, own = _request_id(error), request.headers.get("X-Request-ID")
        if own:  # (printable: no escape sequence of the caller's reaches a terminal)
            own = printable(own, _MAX_OWN_ID)
        ids = "".join(
            f"; {name} request id {value}"
            for name, value in (("service", upstream), ("this", own))
            if value
        )
        logger.warning(
            "%s %s answered %d (applied: %s): %s: %s%s",
            request.method, printable(request.url.path, _MAX_PATH), response.status_code,
            {True: "yes", False: "no", None: "unknown"}[error.applied],
            type(error).__name__, error, ids,
            extra={"tc_status": response.status_code, "tc_applied": error.applied,
                   "tc_request_id": upstream, "tc_app_request_id": own},
        )  # fmt: skip
        return response

    app.add_exception_handler(ThoughtCreditsError, handle)
