"""The ``thoughtcredits`` parser and runner: exit codes, one-line errors, never a traceback.

Exit codes: 0 success, 1 an API or I/O error, 2 a bad command line or configuration,
3 and 4 for ``reconcile``'s findings (see its module), 130 interrupted (Ctrl-C), 143
terminated (SIGTERM).

To add a command, write a module with a ``register(commands)`` function and list it in
:data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress

from .._version import version
from .commands import accounts as _accounts
from .commands import actions as _actions
from .commands import batches as _batches
from .commands import export as _whole
from .commands import job_status as _job_status
from .commands import reconcile as _reconcile
from .commands import serve as _serve
from .context import Env
from .errors import UsageError, describe
from .options import add_output_options, check_output_options
from .output.safe import safe
from .parser import ArgumentParser, Subcommands, add_api_options
from .redact import scrub, secret_values

__all__ = ["COMMANDS", "build_parser", "main", "run"]

COMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    _batches.register,
    _actions.register,
    _accounts.register,
    _whole.register,
    _reconcile.register,
    _job_status.register,
    _serve.register,
)
"""Each command's ``register`` function, in the order ``--help`` lists them."""

EXAMPLES = """\
examples:
  export THOUGHTCREDITS_BASE_URL=https://acme.thoughtindustries.com
  export THOUGHTCREDITS_API_KEY=...
  thoughtcredits batches list CLIENT_ID --account ACCOUNT_ID
  thoughtcredits actions list CLIENT_ID ACCOUNT_ID --type debit -o debits.jsonl
  thoughtcredits export CLIENT_ID --to ledger/ --format parquet
  thoughtcredits reconcile CLIENT_ID --rate-limit 120/20 --report report.json
  thoughtcredits serve-fake --seed-demo     # a local server to try it all on

exit codes: 0 ok, 1 API or I/O error, 2 bad arguments or configuration,
            3 reconcile found discrepancies, 4 reconcile could not verify an
            account (it kept changing during the scan), 130 interrupted,
            143 terminated
"""


def build_parser() -> ArgumentParser:
    """The whole command line: global options and every command in :data:`COMMANDS`."""
    parser = ArgumentParser(
        prog="thoughtcredits",
        description="The Thought Industries credits API from the command line.",
        epilog=EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    add_api_options(parser, defaults=True)
    add_output_options(parser, hidden=True)  # still accepted before the command name
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(commands)
    return parser


def run(
    argv: Sequence[str] | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> int:
    """Parse ``argv`` and run the command; return the exit code. Never raises.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).
        sleep: the coroutine the client waits with; tests inject one that records delays.
    """
    words = sys.argv[1:] if argv is None else list(argv)
    secrets = secret_values(words)
    try:
        args = build_parser().parse_args(words)
        check_output_options(args, getattr(args, "command", None) or words[0])
    except UsageError as exc:
        # The parser quotes what it refuses: a misspelt --api-key's value must not show.
        return _fail(f"error: {exc}", 2, secrets)
    except SystemExit as exc:  # --help and --version exit 0 after printing
        return exc.code if isinstance(exc.code, int) else 0
    env = Env(args, sleep=sleep, argv=words)
    terminated: list[int] = []
    try:
        with env.signals.listening():
            return int(asyncio.run(_main(args, env, terminated)))
    except KeyboardInterrupt:
        return _fail("error: interrupted", 130, secrets)
    except asyncio.CancelledError:
        if terminated:
            return _fail("error: terminated", 143, secrets)
        raise
    except BrokenPipeError:
        # The reader (e.g. `head`) has gone: stop quietly, and keep Python's own flush at exit
        # from failing on the same closed pipe.
        _silence_stdout()
        return 0
    except Exception as exc:
        code, message = describe(exc)
        if getattr(args, "debug", False) and code == 1:
            # Exception messages quote the server: escaped like every other line.
            _fail(traceback.format_exc().rstrip("\n"), code, secrets)
        return _fail(f"error: {message}", code, secrets)


async def _main(args: argparse.Namespace, env: Env, terminated: list[int]) -> int:
    """The command, with SIGTERM cancelling it as Ctrl-C does (so exports keep their work)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def terminate() -> None:
        terminated.append(signal.SIGTERM)
        task.cancel()

    # Not on Windows, nor off the main thread: then SIGTERM keeps its default.
    with suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return int(await args.handler(env))
    finally:
        with suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    """The ``thoughtcredits`` console script: run the command line and return its exit code."""
    return run(argv)


def _fail(message: str, code: int, secrets: Sequence[str] = ()) -> int:
    # An error can quote the server (a 400's message): never let it drive the terminal.
    lines = scrub(message, secrets).split("\n")
    print("\n".join(safe(line) for line in lines), file=sys.stderr, flush=True)
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
