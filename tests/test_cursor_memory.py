"""Cursor memory is bounded in bytes: measured in a fresh client process, over a real socket.

A listing used to keep about 4.6 times each cursor it followed (the quoting cache, the set of
cursors seen, yarl's cache of parsed URLs): 150 pages with 1 MB cursors grew RSS from 40 to
734 MB, and it stayed there after the listing ended.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import CLIENT_ID, sample

pytestmark = pytest.mark.skipif(
    not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux's /proc/self/clear_refs"
)

_OPERATION = "APICreditBatchesByClientAndCreditAccount"


class CursorServer:
    """A listing of ``pages`` pages of one batch each, every cursor ``size`` bytes long.

    The cursor starts with the page's number, so a cursor mangled on the way back is noticed.
    """

    def __init__(self, size: int, pages: int) -> None:
        self.size, self.pages = size, pages
        self.url = ""  # set once it serves
        self.cursors_back: list[int] = []  # the page number of every cursor sent back intact
        self.item = sample("list_credit_batches")["data"][_OPERATION]["creditBatches"][0]

    def cursor(self, number: int) -> str:
        """Page ``number``'s cursor: its number, then characters the client must escape."""
        head = f"{number:08d}:"
        return head + ("+/=" * self.size)[: self.size - len(head)]

    async def handle(self, request: web.Request) -> web.Response:
        """Answer page 0, or the page after the cursor sent back."""
        cursor = request.query.get("cursor")
        number = 0
        if cursor is not None:
            number = int(cursor[:8]) + 1
            assert cursor == self.cursor(number - 1)
            self.cursors_back.append(number - 1)
        info: dict[str, Any] = {"hasMore": number + 1 < self.pages}
        if info["hasMore"]:
            info["cursor"] = self.cursor(number)
        body = {"data": {_OPERATION: {"creditBatches": [self.item], "pageInfo": info}}}
        return web.json_response(body)


@pytest.fixture
async def cursor_server(request: pytest.FixtureRequest) -> AsyncIterator[CursorServer]:
    """A loopback :class:`CursorServer` with the (size, pages) of ``request.param``."""
    listing = CursorServer(*request.param)
    # Long enough request lines for cursors of 1 MB, escaped.
    app = web.Application(handler_args={"max_line_size": 2**23, "max_field_size": 2**23})
    app.router.add_get("/incoming/v2/clients/{id}/creditBatches", listing.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    listing.url = str(server.make_url("")).rstrip("/")
    yield listing
    await server.close()


# The client process: one short walk to warm up (converters, session, the caches of short
# texts), then the measured walk. Its peak RSS is the kernel's high-water mark, reset just
# before it (so an earlier peak, at import, does not count); what is kept is tracemalloc's
# count of live Python allocations after the walk, the paginator dropped and gc run, the
# client open.
_CLIENT = textwrap.dedent(
    """
    import asyncio, gc, json, os, re, sys, tracemalloc
    import thoughtcredits as tc

    def rss_mb(field="VmRSS"):
        with open("/proc/self/status") as status:
            return int(re.search(field + r":\\s+(\\d+) kB", status.read())[1]) / 1024

    def reset_peak():
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # VmHWM := VmRSS

    async def walk(client, **options):
        pages, error = 0, None
        try:
            async for _ in client.credit_batches.list(sys.argv[2], **options):
                pages += 1
        except tc.PaginationError as exc:
            error = str(exc)
        return pages, error

    async def main():
        async with tc.Client(sys.argv[1], "sk-memory", retry=None) as client:
            await walk(client, max_items=2, prefetch=False)
            gc.collect()
            tracemalloc.start()
            earlier_peak = rss_mb("VmHWM")
            reset_peak()
            before_rss, before_traced = rss_mb(), tracemalloc.get_traced_memory()[0]
            pages, error = await walk(client)
            peak_mb = rss_mb("VmHWM")
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before_traced
            print(json.dumps({
                "pages": pages, "error": error, "kept_bytes": kept,
                "peak_growth_mb": peak_mb - before_rss, "rss_growth_mb": rss_mb() - before_rss,
                "rss_mb": before_rss, "earlier_peak_mb": earlier_peak,
            }))

    asyncio.run(main())
    """
)


async def measure(url: str) -> dict[str, Any]:
    """Run the client process against ``url``; what it measured."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLIENT, url, CLIENT_ID,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    return result


@pytest.mark.parametrize("cursor_server", [(2**20, 150)], indirect=True)
async def test_a_listing_of_1_mb_cursors_stops_at_the_first_and_keeps_nothing(
    cursor_server: CursorServer,
) -> None:
    """150 pages with 1 MB cursors: PaginationError at once, RSS +60 MB at most, none kept."""
    result = await measure(cursor_server.url)
    assert result["pages"] == 0  # the first page's cursor is refused before its items
    assert "cursor of over 65536 bytes" in result["error"]
    assert cursor_server.cursors_back == []  # the 1 MB cursor was never sent back
    assert result["peak_growth_mb"] < 60, result
    assert result["kept_bytes"] < 2**20, result


@pytest.mark.parametrize("cursor_server", [(60_000, 600)], indirect=True)
async def test_a_listing_of_the_longest_cursors_keeps_nothing(
    cursor_server: CursorServer,
) -> None:
    """600 pages with 60 KB cursors (36 MB of them, 110 MB escaped) all read, none kept.

    The walk's peak RSS grows by well under a megabyte here (a71d160: +210 MB, all kept); the
    bound is the issue's 60 MB, so a loaded machine's allocator cannot make it fail.
    """
    result = await measure(cursor_server.url)
    assert (result["pages"], result["error"]) == (600, None)
    assert cursor_server.cursors_back[-599:] == list(range(599))  # each sent back intact
    assert result["peak_growth_mb"] < 60, result
    assert result["kept_bytes"] < 2**20, result
