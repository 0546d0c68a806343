"""Real processes for the worker tests: the local server, the workers, and what they did.

Every process is started on loopback with its own environment and stopped (or killed) by the
test; the server logs each answer with its time, from which the quota used and the longest
idle spell are measured.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from uuid import UUID

import thoughtcredits as tc
from thoughtcredits.reconcile import ReconciliationReport

ROOT = Path(__file__).resolve().parents[2]
PER_MINUTE, BURST = 6000, 100
"""The key's quota in these tests: 100 requests a second, so 2,000 accounts take minutes."""
LIMIT_BURST = 20
"""The workers book at most this many requests at once: the server's burst of 100 is slack
for processes that send a booked request late (a loaded machine stalls them)."""
ACCOUNTS = 2000
SHARD_SIZE = 25
WORKERS = 4
LIMIT_KEY = "thoughtcredits:worker-tests"


@dataclass(frozen=True)
class Answer:
    """One answer of the server: when (monotonic s), its status, route and path."""

    at: float
    status: int
    route: str
    path: str


@dataclass
class LedgerServer:
    """The seeded, rate-limited server process and what it answered."""

    url: str
    api_key: str
    client_id: str
    account_ids: list[UUID]
    log: Path

    def answers(self) -> list[Answer]:
        """Every answer logged so far (the server flushes its log every half second)."""
        found = []
        for line in self.log.read_text().splitlines():
            at, status, route, path = line.split(" ", 3)
            found.append(Answer(float(at), int(status), route, path))
        return found

    def env(self, redis_url: str) -> dict[str, str]:
        """The environment a worker process needs to reach this server and Redis."""
        return {
            **os.environ,
            "THOUGHTCREDITS_BASE_URL": self.url,
            "THOUGHTCREDITS_API_KEY": self.api_key,
            "REDIS_URL": redis_url,
            "PYTHONPATH": str(ROOT),
        }


@contextmanager
def ledger_server(tmp: Path, accounts: int = ACCOUNTS) -> Iterator[LedgerServer]:
    """``tests.workers.ledger_server`` in its own process, seeded with ``accounts``."""
    log, ids = tmp / "answers.log", tmp / "accounts.txt"
    process = subprocess.Popen(  # noqa: S603 - our own module, on loopback
        [sys.executable, "-m", "tests.workers.ledger_server", "--accounts", str(accounts),
         "--rate", f"{PER_MINUTE}/{BURST}", "--log", str(log), "--ids", str(ids)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        url, api_key, client_id = process.stdout.readline().split()
        account_ids = [UUID(line) for line in ids.read_text().split()]
        yield LedgerServer(url, api_key, client_id, account_ids, log)
    finally:
        process.terminate()
        process.wait(30)
        process.stdout.close()


class Workers:
    """Worker processes started from one command line; each can be killed on its own."""

    def __init__(self, command: Sequence[str], count: int, env: dict[str, str], tmp: Path):
        self.processes = []
        for index in range(count):
            output = open(tmp / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed in stop()
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - our own test command
                    [*command], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
                )
            )
            output.close()
        self.tmp = tmp

    def wait_ready(self, marker: str, timeout: float = 60) -> None:
        """Wait until every worker has written ``marker`` in its output (it listens)."""
        deadline = time.monotonic() + timeout
        for index in range(len(self.processes)):
            log = self.tmp / f"worker-{index}.log"
            while marker not in log.read_text(errors="replace"):
                if time.monotonic() > deadline or self.processes[index].poll() is not None:
                    raise RuntimeError(f"worker {index} is not ready:\n{self.output()}")
                time.sleep(0.1)

    def kill(self, pid: int) -> None:
        """SIGKILL: what an OOM kill or a lost node looks like."""
        os.kill(pid, signal.SIGKILL)

    def children(self, index: int) -> list[int]:
        """The process ids of worker ``index``'s child processes (a prefork pool's)."""
        parent = self.processes[index].pid
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """SIGTERM each worker, and SIGKILL whatever is still running 20 s later."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def output(self, tail: int | None = 3000) -> str:
        """What the workers wrote (the last ``tail`` characters of each; None: all)."""
        return "\n".join(
            (self.tmp / f"worker-{index}.log").read_text(errors="replace")[-(tail or 0) :]
            for index in range(len(self.processes))
        )


@dataclass(frozen=True)
class Usage:
    """How a run used the key's quota, from the server's answers."""

    answered: int
    rate_limited: int
    quota_used: float
    longest_idle: float
    seconds: float


def usage(answers: Sequence[Answer]) -> Usage:
    """Answers 2xx over what the server allowed from the first request to the last answer
    (burst + rate x time), the 429s, and the longest time with no 2xx answer at all."""
    ok = [a.at for a in answers if 200 <= a.status < 300]
    start, end = answers[0].at, answers[-1].at
    allowed = BURST + PER_MINUTE / 60 * (end - start)
    gaps = [b - a for a, b in pairwise(ok)] or [0.0]
    return Usage(
        answered=len(ok),
        rate_limited=sum(1 for a in answers if a.status == 429),
        quota_used=len(ok) / allowed,
        longest_idle=max(gaps),
        seconds=end - start,
    )


def assert_every_account_once(report: ReconciliationReport, server: LedgerServer) -> None:
    """Each of the server's accounts exactly once in ``report``, and all of them clean."""
    ids = [account.account_id for account in report.accounts]
    assert len(ids) == len(set(ids)) == len(server.account_ids)
    assert set(ids) == set(server.account_ids)
    assert report.ok


def assert_shard_results_match(report: ReconciliationReport, results: Sequence[str]) -> None:
    """The engine's results (each shard's report as JSON), merged, hold ``report``'s accounts."""
    merged = ReconciliationReport.merge(ReconciliationReport.from_json(r) for r in results)
    assert sorted(str(a.account_id) for a in merged.accounts) == sorted(
        str(a.account_id) for a in report.accounts
    )


def planning_client(server: LedgerServer, redis_url: str) -> tc.Client:
    """The test's own client (it plans the job), on the workers' shared rate limit."""
    limit = tc.RedisRateLimit(redis_url, key=LIMIT_KEY, per_minute=PER_MINUTE, burst=LIMIT_BURST)
    return tc.Client(server.url, server.api_key, rate_limit=limit)
