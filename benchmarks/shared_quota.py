"""Several worker processes share one API key's quota: how much of it do they get, how many 429s?

Each configuration starts ``thoughtcredits serve-fake --rate-limit PER_MIN/BURST`` and N
separate worker processes (not tasks). Every worker runs several tasks that send GETs as fast
as their client lets them, from a common start time, for the same number of seconds. The
figures, measured in one run:

- **ratio**: requests answered 2xx ÷ what the server allows in that time (burst + rate * time),
  where the time runs from the common start to the last answer: no task starts a request
  after ``--seconds``, and the ones already waiting for their slot still go;
- **429s**: answers refused, and their share of all answers.

Configurations: 4 processes sharing ``RedisRateLimit`` (its default key); the same with 300
tasks in one of them; the same when the server answers one request 429 with ``Retry-After:
10`` (the 429s counted are those that followed it); 2 processes on the defaults; 2 processes
with ``rate_limit=None`` (the reference); 1 process with an in-process ``RateLimit``. Then the
limiter's own cost: one acquire on Redis against one in-process.

    python benchmarks/shared_quota.py [--seconds 10] [--rate 1200/10] [--tasks 8] [--only ...]

Needs ``redis-server`` on PATH for the Redis configurations (skipped otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from _processes import redis_server, serve_fake

CONFIGS: dict[str, tuple[int, str]] = {
    "redis": (4, "4 processes, RedisRateLimit"),
    "redis-300": (4, "4 processes, RedisRateLimit, 300 tasks in one"),
    "redis-pause": (4, "4 processes, RedisRateLimit, a 429 asking 10 s"),
    "auto": (2, "2 processes, defaults"),
    "none": (2, "2 processes, rate_limit=None (reference)"),
    "local": (1, "1 process, in-process RateLimit"),
}
GO = 0.5  # the common start: this long after every worker said it is ready
PAUSE_AT = 3.0  # redis-pause: the server refuses one request, asking 10 s, this long after GO
PAUSE_FOR = 10


@dataclass
class Result:
    """One configuration's totals over its workers."""

    name: str
    processes: int
    done: int
    requests: int
    rate_limited: int
    allowance: float

    @property
    def ratio(self) -> float:
        return self.done / self.allowance

    @property
    def share_429(self) -> float:
        return self.rate_limited / max(1, self.requests)


def run_config(
    name: str, *, seconds: float, rate: str, tasks: int, redis_url: str | None
) -> Result:
    """Run one configuration in fresh processes and add up what its workers report."""
    processes = CONFIGS[name][0]
    per_minute, _, burst = rate.partition("/")
    if name == "redis-pause":
        seconds = max(seconds, PAUSE_AT + PAUSE_FOR + 5)
    argv = [
        sys.executable, __file__, "worker", name, "--seconds", repr(seconds),
        "--rate", rate, "--redis", redis_url or "",
    ]  # fmt: skip
    counts = [300 if name == "redis-300" and i == 0 else tasks for i in range(processes)]
    # The workers import while the server starts; each says "ready", then gets the server
    # and the common start time (imports take seconds on a busy machine).
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [*argv, "--tasks", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for count in counts
    ]
    try:
        with serve_fake(rate) as exported:
            for worker in workers:
                assert worker.stdout is not None
                if worker.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"worker {name} failed to start")
            start_at = time.time() + GO
            go = {
                "url": exported["THOUGHTCREDITS_BASE_URL"],
                "api_key": exported["THOUGHTCREDITS_API_KEY"],
                "client_id": str(uuid.uuid4()),  # the server registers it on first use
                "start_at": start_at,
            }
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write(json.dumps(go) + "\n")
                worker.stdin.flush()
            if name == "redis-pause":
                time.sleep(max(0.0, start_at + PAUSE_AT - time.time()))
                _refuse_once(exported)
            reports = []
            for worker in workers:
                out, _ = worker.communicate(timeout=seconds + 60)
                if worker.returncode:
                    raise RuntimeError(f"worker {name} failed ({worker.returncode})")
                reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            worker.kill() if worker.poll() is None else None
            worker.wait(10)
    elapsed = max(max(r["last"] for r in reports) - start_at, seconds)
    if name == "redis-pause":
        elapsed -= PAUSE_FOR  # the pause the server asked for is not the clients' to use
    allowance = int(burst) + int(per_minute) / 60 * elapsed
    return Result(
        name,
        processes,
        done=sum(r["done"] for r in reports),
        requests=sum(r["requests"] for r in reports),
        # redis-pause: the injected refusal is not one of the 429s the clients earned.
        rate_limited=sum(r["rate_limited"] for r in reports) - (name == "redis-pause"),
        allowance=allowance,
    )


