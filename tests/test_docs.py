"""Every ```python block in README.md and docs/*.md runs against the local credits server.

Each block is one test with a fresh ``FakeCreditsServer`` (seeded with ``seed_demo``) whose URL
and key are in ``THOUGHTCREDITS_BASE_URL``/``THOUGHTCREDITS_API_KEY``, so ``tc.Client()`` in a
block talks to it. The block's namespace already holds what prose around it assumes:

* ``client``: an open ``thoughtcredits.Client`` (closed after the block);
* ``client_id``, ``account_id``, ``batch_id``: a demo client, one of its accounts with a few
  credit and debit actions, and that account's first batch;
* ``tc``/``thoughtcredits``, ``asyncio`` and ``aiohttp``.

Every UUID written literally in a block exists on the server as a client, as it would on the
reader's tenant. Blocks may use top-level ``await``, ``async for`` and ``async with``; a block
that calls ``asyncio.run`` works too (blocks run in a worker thread, outside the test's loop,
which keeps serving). A block that defines ``async def test_...(credits_server, credits_client)``
has that test run with the equivalents of the pytest plugin's fixtures.

Markers, on the line right before a block:

* ``<!-- docs-test: continue -->`` runs the block after the previous one, in its namespace;
* ``<!-- docs-test: skip (reason) -->`` does not run it (never for SDK usage).

Console and untagged blocks are not executed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import thoughtcredits as tc
from thoughtcredits.testing import DEMO_ACCOUNT_IDS, FakeCreditsServer, seed_demo

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<what>.*?)\s*-->\s*$")
_SKIP = re.compile(r"skip \((?P<reason>.+)\)")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_TIMEOUT = 60


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    lang: str
    code: str
    marker: str | None

    @property
    def name(self) -> str:
        """``page.md:LINE``, the block's location."""
        where = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{where}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        """Why the block is not run, when it is marked to be skipped."""
        match = _SKIP.fullmatch(self.marker or "")
        return match["reason"] if match else None


def parse(page: Path) -> list[Block]:
    """Every fenced block of ``page``, with the docs-test marker right before it, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            index += 1
        if index == len(lines):
            raise AssertionError(f"{page.name}:{start + 1}: unclosed code fence")
        indent = len(opening["indent"])
        body = "\n".join(line[indent:] for line in lines[start + 1 : index])
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = _MARKER.match(previous)
        blocks.append(
            Block(page, start + 1, opening["lang"], body + "\n", marker and marker["what"])
        )
        index += 1
    return blocks


def python_blocks() -> Iterator[Any]:
    """A pytest param per python block: the chain of blocks to run, ending with it."""
    for page in PAGES:
        chain: list[Block] = []
        for block in parse(page):
            if block.lang != "python":
                continue
            chain = [*chain, block] if block.marker == "continue" else [block]
            marks = [pytest.mark.skip(reason=block.skip_reason)] if block.skip_reason else []
            yield pytest.param(chain, id=block.name, marks=marks)


async def _call_test(test: Callable[..., Any]) -> None:
    """Run a documented ``async def test_...`` with the plugin's two fixtures."""
    async with FakeCreditsServer() as server, server.client() as client:
        fixtures = {"credits_server": server, "credits_client": client}
        params = inspect.signature(test).parameters
        await test(**{name: fixtures[name] for name in params})


