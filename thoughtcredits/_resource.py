"""Plumbing shared by the resources: one page or one object from a response."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from . import _args
from ._converter import parse_page_info, structure, structure_many
from ._exceptions import APIConnectionError, APITimeoutError, ResponseValidationError
from ._models import Page
from ._pagination import AsyncPaginator
from ._wire import InexactNumber, loads_exact, unwrap_envelope

if TYPE_CHECKING:
    from ._client import Client

__all__ = [
    "RequestContext",
    "Resource",
    "Response",
    "connection_error",
    "log_exchange",
    "log_final_failure",
    "single",
]

logger = logging.getLogger("thoughtcredits")

T = TypeVar("T")


@attrs.frozen
class RequestContext:
    """What the SDK is doing, handed to aiohttp trace configs as ``trace_request_ctx``.

    Attributes:
        method: the HTTP method.
        path: the URL path, e.g. ``/incoming/v2/clients/…/creditBatches``.
        attempt: 1 for the first try, 2 for the first retry, and so on.
    """

    method: str
    path: str
    attempt: int


def connection_error(
    error: BaseException, method: str, url: str, elapsed: float
) -> APIConnectionError:
    """Our error for an aiohttp failure; ``request_sent`` only when it provably was not."""
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(
            f"timed out connecting after {elapsed:.1f}s", method=method, url=url, request_sent=False
        )
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return APITimeoutError(f"timed out after {elapsed:.1f}s", method=method, url=url)
    if isinstance(error, aiohttp.ClientSSLError):
        # Not "before sending" for retries: a certificate problem will not fix itself.
        return APIConnectionError(f"TLS error: {error}", method=method, url=url)
    if isinstance(error, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"could not connect: {error}", method=method, url=url, request_sent=False
        )
    return APIConnectionError(
        f"connection failed: {type(error).__name__}: {error}", method=method, url=url
    )


def log_final_failure(error: Exception, method: str, path: str) -> None:
    """Log a failure that will not be retried when the request may have landed."""
    # A create that may have landed must leave a trace even though it is not retried.
    if isinstance(error, APIConnectionError) and error.request_sent:
        logger.warning(
            "%s %s failed after it may have reached the server (%s); not retried",
            method,
            path,
            type(error).__name__,
            extra={"tc_method": method, "tc_path": path, "tc_reason": type(error).__name__},
        )


def log_exchange(
    context: RequestContext, status: int, elapsed: float, headers: Mapping[str, str]
) -> None:
    """One DEBUG record per HTTP exchange, with structured fields (never headers or keys)."""
    if not logger.isEnabledFor(logging.DEBUG):
        return  # this runs per request: build nothing unless someone listens
    logger.debug(
        "%s %s -> %d (attempt %d, %.0f ms)",
        context.method,
        context.path,
        status,
        context.attempt,
        elapsed * 1000,
        extra={
            "tc_method": context.method,
            "tc_path": context.path,
            "tc_status": status,
            "tc_attempt": context.attempt,
            "tc_elapsed": elapsed,
            "tc_ratelimit_remaining": headers.get("X-RateLimit-Remaining"),
        },
    )


@attrs.frozen
class Response:
    """A decoded 2xx response: the JSON body plus where it came from."""

    status: int
    headers: CIMultiDictProxy[str]
    body: Any
    raw: bytes
    method: str
    url: str


def _decoded(response: Response, build: Callable[[object], T]) -> T:
    try:
        return build(response.body)
    except (InexactNumber, ResponseValidationError):
        pass  # the hooks refuse floats (fractional or >64-bit numbers): decode it exactly
    try:
        exact = loads_exact(response.raw)
    except ValueError as exc:  # e.g. nested deeper than the exact decoder can go
        raise ResponseValidationError(
            f"response cannot be decoded exactly: {exc}", method=response.method, url=response.url
        ) from exc
    return build(exact)


def single(response: Response, cls: type[T]) -> T:
    """The one object in a create/update response."""

    def build(body: object) -> T:
        return structure(unwrap_envelope(body), cls, method=response.method, url=response.url)

    return _decoded(response, build)


def _page(response: Response, items_key: str, cls: type[T], cursor: str | None) -> Page[T]:
    return _decoded(response, lambda body: _build_page(body, response, items_key, cls, cursor))


def _build_page(
    body: object, response: Response, items_key: str, cls: type[T], cursor: str | None
) -> Page[T]:
    payload = unwrap_envelope(body, items_key)
    items = payload.get(items_key) if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(items, list):
        raise ResponseValidationError(
            f"expected a {items_key!r} array in the response",
            method=response.method,
            url=response.url,
            body=body,
        )
    return Page(
        items=structure_many(items, cls, method=response.method, url=response.url),
        page_info=parse_page_info(
            payload.get("pageInfo"), method=response.method, url=response.url
        ),
        request_cursor=cursor,
    )


class Resource:
    """Base of the resource namespaces: holds the client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _paginate(
        self,
        segments: Sequence[str],
        query: dict[str, str],
        items_key: str,
        cls: type[T],
        *,
        cursor: str | None,
        resume_from: str | None,
        max_items: int | None,
        page_size: int | None,
        prefetch: bool,
    ) -> AsyncPaginator[T]:
        if page_size is not None:
            query["perPage"] = str(_args.integer("page_size", page_size, minimum=1))
        if cursor is not None:
            _args.non_empty_str("cursor", cursor)

        async def fetch(page_cursor: str | None) -> Page[T]:
            page_query = query if page_cursor is None else {**query, "cursor": page_cursor}
            response = await self._client._request("GET", segments, query=page_query)
            return _page(response, items_key, cls, page_cursor)

        return AsyncPaginator(
            fetch,
            cursor=cursor,
            resume_from=resume_from,
            max_items=max_items,
            prefetch=prefetch,
            track=self._client._track,
        )
