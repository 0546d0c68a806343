"""Pagination: the next-cursor rules and the lazy, prefetching paginator."""

from __future__ import annotations

import asyncio
import inspect
import logging
from contextlib import aclosing
from typing import Any

import pytest

import thoughtcredits as tc
from tests.conftest import ACCOUNT_ID, CLIENT_ID, ScriptedServer, payload, retained
from thoughtcredits._resources.page_rules import PageRequest, Walk


def next_cursor(page: tc.Page[Any], seen: set[str]) -> str | None:
    """The cursor Walk asks for after ``page``, having seen ``seen``."""
    walk = Walk("cursor", PageRequest(), 10)
    for cursor in seen:  # the walk has followed each of them
        walk.next(PageRequest(), tc.Page(items=(1,), page_info=tc.PageInfo(True, cursor)))
    following = walk.next(PageRequest(), page)
    return None if following is None else following.cursor


def info(has_more: bool | None, cursor: str | None = None) -> tc.PageInfo:
    """A PageInfo; ``None`` for has_more means the field was missing."""
    return tc.PageInfo(cursor=cursor) if has_more is None else tc.PageInfo(has_more, cursor)


@pytest.mark.parametrize(
    ("page_info", "seen", "expected"),
    [
        (info(False, None), set(), None),
        (info(False, "next"), set(), None),  # hasMore false wins over a cursor
        (info(None, "next"), set(), None),  # hasMore missing: stop
        (info(True, "next"), set(), "next"),
        (info(True, "next"), {"a", "b"}, "next"),
        (info(True, "MTUxODM2NTg1Mzk5OQ=="), set(), "MTUxODM2NTg1Mzk5OQ=="),
    ],
)
def test_next_cursor(page_info: tc.PageInfo, seen: set[str], expected: str | None) -> None:
    """The next page is the cursor when hasMore is true; otherwise the listing ends."""
    assert next_cursor(tc.Page(items=(), page_info=page_info), seen) == expected


@pytest.mark.parametrize(
    ("cursor", "follows"),
    [
        ("c" * 65_536, True),
        ("c" * 65_537, False),
        ("é" * 32_768, True),  # 65,536 bytes of UTF-8
        ("é" * 32_769, False),
        ("c" * 2**20, False),
    ],
    ids=["64KiB", "64KiB+1", "64KiB-utf8", "64KiB+2-utf8", "1MiB"],
)
def test_a_cursor_over_64_kib_is_refused(cursor: str, follows: bool) -> None:
    """A cursor is followed up to 64 KiB of UTF-8; a longer one raises PaginationError."""
    page = tc.Page(items=(1,), page_info=info(True, cursor))
    if follows:
        assert next_cursor(page, set()) == cursor
        return
    with pytest.raises(tc.PaginationError, match="cursor of over 65536 bytes") as caught:
        next_cursor(page, set())
    assert len(str(caught.value)) < 300  # it shows the cursor's start only


