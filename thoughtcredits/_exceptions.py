"""The exception tree, and the pure function that maps an HTTP response to it.

::

    ThoughtCreditsError
    ├── APIConnectionError            the request failed before a response arrived
    │   └── APITimeoutError           connect or read time ran out
    ├── APIStatusError                the server answered 4xx or 5xx
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── UnprocessableEntityError  422
    │   ├── RateLimitError            429 (and a server delay over the cap or the budget)
    │   └── InternalServerError       5xx
    ├── ResponseValidationError       a 2xx body that cannot be read; ``applied`` says whether
    │   │                             the server made the change (a POST/PUT that landed)
    │   └── ResponseTooLargeError     the body is over ``Client(max_response_size=...)``
    ├── PaginationError               the server's paging metadata cannot be followed safely
    └── EventLoopError                the client was used from another event loop than its own

``ClientClosedError`` (an ``APIConnectionError``) is raised by requests that were in flight or
waiting to retry when the client was closed.

Every error says what the request did to the server in ``applied``: True, the change was made
(a 2xx answer to a create or update); False, it was not (a refusal, a 4xx, a failure before
sending, or a read); None, it may have been (a create or update whose answer was lost or was a
5xx or a redirect): check before sending it again. Its message says so too.

Bad arguments never reach the wire: they raise ``ValueError`` or ``TypeError`` naming the
argument before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict

from ._printable import printable, request_id

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "EventLoopError",
    "InternalServerError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ThoughtCreditsError",
    "UnprocessableEntityError",
    "without_note",
]

_APPLIED = "WAS MADE"
_MAYBE = "MAY HAVE BEEN MADE"
# The methods whose request changes the server; a read never did, whatever happened to it.
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_URL = 500  # characters of the URL in a message (a page's cursor can be 64 KiB); .url has all


_MADE_NOTE = "; the server answered "
_MAYBE_NOTE = f"; the change {_MAYBE} on the server"


def _note(applied: bool | None, status: int) -> str:
    """What a message adds to say what the request did (nothing when it did nothing)."""
    if applied:
        return (
            f"{_MADE_NOTE}{status}, so the change {_APPLIED} on the server: do not send this "
            "request again"
        )
    if applied is None:
        return f"{_MAYBE_NOTE} (its answer does not say): check before sending this request again"
    return ""


def without_note(message: str) -> str:
    """A message without what :func:`_note` added: for a line that says it in its own words."""
    for start in (_MADE_NOTE, _MAYBE_NOTE):
        message = message.partition(start)[0]
    return message


def mark_applied(error: ThoughtCreditsError, applied: bool | None) -> None:
    """Say on ``error`` what its whole request did, when an earlier attempt knew more.

    A PUT whose 200 broke off and whose resend then timed out was made; a create resent on the
    caller's word (``retry_unsafe_methods``) after a timeout may have been made, whatever the
    last answer says. The message says it too.
    """
    before = error.applied
    if before is applied:
        return
    error.applied = applied
    if error.args and isinstance(error.args[0], str):
        text = error.args[0]
        old = _note(before, getattr(error, "status", 0))
        if old and text.endswith(old):
            text = text[: -len(old)]
        if _APPLIED not in text and _MAYBE not in text:
            text += _note(applied, getattr(error, "status", 0))
        error.args = (text, *error.args[1:])


class ThoughtCreditsError(Exception):
    """Base class of every error this SDK raises.

    Attributes:
        applied: what the request did to the server: True, the change was made (do not send
            it again); False, nothing was changed; None, it may have been (the answer was
            lost, or was a 5xx or a redirect to a create or update): check before sending it
            again. Always False for a read.
    """

    applied: bool | None = False

    def __reduce__(self) -> tuple[object, ...]:
        # The constructors take keyword-only arguments, which default pickling cannot replay;
        # ``applied`` is worked out by them, then set as it was (an earlier attempt's word).
        skip = ("message", "applied")
        state = {k: v for k, v in vars(self).items() if k not in skip and not k.startswith("_")}
        args = (getattr(self, "message", ""),) if state else self.args[:1]
        return (_rebuild, (type(self), args, state), {"applied": self.applied})


class APIConnectionError(ThoughtCreditsError):
    """The request failed before a complete response arrived (DNS, refused, reset, drop).

    ``request_sent`` is False only when the SDK knows the request never left the machine
    (for example the TCP connect failed). Only then is a POST retried by default.
    """

    def __init__(self, message: str, *, method: str, url: str, request_sent: bool = True) -> None:
        applied = None if request_sent and method in CHANGING_METHODS else False
        super().__init__(message + _note(applied, 0))
        self.message = message
        self.method = method
        self.url = url
        self.request_sent = request_sent
        self.applied = applied


class APITimeoutError(APIConnectionError):
    """The connect or read timeout ran out before the response was complete."""


class ClientClosedError(APIConnectionError):
    """The client was closed while this request was in flight or waiting to retry.

    ``request_sent`` says whether any attempt of it may have reached the server.
    """


class APIStatusError(ThoughtCreditsError):
    """The server answered with a 4xx or 5xx status.

    Attributes:
        status: the HTTP status code.
        message: the server's ``message`` (or ``error``) field, else a short text summary.
        body: the decoded JSON body, or the raw text when it is not JSON, or None when empty.
        headers: the response headers (never the request's, so never the API key).
        method: the request method.
        url: the request URL.
        retry_after: the server's requested delay in seconds (429, or 503 with
            ``Retry-After``), from ``Retry-After``, then ``X-RateLimit-Reset``, then the body's
            ``retryAfter``; None when it gave none.
        applied: False for a 4xx (the server refused) and for any read; None for a 5xx or a
            redirect answering a create or update (it may have acted first).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: object,
        headers: Mapping[str, str],
        method: str,
        url: str,
        retry_after: float | None = None,
    ) -> None:
        applied = None if method in CHANGING_METHODS and not 400 <= status < 500 else False
        shown = printable(url, _MAX_URL)
        super().__init__(f"{status} {message} ({method} {shown})" + _note(applied, status))
        self.message = message
        self.status = status
        self.body = body
        self.headers: CIMultiDict[str] = CIMultiDict(headers)
        self.method = method
        self.url = url
        self.retry_after = retry_after
        self.applied = applied

    @property
    def request_id(self) -> str | None:
        """The server's ``X-Request-Id`` header, when it sent one (printable, bounded)."""
        return request_id(self.headers)


