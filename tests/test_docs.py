"""Every ```python block in README.md and docs/*.md runs the way a reader would run it.

Each block runs in a fresh namespace holding only what its page says is assumed, against a
bare ``thoughtcredits serve-fake`` process (no seed, no pre-registered clients: client ids
register on first use), reset before every block. ``THOUGHTCREDITS_BASE_URL`` and
``THOUGHTCREDITS_API_KEY`` are exported as the server prints them, so ``tc.Client()`` talks
to it.

What a page assumes is said in its prose and marked right after that sentence with
``<!-- docs-test: assumes NAME, ... -->``; the names must appear (in backticks) in the
paragraph before the marker. The marker applies to the blocks after it; the one in
docs/index.md ("the snippets in this guide assume ...") applies to every other docs page.
The names a page can assume:

* ``tc``: ``import thoughtcredits as tc``;
* ``client``: an open ``tc.Client()`` (closed after the block);
* ``client_id``, ``account_id``, ``batch_id``: the reader's own client, one of its accounts
  (its opening credit, four debits and a top-up, made through the API) and its batch.

A block that reads ``REDIS_URL`` gets a real ``redis-server`` (the Redis tests' own, on a free
loopback port, emptied before each block). A block chain that imports an optional worker
engine (``arq``, ``celery``) runs where that engine is installed: ``make test-workers`` runs
them, one environment per engine; elsewhere it is skipped with that reason.

Blocks may use top-level ``await``, ``async for`` and ``async with``; a block that calls
``asyncio.run`` works too (blocks run in a worker thread with a loop of their own). A block
that defines ``async def test_...(credits_server, credits_client)`` has that test run with
the equivalents of the pytest plugin's fixtures.

Markers, on the line right before a block:

* ``<!-- docs-test: continue -->`` runs the block after the previous one, in its namespace;
* ``<!-- docs-test: skip (reason) -->`` does not run it (never for SDK usage).

Console and untagged blocks are not executed.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import inspect
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE = DOCS / "index.md"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
ASSUMABLE = ("tc", "client", "client_id", "account_id", "batch_id")

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<what>.*?)\s*-->\s*$")
_ASSUMES = re.compile(r"assumes (?P<names>\w+(?:, \w+)*)")
_SKIP = re.compile(r"skip \((?P<reason>.+)\)")
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


@dataclass(frozen=True)
class Assumption:
    """A ``docs-test: assumes`` marker: its line, its names and the prose right before it."""

    line: int
    names: frozenset[str]
    prose: str


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
        what = marker and marker["what"]
        if what is not None and what.startswith("assumes "):
            what = None  # an assumption is about the prose, not about this block
        blocks.append(Block(page, start + 1, opening["lang"], body + "\n", what))
        index += 1
    return blocks


def assumptions(page: Path) -> list[Assumption]:
    """The page's ``assumes`` markers, each with the paragraph it follows."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    for number, line in enumerate(lines):
        marker = _MARKER.match(line)
        match = marker and _ASSUMES.fullmatch(marker["what"])
        if not match:
            continue
        paragraph: list[str] = []
        for before in reversed(lines[:number]):
            if not before.strip():
                if paragraph:
                    break
                continue
            paragraph.insert(0, before)
        names = frozenset(match["names"].split(", "))
        found.append(Assumption(number + 1, names, " ".join(paragraph)))
    return found


def assumed(block: Block) -> frozenset[str]:
    """The names ``block`` may use without defining them, as its page (or the guide) says."""
    names: frozenset[str] = frozenset()
    if block.page.parent == DOCS and block.page != GUIDE:
        names = assumptions(GUIDE)[-1].names
    for assumption in assumptions(block.page):
        if assumption.line < block.line:
            names = assumption.names
    return names


ENGINES = ("arq", "celery")
"""Optional worker engines whose pins conflict: each is installed in its own environment."""


def missing_engine(chain: list[Block]) -> str | None:
    """The worker engine a chain imports but this environment lacks, if any."""
    code = "".join(block.code for block in chain)
    for engine in ENGINES:
        imports = re.search(
            rf"^\s*(from|import) (thoughtcredits\.workers\.)?{engine}\b", code, re.M
        )
        if imports and importlib.util.find_spec(engine) is None:
            return engine
    return None


def python_blocks() -> Iterator[Any]:
    """A pytest param per python block: the chain of blocks to run, ending with it."""
    for page in PAGES:
        chain: list[Block] = []
        for block in parse(page):
            if block.lang != "python":
                continue
            chain = [*chain, block] if block.marker == "continue" else [block]
            marks = [pytest.mark.skip(reason=block.skip_reason)] if block.skip_reason else []
            engine = missing_engine(chain)
            if engine is not None:
                reason = f"needs {engine}: make test-workers runs it in its own environment"
                marks.append(pytest.mark.skip(reason=reason))
            yield pytest.param(chain, id=block.name, marks=marks)