def test_a_walk_keeps_fingerprints_not_cursors() -> None:
    """Following 2,000 cursors of 10 KB (20 MB) leaves the walk holding under 400 KB."""
    walk = Walk("cursor", PageRequest(), 10)

    def follow() -> None:
        for number in range(2_000):
            cursor = f"{number:05d}" + "x" * 10_000
            walk.next(PageRequest(), tc.Page(items=(1,), page_info=info(True, cursor)))

    assert retained(follow) < 400_000
    with pytest.raises(tc.PaginationError, match="repeated"):  # and it still knows them
        walk.next(PageRequest(), tc.Page(items=(1,), page_info=info(True, "01999" + "x" * 10_000)))


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"cursor": "c" * 65_537}, "^cursor: over 65536 bytes"),
        ({"resume_from": "3:" + "c" * 65_537}, "^resume_from: its cursor is over 65536 bytes"),
        ({"resume_from": "3:\ud800"}, "^resume_from: its cursor is not valid text"),
    ],
    ids=["cursor", "resume_from", "resume_from-surrogate"],
)
def test_a_cursor_argument_that_cannot_be_sent_is_refused(
    arguments: dict[str, str], match: str
) -> None:
    """A cursor given to list(), or inside a checkpoint, is held to 64 KiB of valid text.

    A lone surrogate in a checkpoint's cursor raised a bare UnicodeEncodeError on the first
    page; now list() names the argument, before anything is sent.
    """
    client = tc.Client("https://acme.test", "sk-x")
    with pytest.raises(ValueError, match=match):
        client.credit_batches.list(CLIENT_ID, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("page_info", "seen", "match"),
    [
        (info(True, None), set(), "no cursor"),
        (info(True, ""), set(), "no cursor"),
        (info(True, "a"), {"a"}, "repeated"),
    ],
)
def test_next_cursor_refuses(page_info: tc.PageInfo, seen: set[str], match: str) -> None:
    """hasMore with no cursor, or a cursor seen before, raises PaginationError."""
    with pytest.raises(tc.PaginationError, match=match):
        next_cursor(tc.Page(items=(), page_info=page_info), seen)


class FakeAPI:
    """A fetch function serving scripted pages keyed by request cursor, recording each call."""

    def __init__(self, pages: dict[str | None, tuple[list[int], tc.PageInfo]]) -> None:
        self.pages = pages
        self.calls: list[str | None] = []

    async def __call__(self, request: PageRequest) -> tc.Page[int]:
        cursor = request.cursor
        self.calls.append(cursor)
        await asyncio.sleep(0)
        items, page_info = self.pages[cursor]
        return tc.Page(items=tuple(items), page_info=page_info, request_cursor=cursor)


def chain(*pages: list[int]) -> FakeAPI:
    """A well-behaved API: page n is at cursor "c<n>" (the first at None)."""
    script: dict[str | None, tuple[list[int], tc.PageInfo]] = {}
    for n, items in enumerate(pages):
        here = None if n == 0 else f"c{n}"
        last = n == len(pages) - 1
        script[here] = (items, info(not last, None if last else f"c{n + 1}"))
    return FakeAPI(script)


async def collect(paginator: tc.AsyncPaginator[int]) -> list[int]:
    """Every item of a paginator."""
    return [item async for item in paginator]


@pytest.mark.parametrize("prefetch", [True, False])
async def test_multi_page(prefetch: bool) -> None:
    """Items come from every page in order; each next page uses the previous cursor."""
    api = chain([1, 2], [3, 4], [5])
    assert await collect(tc.AsyncPaginator(api, prefetch=prefetch)) == [1, 2, 3, 4, 5]
    assert api.calls == [None, "c1", "c2"]


async def test_pages_exposes_page_info() -> None:
    """``pages()`` yields each Page with its items, pageInfo and request cursor."""
    api = chain([1, 2], [3])
    pages = [p async for p in tc.AsyncPaginator(api).pages()]
    assert [p.items for p in pages] == [(1, 2), (3,)]
    assert [p.request_cursor for p in pages] == [None, "c1"]
    assert [p.page_info.has_more for p in pages] == [True, False]
    assert pages[0].page_info.cursor == "c1"


async def test_has_more_missing_stops() -> None:
    """A page without hasMore is the last page, even if it has a cursor."""
    api = FakeAPI({None: ([1], info(None, "c1")), "c1": ([2], info(False))})
    assert await collect(tc.AsyncPaginator(api)) == [1]
    assert api.calls == [None]


@pytest.mark.parametrize("prefetch", [True, False])
async def test_empty_page_with_has_more_continues(prefetch: bool) -> None:
    """An empty page with hasMore true is not the end of the listing."""
    api = FakeAPI(
        {
            None: ([], info(True, "c1")),
            "c1": ([], info(True, "c2")),
            "c2": ([7, 8], info(False)),
        }
    )
    assert await collect(tc.AsyncPaginator(api, prefetch=prefetch)) == [7, 8]


