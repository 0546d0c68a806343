"""``thoughtcredits serve-fake``: the local credits server (``thoughtcredits.testing``) in the
foreground.

It prints ``export NAME=VALUE`` lines a shell (or a script) can use, then ``# ready``, and
serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from contextlib import suppress
from typing import TYPE_CHECKING

from .._config import ENV_API_KEY, ENV_BASE_URL
from . import _types
from ._context import Env
from ._parser import Subcommands

if TYPE_CHECKING:
    from ..testing import FakeCreditsServer

__all__ = ["DEMO_LEDGER_ACTIONS", "READY", "register"]

READY = "# ready"
"""The line printed once the server accepts requests (scripts wait for it)."""

DEMO_LEDGER_ACTIONS = 6_000
"""Actions on the large demo account seeded by ``--seed-demo``."""


def register(commands: Subcommands) -> None:
    """Add ``serve-fake``."""
    parser = commands.add_parser(
        "serve-fake",
        help="run the local credits server (thoughtcredits.testing) in the foreground",
        description="Run the local credits server: the five credit endpoints, in memory, with "
        "real balances, validation, auth and pagination. Prints export lines for "
        f"{ENV_BASE_URL} and {ENV_API_KEY}; stops on Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_types.non_negative_int,
        default=8765,
        help="0 picks a free port (default: %(default)s)",
    )
    parser.add_argument("--api-key", help="the bearer key to accept (default: a random one)")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help=f"seed a demo client with small accounts and one account of "
        f"{DEMO_LEDGER_ACTIONS:,} actions",
    )
    parser.add_argument(
        "--rate-limit",
        type=_types.rate_limit,
        metavar="PER_MIN[/BURST]",
        help="answer 429 beyond this rate per key, e.g. 120/20 (default: no limit)",
    )
    parser.add_argument(
        "--per-page",
        type=_types.positive_int,
        default=100,
        metavar="N",
        help="default page size (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print one line per request on stderr"
    )
    parser.set_defaults(handler=_serve, debug=False)


def _seed(server: FakeCreditsServer) -> list[tuple[str, str]]:
    """Seed the demo ledger; return the ``(variable, value)`` pairs to print."""
    from ..testing import DEMO_ACCOUNT_IDS, seed_demo, seed_ledger

    # The bulk ledger first: its history starts in 2024, before the demo's "now".
    big = seed_ledger(server.ledger, accounts=1, actions_per_account=DEMO_LEDGER_ACTIONS, seed=7)
    client_id = seed_demo(server.ledger)
    return [
        ("THOUGHTCREDITS_DEMO_CLIENT_ID", str(client_id)),
        ("THOUGHTCREDITS_DEMO_ACCOUNT_IDS", ",".join(str(a) for a in DEMO_ACCOUNT_IDS)),
        ("THOUGHTCREDITS_DEMO_LEDGER_CLIENT_ID", str(big.client_ids[0])),
        ("THOUGHTCREDITS_DEMO_LEDGER_ACCOUNT_ID", str(big.account_ids[0])),
    ]


async def _log_requests(server: FakeCreditsServer) -> None:
    """Print one line per request on stderr, every 0.2 s, and the rest when cancelled."""
    shown = 0

    def show() -> None:
        nonlocal shown
        requests = server.requests
        shown = min(shown, len(requests))  # the log may have been reset
        for request in requests[shown:]:
            print(f"{request.method} {request.path} -> {request.status}", file=sys.stderr)
        shown = len(requests)
        sys.stderr.flush()

    try:
        while True:
            await asyncio.sleep(0.2)
            show()
    finally:
        show()


async def _serve(env: Env) -> int:
    from ..testing import FakeCreditsServer

    args: argparse.Namespace = env.args
    api_key = args.api_key or f"tc-fake-{secrets.token_hex(12)}"
    server = FakeCreditsServer(api_key, per_page=args.per_page, rate_limit=args.rate_limit)
    seeded = _seed(server) if args.seed_demo else []
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
    logger = None if args.quiet else asyncio.create_task(_log_requests(server))
    try:
        print(f"# thoughtcredits local credits server (rate limit: {_limit(args)})")
        for name, value in [(ENV_BASE_URL, server.url), (ENV_API_KEY, api_key), *seeded]:
            print(f"export {name}={value}")
        if seeded:
            print(f"# the ledger account holds {DEMO_LEDGER_ACTIONS:,} credit actions")
        print(f"{READY}; Ctrl-C or SIGTERM stops the server", flush=True)
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
        if logger is not None:
            logger.cancel()
            with suppress(asyncio.CancelledError):
                await logger
        await server.stop()
    print("# stopped", flush=True)
    return 0


def _limit(args: argparse.Namespace) -> str:
    if args.rate_limit is None:
        return "none"
    per_minute, burst = args.rate_limit
    return f"{per_minute}/min, burst {burst}"