class BadRequestError(APIStatusError):
    """400: the request body or parameters were rejected."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but lacks permission."""


class NotFoundError(APIStatusError):
    """404: the resource does not exist."""


class ConflictError(APIStatusError):
    """409: the resource is in a conflicting state."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well formed but semantically invalid."""


class RateLimitError(APIStatusError):
    """429: the rate limit was exceeded; ``retry_after`` says how long the server asked for."""


class InternalServerError(APIStatusError):
    """5xx: the server failed. GET and PUT retry it; POST does not unless asked."""


class ResponseValidationError(ThoughtCreditsError):
    """A successful (2xx) response whose body cannot be read or does not match the models.

    Attributes:
        status: the HTTP status of the response (0 when the error is not about a response).
        applied: True when the request was a POST or PUT that the server answered with 2xx:
            the change **was made** on the server and must not be sent again. False for GETs.
        body: the decoded body, or its first bytes, for debugging.
        request_id: the server's request id header, when it sent one.
    """

    applied: bool

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        body: object = None,
        status: int = 0,
        applied: bool = False,
        request_id: str | None = None,
    ) -> None:
        if applied and _APPLIED not in message:  # (not twice when unpickled)
            message += _note(True, status)
        super().__init__(f"{message} ({method} {printable(url, _MAX_URL)})" if method else message)
        self.message = message
        self.method = method
        self.url = url
        self.body = body
        self.status = status
        self.applied = applied
        self.request_id = request_id


class ResponseTooLargeError(ResponseValidationError):
    """The response body is larger than ``Client(max_response_size=...)``; it was not read."""


class PaginationError(ThoughtCreditsError):
    """The server's ``pageInfo`` cannot be followed without looping or skipping items."""


class EventLoopError(ThoughtCreditsError, RuntimeError):
    """The client was used from an event loop other than the one it started on.

    A client belongs to the event loop it was first used on: its connections, rate limiter
    and pauses live there. A second ``asyncio.run()`` or another thread's loop needs its own
    client. Also a ``RuntimeError``, as the failures it replaces were.
    """


def _rebuild(cls: type[Exception], args: tuple[object, ...], state: dict[str, object]) -> Exception:
    """Unpickle an exception whose constructor takes keyword-only arguments."""
    return cls(*args, **state)