async def test_single_empty_page() -> None:
    """An empty final page gives an empty listing."""
    api = FakeAPI({None: ([], info(False))})
    assert await collect(tc.AsyncPaginator(api)) == []


@pytest.mark.parametrize("prefetch", [True, False])
async def test_has_more_without_cursor_raises(prefetch: bool) -> None:
    """hasMore true with no cursor raises PaginationError instead of refetching page 1."""
    api = FakeAPI({None: ([1, 2], info(True, "c1")), "c1": ([3], info(True, None))})
    seen: list[int] = []

    async def drain() -> None:
        async for item in tc.AsyncPaginator(api, prefetch=prefetch):
            seen.append(item)

    with pytest.raises(tc.PaginationError, match="no cursor"):
        await drain()
    assert seen == [1, 2]
    assert api.calls == [None, "c1"]


@pytest.mark.parametrize("prefetch", [True, False])
async def test_repeated_cursor_raises(prefetch: bool) -> None:
    """A cursor that repeats an earlier one raises PaginationError at once; it never loops."""
    api = FakeAPI(
        {
            None: ([1], info(True, "c1")),
            "c1": ([2], info(True, "c2")),
            "c2": ([3], info(True, "c1")),
        }
    )
    seen: list[int] = []

    async def drain() -> None:
        async for item in tc.AsyncPaginator(api, prefetch=prefetch):
            seen.append(item)

    with pytest.raises(tc.PaginationError, match="repeated"):
        await drain()
    assert seen == [1, 2]
    assert api.calls == [None, "c1", "c2"]


async def test_cursor_repeating_the_start_cursor_raises() -> None:
    """A server that sends back the cursor the listing started from is caught as a loop."""
    api = FakeAPI({"c5": ([1], info(True, "c5"))})
    with pytest.raises(tc.PaginationError):
        await collect(tc.AsyncPaginator(api, start=PageRequest(cursor="c5")))


@pytest.mark.parametrize(
    ("max_items", "expected", "calls"),
    [
        (0, [], []),
        (1, [1], [None]),
        (2, [1, 2], [None]),
        (3, [1, 2, 3], [None, "c1"]),
        (5, [1, 2, 3, 4, 5], [None, "c1", "c2"]),
        (50, [1, 2, 3, 4, 5], [None, "c1", "c2"]),
    ],
)
async def test_max_items(max_items: int, expected: list[int], calls: list[str | None]) -> None:
    """max_items stops after that many items and fetches no page it does not need."""
    api = chain([1, 2], [3, 4], [5])
    assert await collect(tc.AsyncPaginator(api, max_items=max_items)) == expected
    await asyncio.sleep(0)
    assert api.calls == calls


async def test_cursor_starts_from_a_saved_page() -> None:
    """cursor= starts at that page instead of the first."""
    api = chain([1, 2], [3, 4], [5])
    assert await collect(tc.AsyncPaginator(api, start=PageRequest(cursor="c1"))) == [3, 4, 5]
    assert api.calls == ["c1", "c2"]


@pytest.mark.parametrize("stop_after", range(8))
@pytest.mark.parametrize("prefetch", [True, False])
async def test_resume_from_checkpoint(stop_after: int, prefetch: bool) -> None:
    """Resuming from a checkpoint yields exactly the remaining items: no duplicate, no gap."""
    pages = ([1, 2, 3], [4, 5], [], [6, 7])
    first = tc.AsyncPaginator(chain(*pages), prefetch=prefetch)
    assert first.checkpoint is None
    head: list[int] = []
    async with aclosing(aiter(first)) as items:
        async for item in items:
            head.append(item)
            if len(head) == stop_after:
                break
    token = first.checkpoint
    rest = await collect(tc.AsyncPaginator(chain(*pages), resume_from=token, prefetch=prefetch))
    assert head + rest == [1, 2, 3, 4, 5, 6, 7]


