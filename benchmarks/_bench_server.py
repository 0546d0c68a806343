"""The benchmark's server process: FakeCreditsServers over one seeded ledger, on 127.0.0.1.

Runs in its own process (``multiprocessing`` spawn) so the client's CPU time, memory and
event loop are measured alone. The parent talks to it over a ``Pipe``:

* on start it receives a dict: the server URLs, the API key and the seeded ids;
* ``("statuses", name)`` answers the statuses that server logged since the last ask
  (``{"200": n, "429": m}``) and forgets its request log;
* ``("cpu",)`` answers the server process's CPU seconds so far;
* ``("stop",)`` stops the servers and ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

API_KEY = "bench-key-0123456789"
SMALL_ACTIONS = 20


@dataclass(frozen=True)
class ServerConfig:
    """What the server process seeds and serves."""

    big_actions: int
    """Actions in the big account (debits and credits together)."""
    rate_per_minute: int
    """The ``limited`` server's rate (token bucket refill)."""
    burst: int
    """The ``limited`` server's bucket size."""
    latency: float = 0.02
    """The ``slow`` server's added latency in seconds."""


def _serve(conn: Connection, config: ServerConfig) -> None:
    asyncio.run(_main(conn, config))


async def _main(conn: Connection, config: ServerConfig) -> None:
    from thoughtcredits.testing import FakeCreditsServer, Ledger, seed_ledger

    started = time.perf_counter()
    ledger = Ledger(id_seed=0)
    big = seed_ledger(ledger, accounts=1, actions_per_account=config.big_actions, seed=1)
    small = seed_ledger(ledger, accounts=1, actions_per_account=SMALL_ACTIONS, seed=2)
    seed_seconds = time.perf_counter() - started
    servers = {
        "plain": FakeCreditsServer(API_KEY, ledger=ledger),
        "slow": FakeCreditsServer(API_KEY, ledger=ledger, latency=config.latency),
        "limited": FakeCreditsServer(
            API_KEY, ledger=ledger, rate_limit=(config.rate_per_minute, config.burst)
        ),
    }
    for server in servers.values():
        await server.start()
    big_account = ledger.accounts[str(big.account_ids[0])]
    conn.send(
        {
            "urls": {name: server.url for name, server in servers.items()},
            "api_key": API_KEY,
            "big_client": str(big.client_ids[0]),
            "big_account": str(big.account_ids[0]),
            "big_counts": {kind: len(rows) for kind, rows in big_account.actions.items()},
            "small_client": str(small.client_ids[0]),
            "small_account": str(small.account_ids[0]),
            "seed_seconds": seed_seconds,
        }
    )
    try:
        while True:
            # recv blocks; a thread keeps the servers answering meanwhile.
            command = await asyncio.to_thread(conn.recv)
            if command[0] == "stop":
                return
            if command[0] == "cpu":
                conn.send(time.process_time())
            elif command[0] == "statuses":
                server = servers[command[1]]
                counts = Counter(str(record.status) for record in server.requests)
                server.reset_requests()
                conn.send(dict(counts))
    except EOFError:
        return  # the parent is gone
    finally:
        for server in servers.values():
            await server.stop()


class ServerProcess:
    """The server process, started and stopped by the benchmark (a context manager)."""

    def __init__(self, config: ServerConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, config), daemon=True)
        self._child = child
        self.info: dict[str, Any] = {}

    def __enter__(self) -> ServerProcess:
        self._process.start()
        self._child.close()
        if not self._conn.poll(120):
            self._process.kill()
            raise RuntimeError("the benchmark server did not start within 120 s")
        try:
            self.info = self._conn.recv()
        except EOFError:
            self._process.join(10)
            raise RuntimeError(
                f"the benchmark server exited (code {self._process.exitcode}) before starting"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self._conn.send(("stop",))
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used so far."""
        self._conn.send(("cpu",))
        seconds: float = self._conn.recv()
        return seconds

    def statuses(self, name: str) -> dict[str, int]:
        """Statuses the ``name`` server answered since the last call (its log is then reset)."""
        self._conn.send(("statuses", name))
        counts: dict[str, int] = self._conn.recv()
        return counts