def _refuse_once(exported: dict[str, str]) -> None:
    """Make the server answer its next request 429 with ``Retry-After: PAUSE_FOR``."""
    fault = {"kind": "status", "status": 429, "headers": {"Retry-After": str(PAUSE_FOR)}}
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{exported['THOUGHTCREDITS_BASE_URL']}/_fake/faults",
        data=json.dumps(fault).encode(),
        headers={"Authorization": f"Bearer {exported['THOUGHTCREDITS_API_KEY']}"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310


async def _work(args: argparse.Namespace) -> dict[str, float]:
    import thoughtcredits as tc

    per_minute, _, burst = args.rate.partition("/")
    rate_limit: Any = {
        "redis": lambda: tc.RedisRateLimit(args.redis),
        "redis-300": lambda: tc.RedisRateLimit(args.redis),
        "redis-pause": lambda: tc.RedisRateLimit(args.redis),
        "auto": lambda: "auto",
        "none": lambda: None,
        "local": lambda: tc.RateLimit(per_minute=int(per_minute), burst=int(burst)),
    }[args.config]()
    print("ready", flush=True)
    go = json.loads(await asyncio.to_thread(sys.stdin.readline))
    client_id, deadline = go["client_id"], go["start_at"] + args.seconds
    path = f"/clients/{client_id}/creditBatches"
    done, last = 0, 0.0
    async with tc.Client(go["url"], go["api_key"], rate_limit=rate_limit) as client:
        await asyncio.sleep(max(0.0, go["start_at"] - time.time()))

        async def task() -> None:
            nonlocal done, last
            while time.time() < deadline:
                try:
                    await client.request("GET", path, query={"clientId": client_id})
                except tc.ThoughtCreditsError:
                    continue
                done += 1
                last = max(last, time.time())

        runners = [asyncio.create_task(task()) for _ in range(args.tasks)]
        # Requests under way at the deadline finish (bounded, in case one retries for long).
        _, late = await asyncio.wait(runners, timeout=max(0.0, deadline - time.time()) + 10)
        for runner in late:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        stats = client.stats
    return {
        "done": done,
        "last": last,
        "requests": stats.requests,
        "rate_limited": stats.rate_limited,
    }


async def _overhead(redis_url: str | None, rounds: int = 5000) -> dict[str, float]:
    """Seconds per acquire+release: in-process limiter, and Redis (one EVALSHA each)."""
    import thoughtcredits as tc
    from thoughtcredits._quota.throttle import Throttle

    async def wait(seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def per_acquire(limit: Any) -> float:
        throttle = Throttle(limit, None, emit=lambda event: None)
        throttle.release(await throttle.acquire(wait))  # connect, load the script
        started = time.perf_counter()
        for _ in range(rounds):
            throttle.release(await throttle.acquire(wait))
        elapsed = time.perf_counter() - started
        await throttle.aclose()
        return elapsed / rounds

    huge = 10_000_000  # never waits: this measures the bookkeeping, not the pacing
    result = {"local": await per_acquire(tc.RateLimit(per_minute=huge, burst=huge))}
    if redis_url is not None:
        key = f"bench:{uuid.uuid4()}"
        result["redis"] = await per_acquire(
            tc.RedisRateLimit(redis_url, key=key, per_minute=huge, burst=huge)
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", default="1200/10", help="serve-fake's PER_MIN/BURST")
    parser.add_argument("--tasks", type=int, default=8, help="tasks per worker process")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results: list[Result] = []
    with redis_server() as redis_url:
        for name in args.only:
            if name.startswith("redis") and redis_url is None:
                print("redis: skipped (no redis-server on PATH)")
                continue
            result = run_config(
                name, seconds=args.seconds, rate=args.rate, tasks=args.tasks, redis_url=redis_url
            )
            results.append(result)
            print(
                f"{CONFIGS[name][1]:42} ratio {result.ratio:.3f}  429s {result.rate_limited:4d} "
                f"of {result.requests:5d} answers ({result.share_429:.1%})",
                flush=True,
            )
        overhead = asyncio.run(_overhead(redis_url))
    local = overhead["local"]
    line = f"limiter cost per request: in-process {local * 1e6:.1f} µs"
    if "redis" in overhead:
        redis = overhead["redis"]
        line += f", Redis {redis * 1e6:.1f} µs ({redis / local:.0f}× the in-process limiter)"
    print(line)
    if args.json:
        document = {
            "seconds": args.seconds,
            "rate": args.rate,
            "tasks": args.tasks,
            "configs": {
                r.name: {
                    "processes": r.processes,
                    "ratio": round(r.ratio, 4),
                    "done": r.done,
                    "requests": r.requests,
                    "rate_limited": r.rate_limited,
                    "allowance": r.allowance,
                }
                for r in results
            },
            "acquire_seconds": overhead,
        }
        with open(args.json, "w") as file:
            json.dump(document, file, indent=2)


def worker() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("config", choices=sorted(CONFIGS))
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--rate", required=True)
    parser.add_argument("--redis", default="")
    print(json.dumps(asyncio.run(_work(parser.parse_args()))))


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker()
    else:
        main()
