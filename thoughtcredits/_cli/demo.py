"""``make demo``: start the local credits server, then run the main job through the CLI.

``python -m thoughtcredits._cli.demo`` starts ``thoughtcredits serve-fake --seed-demo`` in a
subprocess, points the command line at it with the two environment variables a real tenant
uses, and runs each command through the CLI's entry point, printing it first as you would
type it. It creates an account and a batch, updates the batch, lists the account's batches
as a table, exports a few thousand credit actions to JSON Lines with a progress bar, checks
the export, stops the server and exits 0.
"""

from __future__ import annotations

import io
import json
import os
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._config import ENV_API_KEY, ENV_BASE_URL
from . import main as cli_main

__all__ = ["main"]

_SERVER_START_TIMEOUT = 30.0


class DemoError(Exception):
    """A step of the demo failed; the message says which."""


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _show(argv: Sequence[str]) -> None:
    _say()
    _say(f"$ thoughtcredits {shlex.join(argv)}")


def _run(argv: Sequence[str]) -> None:
    """Run one command through the CLI entry point, output straight to the terminal."""
    _show(argv)
    code = cli_main(list(argv))
    sys.stdout.flush()
    if code != 0:
        raise DemoError(f"'thoughtcredits {argv[0]} {argv[1]}' exited with {code}")


def _run_json(argv: Sequence[str]) -> Any:
    """Run a command with ``--format json``; echo its output and return it decoded."""
    _show(argv)
    captured = io.StringIO()
    with redirect_stdout(captured):
        code = cli_main(list(argv))
    _say(captured.getvalue().rstrip())
    if code != 0:
        raise DemoError(f"'thoughtcredits {argv[0]} {argv[1]}' exited with {code}")
    return json.loads(captured.getvalue(), parse_float=Decimal)


def _reader(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextmanager
def _server() -> Iterator[dict[str, str]]:
    """``thoughtcredits serve-fake --seed-demo`` in a subprocess; yields its exported values."""
    argv = ["serve-fake", "--port", "0", "--seed-demo", "--quiet"]
    _say(f"$ thoughtcredits {shlex.join(argv)} &")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "thoughtcredits", *argv],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str | None] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    try:
        values = _read_banner(lines)
        yield values
    finally:
        process.terminate()  # SIGTERM: the server stops cleanly
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        while (line := lines.get()) is not None:
            _say(f"  {line.rstrip()}")
        _say(f"  (server exited with {process.returncode})")


def _read_banner(lines: queue.Queue[str | None]) -> dict[str, str]:
    """Echo the server's first lines up to ``# ready``; collect its ``export`` values."""
    values: dict[str, str] = {}
    deadline = time.monotonic() + _SERVER_START_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise DemoError("the local server did not start in time") from None
        if line is None:
            raise DemoError("the local server exited before it was ready")
        _say(f"  {line.rstrip()}")
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            values[name] = value
        if line.startswith("# ready"):
            return values


def _check_export(path: Path) -> tuple[int, Decimal]:
    """Re-read the export: every line is one action whose balances move by its amount."""
    count = 0
    total = Decimal(0)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            action = json.loads(line, parse_float=Decimal)
            moved = abs(Decimal(action["sourceBalanceIn"]) - Decimal(action["sourceBalanceOut"]))
            if moved != action["amount"]:
                raise DemoError(f"line {count + 1}: balances moved {moved}, amount {action}")
            total += action["amount"]
            count += 1
    return count, total


