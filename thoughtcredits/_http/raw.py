"""``APIResponse``: the HTTP response behind a ``with_raw_response`` call, the model on demand."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from .._printable import request_id
from .._transports.base import HTTPResponse
from .interpreter import Listing, RawJSON, Single, decipher

__all__ = ["APIResponse", "raw_response"]

T = TypeVar("T")


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


def raw_response(
    response: HTTPResponse,
    expect: Single[Any] | Listing[Any] | RawJSON,
    *,
    method: str,
    url: str,
) -> APIResponse[Any]:
    """The :class:`APIResponse` of a successful ``response``, read as ``expect`` says on demand."""

    def parse() -> Any:
        return decipher(
            response.status, response.headers, response.body, expect, method=method, url=url
        )

    return APIResponse(response.status, response.headers, response.body, response.elapsed, parse)