async def test_resume_with_max_items() -> None:
    """max_items counts items after the resume point."""
    first = tc.AsyncPaginator(chain([1, 2, 3], [4, 5]))
    async with aclosing(aiter(first)) as items:
        async for item in items:
            if item == 2:
                break
    rest = await collect(
        tc.AsyncPaginator(chain([1, 2, 3], [4, 5]), resume_from=first.checkpoint, max_items=2)
    )
    assert rest == [3, 4]


@pytest.mark.parametrize("token", ["", "x", "-1:c1", "a:c1", "c1"])
def test_bad_checkpoint_token(token: str) -> None:
    """A malformed resume token is refused."""
    with pytest.raises(ValueError, match="resume_from"):
        tc.AsyncPaginator(chain([1]), resume_from=token)


async def test_prefetch_on_and_off_deliver_identical_items() -> None:
    """Prefetching changes timing only, never the items or the cursors requested."""
    shapes = ([1, 2], [], [3], [4, 5, 6], [7])
    with_prefetch, without = chain(*shapes), chain(*shapes)
    assert await collect(tc.AsyncPaginator(with_prefetch, prefetch=True)) == await collect(
        tc.AsyncPaginator(without, prefetch=False)
    )
    assert with_prefetch.calls == without.calls


async def test_prefetch_overlaps_the_next_request() -> None:
    """With prefetch, the next page is requested before the caller finishes this one."""
    api = chain([1, 2], [3])
    async for item in tc.AsyncPaginator(api, prefetch=True):
        if item == 1:
            await asyncio.sleep(0.01)
            assert api.calls == [None, "c1"]
            break


def pending_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than the current one that have not finished."""
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


async def test_stopping_early_with_aclosing_leaves_no_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Closing a paginator mid-way cancels its prefetch at once, with nothing logged."""
    api = chain([1, 2], [3, 4], [5])
    before = pending_tasks()
    async with aclosing(aiter(tc.AsyncPaginator(api))) as items:
        async for item in items:
            if item == 1:
                break
    await asyncio.sleep(0)
    assert pending_tasks() - before == set()
    assert [r for r in caplog.records if r.name == "asyncio"] == []


async def test_breaking_out_leaves_no_task_or_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A plain ``break`` leaves no pending prefetch once the loop has run the finaliser."""
    api = chain([1, 2], [3, 4], [5])
    before = pending_tasks()
    async for item in tc.AsyncPaginator(api):
        if item == 1:
            break
    for _ in range(5):
        await asyncio.sleep(0)
    assert pending_tasks() - before == set()
    assert [r for r in caplog.records if r.name == "asyncio"] == []


async def test_failed_prefetch_that_is_never_awaited_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A prefetch that fails after the caller stopped does not log 'exception never retrieved'."""

    class BoomError(Exception):
        pass

    async def fetch(request: PageRequest) -> tc.Page[int]:
        if request.cursor is None:
            return tc.Page(items=(1, 2), page_info=info(True, "c1"))
        raise BoomError

    async for _ in tc.AsyncPaginator(fetch):
        await asyncio.sleep(0.01)  # the prefetch fails meanwhile
        break
    for _ in range(5):
        await asyncio.sleep(0)
    import gc

    gc.collect()
    assert [r for r in caplog.records if r.name == "asyncio"] == []


async def test_max_items_validation() -> None:
    """max_items must be a non-negative int."""
    with pytest.raises(ValueError, match="max_items"):
        tc.AsyncPaginator(chain([1]), max_items=-1)
    with pytest.raises(ValueError, match="max_items"):
        tc.AsyncPaginator(chain([1]), max_items=True)


# --- through the client -------------------------------------------------------------------


def test_list_is_a_plain_function() -> None:
    """list() is a plain def (not a coroutine function) on every listing resource."""
    client = tc.Client("https://acme.test", "k")
    for listing in (client.credit_batches.list, client.credit_actions.list):
        assert inspect.isfunction(inspect.unwrap(listing.__func__))
        assert not inspect.iscoroutinefunction(listing)
        assert not inspect.isasyncgenfunction(listing)


