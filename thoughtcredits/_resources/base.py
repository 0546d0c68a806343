"""The base of the resource namespaces: one object, or a lazy listing, per API call."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar, cast

from .. import _args
from .._config import target
from .._http.interpreter import Listing, Single, Unparsed, decipher
from .._http.pipeline import execute_value
from .._models import Page
from .._transports.base import RequestContext
from .page_rules import PageRequest, parse_checkpoint
from .pagination import AsyncPaginator
from .raw import RAW, APIResponse

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["RequestContext", "Resource"]

T = TypeVar("T")


class Resource:
    """Base of the resource namespaces: holds the client (or a ``with_options`` view)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def _single(
        self, method: str, segments: tuple[str, ...], body: dict[str, object], cls: type[T],
        operation: str,
    ) -> T:  # fmt: skip
        """Send a create/update and return its model (an ``APIResponse`` in raw mode)."""
        expect = Single(cls, operation)
        if not RAW.get():
            exchange = await self._client._send(method, segments, json=body, expect=expect)
            return cast(T, exchange.value)
        exchange = await self._client._send(method, segments, json=body, expect=Unparsed())
        response = exchange.response
        url = exchange.url

        def parse() -> T:
            return cast(
                T,
                decipher(
                    response.status, response.headers, response.body, expect, method=method,
                    url=url,
                ),
            )  # fmt: skip

        raw = APIResponse(response.status, response.headers, response.body, response.elapsed, parse)
        return cast(T, raw)  # the with_raw_response wrapper types it as APIResponse[T]

    def _paginate(
        self,
        segments: tuple[str, ...],
        query: dict[str, str],
        listing: Listing[T],
        *,
        cursor: str | None,
        page: int | None,
        resume_from: str | None,
        max_items: int | None,
        page_size: int | None,
        prefetch: bool,
    ) -> AsyncPaginator[T]:
        if page_size is not None:
            query["perPage"] = str(_args.integer("page_size", page_size, minimum=1))
        if cursor is not None:
            _args.non_empty_str("cursor", cursor)
        if page is not None:
            _args.integer("page", page, minimum=1)
        client = self._client
        mode = client.pagination
        if mode == "page" and cursor is not None:
            raise ValueError('cursor: not used with Client(pagination="page"); pass page=')
        resumed = None if resume_from is None else parse_checkpoint(resume_from)[0]
        if mode == "page" and resumed is not None and resumed.cursor is not None:
            # Page numbers cannot continue from a cursor: items would repeat or be skipped.
            raise ValueError(
                'resume_from: a cursor checkpoint cannot resume with Client(pagination="page")'
            )

        def fetch(request: PageRequest) -> Awaitable[Page[T]]:
            page_query = query
            if request.cursor is not None:
                page_query = {**query, "cursor": request.cursor}
            elif request.page is not None:
                page_query = {**query, "page": str(request.page)}
            expect = listing  # a first page: the resource's own Listing says it all
            if request.cursor is not None or request.page is not None:
                expect = Listing(
                    listing.cls, listing.operation, listing.items_key, request.cursor, request.page
                )
            # A plain function handing over the page's coroutine: no frame of its own.
            url, path = target(client._base_url, client._base_path, segments, page_query)
            return execute_value(client._core, client._options, "GET", url, path, expect)

        start = PageRequest(cursor=cursor, page=page)
        if mode == "page" and page is None and cursor is None and resume_from is None:
            start = PageRequest(page=1)
        return AsyncPaginator(
            fetch,
            start=start,
            resume_from=resume_from,
            max_items=max_items,
            prefetch=prefetch,
            mode=mode,
            max_empty_pages=client._max_empty_pages,
            track=client._core.track,
        )