async def _call_test(test: Callable[..., Any]) -> None:
    """Run a documented ``async def test_...`` with the plugin's two fixtures."""
    async with FakeCreditsServer() as server, server.client() as client:
        fixtures = {"credits_server": server, "credits_client": client}
        params = inspect.signature(test).parameters
        await test(**{name: fixtures[name] for name in params})


def _run_chain(
    chain: list[Block], namespace: dict[str, Any], names: frozenset[str] = frozenset()
) -> None:
    """Run the blocks in this (worker) thread, on a private loop for top-level awaits."""
    loggers = [logging.getLogger(), logging.getLogger("thoughtcredits")]
    saved = [(log, log.level, log.handlers[:]) for log in loggers]
    loop = asyncio.new_event_loop()
    if "tc" in names:
        namespace["tc"] = tc
    client = tc.Client() if "client" in names else None
    if client is not None:
        namespace["client"] = client
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
        if client is not None:
            loop.run_until_complete(client.aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        # A block may configure logging; later tests must not inherit its handlers.
        for log, level, handlers in saved:
            log.setLevel(level)
            log.handlers[:] = handlers
        _reset_opentelemetry()


def _reset_opentelemetry() -> None:
    """A block may set OpenTelemetry's global providers: shut them down and unset them, so that
    later tests run as they would without OpenTelemetry configured."""
    from opentelemetry import metrics, trace
    from opentelemetry.test.globals_test import reset_metrics_globals, reset_trace_globals

    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider()):
        shutdown = getattr(provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
    reset_trace_globals()
    reset_metrics_globals()


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


@pytest.fixture(scope="module")
def serve_fake() -> Iterator[dict[str, str]]:
    """A bare ``thoughtcredits serve-fake`` process; the variables it exports."""
    process = subprocess.Popen(
        [sys.executable, "-m", "thoughtcredits", "serve-fake", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    exported: dict[str, str] = {}
    try:
        for line in process.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exported[name] = value
            if line.startswith("# ready"):
                break
        assert set(exported) == {"THOUGHTCREDITS_BASE_URL", "THOUGHTCREDITS_API_KEY"}
        yield exported
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


async def _arrange(env: dict[str, str], names: frozenset[str]) -> dict[str, str]:
    """Reset the server; create the reader's own ids the page assumes, through the API."""
    url, key = env["THOUGHTCREDITS_BASE_URL"], env["THOUGHTCREDITS_API_KEY"]
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{url}/_fake/reset") as reset:
            assert reset.status == 204
        if not names & {"client_id", "account_id", "batch_id"}:
            return {}
        client_id = str(uuid.uuid4())
        api = f"{url}/incoming/v2/clients"
        body = {"name": "Training", "startingBalance": 1000, "notifyEmails": ["ops@acme.test"],
                "licenseIds": ["lic-1"]}  # fmt: skip
        async with session.post(f"{api}/{client_id}/creditAccounts", json=body) as made:
            account = (await made.json())["data"]["APICreateCreditAccount"]
        params = {"clientId": client_id, "creditAccountId": account["id"]}
        async with session.get(f"{api}/{client_id}/creditBatches", params=params) as listing:
            page = (await listing.json())["data"]["APICreditBatchesByClientAndCreditAccount"]
        batch_id = page["creditBatches"][0]["id"]
        for balance in (960, 925, 880, 1000, 955):  # four debits and a top-up
            async with session.put(f"{api}/creditBatches/{batch_id}",
                                   json={"currentBalance": balance}) as update:  # fmt: skip
                assert update.status == 200
    ids = {"client_id": client_id, "account_id": account["id"], "batch_id": batch_id}
    return {name: value for name, value in ids.items() if name in names}


@pytest.fixture(scope="module")
def docs_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Redis tests' ``redis-server``, for the blocks that read ``REDIS_URL``."""
    from .redis.conftest import REDIS_SERVER, running_redis

    if REDIS_SERVER is None:
        pytest.skip("no redis-server binary (apt-get install redis-server)")
    with running_redis(tmp_path_factory.mktemp("docs-redis")) as server:
        yield server


@pytest.mark.parametrize("chain", list(python_blocks()))
async def test_python_block_runs(
    chain: list[Block],
    monkeypatch: pytest.MonkeyPatch,
    serve_fake: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    """The block (after the blocks it continues) runs as a reader would run it."""
    names = assumed(chain[0])
    namespace: dict[str, Any] = {"__name__": "__docs__", **await _arrange(serve_fake, names)}
    for name, value in serve_fake.items():
        monkeypatch.setenv(name, value)
    if any("REDIS_URL" in block.code for block in chain):
        import redis

        url = request.getfixturevalue("docs_redis").url
        with redis.Redis.from_url(url) as flush:
            flush.flushall()
        monkeypatch.setenv("REDIS_URL", url)
    _loopback_only(monkeypatch)
    await asyncio.wait_for(asyncio.to_thread(_run_chain, chain, namespace, names), _TIMEOUT)


def test_every_page_states_what_its_snippets_assume() -> None:
    """Each assumes marker follows prose naming each name in backticks, from the known set."""
    markers = [(page, a) for page in PAGES for a in assumptions(page)]
    assert [page.name for page, _ in markers if page == GUIDE] == ["index.md"]
    for page, assumption in markers:
        assert assumption.names <= set(ASSUMABLE), f"{page.name}:{assumption.line}"
        for name in assumption.names:
            assert re.search(rf"`[^`]*\b{name}\b[^`]*`", assumption.prose), (
                f"{page.name}:{assumption.line}: the prose does not say `{name}` is assumed"
            )


def test_docs_pages_are_linked_from_the_index() -> None:
    """Every page in docs/ is reachable from docs/index.md."""
    index = GUIDE.read_text(encoding="utf-8")
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
    """Only the known markers exist, every skip gives a reason, and at most two blocks skip."""
    blocks = [block for page in PAGES for block in parse(page)]
    markers = [block for block in blocks if block.marker is not None]
    unknown = [b.name for b in markers if b.marker != "continue" and b.skip_reason is None]
    assert unknown == []
    assert all(block.lang == "python" for block in markers)
    assert len([b for b in markers if b.skip_reason]) <= 2
    # A reader cannot see a marker: a block that continues another says so in its first line.
    hidden = [b.name for b in markers if b.marker == "continue" and "continued" not in
              b.code.splitlines()[0]]  # fmt: skip
    assert hidden == []
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            marker = _MARKER.match(line)
            if marker is not None:
                what = marker["what"]
                known = what == "continue" or _SKIP.fullmatch(what) or _ASSUMES.fullmatch(what)
                assert known, f"{page.name}:{number}: unknown marker {what!r}"


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


def test_assumptions_apply_after_their_marker(tmp_path: Path) -> None:
    """Blocks before an assumes marker get nothing; blocks after it get its names."""
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\nLater snippets assume `import thoughtcredits as tc` and\n"
        "an open `client`.\n<!-- docs-test: assumes tc, client -->\n\n```python\nclient\n```\n"
    )
    first, second = parse(page)
    [assumption] = assumptions(page)
    assert assumption.prose.startswith("Later snippets assume")
    assert (assumed(first), assumed(second)) == (frozenset(), frozenset({"tc", "client"}))
    assert second.marker is None


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
    assert "tc" not in namespace
    with pytest.raises(AssertionError):
        _run_chain([first, second], {})


def test_runner_gives_a_block_only_what_is_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without assumptions ``tc`` and ``asyncio`` are unknown, as in a fresh interpreter."""
    monkeypatch.setenv("THOUGHTCREDITS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("THOUGHTCREDITS_API_KEY", "unused")
    for code in ("tc\n", "asyncio\n", "aiohttp\n", "client\n"):
        with pytest.raises(NameError):
            _run_chain([Block(ROOT, 1, "python", code, None)], {})
    _run_chain([Block(ROOT, 1, "python", "tc, client\n", None)], {}, frozenset({"tc", "client"}))


def test_testing_page_pytest_samples_pass_under_pytest_with_the_shown_config(
    tmp_path: Path,
) -> None:
    """docs/testing.md's test samples pass under real pytest with only its TOML config."""
    blocks = parse(DOCS / "testing.md")
    [config] = [b.code for b in blocks if b.lang == "toml"]
    samples = [b.code for b in blocks if b.lang == "python" and "async def test_" in b.code]
    assert len(samples) >= 2
    (tmp_path / "pyproject.toml").write_text(config)
    for number, code in enumerate(samples):
        (tmp_path / f"test_sample_{number}.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(samples)} passed" in done.stdout


@pytest.mark.skipif(shutil.which("curl") is None or sys.platform == "win32", reason="curl, sh")
def test_testing_page_curl_commands_run(serve_fake: dict[str, str], tmp_path: Path) -> None:
    """Every ``$`` command of docs/testing.md's admin section runs, in order, without error."""
    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    section = text.split("## The admin routes", 1)[1]
    commands = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        command = ""
        for line in block.splitlines():
            if command.endswith("\\"):
                command = command[:-1] + " " + line.strip()
            elif line.startswith("$ "):
                if command:
                    commands.append(command)
                command = line[2:]
        if command:
            commands.append(command)
    assert len(commands) >= 10
    script = "set -eu\n" + "\n".join(commands) + "\n"
    done = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, **serve_fake}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ledger.json").exists()
