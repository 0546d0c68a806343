"""``with_raw_response``: the HTTP response behind a call, with the parsed model on demand."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Generic, ParamSpec, TypeVar, cast

from .._http.interpreter import request_id

__all__ = ["RAW", "APIResponse", "to_raw"]

T = TypeVar("T")
P = ParamSpec("P")

RAW: contextvars.ContextVar[bool] = contextvars.ContextVar("thoughtcredits_raw", default=False)
"""Set while a ``with_raw_response`` method runs: the call returns an :class:`APIResponse`."""


class APIResponse(Generic[T]):
    """A successful HTTP response and, through :meth:`parse`, the model in it.

    Returned by ``client.<resource>.with_raw_response.<method>(...)``. The body is parsed
    only when :meth:`parse` is called, so the status and headers of a response whose body
    cannot be read are still at hand.

    Attributes:
        status: the HTTP status code.
        headers: the response headers.
        elapsed: seconds from sending the request to the end of the body.
        content: the body as received.
    """

    __slots__ = ("_parse", "_parsed", "content", "elapsed", "headers", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        content: bytes,
        elapsed: float,
        parse: Callable[[], T],
    ) -> None:
        self.status = status
        self.headers = headers
        self.content = content
        self.elapsed = elapsed
        self._parse = parse
        self._parsed: list[T] = []

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status}] {len(self.content)} bytes>"

    @property
    def request_id(self) -> str | None:
        """The server's request id header, when it sent one."""
        return request_id(self.headers)

    def parse(self) -> T:
        """The model in the body.

        Raises:
            ResponseValidationError: the body cannot be read; for a create or update,
                ``applied`` is True (the change was made).
        """
        if not self._parsed:  # parse once: an unreadable body warns once, not per call
            self._parsed.append(self._parse())
        return self._parsed[0]


def to_raw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    """``method``, returning the :class:`APIResponse` instead of the parsed model."""

    @wraps(method)
    async def raw(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        token = RAW.set(True)
        try:
            return cast(APIResponse[T], await method(*args, **kwargs))
        finally:
            RAW.reset(token)

    return raw
