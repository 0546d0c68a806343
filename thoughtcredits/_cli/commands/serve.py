"""``thoughtcredits serve-fake``: the local credits server (``thoughtcredits.testing``) in the
foreground.

It prints ``export NAME=VALUE`` lines a shell (or a script) can use, a few ``#`` hints, then
``# ready``, and serves until Ctrl-C or SIGTERM. With ``--state FILE`` the ledger is loaded
from FILE at start and saved back, atomically, on that clean stop.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import secrets
import signal
import sys
import tempfile
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..._config import ENV_API_KEY, ENV_BASE_URL
from ...testing._server.limits import LimiterSpec, parse_limit
from .. import argtypes
from ..context import Env
from ..parser import Subcommands

if TYPE_CHECKING:
    from ...testing import FakeCreditsServer, RecordedRequest

__all__ = ["DEMO_LEDGER_ACTIONS", "READY", "escape", "register"]

READY = "# ready"
"""The line printed once the server accepts requests (scripts wait for it)."""

DEMO_LEDGER_ACTIONS = 6_000
"""Actions on the large demo account seeded by ``--seed-demo``."""

_PENDING_LINES: Final = 10_000
"""Request lines waiting to be printed; beyond that, lines are counted, not kept."""


def register(commands: Subcommands) -> None:
    """Add ``serve-fake``."""
    parser = commands.add_parser(
        "serve-fake",
        help="run the local credits server (thoughtcredits.testing) in the foreground",
        description="Run the local credits server: the five credit endpoints, in memory, with "
        "real balances, validation, auth and pagination, plus /_fake admin routes (reset, "
        "state, requests, faults, clients, openapi.json). Prints export lines for "
        f"{ENV_BASE_URL} and {ENV_API_KEY}; stops on Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=argtypes.non_negative_int,
        default=8765,
        help="0 picks a free port (default: %(default)s)",
    )
    parser.add_argument("--api-key", help="the bearer key to accept (default: a random one)")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help=f"seed a demo client with small accounts and one account of "
        f"{DEMO_LEDGER_ACTIONS:,} actions (not when --state FILE exists)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        metavar="SPEC",
        help="answer 429 beyond this limit per key: a token bucket PER_MIN[/BURST], e.g. "
        "120/20, or fixed-window:N[/SECONDS] or sliding-window:N[/SECONDS], e.g. "
        "fixed-window:300/60 (default: no limit)",
    )
    parser.add_argument(
        "--per-page",
        type=argtypes.positive_int,
        default=100,
        metavar="N",
        help="default page size (default: %(default)s)",
    )
    parser.add_argument(
        "--strict-clients",
        action="store_true",
        help="answer 404 for client ids not registered with POST /_fake/clients "
        "(default: any client id is registered on first use)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="load the ledger from FILE at start if it exists; save it there on Ctrl-C or SIGTERM",
    )
    parser.add_argument(
        "--log-size",
        type=argtypes.positive_int,
        default=10_000,
        metavar="N",
        help="requests kept for GET /_fake/requests (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print one line per request on stderr"
    )
    parser.set_defaults(handler=_serve, debug=False)


def escape(text: str) -> str:
    """``text`` with backslashes, control characters and non-printable text escaped, so a
    caller cannot forge log lines or send terminal escapes."""
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")  # fmt: skip
    return "".join(out)


def request_line(record: RecordedRequest) -> str:
    """One stderr line for an answered request: ``METHOD /path -> status [fault]``."""
    fault = f" [{record.fault}]" if record.fault else ""
    return f"{escape(record.method)} {escape(record.path)} -> {record.status}{fault}"


def _seed(server: FakeCreditsServer) -> list[tuple[str, str]]:
    """Seed the demo ledger; return the ``(variable, value)`` pairs to print."""
    from ...testing import DEMO_ACCOUNT_IDS, seed_demo, seed_ledger

    # The bulk ledger first: its history starts in 2024, before the demo's "now".
    big = seed_ledger(server.ledger, accounts=1, actions_per_account=DEMO_LEDGER_ACTIONS, seed=7)
    client_id = seed_demo(server.ledger)
    return [
        ("THOUGHTCREDITS_DEMO_CLIENT_ID", str(client_id)),
        ("THOUGHTCREDITS_DEMO_ACCOUNT_IDS", ",".join(str(a) for a in DEMO_ACCOUNT_IDS)),
        ("THOUGHTCREDITS_DEMO_LEDGER_CLIENT_ID", str(big.client_ids[0])),
        ("THOUGHTCREDITS_DEMO_LEDGER_ACCOUNT_ID", str(big.account_ids[0])),
    ]


def _load_state(server: FakeCreditsServer, path: Path) -> bool:
    """Load ``path`` into ``server`` if it exists; a bad file is an error that leaves it as is."""
    from ...testing._server.jsonio import JSONError, loads

    if not path.parent.is_dir():  # found now, not when the ledger is saved on stop
        raise OSError(errno.ENOENT, "--state: no such directory", str(path.parent))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise OSError(exc.errno, f"--state: cannot read it: {exc.strerror}", str(path)) from None
    try:
        server.load(loads(raw))
    except (JSONError, ValueError) as exc:
        # ValueError: the CLI reports it as a usage problem (exit 2), in one line.
        raise ValueError(
            f"--state {path}: not a ledger snapshot saved by serve-fake ({exc}); "
            "the file was left as it is"
        ) from None
    return True


def _save_state(server: FakeCreditsServer, path: Path) -> None:
    """Write the ledger to ``path`` atomically: a unique temporary file, then a rename."""
    data = server.snapshot_json()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


async def _log_requests(pending: deque[str], dropped: list[int]) -> None:
    """Print the pending request lines on stderr every 0.2 s, and the rest when cancelled."""

    def show() -> None:
        while pending:
            print(pending.popleft(), file=sys.stderr)
        if dropped[0]:
            print(f"# {dropped[0]} request lines not shown (too many at once)", file=sys.stderr)
            dropped[0] = 0
        sys.stderr.flush()

    try:
        while True:
            await asyncio.sleep(0.2)
            show()
    finally:
        show()


def _hints(args: argparse.Namespace, loaded: bool) -> list[str]:
    if args.strict_clients:
        clients = "only client ids added with POST /_fake/clients are known (--strict-clients)"
    else:
        clients = "any client id works: it is registered on first use"
    lines = [
        f"# clients: {clients}",
        "# admin (same key): POST /_fake/reset, GET|PUT /_fake/state, GET /_fake/requests, "
        "POST /_fake/faults, POST /_fake/clients, GET /_fake/openapi.json",
        f'# e.g. curl -H "Authorization: Bearer ${ENV_API_KEY}" ${ENV_BASE_URL}/_fake/requests',
    ]
    if args.state is not None:
        status = "loaded from" if loaded else "new; will be saved to"
        lines.append(f"# state: {status} {args.state} (saved again on Ctrl-C or SIGTERM)")
    return lines


async def _serve(env: Env) -> int:
    from ...testing import FakeCreditsServer

    args: argparse.Namespace = env.args
    api_key = args.api_key or f"tc-fake-{secrets.token_hex(12)}"
    pending: deque[str] = deque()
    dropped = [0]

    def on_request(record: RecordedRequest) -> None:
        if len(pending) < _PENDING_LINES:
            pending.append(request_line(record))
        else:
            dropped[0] += 1

    server = FakeCreditsServer(
        api_key, per_page=args.per_page, rate_limit=args.rate_limit,
        strict_clients=args.strict_clients, log_size=args.log_size,
        on_request=None if args.quiet else on_request,
    )  # fmt: skip
    loaded = args.state is not None and _load_state(server, args.state)
    seeded = _seed(server) if args.seed_demo and not loaded else []
    try:
        await server.start(args.host, args.port)
    except OSError as exc:
        raise OSError(
            exc.errno, f"cannot listen on {args.host}:{args.port}: {exc.strerror}"
        ) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # Windows, or not the main thread
            loop.add_signal_handler(signum, stop.set)
    logger = None if args.quiet else asyncio.create_task(_log_requests(pending, dropped))
    try:
        print(f"# thoughtcredits local credits server (rate limit: {_limit(args)})")
        for name, value in [(ENV_BASE_URL, server.url), (ENV_API_KEY, api_key), *seeded]:
            print(f"export {name}={value}")
        if seeded:
            print(f"# the ledger account holds {DEMO_LEDGER_ACTIONS:,} credit actions")
        for line in _hints(args, loaded):
            print(line)
        print(f"{READY}; Ctrl-C or SIGTERM stops the server", flush=True)
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
        await server.stop()
        if logger is not None:
            logger.cancel()
            with suppress(asyncio.CancelledError):
                await logger
    if args.state is not None:
        _save_state(server, args.state)
        print(f"# state saved to {args.state}", flush=True)
    print("# stopped", flush=True)
    return 0


def _rate_limit(text: str) -> LimiterSpec:
    try:
        return parse_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("rate_limit: ")) from None


def _limit(args: argparse.Namespace) -> str:
    return "none" if args.rate_limit is None else str(args.rate_limit)