def _run_chain(chain: list[Block], namespace: dict[str, Any]) -> None:
    """Run the blocks in this (worker) thread, on a private loop for top-level awaits."""
    loggers = [logging.getLogger(), logging.getLogger("thoughtcredits")]
    saved = [(log, log.level, log.handlers[:]) for log in loggers]
    loop = asyncio.new_event_loop()
    client = namespace["client"] = tc.Client()
    try:
        for block in chain:
            before = set(namespace)
            code = compile(block.code, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            if code.co_flags & inspect.CO_COROUTINE:
                loop.run_until_complete(eval(code, namespace))  # noqa: S307 - our own docs
            else:
                exec(code, namespace)  # noqa: S102 - our own docs
            for name in sorted(set(namespace) - before):
                if name.startswith("test_") and inspect.iscoroutinefunction(namespace[name]):
                    loop.run_until_complete(_call_test(namespace[name]))
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        # A block may configure logging; later tests must not inherit its handlers.
        for log, level, handlers in saved:
            log.setLevel(level)
            log.handlers[:] = handlers


class NetworkRefusedError(RuntimeError):
    """A docs block tried to reach a host other than the local server."""


def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any name lookup but a loopback one fail: a docs block must not reach the network.

    Not an ``OSError``, so the SDK does not retry it as a connection error: it fails at once.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("localhost", "127.0.0.1", "::1"):
            raise NetworkRefusedError(f"docs test: {name} is not the local server")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("chain", list(python_blocks()))
async def test_python_block_runs(chain: list[Block], monkeypatch: pytest.MonkeyPatch) -> None:
    """The block (after the blocks it continues) runs without error against the local server."""
    _loopback_only(monkeypatch)
    async with FakeCreditsServer() as server:
        client_id = seed_demo(server.ledger)
        account = server.ledger.account(DEMO_ACCOUNT_IDS[0])
        for literal in {m.lower() for b in chain for m in _UUID.findall(b.code)}:
            if literal not in server.ledger.accounts and literal not in server.ledger.batches:
                server.ledger.add_client(uuid.UUID(literal))
        monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", server.url)
        monkeypatch.setenv("THOUGHTCREDITS_API_KEY", server.api_key)
        namespace: dict[str, Any] = {
            "__name__": "__docs__",
            "tc": tc,
            "thoughtcredits": tc,
            "asyncio": asyncio,
            "aiohttp": aiohttp,
            "client_id": str(client_id),
            "account_id": account.id,
            "batch_id": account.batches[0].id,
        }
        await asyncio.wait_for(asyncio.to_thread(_run_chain, chain, namespace), _TIMEOUT)


def test_docs_pages_are_linked_from_the_index() -> None:
    """Every page in docs/ is reachable from docs/index.md."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert [p.name for p in DOCS.glob("*.md") if f"({p.name})" not in index] == ["index.md"]


def test_relative_links_point_at_existing_files() -> None:
    """No link in README.md or docs/ points at a file that does not exist."""
    broken = [
        f"{page.name}: {target}"
        for page in PAGES
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]
    assert broken == []


def test_markers_are_known_and_skips_are_rare() -> None:
    """Only the two markers exist, every skip gives a reason, and at most two blocks skip."""
    blocks = [block for page in PAGES for block in parse(page)]
    markers = [block for block in blocks if block.marker is not None]
    unknown = [b.name for b in markers if b.marker != "continue" and b.skip_reason is None]
    assert unknown == []
    assert all(block.lang == "python" for block in markers)
    assert len([b for b in markers if b.skip_reason]) <= 2


def test_parser_finds_markers_and_indented_blocks(tmp_path: Path) -> None:
    """Fences in list items are dedented, and a marker applies to the block right after it."""
    page = tmp_path / "page.md"
    page.write_text(
        "Text\n\n```python\nx = 1\n```\n\n- item:\n\n  <!-- docs-test: continue -->\n"
        "  ```python\n  y = x + 1\n  ```\n\n<!-- docs-test: skip (needs a tenant) -->\n\n"
        "```python\nz\n```\n\n```console\n$ ls\n```\n"
    )
    blocks = parse(page)
    assert [(b.line, b.lang, b.code, b.marker) for b in blocks] == [
        (3, "python", "x = 1\n", None),
        (10, "python", "y = x + 1\n", "continue"),
        (16, "python", "z\n", "skip (needs a tenant)"),
        (20, "console", "$ ls\n", None),
    ]
    assert blocks[2].skip_reason == "needs a tenant"


def test_runner_fails_on_a_failing_block_and_runs_documented_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block's failed assert fails the run; a documented ``test_`` function is called."""
    monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", "unused")
    page = tmp_path / "page.md"
    page.write_text(
        "```python\ncalls = []\n\nasync def test_x(credits_server):\n"
        "    calls.append(credits_server.url)\n```\n\n```python\nassert len(calls) == 2\n```\n"
    )
    first, second = parse(page)
    namespace: dict[str, Any] = {}
    _run_chain([first], namespace)
    assert [url.startswith("http://127.0.0.1:") for url in namespace["calls"]] == [True]
    with pytest.raises(AssertionError):
        _run_chain([first, second], {})
