"""``Resource``, the base of the resource namespaces: one object, or a lazy listing, per call.

A resource holds the :class:`View` of the client (or of a ``with_options`` view) that made it,
never the client itself. Its methods are thin: they check and name their arguments, then hand a
row of the endpoint table, the path values, the query and the body to the pipeline's one entry,
:func:`call`. A listing hands the same row to that entry once per page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import ParamSpec, TypeVar, cast

from .. import _args
from .._http.endpoint import Endpoint
from .._http.interpreter import Listing
from .._http.pipeline import call
from .._http.raw import APIResponse
from .._http.state import View
from .._models import Page
from .page_rules import MAX_CURSOR, PageRequest, cursor_too_long, parse_checkpoint
from .pagination import AsyncPaginator

__all__ = ["Resource", "as_raw"]

T = TypeVar("T")
P = ParamSpec("P")


class Resource:
    """Base of the resource namespaces: holds the :class:`View` its calls go through."""

    def __init__(self, view: View) -> None:
        self._view = view

    def _list(
        self,
        endpoint: Endpoint[Page[T]],
        values: tuple[str, ...],
        query: dict[str, str],
        *,
        cursor: str | None,
        page: int | None,
        resume_from: str | None,
        max_items: int | None,
        page_size: int | None,
        prefetch: bool,
    ) -> AsyncPaginator[T]:
        """The lazy listing of ``endpoint``: every page is one call of the entry."""
        if page_size is not None:
            query["perPage"] = str(_args.integer("page_size", page_size, minimum=1))
        if cursor is not None and cursor_too_long(_args.non_empty_str("cursor", cursor)):
            raise ValueError(f"cursor: over {MAX_CURSOR} bytes")
        if page is not None:
            _args.integer("page", page, minimum=1)
        view = self._view
        mode = view.core.pagination
        if mode == "page" and cursor is not None:
            raise ValueError('cursor: not used with Client(pagination="page"); pass page=')
        resumed = None if resume_from is None else parse_checkpoint(resume_from)[0]
        if mode == "page" and resumed is not None and resumed.cursor is not None:
            # Page numbers cannot continue from a cursor: items would repeat or be skipped.
            raise ValueError(
                'resume_from: a cursor checkpoint cannot resume with Client(pagination="page")'
            )
        first = cast(Listing[T], endpoint.answer)

        def fetch(request: PageRequest) -> Awaitable[Page[T]]:
            # A plain function handing over the page's coroutine: no frame of its own.
            if request.cursor is None and request.page is None:
                return call(view, endpoint, values, query=query)  # the row says it all
            if request.cursor is not None:
                page_query = {**query, "cursor": request.cursor}
            else:
                page_query = {**query, "page": str(request.page)}
            expect = Listing(first.cls, first.operation, first.items_key, request.cursor,
                             request.page)  # fmt: skip
            return call(view, endpoint, values, query=page_query, expect=expect)

        start = PageRequest(cursor=cursor, page=page)
        if mode == "page" and page is None and cursor is None and resume_from is None:
            start = PageRequest(page=1)
        core = view.core
        return AsyncPaginator(
            fetch,
            start=start,
            resume_from=resume_from,
            max_items=max_items,
            prefetch=prefetch,
            mode=mode,
            max_empty_pages=core.max_empty_pages,
            track=core.track,
            trace=None  # without OpenTelemetry's API
            if core.telemetry is None
            else partial(core.telemetry.listing, endpoint, core.base_url, core.base_path),
        )


def as_raw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    """``method`` of a resource on a raw view (``View.as_raw``), typed as what it returns there.

    Only a type: the call is the method itself, so a raw call costs no frame more than another.
    """
    return cast(Callable[P, Awaitable[APIResponse[T]]], method)