async def test_list_sends_nothing_until_iterated(server: ScriptedServer, client: tc.Client) -> None:
    """list() returns an AsyncPaginator at once and sends nothing until it is iterated."""
    server.default.body = {"data": {"creditBatches": [], "pageInfo": {"hasMore": False}}}
    paginator = client.credit_batches.list(CLIENT_ID)
    actions = client.credit_actions.list(CLIENT_ID, ACCOUNT_ID, action_type="debit")
    assert isinstance(paginator, tc.AsyncPaginator)
    assert isinstance(actions, tc.AsyncPaginator)
    await asyncio.sleep(0.01)
    assert server.requests == []
    assert await collect(paginator) == []  # type: ignore[arg-type]
    assert len(server.requests) == 1


def batches_page(names: list[str], cursor: str | None, **extra: Any) -> dict[str, Any]:
    """A credit-batches page in the seed envelope."""
    items = []
    for name in names:
        item = payload("create_credit_batch")
        item["name"] = name
        items.append(item)
    info_block = {"hasMore": cursor is not None, "cursor": cursor, **extra}
    return {
        "data": {
            "APICreditBatchesByClientAndCreditAccount": {
                "clientId": CLIENT_ID,
                "creditAccountId": ACCOUNT_ID,
                "creditBatches": items,
                "pageInfo": info_block,
            }
        }
    }


async def test_client_listing_follows_cursors(server: ScriptedServer, client: tc.Client) -> None:
    """The first page has no cursor; each next one passes pageInfo.cursor as ``cursor``."""
    server.reply(200, batches_page(["a", "b"], "Mg=="))
    server.reply(200, batches_page([], "Mw=="))
    server.reply(200, batches_page(["c"], None))
    names = [b.name async for b in client.credit_batches.list(CLIENT_ID)]
    assert names == ["a", "b", "c"]
    assert ["cursor" in r.query for r in server.requests] == [False, True, True]
    assert [r.query.get("cursor") for r in server.requests] == [None, "Mg==", "Mw=="]


async def test_client_pages_report_page_info(server: ScriptedServer, client: tc.Client) -> None:
    """``.pages()`` through the client gives typed pages with the server's pageInfo."""
    server.reply(200, batches_page(["a"], "Mg==", total=2, perPage=1))
    server.reply(200, batches_page(["b"], None, total=2, perPage=1))
    pages = [p async for p in client.credit_batches.list(CLIENT_ID).pages()]
    assert [p.page_info for p in pages] == [
        tc.PageInfo(has_more=True, cursor="Mg==", per_page=1, total=2),
        tc.PageInfo(has_more=False, cursor=None, per_page=1, total=2),
    ]
    assert [p.items[0].name for p in pages] == ["a", "b"]
    assert all(isinstance(p.items[0], tc.CreditBatch) for p in pages)


async def test_client_repeated_cursor(server: ScriptedServer, client: tc.Client) -> None:
    """A server that hands back the same cursor forever raises PaginationError after 2 pages."""
    server.default.body = batches_page(["x"], "same")
    with pytest.raises(tc.PaginationError):
        await collect(client.credit_batches.list(CLIENT_ID))  # type: ignore[arg-type]
    assert len(server.requests) == 2


async def test_aclose_cancels_prefetch(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Closing the client cancels an outstanding prefetch, with nothing logged by asyncio."""
    caplog.set_level(logging.DEBUG)
    server.reply(200, batches_page(["a"], "c1"))
    server.reply(200, batches_page(["b"], None), delay=5)
    client = server.client()
    before = pending_tasks()
    async for _ in client.credit_batches.list(CLIENT_ID):
        await client.aclose()
        break
    for _ in range(5):
        await asyncio.sleep(0)
    assert pending_tasks() - before == set()
    assert [r for r in caplog.records if r.name == "asyncio"] == []