def _job(values: dict[str, str], export: Path) -> dict[str, Any]:
    """The main job, command by command; returns numbers for the summary."""
    client = values["THOUGHTCREDITS_DEMO_CLIENT_ID"]
    ledger_client = values["THOUGHTCREDITS_DEMO_LEDGER_CLIENT_ID"]
    ledger_account = values["THOUGHTCREDITS_DEMO_LEDGER_ACCOUNT_ID"]
    account = _run_json(
        ["accounts", "create", client, "--name", "Customer Education",
         "--starting-balance", "1000", "--notify-email", "ops@example.com",
         "--license-id", "9b1f4c2e-6a3d-4f8b-8e7c-5d2a1b0c9e8f",
         "--credit-batch-name", "FY25 allocation", "--batch-days-until-expire", "365",
         "--format", "json"]
    )  # fmt: skip
    batch = _run_json(
        ["batches", "create", client, "--account", account["id"], "--starting-balance", "250",
         "--name", "Q4 top-up", "--expires-on", "2027-01-31", "--format", "json"]
    )  # fmt: skip
    _run(["batches", "update", batch["id"], "--current-balance", "210", "--format", "table"])
    _run(["batches", "list", client, "--account", account["id"], "--format", "table"])
    started = time.monotonic()
    _run(
        ["actions", "list", ledger_client, ledger_account, "--type", "debit",
         "-o", str(export), "--progress"]
    )  # fmt: skip
    elapsed = time.monotonic() - started
    count, debited = _check_export(export)
    # The nightly job: every account of both clients, within a 600/min quota.
    for owner in (client, ledger_client):
        _run(["reconcile", owner, "--rate-limit", "600/100"])
    return {"count": count, "debited": debited, "elapsed": elapsed}


def main() -> int:
    """Run the demo; return 0 when every step worked."""
    started = time.monotonic()
    _say("thoughtcredits demo: the local credits server, and the main job through the CLI")
    _say()
    export = Path(tempfile.gettempdir()) / "thoughtcredits-demo" / "debit-actions.jsonl"
    export.parent.mkdir(parents=True, exist_ok=True)
    saved = {name: os.environ.get(name) for name in (ENV_BASE_URL, ENV_API_KEY)}
    try:
        with _server() as values:
            server_ready = time.monotonic() - started
            os.environ[ENV_BASE_URL] = values[ENV_BASE_URL]
            os.environ[ENV_API_KEY] = values[ENV_API_KEY]
            _say()
            _say(f"$ export {ENV_BASE_URL}={values[ENV_BASE_URL]} {ENV_API_KEY}=...")
            numbers = _job(values, export)
            _say()
            _say("$ kill %1   # SIGTERM stops the server")
    except DemoError as exc:
        sys.stderr.write(f"demo failed: {exc}\n")
        return 1
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    size = export.stat().st_size
    rate = numbers["count"] / numbers["elapsed"] if numbers["elapsed"] else 0.0
    _say()
    _say("Summary")
    _say(f"  server seeded and ready in {server_ready:.1f}s")
    _say("  created 1 account (with its first batch) and 1 batch, updated it, listed them")
    _say("  reconciled every credit account of both clients: no discrepancies")
    _say(
        f"  exported {numbers['count']:,} debit actions ({size / 1e6:.1f} MB, "
        f"{numbers['debited']:,} credits) in {numbers['elapsed']:.1f}s ({rate:,.0f} items/s)"
    )
    _say(f"    to {export}; every line re-read, its balances move by exactly its amount")
    _say(f"  total {time.monotonic() - started:.1f}s")
    _say()
    _say("The same commands work against your tenant:")
    activate = _activation()
    if activate:
        _say(f"  {activate}")
    _say(f"  export {ENV_BASE_URL}=https://YOUR-INSTANCE.thoughtindustries.com")
    _say(f"  export {ENV_API_KEY}=...")
    _say("  thoughtcredits --help")
    return 0


def _activation() -> str:
    """How a new shell reaches this environment's ``thoughtcredits``, when it is not on PATH."""
    scripts = Path(sys.executable).parent
    found = shutil.which("thoughtcredits")
    if found is not None and Path(found).parent == scripts:
        return ""
    here = Path.cwd()
    shown = scripts.relative_to(here) if scripts.is_relative_to(here) else scripts
    activate = shown / "activate"
    if (scripts / "activate").exists():
        return f"source {activate}   # this shell only; or run {shown / 'thoughtcredits'}"
    return f"PATH={shown}:$PATH"


if __name__ == "__main__":
    sys.exit(main())
