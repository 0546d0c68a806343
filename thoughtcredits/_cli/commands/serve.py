"""``thoughtcredits serve-fake``: the local credits server (``thoughtcredits.testing``) in the
foreground.

It prints ``export NAME=VALUE`` lines a shell (or a script) can use, a few ``#`` hints, then
``# ready``, and serves until Ctrl-C or SIGTERM. With ``--state FILE`` the ledger and the key
are loaded from FILE at start and saved back, atomically, on that clean stop; FILE is locked
for this server meanwhile (see ``thoughtcredits.testing._server.statefile``).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..._config import ENV_API_KEY, ENV_BASE_URL
from ...testing._server.limits import LimiterSpec, parse_limit
from .. import argtypes
from ..context import Env
from ..output.safe import safe
from ..parser import Subcommands

if TYPE_CHECKING:
    from ...testing import FakeCreditsServer, RecordedRequest
    from ...testing._server.statefile import StateFile

__all__ = ["DEMO_LEDGER_ACTIONS", "READY", "register"]

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
        description="Run the local credits server: the credit endpoints, in memory, with "
        "real balances, validation, auth and pagination, plus /_fake admin routes (reset, "
        "state, requests, faults, clients, openapi.json). Prints export lines for "
        f"{ENV_BASE_URL} and {ENV_API_KEY}; stops on Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=argtypes.port,
        default=8765,
        help="0 picks a free port (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        type=_api_key,
        help="the bearer key to accept (default: the one kept in --state FILE, else a random one)",
    )
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
        help="load the ledger and key from FILE at start if it exists; save them there on "
        "Ctrl-C or SIGTERM (one server per FILE)",
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


def _api_key(text: str) -> str:
    from ...testing._server.statefile import usable_key

    if not usable_key(text):  # the message never repeats the key
        raise argparse.ArgumentTypeError("must be printable ASCII without spaces")
    return text


async def _save_or_resume(
    server: FakeCreditsServer, state: StateFile, api_key: str, args: argparse.Namespace
) -> int | None:
    """After a stop: save FILE and return the exit code, or, when not even a copy could be
    written, listen again on the same port and return None (the ledger is still in memory)."""
    from ...testing._ledger.state import KEY_FIELD
    from ...testing._server.render import dumps
    from ...testing._server.statefile import NotSavedError

    port = int(server.url.rpartition(":")[2])
    await server.stop()
    snapshot = server.snapshot()
    snapshot[KEY_FIELD] = api_key
    try:
        where, problem = state.save(dumps(snapshot).encode())
    except NotSavedError as exc:
        print(safe(f"error: {exc.strerror} ({state.path}), nor a copy beside it or in the "
                   "temporary directory; still serving, with the ledger in memory: fix the cause "
                   "and stop the server again (or fetch GET /_fake/state)"),
              file=sys.stderr, flush=True)  # fmt: skip
        try:
            await server.start(args.host, port)
        except OSError as again:
            lost = f"cannot listen again ({again.strerror}): the ledger is lost"
            raise OSError(again.errno, f"the state was not saved, and the server {lost}") from None
        return None
    if problem is not None:
        print(safe(f"error: cannot save the state to {state.path} ({problem}); a copy was "
                   f"written to {where}"), file=sys.stderr, flush=True)  # fmt: skip
        return 1
    print(safe(f"# state saved to {where}"), flush=True)
    return 0


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


def _hints(args: argparse.Namespace, loaded: bool, kept: str | None) -> list[str]:
    if args.strict_clients:
        clients = "only client ids added with POST /_fake/clients are known (--strict-clients)"
    else:
        clients = "any client id works: it is registered on first use"
    lines = [
        f"# clients: {clients}",
        # Three lines: one would be 124 columns, cut by an 80-column terminal mid-route.
        "# admin (same key): POST /_fake/reset, GET|PUT /_fake/state,",
        "#   GET /_fake/requests, POST /_fake/faults, POST /_fake/clients,",
        "#   GET /_fake/openapi.json",
        f'# e.g. curl -H "Authorization: Bearer ${ENV_API_KEY}" ${ENV_BASE_URL}/_fake/requests',
    ]
    if args.state is not None:
        status = "loaded from" if loaded else "new; will be saved to"
        lines.append(f"# state: {status} {args.state} (saved again on Ctrl-C or SIGTERM)")
        if kept is not None:
            replaced = "" if args.api_key in (None, kept) else "--api-key replaces "
            lines.append(f"# key: {replaced}the one kept in {args.state}")
    return lines


async def _serve(env: Env) -> int:
    from ...testing._server.statefile import StateFile

    args: argparse.Namespace = env.args
    state = None if args.state is None else StateFile(args.state)
    if state is None:
        return await _run(args, None)
    state.lock()
    try:
        return await _run(args, state)
    finally:
        state.unlock()


async def _run(args: argparse.Namespace, state: StateFile | None) -> int:
    from ...testing import FakeCreditsServer

    found = None if state is None else state.read()
    kept = None if found is None else found[1]
    api_key = args.api_key or kept or f"tc-fake-{secrets.token_hex(12)}"
    pending: deque[str] = deque()
    dropped = [0]

    def on_request(record: RecordedRequest) -> None:
        if len(pending) < _PENDING_LINES:
            pending.append(record.line(secret=api_key))
        else:
            dropped[0] += 1

    server = FakeCreditsServer(
        api_key, per_page=args.per_page, rate_limit=args.rate_limit,
        strict_clients=args.strict_clients, log_size=args.log_size,
        on_request=None if args.quiet else on_request,
    )  # fmt: skip
    if state is not None and found is not None:
        state.load_into(server.load, found[0])
    seeded = _seed(server) if args.seed_demo and found is None else []
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
    code: int | None = 0
    try:
        print(f"# thoughtcredits local credits server (rate limit: {_limit(args)})")
        for name, value in [(ENV_BASE_URL, server.url), (ENV_API_KEY, api_key), *seeded]:
            print(f"export {name}={value}")
        if seeded:
            print(f"# the ledger account holds {DEMO_LEDGER_ACTIONS:,} credit actions")
        for line in _hints(args, found is not None, kept):
            print(line)
        print(f"{READY}; Ctrl-C or SIGTERM stops the server", flush=True)
        code = None
        while code is None:
            await stop.wait()
            stop.clear()  # a signal during the save below asks again
            code = 0 if state is None else await _save_or_resume(server, state, api_key, args)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
        await server.stop()
        if logger is not None:
            logger.cancel()
            with suppress(asyncio.CancelledError):
                await logger
    print("# stopped", flush=True)
    return code


def _rate_limit(text: str) -> LimiterSpec:
    try:
        return parse_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("rate_limit: ")) from None


def _limit(args: argparse.Namespace) -> str:
    return "none" if args.rate_limit is None else str(args.rate_limit)
