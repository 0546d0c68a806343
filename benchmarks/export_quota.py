"""How much of a key's quota does ``thoughtcredits export`` use across network latency?

A local server (``FakeCreditsServer`` with ``latency`` and ``rate_limit``, 150 ms and 600/100
by default, the figures of issue 20) serves one seeded client; each configuration runs the
real command line in a fresh process against it, from a full bucket:

- ``one``: ``export --concurrency 1``, one action listing at a time (the behaviour before
  issue 20 §4): the reference of the pairs;
- ``auto``: ``export`` as shipped, the client's default limiter (learned from the
  ``X-RateLimit-*`` headers);
- ``given``: ``export --rate-limit 600/100``, the in-process ``RateLimit``;
- ``reconcile``: ``reconcile`` on the same client, default limiter (the issue's yardstick).

The figure is **quota used**: answers 2xx ÷ what the server allows from the first request to
the last answer (burst + rate * time), as the worker tests measure it; 429s are counted
too. Every round runs every configuration (in an order that alternates between rounds), and
the pairs are ratios within a round: ``auto/one``, ``given/one``, ``auto/reconcile``; the
headline is the median over the rounds.

    .venv/bin/python benchmarks/export_quota.py [--rounds 3] [--accounts 40] [--actions 1000]
        [--latency 0.15] [--rate 600/100] [--json FILE]

One round takes about three minutes at the default sizes (the ``one`` run alone about 70 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

T = TypeVar("T")
API_KEY = "bench-key-0123456789"
CONFIGS = ("one", "auto", "given", "reconcile")
PAIRS = (("auto", "one"), ("given", "one"), ("auto", "reconcile"))


@dataclass(frozen=True)
class Run:
    """One configuration's run, as the server saw it."""

    config: str
    answered: int
    rate_limited: int
    seconds: float
    quota_used: float
    wall: float
    cli_cpu: float


class Server:
    """A rate-limited, slow ``FakeCreditsServer`` on its own thread, logging each answer."""

    def __init__(self, args: argparse.Namespace) -> None:
        from thoughtcredits.testing import FakeCreditsServer, Ledger, seed_ledger

        self.per_minute, self.burst = (int(part) for part in args.rate.split("/"))
        ledger = Ledger(id_seed=0)
        seeded = seed_ledger(
            ledger, accounts=args.accounts, actions_per_account=args.actions, seed=1
        )
        self.client_id = str(seeded.client_ids[0])
        self.answers: list[tuple[float, int]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.server = FakeCreditsServer(
            API_KEY,
            ledger=ledger,
            latency=args.latency,
            rate_limit=(self.per_minute, self.burst),
            on_request=lambda record: self.answers.append((time.monotonic(), record.status)),
            log_size=1,
        )
        self._run(self.server.start())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def fresh(self) -> None:
        """A full bucket and an empty answer log (between runs)."""

        async def reset() -> None:
            assert self.server.limiter is not None
            self.server.limiter.reset()
            self.answers.clear()

        self._run(reset())

    def close(self) -> None:
        self._run(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "THOUGHTCREDITS_BASE_URL": self.server.url,
            "THOUGHTCREDITS_API_KEY": API_KEY,
        }


@contextmanager
def serving(args: argparse.Namespace) -> Iterator[Server]:
    server = Server(args)
    try:
        yield server
    finally:
        server.close()


def run(server: Server, config: str, rate: str) -> Run:
    """One configuration, the command line in a fresh process, from a full bucket."""
    server.fresh()
    with tempfile.TemporaryDirectory() as folder:
        argv = {
            "one": ["export", server.client_id, "--to", folder, "--concurrency", "1"],
            "auto": ["export", server.client_id, "--to", folder],
            "given": ["export", server.client_id, "--to", folder, "--rate-limit", rate],
            "reconcile": ["reconcile", server.client_id, "--format", "json"],
        }[config]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "thoughtcredits", *argv, "--no-progress"],
            capture_output=True, text=True, env=server.env(), check=False,
        )  # fmt: skip
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{config} exited {done.returncode}: {done.stderr[-2000:]}")
    answers = list(server.answers)
    ok = sum(1 for _, status in answers if 200 <= status < 300)
    seconds = answers[-1][0] - answers[0][0]
    allowed = server.burst + server.per_minute / 60 * seconds
    return Run(
        config=config,
        answered=ok,
        rate_limited=sum(1 for _, status in answers if status == 429),
        seconds=round(seconds, 3),
        quota_used=round(ok / allowed, 4),
        wall=round(wall, 3),
        cli_cpu=round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 3),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--actions", type=int, default=1000, help="actions per account")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per answer")
    parser.add_argument("--rate", default="600/100", help="the server's PER_MIN/BURST")
    parser.add_argument("--only", nargs="*", choices=CONFIGS, default=list(CONFIGS))
    parser.add_argument("--json", help="also write every run and pair to this file")
    args = parser.parse_args()
    runs: list[list[Run]] = []
    with serving(args) as server:
        for number in range(args.rounds):
            order = list(args.only) if number % 2 == 0 else list(reversed(args.only))
            done = {config: run(server, config, args.rate) for config in order}
            runs.append([done[config] for config in args.only])
            for result in runs[-1]:
                print(
                    f"round {number + 1} {result.config:10} quota used {result.quota_used:.3f}  "
                    f"429s {result.rate_limited:3d}  {result.answered:5d} answers in "
                    f"{result.seconds:6.1f} s  CLI CPU {result.cli_cpu:5.1f} s",
                    flush=True,
                )
    used = {
        config: statistics.median(r.quota_used for rnd in runs for r in rnd if r.config == config)
        for config in args.only
    }
    pairs = {}
    for left, right in PAIRS:
        if left in args.only and right in args.only:
            ratios = [
                next(r for r in rnd if r.config == left).quota_used
                / next(r for r in rnd if r.config == right).quota_used
                for rnd in runs
            ]
            pairs[f"{left}/{right}"] = {"median": statistics.median(ratios), "rounds": ratios}
    print()
    for config, value in used.items():
        print(f"median quota used, {config:10} {value:.3f}")
    for name, pair in pairs.items():
        print(f"median paired ratio, {name:15} {pair['median']:.2f}")
    if args.json:
        document = {
            "args": vars(args),
            "median_quota_used": used,
            "pairs": pairs,
            "runs": [[asdict(r) for r in rnd] for rnd in runs],
        }
        with open(args.json, "w") as file:
            json.dump(document, file, indent=2)


if __name__ == "__main__":
    main()
