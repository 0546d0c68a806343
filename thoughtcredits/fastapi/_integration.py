"""One shared ``Client`` per FastAPI app: lifespan, dependency, and error responses."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from .._client import Client
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ThoughtCreditsError,
    UnprocessableEntityError,
)

__all__ = [
    "ThoughtCreditsClient",
    "error_response",
    "get_client",
    "install_error_handlers",
    "lifespan",
]

_STATE_KEY = "thoughtcredits_client"

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan(
    client_factory: Callable[[], Client] | None = None,
    *,
    then: Lifespan | None = None,
) -> Lifespan:
    """A FastAPI ``lifespan`` that opens one shared ``Client`` and closes it at shutdown.

    Args:
        client_factory: builds the client; by default ``Client()`` configured from
            ``THOUGHTCREDITS_BASE_URL`` and ``THOUGHTCREDITS_API_KEY``.
        then: the app's own lifespan, run inside this one (the client is open during it).

    Example::

        app = FastAPI(lifespan=thoughtcredits.fastapi.lifespan())
    """

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        client = client_factory() if client_factory is not None else Client()
        setattr(app.state, _STATE_KEY, client)
        try:
            async with client:
                if then is None:
                    yield
                else:
                    async with then(app):
                        yield
        finally:
            delattr(app.state, _STATE_KEY)

    return run


def get_client(request: Request) -> Client:
    """The app's shared ``Client``: use as ``Depends(get_client)`` or :data:`ThoughtCreditsClient`.

    Raises:
        RuntimeError: the app was not started with :func:`lifespan`.
    """
    client = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(client, Client):
        raise RuntimeError(
            "no thoughtcredits client: create the app with "
            "FastAPI(lifespan=thoughtcredits.fastapi.lifespan())"
        )
    return client


ThoughtCreditsClient = Annotated[Client, Depends(get_client)]
"""A route parameter annotation that receives the app's shared ``Client``."""

# Upstream statuses a browser can act on pass through; the rest mean "our upstream failed".
_PASS_THROUGH: Mapping[type[APIStatusError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    BadRequestError: 400,
    UnprocessableEntityError: 422,
}


def error_response(error: ThoughtCreditsError) -> JSONResponse:
    """The HTTP response an app should give its own caller for an SDK error.

    404/409/400/422 pass through; a rate limit becomes 503 with ``Retry-After``; a timeout
    504; bad credentials, server errors and unreadable responses 502 (the app's upstream
    failed, not its caller). The body is ``{"detail": ...}``, as FastAPI's own errors are,
    and never holds the API key.
    """
    headers: dict[str, str] = {}
    if isinstance(error, RateLimitError):
        status = 503
        if error.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        detail = "the credits service is rate limited; retry later"
    elif isinstance(error, APIStatusError) and type(error) in _PASS_THROUGH:
        status, detail = _PASS_THROUGH[type(error)], error.message
    elif isinstance(error, APITimeoutError):
        status, detail = 504, "the credits service timed out"
    elif isinstance(error, AuthenticationError | PermissionDeniedError):
        status, detail = 502, "the credits service refused this app's credentials"
    elif isinstance(error, APIConnectionError | ResponseValidationError | PaginationError):
        status, detail = 502, "the credits service could not be reached or understood"
    else:
        status, detail = 502, "the credits service failed"
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every uncaught SDK error in ``app`` with :func:`error_response`."""

    async def handle(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ThoughtCreditsError)
        return error_response(error)

    app.add_exception_handler(ThoughtCreditsError, handle)
